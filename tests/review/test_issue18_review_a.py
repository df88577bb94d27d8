"""Review of issue 18, item 1 (the signed-in path): probes of the token LRU, the standing hash in Redis and the
session events that keep it right, each asserting a guarantee of docs/issue18/auth.md."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from flask_jwt_extended import create_access_token
from sqlalchemy import delete, insert, select

from backend.demo import factories
from backend.domain.compounds import ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Membership, User
from backend.redis_conn import connect
from backend.services import auth as auth_service
from backend.services import auth_cache
from backend.shared.clock import utcnow
from tests.support import TEST_PASSWORD, assert_error_shape


@pytest.fixture
def seated(make_compound, make_user):
    compound = make_compound()
    return compound, make_user(role=Role.ADMIN), make_user(role=Role.COMMITTEE, compound=compound)


def _households(compound) -> str:
    return f"/api/v1/compounds/{compound.id}/households"


# ---- tokens we signed, for no one who can sign in ---------------------------------------------------------


@pytest.mark.parametrize("identity", ["abc", "-1", "１２", "1.5", "2147483000", "99999999999999999999"])
def test_a_genuine_token_of_no_account_is_401_never_500(app, client, identity):
    with app.test_request_context():
        token = create_access_token(identity=identity, additional_claims={"gen": 0})
    headers = {"Authorization": f"Bearer {token}"}

    for _ in range(2):  # the second time from the LRU
        assert_error_shape(client.get("/api/v1/me", headers=headers), 401)
    # A page takes it for a signed-out visitor.
    client.set_cookie("access_token_cookie", token)
    assert client.get("/h5/").status_code in (200, 302)


# ---- the LRU: exp every time, CSRF every time --------------------------------------------------------------


def test_an_expired_token_is_refused_although_its_signature_is_cached(app, client, sign_in, seated):
    _, _, committee = seated
    headers = sign_in(committee)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    later = utcnow() + app.config["JWT_ACCESS_TOKEN_EXPIRES"] + timedelta(seconds=1)
    with time_machine.travel(later, tick=False):
        refused = client.get("/api/v1/me", headers=headers)
    assert_error_shape(refused, 401)
    assert refused.json["message"] == "登录已过期，请重新登录"


def test_a_cookie_post_needs_the_csrf_value_even_when_the_token_is_cached(client, seated, page_sign_in):
    _, _, committee = seated
    csrf = page_sign_in(client, committee)
    assert client.get("/api/v1/me").status_code == 200  # cached now

    assert_error_shape(client.post("/api/v1/auth/logout"), 401)
    assert_error_shape(client.post("/api/v1/auth/logout", headers={"X-CSRF-TOKEN": csrf + "x"}), 401)
    assert client.get("/api/v1/me").status_code == 200  # neither signed anyone out
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-TOKEN": csrf}).status_code == 204


# ---- writers that bypass the flush ------------------------------------------------------------------------


def test_a_role_removed_by_a_core_delete_is_gone_or_the_delete_refused(client, sign_in, seated):
    compound, _, committee = seated
    headers = sign_in(committee)
    assert client.get(_households(compound), headers=headers).status_code == 200

    try:
        db.session.execute(delete(Membership.__table__).where(Membership.__table__.c.user_id == committee.id))
    except RuntimeError:
        return  # refused, as an ORM bulk delete is
    db.session.commit()
    assert_error_shape(client.get(_households(compound), headers=headers), 404)


def test_a_role_granted_by_insert_values_counts_on_the_next_request(client, sign_in, seated, make_user):
    compound, _, _ = seated
    newcomer = make_user()
    headers = sign_in(newcomer)
    assert_error_shape(client.get(_households(compound), headers=headers), 404)

    db.session.execute(insert(Membership).values(user_id=newcomer.id, role=Role.COMMITTEE, compound_id=compound.id))
    db.session.commit()

    assert client.get(_households(compound), headers=headers).status_code == 200


def test_a_role_granted_by_a_core_insert_counts_on_the_next_request(client, sign_in, seated, make_user):
    compound, _, _ = seated
    newcomer = make_user()
    headers = sign_in(newcomer)
    assert_error_shape(client.get(_households(compound), headers=headers), 404)

    db.session.execute(insert(Membership.__table__), [{"user_id": newcomer.id, "role": Role.COMMITTEE,
                                                      "compound_id": compound.id}])
    db.session.commit()

    assert client.get(_households(compound), headers=headers).status_code == 200


# ---- the loader against a writer that commits while it reads ---------------------------------------------


def _commit_meanwhile(app, monkeypatch, change):
    """The loader reads the database, then (before its HSETNX) a writer commits `change` in its own session."""
    real = auth_cache._database_row
    pending = [change]

    def read_then_let_the_writer_in(*args):
        row = real(*args)
        if pending:
            with app.app_context():
                pending.pop()()
        return row

    monkeypatch.setattr(auth_cache, "_database_row", read_then_let_the_writer_in)


def test_a_deactivation_committed_while_the_loader_reads_is_not_undone(app, client, sign_in, seated, monkeypatch):
    _, _, committee = seated
    headers = sign_in(committee)
    app.extensions["linli_redis"].delete(f"linli:auth:{committee.id}")

    def deactivate():
        db.session.get(User, committee.id).is_active = False
        db.session.commit()

    _commit_meanwhile(app, monkeypatch, deactivate)
    client.get("/api/v1/me", headers=headers)  # raced: either answer is right for this one

    assert_error_shape(client.get("/api/v1/me", headers=headers), 401)


def test_a_logout_everywhere_committed_while_the_loader_reads_is_not_undone(app, client, sign_in, seated,
                                                                            monkeypatch):
    _, _, committee = seated
    headers = sign_in(committee)
    app.extensions["linli_redis"].delete(f"linli:auth:{committee.id}")

    _commit_meanwhile(app, monkeypatch, lambda: auth_service.sign_out_everywhere(committee.id))
    client.get("/api/v1/me", headers=headers)

    assert_error_shape(client.get("/api/v1/me", headers=headers), 401)


# ---- Redis forgets ---------------------------------------------------------------------------------------


def test_a_flushed_redis_brings_back_neither_a_revoked_token_nor_an_old_role(app, client, sign_in, seated):
    compound, admin, committee = seated
    as_admin, as_committee = sign_in(admin), sign_in(committee)
    assert client.get(_households(compound), headers=as_committee).status_code == 200
    seat = db.session.scalar(select(Membership.id).where(Membership.user_id == committee.id))
    assert client.delete(f"/api/v1/memberships/{seat}", headers=as_admin).status_code == 204
    assert client.post("/api/v1/auth/logout", headers=as_admin).status_code == 204

    app.extensions["linli_redis"].flushdb()

    assert_error_shape(client.get(_households(compound), headers=as_committee), 404)
    assert_error_shape(client.get("/api/v1/me", headers=as_admin), 401)


def test_a_revocation_leaves_no_hash_without_an_expiry(app, client, sign_in, seated):
    _, _, committee = seated
    headers = sign_in(committee)
    r = app.extensions["linli_redis"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    r.flushdb()  # the hash is gone when the logout's commit writes the revocation

    auth_service.sign_out({"sub": str(committee.id), "jti": "gone", "exp": 4102444800}, None)

    assert r.ttl(f"linli:auth:{committee.id}") > 0


def test_roles_granted_by_a_multi_row_insert_count_on_the_next_request(client, sign_in, seated, make_user):
    compound, _, _ = seated
    first, second = make_user(), make_user()
    as_first, as_second = sign_in(first), sign_in(second)
    for headers in (as_first, as_second):
        assert_error_shape(client.get(_households(compound), headers=headers), 404)

    db.session.execute(insert(Membership).values([
        {"user_id": person.id, "role": Role.COMMITTEE, "compound_id": compound.id} for person in (first, second)
    ]))
    db.session.commit()

    for headers in (as_first, as_second):
        assert client.get(_households(compound), headers=headers).status_code == 200


def test_an_insert_select_of_memberships_is_refused(seated):
    compound, _, committee = seated
    copied = select(Membership.user_id, Membership.role, Membership.compound_id).where(
        Membership.user_id == committee.id)
    with pytest.raises(RuntimeError):
        db.session.execute(insert(Membership).from_select(["user_id", "role", "compound_id"], copied))
    db.session.rollback()


def test_an_officials_area_role_counts_and_goes_on_the_next_request(client, sign_in, make_compound, make_user,
                                                                    area_tree):
    _, _, street, community = area_tree
    compound = make_compound(area=community)
    admin, official = make_user(role=Role.ADMIN), make_user()
    as_admin, as_official = sign_in(admin), sign_in(official)
    assert_error_shape(client.get(_households(compound), headers=as_official), 404)

    db.session.add(Membership(user_id=official.id, role=Role.OFFICIAL, area_id=street.id))
    db.session.commit()
    assert client.get(_households(compound), headers=as_official).status_code == 200

    seat = db.session.scalar(select(Membership.id).where(Membership.user_id == official.id))
    assert client.delete(f"/api/v1/memberships/{seat}", headers=as_admin).status_code == 204
    assert_error_shape(client.get(_households(compound), headers=as_official), 404)


def test_after_logout_everywhere_neither_refresh_nor_the_pages_renew(client, seated, page_sign_in):
    _, _, committee = seated
    csrf = page_sign_in(client, committee)
    refresh_cookie = client.get_cookie("refresh_token_cookie").value
    refresh_csrf = client.get_cookie("csrf_refresh_token").value

    assert client.post("/api/v1/auth/logout-everywhere", headers={"X-CSRF-TOKEN": csrf}).status_code == 204

    assert_error_shape(client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {refresh_cookie}"}),
                       401)
    client.set_cookie("refresh_token_cookie", refresh_cookie)
    client.set_cookie("csrf_refresh_token", refresh_csrf)
    page = client.get("/h5/")
    assert "access_token_cookie" not in " ".join(page.headers.getlist("Set-Cookie"))


def test_a_savepoint_released_after_a_role_change_does_not_spend_the_commits_invalidation(app, client, sign_in,
                                                                                          seated):
    compound, _, committee = seated
    headers = sign_in(committee)
    r = app.extensions["linli_redis"]
    assert client.get(_households(compound), headers=headers).status_code == 200

    db.session.delete(db.session.scalar(select(Membership).where(Membership.user_id == committee.id)))
    db.session.flush()
    with db.session.begin_nested():  # a get-or-create later in the same transaction
        pass
    # A request between the savepoint and the commit: elsewhere it reads the roles as they were before the
    # change, and keeps them under the version it reads now.
    client.get("/api/v1/me", headers=headers)
    read_meanwhile = r.hget(f"linli:auth:{committee.id}", "v")
    db.session.commit()

    assert read_meanwhile is not None
    assert r.hget(f"linli:auth:{committee.id}", "v") != read_meanwhile
    assert_error_shape(client.get(_households(compound), headers=headers), 404)


@pytest.mark.parametrize("csrf", ["é", "值"])
def test_a_csrf_value_out_of_ascii_is_refused_not_500(client, seated, page_sign_in, csrf):
    _, _, committee = seated
    page_sign_in(client, committee)
    assert client.get("/api/v1/me").status_code == 200

    if csrf == "é":  # a header carries latin-1 only
        assert_error_shape(client.post("/api/v1/auth/logout", headers={"X-CSRF-TOKEN": csrf}), 401)
    form = client.post("/api/v1/auth/logout", data={"csrf_token": csrf})
    assert form.status_code in (401, 403), form.status_code
    assert client.get("/api/v1/me").status_code == 200


def test_a_refresh_token_signs_no_one_in_and_an_access_token_refreshes_nothing(client, seated):
    _, _, committee = seated
    tokens = client.post("/api/v1/auth/password", json={"username": committee.username,
                                                        "password": TEST_PASSWORD}).json
    client.delete_cookie("access_token_cookie")
    client.delete_cookie("refresh_token_cookie")
    for _ in range(2):
        assert_error_shape(client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}),
                           401)
        assert_error_shape(client.post("/api/v1/auth/refresh",
                                       headers={"Authorization": f"Bearer {tokens['access_token']}"}), 401)
    assert client.post("/api/v1/auth/refresh",
                       headers={"Authorization": f"Bearer {tokens['refresh_token']}"}).status_code == 200


def test_a_compound_created_after_it_was_asked_for_is_reachable_on_the_next_request(client, sign_in, seated,
                                                                                   area_tree):
    _, admin, _ = seated
    community = area_tree[-1]
    headers = sign_in(admin)
    future = 1_999_999
    assert_error_shape(client.get(f"/api/v1/compounds/{future}/households", headers=headers), 404)

    factories.make_compound("c-future", "后来导入的小区", community, ManagementModel.MARKET, id=future)
    db.session.commit()  # as a ledger import creates compounds

    assert client.get(f"/api/v1/compounds/{future}/households", headers=headers).status_code == 200


def test_while_redis_is_down_the_database_still_refuses_the_revoked_and_the_deactivated(
        app, client, sign_in, seated, make_user, monkeypatch):
    compound, admin, committee = seated
    leaving, deactivated = make_user(role=Role.COMMITTEE, compound=compound), make_user()
    as_admin, as_committee = sign_in(admin), sign_in(committee)
    as_leaving, as_deactivated = sign_in(leaving), sign_in(deactivated)
    for headers in (as_committee, as_leaving, as_deactivated):
        assert client.get("/api/v1/me", headers=headers).status_code == 200  # all cached as standing
    assert client.post("/api/v1/auth/logout", headers=as_leaving).status_code == 204
    assert client.post(f"/api/v1/users/{deactivated.id}/deactivation", headers=as_admin).status_code == 204

    monkeypatch.setitem(app.extensions, "linli_redis", connect("redis://127.0.0.1:9/0"))

    assert_error_shape(client.get("/api/v1/me", headers=as_leaving), 401)
    assert_error_shape(client.get("/api/v1/me", headers=as_deactivated), 401)
    assert client.get(_households(compound), headers=as_committee).status_code == 200
    # A change of standing cannot be made where the cache would not hear of it.
    assert_error_shape(client.post("/api/v1/auth/logout-everywhere", headers=as_committee), 503)
    assert client.get("/api/v1/me", headers=as_committee).status_code == 200
