"""`linli worker` and `linli cron`: an RQ worker with the app preloaded, and the one cron scheduler."""
from __future__ import annotations

import os

from flask import Flask
from rq import Worker
from rq.cron import CronScheduler

from backend.extensions import db
from backend.jobs import QUEUES
from backend.services.queueing import relay_outbox


def run_worker(app: Flask, burst: bool = False) -> None:
    with app.app_context():
        # A forked work horse must not reuse the parent's pooled connections (SQLAlchemy, "pooling and fork").
        os.register_at_fork(after_in_child=lambda: db.engine.dispose(close=False))
        relay_outbox()  # jobs that waited while Redis was down
        # The relay's session still holds its connection; every work horse would inherit that one socket.
        db.session.remove()
        worker = Worker(list(QUEUES), connection=app.extensions["linli_redis"])
        worker.work(with_scheduler=True, burst=burst)


def run_cron(app: Flask) -> None:
    with app.app_context():
        scheduler = CronScheduler(connection=app.extensions["linli_redis"])
        scheduler.load_config_from_file("backend.jobs.cron")
        scheduler.start()
