"""`make run` on a fresh instance — `linli dev`: migrations, demo data, gunicorn, the worker and cron on one
SQLite file with the embedded Redis — for a benchmark or a test to send requests to."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def make_run(instance: Path) -> Iterator[str]:
    """The base URL of `linli dev` started on `instance` (its log: instance/make-run.log), stopped on exit."""
    instance.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINLI_")}
    env |= {"LINLI_INSTANCE_PATH": str(instance), "LINLI_PORT": str(port)}
    log_path = instance / "make-run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "backend.cli", "dev"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, process, log_path)
            yield base
        finally:
            _stop(process)


def _wait_until_up(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("linli dev did not come up:\n" + log_path.read_text()[-3000:])
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)


def _stop(process: subprocess.Popen) -> None:
    # honcho stops web, worker and cron on SIGTERM; the embedded Redis stops when `linli dev` exits.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
