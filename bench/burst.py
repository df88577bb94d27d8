"""Bursts of concurrent writes on `make run`'s own default (SQLite + embedded Redis, gunicorn 2 × 4 threads, the
worker and cron writing the same file): work-order reports from six residents, staff accepting while residents
keep reporting, and one resident pressing 缴费 twenty times at once.

Target (issue 12): 0 errors for a burst of 50 concurrent writes on the default."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.make_run import make_run

BURST = int(os.environ.get("LINLI_BENCH_BURST", "50"))
ROUNDS = int(os.environ.get("LINLI_BENCH_BURST_ROUNDS", "3"))
PRESSES = 20
RESIDENTS = [f"owner{number:02d}" for number in range(1, 7)]


def _sign_in(http: httpx.Client, username: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/password", json={"username": username, "password": "linli-demo"})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _timed(call) -> tuple[int, float]:
    started = time.perf_counter()
    status = call().status_code
    return status, (time.perf_counter() - started) * 1000


def _burst(calls: list) -> tuple[Counter, list[float], float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(len(calls)) as pool:
        results = list(pool.map(_timed, calls))
    wall = time.perf_counter() - started
    return Counter(status for status, _ in results), [ms for _, ms in results], wall


def _errors(statuses: Counter) -> int:
    return sum(count for status, count in statuses.items() if status >= 500)


def _row(label: str, statuses: Counter, latencies: list[float], wall: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    shown = ", ".join(f"{status} × {count}" for status, count in sorted(statuses.items()))
    return (f"| {label} | {sum(statuses.values())} | {shown} | {_errors(statuses)} | "
            f"{statistics.median(ordered):.0f} | {p99:.0f} | {wall:.2f} |")


def main() -> int:
    rows, errors = [], 0

    def measure(label: str, calls: list) -> None:
        nonlocal errors
        statuses, latencies, wall = _burst(calls)
        errors += _errors(statuses)
        rows.append(_row(label, statuses, latencies, wall))

    with tempfile.TemporaryDirectory(prefix="linli-burst-") as tmp, make_run(Path(tmp)) as base, \
            httpx.Client(base_url=base, timeout=60) as http:
        residents = [_sign_in(http, username) for username in RESIDENTS]
        staff = _sign_in(http, "staff")
        compound_id = next(row["compound_id"] for row in http.get("/api/v1/me", headers=residents[0]).json()
                           ["memberships"] if row["role"] == "owner")
        reports = f"/api/v1/compounds/{compound_id}/work-orders"
        filed: list[int] = []
        numbers = iter(range(1_000_000))

        def report():
            number = next(numbers)
            body = {"category": "其他", "urgency": "normal", "location_text": f"{number % 6 + 1}栋楼道",
                    "description": f"楼道灯不亮（第{number}处）"}
            response = http.post(reports, json=body, headers=residents[number % len(residents)])
            if response.status_code == 201:
                filed.append(response.json()["id"])
            return response

        def accept(order_id: int):
            return lambda: http.post(f"/api/v1/work-orders/{order_id}/transitions", json={"action": "accept"},
                                     headers=staff)

        for round_number in range(1, ROUNDS + 1):
            measure(f"{BURST} reports at once (round {round_number})", [report] * BURST)
            waiting, filed[:] = filed[:BURST // 2], filed[BURST // 2:]
            measure(f"{len(waiting)} accepts + {BURST // 2} reports at once (round {round_number})",
                    [accept(order_id) for order_id in waiting] + [report] * (BURST // 2))
        bills = http.get(f"/api/v1/compounds/{compound_id}/my-bills", headers=residents[1]).json()
        bill_id = next(bill["id"] for bill in bills if bill["status"] == "unpaid")
        measure(f"one resident presses 缴费 {PRESSES} times at once",
                [lambda: http.post(f"/api/v1/bills/{bill_id}/payments", json={}, headers=residents[1])] * PRESSES)
    print(f"\nmake run's default (SQLite WAL + embedded Redis, gunicorn 2 workers × 4 threads, worker and cron), "
          f"{os.cpu_count()} cores\n")
    print("| burst | requests | answers | 5xx | median ms | p99 ms | wall s |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    print(f"\ntarget: 0 errors; {'met' if errors == 0 else f'NOT met ({errors} errors)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
