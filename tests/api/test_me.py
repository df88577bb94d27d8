"""GET/PATCH /api/v1/me: who I am, my roles and households, my binding requests, the large-text mode."""

from __future__ import annotations

import pytest

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BindingRequest, Household, User
from backend.services.auth import issue_tokens
from tests.support import assert_error_shape, first_household

PHONE = "13800138000"


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def test_me_after_real_password_sign_in(client, make_user, sign_in):
    user = make_user(username="zhangsan")
    body = client.get("/api/v1/me", headers=sign_in(user)).json
    assert (body["id"], body["username"], body["display_name"]) == (user.id, "zhangsan", user.display_name)
    assert body["has_wechat"] is False and body["large_text"] is False


def test_me_shows_memberships_with_their_household(client, make_compound, make_user):
    compound = make_compound()
    household = first_household(compound)
    user = make_user(Role.OWNER, compound, household=household)
    body = client.get("/api/v1/me", headers=bearer_for(user)).json
    (membership,) = body["memberships"]
    assert (membership["role"], membership["compound_id"], membership["area_id"]) == (
        "owner",
        compound.id,
        None,
    )
    assert membership["verified_at"] is not None
    assert membership["household"] == {
        "id": household.id,
        "building_name": "1栋",
        "unit": household.unit,
        "room": household.room,
        "floor_area_centi_m2": household.floor_area_centi_m2,
    }


def test_official_membership_shows_the_area_and_no_household(client, area_tree, make_user):
    street = area_tree[2]
    body = client.get("/api/v1/me", headers=bearer_for(make_user(Role.OFFICIAL, area=street))).json
    assert [(m["role"], m["area_id"], m["compound_id"], m["household"]) for m in body["memberships"]] == [
        ("official", street.id, None, None)
    ]


def test_me_shows_only_my_own_bindings_newest_first(client, make_compound, make_user):
    compound = make_compound()
    me, other = make_user(), make_user()
    rooms = db.session.scalars(
        db.select(Household.id).where(Household.compound_id == compound.id).order_by(Household.id)
    ).all()
    for user, household_id in ((me, rooms[0]), (me, rooms[1]), (other, rooms[2])):
        db.session.add(
            BindingRequest(
                user_id=user.id,
                compound_id=compound.id,
                household_id=household_id,
                claimed_name="某某",
                relation=Relation.OWNER,
                status=BindingStatus.PENDING,
            )
        )
    db.session.commit()
    body = client.get("/api/v1/me", headers=bearer_for(me)).json
    assert [b["household"]["id"] for b in body["bindings"]] == [rooms[1], rooms[0]]


def test_phone_is_shown_masked_only(client, make_user):
    response = client.get("/api/v1/me", headers=bearer_for(make_user(phone=PHONE)))
    assert response.json["phone_masked"] == "138****8000"
    assert PHONE not in response.get_data(as_text=True)


def test_me_needs_sign_in(client):
    assert_error_shape(client.get("/api/v1/me"), 401)


@pytest.mark.parametrize(
    "authorization", ["Bearer nonsense", "Bearer ", "Basic dXNlcjpwYXNz", "bearer a.b.c"]
)
def test_me_refuses_a_bad_authorization_header(client, authorization):
    assert_error_shape(client.get("/api/v1/me", headers={"Authorization": authorization}), 401)


def test_me_refuses_a_refresh_token_as_access(client, make_user):
    _access, refresh = issue_tokens(make_user())
    assert_error_shape(client.get("/api/v1/me", headers={"Authorization": f"Bearer {refresh}"}), 401)


def test_large_text_setting_persists(client, make_user):
    user = make_user()
    headers = bearer_for(user)
    response = client.patch("/api/v1/me", json={"large_text": True}, headers=headers)
    assert response.status_code == 200 and response.json["large_text"] is True
    db.session.expire_all()
    assert db.session.get(User, user.id).large_text is True
    assert client.get("/api/v1/me", headers=headers).json["large_text"] is True

    assert client.patch("/api/v1/me", json={"large_text": False}, headers=headers).json["large_text"] is False
    db.session.expire_all()
    assert db.session.get(User, user.id).large_text is False


def test_display_name_is_changed_and_trimmed(client, make_user):
    user = make_user()
    response = client.patch("/api/v1/me", json={"display_name": " 王阿姨 "}, headers=bearer_for(user))
    assert response.json["display_name"] == "王阿姨"
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "王阿姨"


def test_patch_changes_only_what_is_sent(client, make_user):
    user = make_user()
    headers = bearer_for(user)
    client.patch("/api/v1/me", json={"large_text": True}, headers=headers)
    body = client.patch("/api/v1/me", json={"display_name": "老李"}, headers=headers).json
    assert (body["display_name"], body["large_text"]) == ("老李", True)


@pytest.mark.parametrize(
    "body",
    [
        {"large_text": "very"},
        {"large_text": None},
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "名" * 65},
        {"display_name": 12},
        {"phone_masked": "138****0000"},
        {"id": 1},
        [],
    ],
)
def test_bad_patch_is_422_and_changes_nothing(client, make_user, body):
    user = make_user()
    name = user.display_name
    response = client.patch("/api/v1/me", json=body, headers=bearer_for(user))
    assert_error_shape(response, 422)
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.display_name, stored.large_text) == (name, False)


def test_patch_needs_sign_in(client):
    assert_error_shape(client.patch("/api/v1/me", json={"large_text": True}), 401)
