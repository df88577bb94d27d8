"""Helpers for tests: sign-in, lookups, requests sent at the same instant and the error-shape assertion."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, timedelta

from flask import Flask

from backend.domain.auth import WeChatApp
from backend.domain.rectifications import ResponsibleParty
from backend.extensions import db
from backend.models import Building, Compound, Household, Inspection, Rectification, User, WeChatAccount

TEST_PASSWORD = "test-password-1"


def first_household(compound: Compound) -> Household:
    return db.session.scalars(
        db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ).first()


def buildings_of(compound: Compound) -> list[Building]:
    return list(db.session.scalars(db.select(Building).where(Building.compound_id == compound.id).order_by(Building.id)))


def link_wechat(user: User, openid: str, app: WeChatApp = WeChatApp.OFFICIAL_ACCOUNT) -> None:
    """The user has signed in through that WeChat app (the official account's H5 by default) as `openid`."""
    db.session.add(WeChatAccount(user_id=user.id, app=app, openid=openid))
    db.session.commit()


def bearer(client, user: User) -> dict[str, str]:
    """Sign in through the real password endpoint and return the Authorization header."""
    response = client.post("/api/v1/auth/password", json={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.json
    client.delete_cookie("access_token_cookie")
    client.delete_cookie("refresh_token_cookie")
    client.delete_cookie("csrf_access_token")
    client.delete_cookie("csrf_refresh_token")
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def assert_error_shape(response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    body = response.get_json()
    assert isinstance(body, dict) and body["code"] == status
    assert isinstance(body["status"], str) and isinstance(body["message"], str) and body["message"]




def race(app: Flask, requests: Sequence[tuple[str, str, dict[str, str], dict | bytes | None]],
         timeout: float = 120) -> list[tuple[int, dict | None]]:
    """Send every (method, path, headers, body) at the same instant, each from its own thread, app context, test
    client and database connection (a dict body as JSON, bytes as they are); the answers, in order. Data the
    requests need must be committed (`@pytest.mark.live`)."""
    barrier = threading.Barrier(len(requests))
    results: list[tuple[int, dict | None] | BaseException | None] = [None] * len(requests)

    def run(index: int) -> None:
        method, path, headers, body = requests[index]
        payload = {"json": body} if isinstance(body, dict) else {"data": body}
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=30)
                response = client.open(path, method=method, headers=headers, **payload)
                results[index] = (response.status_code, response.get_json(silent=True))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    for result in results:
        if isinstance(result, BaseException):
            raise result
        assert result is not None, "a request did not finish"
    return results


def unfinished_rectification(compound_id: int, deadline: date, party: ResponsibleParty = ResponsibleParty.COMPANY,
                             inspector: User | None = None) -> Rectification:
    """A rectification item as a supervision inspection leaves it (待整改), without going through the API: for the
    features that only count items (flags, reports, links)."""
    if inspector is None:
        inspector = User(display_name="督查员")
        db.session.add(inspector)
        db.session.flush()
    inspection = Inspection(compound_id=compound_id, inspector_id=inspector.id, inspected_on=deadline - timedelta(days=7))
    db.session.add(inspection)
    db.session.flush()
    item = Rectification(compound_id=compound_id, responsible_party=party, deadline=deadline,
                         inspection_id=inspection.id, inspector_id=inspector.id, item="物业服务", finding="楼道堆物")
    db.session.add(item)
    db.session.flush()
    return item
