"""RQ job functions (ids in, idempotent) and the queues they run on."""
from __future__ import annotations

from flask import current_app
from rq import Queue


def get_queue(name: str) -> Queue:
    return Queue(name, connection=current_app.extensions["linli_redis"])
