"""Sign-ins and sign-outs at the same moment, with committed data and a thread per request: the database's
unique constraints, not a check before an insert, make one person one user and one revocation one row."""
from __future__ import annotations

import pytest
from flask_jwt_extended import decode_token
from sqlalchemy import func, select

from backend.domain.auth import WeChatApp
from backend.extensions import db
from backend.models import RevokedToken, User, WeChatAccount
from backend.services.auth import issue_tokens
from tests.support import race

ROUNDS = 5


@pytest.mark.live
def test_first_sign_ins_of_one_person_through_both_apps_at_once_make_one_user(app):
    for round_number in range(ROUNDS):
        # The sandbox gives one code's person an openid in each app and one unionid, as WeChat does.
        code = f"sbx.race-{round_number}"
        kinds = ["miniprogram", "oauth", "miniprogram", "oauth"]
        results = race(app, [("POST", "/api/v1/auth/wechat", {}, {"code": code, "kind": kind}) for kind in kinds])

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
        results = race(app, [("POST", "/api/v1/auth/logout", headers, {"refresh_token": refresh})] * 2)

        # Both 204, or the later one already finds the token signed out: never a 500 from the second insert.
        assert sorted(status for status, _ in results) in ([204, 204], [204, 401]), results
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(RevokedToken)) == 2 * ROUNDS
