"""A heartbeat that proves the whole path cron → queue → worker runs; /healthz reads it."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

HEARTBEAT_KEY = "linli:heartbeat:worker"


def record_worker_heartbeat() -> str:
    stamp = datetime.now(UTC).isoformat()
    current_app.extensions["linli_redis"].set(HEARTBEAT_KEY, stamp, ex=3600)
    return stamp


def last_worker_heartbeat() -> str | None:
    value = current_app.extensions["linli_redis"].get(HEARTBEAT_KEY)
    return value.decode() if value else None
