"""`make run` as it runs on a fresh machine — `linli dev`: the web server, the worker and cron writing one SQLite
file, with the embedded Redis — takes a burst of concurrent writes without a single 5xx, while the worker writes
the notifications those writes ask for."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from backend.demo import DEMO_PASSWORD
from bench.make_run import make_run

pytestmark = pytest.mark.once

BURST = 50
PRESSES = 20
RESIDENTS = [f"owner{number:02d}" for number in range(1, 7)]


@pytest.fixture
def make_run_base(tmp_path: Path) -> Iterator[str]:
    with make_run(tmp_path / "instance") as base:
        yield base


def _sign_in(http: httpx.Client, username: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/password", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_a_burst_of_concurrent_writes_on_make_run_answers_no_5xx(make_run_base):
    with httpx.Client(base_url=make_run_base, timeout=60) as http:
        residents = [_sign_in(http, username) for username in RESIDENTS]
        staff = _sign_in(http, "staff")
        [membership] = [row for row in http.get("/api/v1/me", headers=residents[0]).json()["memberships"]
                        if row["role"] == "owner"]
        compound_id = membership["compound_id"]
        reports = f"/api/v1/compounds/{compound_id}/work-orders"
        before = http.get("/api/v1/me/notifications", headers=staff).json()["total"]

        def report(index: int) -> httpx.Response:
            body = {"category": "其他", "urgency": "normal", "location_text": f"{index % 6 + 1}栋楼道",
                    "description": f"楼道灯不亮（第{index}处）"}
            return http.post(reports, json=body, headers=residents[index % len(residents)])

        with ThreadPoolExecutor(BURST) as pool:
            filed = list(pool.map(report, range(BURST)))

        assert [response.status_code for response in filed] == [201] * BURST, [
            (response.status_code, response.text[:200]) for response in filed if response.status_code != 201]
        order_ids = [response.json()["id"] for response in filed]
        assert len(set(order_ids)) == BURST

        # Staff accept while residents keep filing, and the worker writes every new order's notice.
        def accept(order_id: int) -> httpx.Response:
            return http.post(f"/api/v1/work-orders/{order_id}/transitions", json={"action": "accept"},
                             headers=staff)

        with ThreadPoolExecutor(BURST) as pool:
            accepted = list(pool.map(accept, order_ids[:BURST // 2]))
            more = list(pool.map(report, range(BURST, BURST + BURST // 2)))

        assert [response.status_code for response in accepted + more] == [200] * len(accepted) + [201] * len(more)
        deadline = time.monotonic() + 60
        while http.get("/api/v1/me/notifications", headers=staff).json()["total"] < before + BURST + BURST // 2:
            assert time.monotonic() < deadline, "the worker did not write every order's notice"
            time.sleep(0.5)

        # One resident pressing 缴费 twenty times at once gets one order back twenty times.
        [bill] = [row for row in http.get(f"/api/v1/compounds/{compound_id}/my-bills", headers=residents[1]).json()
                  if row["status"] == "unpaid"][:1]

        def pay(_: int) -> httpx.Response:
            return http.post(f"/api/v1/bills/{bill['id']}/payments", json={}, headers=residents[1])

        with ThreadPoolExecutor(PRESSES) as pool:
            presses = list(pool.map(pay, range(PRESSES)))

        assert [response.status_code for response in presses] == [201] * PRESSES, [
            (response.status_code, response.text[:200]) for response in presses if response.status_code != 201]
        assert len({response.json()["order"]["id"] for response in presses}) == 1
