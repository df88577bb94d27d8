"""Work orders with 200,000 orders in the demo city (issue 4): the staff queue page and the list API against
the framework ceiling, the stats endpoint's latency, the query count per list request.

`linli demo --households 20000 --work-orders 200000` on PostgreSQL (LINLI_BENCH_DATABASE_URL, default a
fresh `bench_wo` database on 127.0.0.1, else SQLite), real Redis (LINLI_REDIS_URL, else 127.0.0.1:6379 db 12,
else embedded), then VACUUM ANALYZE as a production table would have had. Nearly every order lands in the
`bench` compound (its 20,000 households file them): the worst case for the per-compound queries; the small
demo compound `yangguang` is measured too. gunicorn with 2 workers, wrk as in bench/run.py.
Targets: queue page and list ≥ 0.5 × ceiling, stats p50 < 50 ms."""
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

from sqlalchemy import event, func, select, text

from bench.fanout import _redis_url, fresh_database_url
from bench.run import CONNECTIONS, DURATION, PORT, ROOT, _post_json, _wait_until_up, _wrk

ORDERS = int(os.environ.get("LINLI_BENCH_WORK_ORDERS", "200000"))
HOUSEHOLDS = int(os.environ.get("LINLI_BENCH_WO_HOUSEHOLDS", "20000"))
STATS_CALLS = 200
TARGET_RATIO, TARGET_STATS_MS = 0.5, 50.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _stats_latency(path: str, token: str) -> list[float]:
    """Sequential calls over one keep-alive connection, milliseconds each (the first one warms up)."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    timings = []
    for _ in range(STATS_CALLS + 1):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {body[:300]!r}")
        timings.append((time.perf_counter() - started) * 1000)
    connection.close()
    return timings[1:]


def _in_process(compound_ids: dict[str, int]) -> dict:
    """Queries per request (page sizes 5 and 50 must match), each list's SQL time, compound_figures() timed."""
    from backend import create_app
    from backend.extensions import db
    from backend.services.workorder_stats import compound_figures

    app = create_app()
    results: dict = {}
    with app.app_context():
        client = app.test_client()
        token = client.post("/api/v1/auth/password", json={"username": "staff", "password": "linli-demo"}).json
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        statements: list[tuple[str, float]] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            context._bench_started = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, (time.perf_counter() - context._bench_started) * 1000))

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        for name, compound_id in compound_ids.items():
            for label, make_path, headers in (
                ("list", lambda size, i=compound_id: f"/api/v1/compounds/{i}/work-orders?page_size={size}", bearer),
                ("queue", lambda size, code=name: f"/h5/c/{code}/work-orders/queue", {}),
            ):
                counts, sql_ms = [], []
                for size in (5, 50, 20, 20, 20):
                    if label == "queue":
                        client.set_cookie("access_token_cookie", token["access_token"])
                    statements.clear()
                    response = client.get(make_path(size), headers=headers)
                    assert response.status_code == 200, (make_path(size), response.status_code)
                    counts.append(len(statements))
                    sql_ms.append(sum(ms for _, ms in statements))
                    client.delete_cookie("access_token_cookie")
                results[f"{label}:{name}"] = {"queries": counts[:2], "sql_ms": min(sql_ms[2:])}
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
        for name, compound_id in compound_ids.items():
            timings = []
            for _ in range(STATS_CALLS + 1):
                started = time.perf_counter()
                compound_figures(compound_id)
                db.session.rollback()
                timings.append((time.perf_counter() - started) * 1000)
            results[f"figures:{name}"] = timings[1:]
        results["database"] = db.engine.dialect.name
    return results


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    instance = Path(tempfile.mkdtemp(prefix="linli-bench-wo-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance), LINLI_DATABASE_URL=fresh_database_url(instance, "bench_wo"),
        LINLI_REDIS_URL=_redis_url(instance), LINLI_PORT=str(PORT),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)
    subprocess.run([linli, "demo", "--households", str(HOUSEHOLDS)], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([linli, "demo", "--work-orders", str(ORDERS)], check=True, capture_output=True)
    load_seconds = time.perf_counter() - started

    from backend import create_app
    from backend.extensions import db
    from backend.models import Compound, WorkOrder

    with create_app().app_context():
        compound_ids = dict(db.session.execute(select(Compound.code, Compound.id).where(
            Compound.code.in_(["bench", "yangguang"]))).all())
        sizes = {code: db.session.scalar(select(func.count()).where(WorkOrder.compound_id == compound_id))
                 for code, compound_id in compound_ids.items()}
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        db.session.remove()
    compound_ids = {code: compound_ids[code] for code in ("bench", "yangguang")}

    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{PORT}", "--log-level", "warning",
         "bench.wsgi:app"],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{PORT}"
    rates: dict[str, float] = {}
    latency: dict[str, list[float]] = {}
    try:
        _wait_until_up(base)
        staff = _post_json(base + "/api/v1/auth/password", {"username": "staff", "password": "linli-demo"})
        bearer = [f"Authorization: Bearer {staff['access_token']}"]
        cookie = [f"Cookie: access_token_cookie={staff['access_token']}"]
        rates["ceiling"] = _wrk(base + "/_bench/ceiling", [])
        rates["signed_in"] = _wrk(base + "/_bench/signed-in", bearer)
        for code, compound_id in compound_ids.items():
            rates[f"queue:{code}"] = _wrk(f"{base}/h5/c/{code}/work-orders/queue", cookie)
            rates[f"list:{code}"] = _wrk(f"{base}/api/v1/compounds/{compound_id}/work-orders?page_size=20", bearer)
            latency[code] = _stats_latency(f"/api/v1/compounds/{compound_id}/work-orders/stats",
                                           staff["access_token"])
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=20)
    measured = _in_process(compound_ids)
    shutil.rmtree(instance, ignore_errors=True)

    ceiling = rates["ceiling"]
    print(f"\n{ORDERS} work orders ({', '.join(f'{code}: {n}' for code, n in sizes.items())}), {measured['database']}, "
          f"real Redis; gunicorn 2 workers, wrk -t2 -c{CONNECTIONS} -d{DURATION}, {os.cpu_count()} cores")
    print(f"loading them: `linli demo --work-orders {ORDERS}` {load_seconds:.1f} s\n")
    signed_in = rates["signed_in"]
    print("| endpoint | req/s | ratio to ceiling | target | ratio to signed-in no-op | queries (page size 5 / 50) "
          "| SQL time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| bare Flask JSON (ceiling) | {ceiling:.0f} | 1.00 | | | | |")
    print(f"| signed-in no-op (ceiling + JWT check only) | {signed_in:.0f} | {signed_in / ceiling:.2f} | | 1.00 | | |")
    failed = False
    for code, compound_id in compound_ids.items():
        for key, label in ((f"queue:{code}", f"`GET /h5/c/{code}/work-orders/queue` (staff, cookie)"),
                           (f"list:{code}", f"`GET /api/v1/compounds/{compound_id}/work-orders?page_size=20` "
                                            "(staff, bearer)")):
            ratio = rates[key] / ceiling
            failed |= ratio < TARGET_RATIO
            queries = measured[key]["queries"]
            failed |= queries[0] != queries[1]
            print(f"| {label} | {rates[key]:.0f} | {ratio:.2f} | ≥ {TARGET_RATIO} | {rates[key] / signed_in:.2f} | "
                  f"{queries[0]} / {queries[1]} | {measured[key]['sql_ms']:.2f} ms |")
    print("\n| stats | p50 | p99 | max | target |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for code, compound_id in compound_ids.items():
        for label, timings in (
            (f"`GET /api/v1/compounds/{compound_id}/work-orders/stats` ({code}, {STATS_CALLS} sequential calls)",
             latency[code]),
            (f"`compound_figures({compound_id})` in-process ({code})", measured[f"figures:{code}"]),
        ):
            p50 = statistics.median(timings)
            failed |= p50 >= TARGET_STATS_MS
            print(f"| {label} | {p50:.1f} ms | {_percentile(timings, 0.99):.1f} ms | {max(timings):.1f} ms | "
                  f"< {TARGET_STATS_MS:.0f} ms |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
