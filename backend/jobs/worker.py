"""`linli worker` and `linli cron`: an RQ worker with the app preloaded, and the one cron scheduler.

Both wait out a Redis outage (at start-up or mid-run) on a patient connection instead of exiting, and the
worker starts even when the database is unreachable."""
from __future__ import annotations

import logging
import os

from flask import Flask
from rq import Worker
from rq.cron import CronScheduler

from backend.extensions import DATABASE_UNAVAILABLE, db
from backend.redis_conn import connect_patiently
from backend.services.queueing import QUEUES, relay_outbox

log = logging.getLogger("linli.jobs")

# How long a job abandoned by a dead worker (killed with its work horse: the OOM killer, `kill -9`, a power
# cut) waits before RQ retries it: its execution's heartbeat lapses 60 s + JOB_MONITORING_INTERVAL after the
# last one, and the registry cleanup that retries it runs every MAINTENANCE_INTERVAL, on a worker that wakes
# from its blocking pop at least every WORKER_TTL - 15 s. RQ's defaults (30 s, 10 min, 420 s) made that up to
# 11.5 minutes; these make it about 70-100 s, then the job's first retry interval.
JOB_MONITORING_INTERVAL = 10
MAINTENANCE_INTERVAL = 15
WORKER_TTL = 30


def run_worker(app: Flask, burst: bool = False) -> None:
    with app.app_context():
        # A forked work horse must not reuse the parent's pooled connections (SQLAlchemy, "pooling and fork").
        os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
        _relay_waiting_jobs()
        # The relay's session still holds its connection; every work horse would inherit that one socket.
        db.session.remove()
        worker = Worker(
            list(QUEUES), connection=connect_patiently(app.config["LINLI_REDIS_URL"]),
            job_monitoring_interval=JOB_MONITORING_INTERVAL, maintenance_interval=MAINTENANCE_INTERVAL,
            worker_ttl=WORKER_TTL,
        )
        worker.work(with_scheduler=True, burst=burst)


def _relay_waiting_jobs() -> None:
    """Push the jobs that waited while Redis was down; without a database, leave them to the periodic relay."""
    try:
        relay_outbox()
    except DATABASE_UNAVAILABLE as exc:
        db.session.rollback()
        log.warning("outbox not relayed at start-up, the database is unreachable (cron's relay will): %s", exc)


def run_cron(app: Flask) -> None:
    with app.app_context():
        scheduler = CronScheduler(connection=connect_patiently(app.config["LINLI_REDIS_URL"]))
        scheduler.load_config_from_file("backend.jobs.cron")
        scheduler.start()
