"""The admin's hand on accounts: deactivating a person and removing a role take effect on the next request,
although the first answers were cached (tokens, roles); only an admin may, and never on their own account."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Membership, User
from backend.redis_conn import connect
from tests.support import assert_error_shape

CLOSED_PORT_URL = "redis://127.0.0.1:9/0"


@pytest.fixture
def people(make_compound, make_user):
    compound = make_compound()
    return (compound, make_user(role=Role.ADMIN), make_user(role=Role.COMMITTEE, compound=compound),
            make_user(role=Role.COMMITTEE, compound=compound))


def _seat(user: User) -> int:
    return db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))


def test_a_deactivated_person_is_refused_on_the_next_request(client, sign_in, people):
    _, admin, committee, _ = people
    as_admin, as_committee = sign_in(admin), sign_in(committee)
    assert client.get("/api/v1/me", headers=as_committee).status_code == 200

    assert client.post(f"/api/v1/users/{committee.id}/deactivation", headers=as_admin).status_code == 204

    refused = client.get("/api/v1/me", headers=as_committee)
    assert_error_shape(refused, 401)
    assert refused.json["message"] == "账号不存在或已停用"
    assert db.session.get(User, committee.id).is_active is False
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == committee.id)) == "user.deactivate"
    # Again: nothing more to do, and no second audit event.
    assert client.post(f"/api/v1/users/{committee.id}/deactivation", headers=as_admin).status_code == 204
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.deactivate")).all()) == 1


def test_a_removed_role_is_gone_on_the_next_request(client, sign_in, people):
    compound, admin, committee, _ = people
    as_admin, as_committee = sign_in(admin), sign_in(committee)
    households = f"/api/v1/compounds/{compound.id}/households"
    assert client.get(households, headers=as_committee).status_code == 200

    assert client.delete(f"/api/v1/memberships/{_seat(committee)}", headers=as_admin).status_code == 204

    assert_error_shape(client.get(households, headers=as_committee), 404)
    assert client.get("/api/v1/me", headers=as_committee).json["memberships"] == []


def test_a_role_granted_by_any_code_path_counts_on_the_next_request(client, sign_in, people, make_user):
    compound, _, _, _ = people
    newcomer = make_user()
    as_newcomer = sign_in(newcomer)
    households = f"/api/v1/compounds/{compound.id}/households"
    assert_error_shape(client.get(households, headers=as_newcomer), 404)

    db.session.add(Membership(user_id=newcomer.id, role=Role.COMMITTEE, compound_id=compound.id))
    db.session.commit()

    assert client.get(households, headers=as_newcomer).status_code == 200


def test_only_an_admin_deactivates_or_removes_roles(client, sign_in, people):
    _, admin, committee, neighbour = people
    as_committee = sign_in(committee)

    assert_error_shape(client.post(f"/api/v1/users/{neighbour.id}/deactivation", headers=as_committee), 403)
    assert_error_shape(client.delete(f"/api/v1/memberships/{_seat(neighbour)}", headers=as_committee), 403)
    assert_error_shape(client.post(f"/api/v1/users/{neighbour.id}/deactivation"), 401)
    assert db.session.get(User, neighbour.id).is_active is True
    assert db.session.get(Membership, _seat(neighbour)) is not None


def test_an_admin_keeps_their_own_account_and_admin_role(client, sign_in, people):
    _, admin, _, _ = people
    as_admin = sign_in(admin)

    assert_error_shape(client.post(f"/api/v1/users/{admin.id}/deactivation", headers=as_admin), 409)
    assert_error_shape(client.delete(f"/api/v1/memberships/{_seat(admin)}", headers=as_admin), 409)
    assert client.get("/api/v1/me", headers=as_admin).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/users/2147483000/deactivation", "/api/v1/users/0/deactivation",
                                  "/api/v1/users/99999999999/deactivation"])
def test_deactivating_nobody_is_404(client, sign_in, people, path):
    assert_error_shape(client.post(path, headers=sign_in(people[1])), 404)


def test_removing_no_membership_is_404(client, sign_in, people):
    assert_error_shape(client.delete("/api/v1/memberships/2147483000", headers=sign_in(people[1])), 404)


def test_while_redis_is_unreachable_nothing_is_deactivated(app, client, sign_in, people, monkeypatch):
    _, admin, committee, _ = people
    as_admin, as_committee = sign_in(admin), sign_in(committee)
    monkeypatch.setitem(app.extensions, "linli_redis", connect(CLOSED_PORT_URL))

    response = client.post(f"/api/v1/users/{committee.id}/deactivation", headers=as_admin)

    assert_error_shape(response, 503)
    assert db.session.get(User, committee.id).is_active is True
    # The sign-in check falls back to the database meanwhile.
    assert client.get("/api/v1/me", headers=as_committee).status_code == 200


def test_a_savepoint_rolled_back_after_a_role_change_still_tells_the_cache(client, sign_in, people, make_user):
    compound, _, _, _ = people
    newcomer = make_user()
    as_newcomer = sign_in(newcomer)
    households = f"/api/v1/compounds/{compound.id}/households"
    assert_error_shape(client.get(households, headers=as_newcomer), 404)

    db.session.add(Membership(user_id=newcomer.id, role=Role.COMMITTEE, compound_id=compound.id))
    db.session.flush()
    savepoint = db.session.begin_nested()  # a lost race, retried, as sign_in_with_wechat does
    savepoint.rollback()
    db.session.commit()

    assert client.get(households, headers=as_newcomer).status_code == 200
