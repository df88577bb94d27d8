"""Under gunicorn with two workers, every scrape counts every request, whichever worker answered it and whichever
answers the scrape (prometheus_client's multiprocess mode, PROMETHEUS_MULTIPROC_DIR as `linli serve` sets it)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.observability.metrics import MULTIPROCESS_DIR

REQUESTS = 120
# Two gunicorn workers start (each importing the app) in 5-20 s on a busy 2-core machine.
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    # A connection per request: gunicorn's sync workers take whichever comes, so both answer some.
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


def _favicons_served(exposition: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "linli_http_request_duration_seconds_count" and sample.labels["endpoint"] == "favicon"
    )


@pytest.fixture
def two_workers(app, tmp_path) -> str:
    port = _free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = dict(os.environ) | {
        "LINLI_INSTANCE_PATH": str(tmp_path / "instance"), "LINLI_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"], MULTIPROCESS_DIR: str(metrics_dir),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "backend:create_app()"],
        cwd=Path(__file__).resolve().parents[2], env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                _get(base + "/metrics")
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_every_scrape_adds_up_the_requests_of_both_workers(two_workers):
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda _: _get(two_workers + "/favicon.ico")[0], range(REQUESTS)))
    assert statuses == [200] * REQUESTS

    scrapes = [_get(two_workers + "/metrics") for _ in range(6)]
    assert {status for status, _ in scrapes} == {200}
    assert [_favicons_served(text) for _, text in scrapes] == [REQUESTS] * 6
