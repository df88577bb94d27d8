"""`linli worker`: the forking RQ worker gives each work horse database connections of its own."""

from __future__ import annotations

import pytest
from flask import current_app
from rq import Queue
from sqlalchemy import text

from backend.extensions import db
from backend.jobs.worker import run_worker

PIDS_KEY = "linli:test:worker:backend-pids"


def record_backend_pid() -> None:
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    current_app.extensions["linli_redis"].rpush(PIDS_KEY, pid)
    db.session.commit()


# A server connection's backend pid exists on PostgreSQL only; the run on PostgreSQL covers it.
@pytest.mark.postgresql
@pytest.mark.live
def test_each_work_horse_uses_a_connection_of_its_own(app):
    redis_conn = app.extensions["linli_redis"]
    for _ in range(3):
        Queue("default", connection=redis_conn).enqueue(f"{__name__}.record_backend_pid")

    # The worker first relays the outbox through its own session, then forks a horse per job: sharing the
    # relay's connection (one socket, one TLS state) between processes breaks them.
    run_worker(app, burst=True)

    pids = redis_conn.lrange(PIDS_KEY, 0, -1)
    assert len(pids) == 3 and len(set(pids)) == 3
