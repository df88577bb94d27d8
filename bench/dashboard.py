"""The officials' dashboard over a city (issue 16): 2,000 compounds and 200,000 households with a year of bills
and work orders (backend/demo/city.py `build_city`), the refresh of every compound's figures timed (and again: a rerun
writes the same rows), then the city official's dashboard and the compound table's first page over signed-in
HTTP (gunicorn, 2 workers), sequential calls on one keep-alive connection. Target: p95 ≤ 300 ms.

PostgreSQL (LINLI_BENCH_DATABASE_URL, default a fresh `bench_dash` database on 127.0.0.1); real Redis as in
bench/fanout.py. LINLI_BENCH_CITY_COMPOUNDS shrinks the city for a quick run."""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.fanout import _redis_url, fresh_database_url
from bench.run import PORT, ROOT, _post_json, _wait_until_up

COMPOUNDS = int(os.environ.get("LINLI_BENCH_CITY_COMPOUNDS", "2000"))
CALLS = 200
TARGET_P95_MS = 300.0
PASSWORD = "linli-bench"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _latency(path: str, headers: dict[str, str]) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    timings = []
    for _ in range(CALLS + 1):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:300]!r}")
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    return timings[1:]


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-dash-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance), LINLI_DATABASE_URL=fresh_database_url(instance, "bench_dash"),
        LINLI_REDIS_URL=_redis_url(instance), LINLI_PORT=str(PORT),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)

    from sqlalchemy import func, select

    from backend import create_app
    from backend.demo.city import build_city
    from backend.extensions import db
    from backend.models import CompoundFigures, CompoundMonthFigures
    from backend.services import dashboard
    from backend.services.identity import hash_password
    from backend.shared.clock import utcnow

    with create_app().app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("the city bench needs PostgreSQL")
        city = build_city(utcnow(), hash_password(PASSWORD), COMPOUNDS)
        refresh_seconds = []
        for _ in range(2):
            started = time.perf_counter()
            dashboard.refresh()
            refresh_seconds.append(time.perf_counter() - started)
        rows = (db.session.scalar(select(func.count()).select_from(CompoundFigures)),
                db.session.scalar(select(func.count()).select_from(CompoundMonthFigures)))
        started = time.perf_counter()
        dashboard.refresh([1])
        one_seconds = time.perf_counter() - started
        db.session.remove()

    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--log-level",
         "warning", "bench.wsgi:app"], cwd=ROOT,
    )
    base = f"http://127.0.0.1:{PORT}"
    latency: dict[str, list[float]] = {}
    try:
        _wait_until_up(base)
        token = _post_json(base + "/api/v1/auth/password",
                           {"username": city.official_username, "password": PASSWORD})["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        cookie = {"Cookie": f"access_token_cookie={token}"}
        area = city.city_id
        for label, path, headers in (
            ("`GET /api/v1/areas/<city>/dashboard`", f"/api/v1/areas/{area}/dashboard", bearer),
            ("`GET /api/v1/areas/<city>/compounds` (first page, 20)", f"/api/v1/areas/{area}/compounds", bearer),
            ("`GET /api/v1/areas/<city>/compounds?sort=collection`", f"/api/v1/areas/{area}/compounds?sort=collection",
             bearer),
            ("`GET /api/v1/areas/<city>/compounds?model=trust&flag=any&sort=overdue`",
             f"/api/v1/areas/{area}/compounds?model=trust&flag=any&sort=overdue", bearer),
            ("`GET /h5/areas/<city>/dashboard` (page: dashboard + first page, cookie)",
             f"/h5/areas/{area}/dashboard", cookie),
        ):
            latency[label] = _latency(path, headers)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=20)
    shutil.rmtree(instance, ignore_errors=True)

    print(f"\nA city of {city.compounds} compounds, {city.households} households, {city.bills} bills, "
          f"{city.work_orders} work orders; PostgreSQL, {os.cpu_count()} cores")
    print(f"building it (backend/demo/city.py build_city, INSERT … SELECT + VACUUM ANALYZE): {city.seconds:.1f} s")
    print(f"refresh of every compound (services.dashboard.refresh): {refresh_seconds[0]:.1f} s, rerun "
          f"{refresh_seconds[1]:.1f} s ({rows[0]} compound rows, {rows[1]} month rows); one compound: "
          f"{one_seconds * 1000:.0f} ms\n")
    print(f"| request ({CALLS} sequential calls, gunicorn 2 workers) | p50 | p95 | max | target |")
    print("| --- | ---: | ---: | ---: | ---: |")
    failed = False
    for label, timings in latency.items():
        p95 = _percentile(timings, 0.95)
        failed |= p95 > TARGET_P95_MS
        print(f"| {label} | {statistics.median(timings):.1f} ms | {p95:.1f} ms | {max(timings):.1f} ms | "
              f"≤ {TARGET_P95_MS:.0f} ms |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
