"""The embedded Redis of `make run` keeps what it was told through a crash: it runs with an append-only file."""
from __future__ import annotations

import os
import signal
import time

import redis
from rq import Queue

from backend import redis_conn
from backend.redis_conn import connect, start_embedded_redis


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _until_written(path, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and text.encode() in path.read_bytes()):
        assert time.monotonic() < deadline, f"{text} never reached {path.name}"
        time.sleep(0.05)


def test_jobs_queued_in_the_embedded_redis_survive_its_kill(tmp_path, monkeypatch):
    monkeypatch.setattr(redis_conn, "_embedded", {})
    client = connect(start_embedded_redis(tmp_path))
    pid = client.info("server")["process_id"]
    try:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        job = Queue("high", connection=client).enqueue("backend.jobs.health.record_worker_heartbeat")
        # appendfsync everysec may hold a write back while an fsync is under way (up to 2 s, Redis's own
        # bound): wait until the file has it, as a crash a few seconds later would find it.
        _until_written(tmp_path / "appendonly.aof", job.id)

        _kill(pid)  # no snapshot on the way out: only the append-only file has the job
        monkeypatch.setattr(redis_conn, "_embedded", {})
        client = connect(start_embedded_redis(tmp_path))
        pid = client.info("server")["process_id"]
        assert Queue("high", connection=client).job_ids == [job.id]
    finally:
        try:
            client.shutdown(nosave=True)
        except redis.RedisError:
            _kill(pid)
