"""Sign-ins and sign-outs at the same moment, with committed data and a thread per request: the database's
unique constraints, not a check before an insert, make one person one user and one revocation one row."""
from __future__ import annotations

import threading

import pytest
from flask_jwt_extended import decode_token
from sqlalchemy import func, select

from backend.domain.auth import WeChatApp
from backend.extensions import db
from backend.models import RevokedToken, User, WeChatAccount
from backend.services.auth import issue_tokens

ROUNDS = 5


def _race(app, requests: list[tuple[str, dict, dict]]) -> list[tuple[int, dict | None]]:
    """POST every (path, body, headers) at once, each from its own thread, app context, client and connection."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int) -> None:
        path, body, headers = requests[index]
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=10)
                response = client.post(path, json=body, headers=headers)
                results[index] = (response.status_code, response.get_json(silent=True))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.mark.live
def test_first_sign_ins_of_one_person_through_both_apps_at_once_make_one_user(app):
    for round_number in range(ROUNDS):
        # The sandbox gives one code's person an openid in each app and one unionid, as WeChat does.
        code = f"sbx.race-{round_number}"
        kinds = ["miniprogram", "oauth", "miniprogram", "oauth"]
        results = _race(app, [("/api/v1/auth/wechat", {"code": code, "kind": kind}, {}) for kind in kinds])

        assert [status for status, _ in results] == [200] * len(kinds), results
        [user_id] = {decode_token(body["access_token"])["sub"] for _, body in results}
        db.session.remove()
        apps = db.session.scalars(select(WeChatAccount.app).where(WeChatAccount.user_id == int(user_id))).all()
        db.session.remove()
        assert sorted(apps) == [WeChatApp.MINIPROGRAM, WeChatApp.OFFICIAL_ACCOUNT]
    assert db.session.scalar(select(func.count()).select_from(User)) == ROUNDS
    assert db.session.scalar(select(func.count()).select_from(WeChatAccount)) == 2 * ROUNDS


@pytest.mark.live
def test_one_session_signed_out_twice_at_once_is_revoked_once(app, make_user):
    sessions = [issue_tokens(make_user()) for _ in range(ROUNDS)]
    # Outside a request every transaction may write, so on SQLite this thread would hold the write lock.
    db.session.remove()
    for access, refresh in sessions:
        headers = {"Authorization": f"Bearer {access}"}
        results = _race(app, [("/api/v1/auth/logout", {"refresh_token": refresh}, headers)] * 2)

        # Both 204, or the later one already finds the token signed out: never a 500 from the second insert.
        assert sorted(status for status, _ in results) in ([204, 204], [204, 401]), results
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 2 * ROUNDS
