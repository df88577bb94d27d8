"""Household binding: asking, the owner register shortcut, the reviewers' list, approving and rejecting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.bindings import BindingStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, BindingRequest, Household, Membership, RegisteredOwner
from backend.services.auth import issue_tokens
from backend.services.identity import phone_hash
from backend.services.qr import make_entry_token
from tests.support import assert_error_shape, buildings_of

HUGE_ID = 99999999999999
PHONE = "13912345678"


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=2, households_per_building=4)


@pytest.fixture
def household(compound) -> Household:
    building = buildings_of(compound)[0]
    return db.session.scalar(
        db.select(Household).where(Household.building_id == building.id, Household.room == "201")
    )


@pytest.fixture
def reviewer(make_user, compound):
    return make_user(Role.COMMITTEE, compound)


def ask(client, compound, user, household: Household | None = None, **overrides):
    """POST a binding request as a signed-in visitor who scanned the compound's QR code."""
    body = {"unit": "1", "room": "201", "name": "张三", "relation": "owner"}
    if household is not None:
        body |= {"building_id": household.building_id, "unit": household.unit, "room": household.room}
    else:
        body["building_id"] = buildings_of(compound)[0].id
    body |= overrides
    headers = bearer_for(user) | {"X-Entry-Token": make_entry_token(compound)}
    return client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=headers)


def audit(action: str, binding_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            db.select(AuditEvent).where(
                AuditEvent.action == action,
                AuditEvent.target_type == "binding",
                AuditEvent.target_id == binding_id,
            )
        )
    )


def memberships_of(user) -> list[Membership]:
    return list(db.session.scalars(db.select(Membership).where(Membership.user_id == user.id)))


# ---- asking --------------------------------------------------------------------------------------


def test_visitor_asks_and_a_pending_request_is_created(client, compound, household, make_user):
    applicant = make_user()
    response = ask(client, compound, applicant, household, name=" 张三 ", relation="tenant")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "pending" and body["relation"] == "tenant" and body["claimed_name"] == "张三"
    assert body["compound_id"] == compound.id
    assert body["household"]["id"] == household.id and body["household"]["building_name"] == "1栋"
    assert body["decided_at"] is None
    stored = db.session.get(BindingRequest, body["id"])
    assert (stored.user_id, stored.household_id, stored.status) == (
        applicant.id,
        household.id,
        BindingStatus.PENDING,
    )
    assert [e.actor_id for e in audit("binding.request", body["id"])] == [applicant.id]
    assert memberships_of(applicant) == []


def test_unit_and_room_are_matched_without_surrounding_spaces(client, compound, household, make_user):
    response = ask(client, compound, make_user(), unit=" 1 ", room=" 201 ")
    assert response.status_code == 201 and response.json["household"]["id"] == household.id


def test_member_of_the_compound_may_ask_without_a_qr_entry(client, compound, household, make_user):
    staff = make_user(Role.STAFF, compound)
    body = {
        "building_id": household.building_id,
        "unit": "1",
        "room": "201",
        "name": "李四",
        "relation": "owner",
    }
    response = client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=bearer_for(staff))
    assert response.status_code == 201 and response.json["status"] == "pending"


def test_asking_without_the_qr_entry_or_a_membership_is_404(client, compound, household, make_user):
    body = {
        "building_id": household.building_id,
        "unit": "1",
        "room": "201",
        "name": "李四",
        "relation": "owner",
    }
    response = client.post(
        f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=bearer_for(make_user())
    )
    assert_error_shape(response, 404)
    assert db.session.scalar(db.select(db.func.count()).select_from(BindingRequest)) == 0


def test_asking_needs_sign_in(client, compound, household):
    body = {
        "building_id": household.building_id,
        "unit": "1",
        "room": "201",
        "name": "李四",
        "relation": "owner",
    }
    headers = {"X-Entry-Token": make_entry_token(compound)}
    assert_error_shape(
        client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=headers), 401
    )


@pytest.mark.parametrize("overrides", [{"room": "9901"}, {"unit": "2"}, {"room": "201室"}])
def test_unknown_room_is_409_with_a_chinese_message(client, compound, make_user, overrides):
    response = ask(client, compound, make_user(), **overrides)
    assert_error_shape(response, 409)
    assert "找不到该房屋" in response.json["message"]


def test_room_in_another_building_of_the_compound_is_not_confused(client, compound, make_user):
    # Room 201 exists in both buildings: the request binds the one in the building asked for.
    second = buildings_of(compound)[1]
    response = ask(client, compound, make_user(), building_id=second.id)
    assert response.status_code == 201
    assert db.session.get(Household, response.json["household"]["id"]).building_id == second.id


def test_second_pending_request_for_the_same_household_is_409(client, compound, household, make_user):
    applicant = make_user()
    assert ask(client, compound, applicant, household).status_code == 201
    response = ask(client, compound, applicant, household, relation="tenant")
    assert_error_shape(response, 409)
    assert "等待审核" in response.json["message"]
    count = (
        db.select(db.func.count()).select_from(BindingRequest).where(BindingRequest.user_id == applicant.id)
    )
    assert db.session.scalar(count) == 1


def test_already_bound_household_is_409(client, compound, household, make_user):
    resident = make_user(Role.RESIDENT, compound, household=household)
    response = ask(client, compound, resident, household)
    assert_error_shape(response, 409)
    assert "已绑定" in response.json["message"]


def test_rejected_applicant_may_ask_again(client, compound, household, make_user, reviewer):
    applicant = make_user()
    first = ask(client, compound, applicant, household).json
    client.post(
        f"/api/v1/bindings/{first['id']}/reject", json={"reason": "姓名不符"}, headers=bearer_for(reviewer)
    )
    again = ask(client, compound, applicant, household, name="张三丰")
    assert again.status_code == 201 and again.json["status"] == "pending"


@pytest.mark.parametrize("missing", ["building_id", "unit", "room", "name", "relation"])
def test_missing_field_is_422_naming_it(client, compound, make_user, missing):
    body = {
        "building_id": buildings_of(compound)[0].id,
        "unit": "1",
        "room": "201",
        "name": "张三",
        "relation": "owner",
    }
    del body[missing]
    headers = bearer_for(make_user()) | {"X-Entry-Token": make_entry_token(compound)}
    response = client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=headers)
    assert_error_shape(response, 422)
    assert missing in response.json["errors"]["json"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"relation": "landlord"},
        {"relation": "OWNER"},
        {"relation": None},
        {"building_id": "first"},
        {"building_id": 0},
        {"building_id": HUGE_ID},
        {"building_id": 1.5},
        {"unit": ""},
        {"room": "1" * 17},
        {"name": ""},
        {"name": "   "},
        {"name": "张" * 65},
        {"name": 42},
        {"extra": "field"},
    ],
)
def test_wrong_field_is_422(client, compound, make_user, overrides):
    assert_error_shape(ask(client, compound, make_user(), **overrides), 422)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("not json", "application/json"), ("[]", "application/json"), ("a=b", "text/plain")],
)
def test_body_that_is_not_a_json_object_is_4xx(client, compound, make_user, data, content_type):
    headers = bearer_for(make_user()) | {"X-Entry-Token": make_entry_token(compound)}
    response = client.post(
        f"/api/v1/compounds/{compound.id}/bindings", data=data, content_type=content_type, headers=headers
    )
    assert 400 <= response.status_code < 500
    assert_error_shape(response, response.status_code)


# ---- the owner register ----------------------------------------------------------------------------


def register_owner(household: Household, phone: str = PHONE) -> None:
    db.session.add(RegisteredOwner(household_id=household.id, name="张三", phone_hash=phone_hash(phone)))
    db.session.commit()


def test_owner_on_the_register_is_verified_at_once(client, compound, household, make_user):
    register_owner(household)
    applicant = make_user(phone=PHONE)
    response = ask(client, compound, applicant, household)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "approved" and response.json["decided_at"] is not None
    (membership,) = memberships_of(applicant)
    assert (membership.role, membership.compound_id, membership.household_id) == (
        Role.OWNER,
        compound.id,
        household.id,
    )
    assert membership.verified_by_id is None and membership.verified_at is not None
    (event,) = audit("binding.approve", response.json["id"])
    assert event.actor_id is None and event.compound_id == compound.id
    assert event.after["role"] == "owner"


def test_tenant_sharing_the_registered_phone_is_not_verified_at_once(client, compound, household, make_user):
    register_owner(household)
    response = ask(client, compound, make_user(phone=PHONE), household, relation="tenant")
    assert response.status_code == 201 and response.json["status"] == "pending"
    assert audit("binding.approve", response.json["id"]) == []


def test_owner_with_another_phone_waits_for_review(client, compound, household, make_user):
    register_owner(household)
    response = ask(client, compound, make_user(phone="13800000000"), household)
    assert response.json["status"] == "pending"


def test_registered_phone_of_another_household_does_not_verify(client, compound, household, make_user):
    other = db.session.scalar(
        db.select(Household).where(Household.compound_id == compound.id, Household.id != household.id)
    )
    register_owner(other)
    response = ask(client, compound, make_user(phone=PHONE), household)
    assert response.json["status"] == "pending"


def test_owner_without_a_phone_waits_for_review(client, compound, household, make_user):
    db.session.add(RegisteredOwner(household_id=household.id, name="张三", phone_hash=None))
    db.session.commit()
    assert ask(client, compound, make_user(), household).json["status"] == "pending"


# ---- the reviewers' list ---------------------------------------------------------------------------


def pending_list(client, compound, user, **query):
    return client.get(
        f"/api/v1/compounds/{compound.id}/bindings",
        headers=bearer_for(user),
        query_string={"status": "pending"} | query,
    )


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF])
def test_reviewers_list_pending_requests_with_masked_phones(client, compound, household, make_user, role):
    applicant = make_user(phone=PHONE)
    binding_id = ask(client, compound, applicant, household).json["id"]
    response = pending_list(client, compound, make_user(role, compound))
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 1 and [item["id"] for item in body["items"]] == [binding_id]
    assert body["items"][0]["applicant_phone_masked"] == "139****5678"
    assert body["items"][0]["household"]["room"] == "201"
    assert PHONE not in response.get_data(as_text=True)


def test_admin_lists_pending_requests(client, compound, household, make_user):
    ask(client, compound, make_user(), household)
    assert pending_list(client, compound, make_user(Role.ADMIN)).json["total"] == 1


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER, Role.RESIDENT])
def test_others_in_the_compound_cannot_list_requests(client, compound, household, make_user, role):
    ask(client, compound, make_user(), household)
    user = make_user(role, compound, household=household if role in (Role.OWNER, Role.RESIDENT) else None)
    response = pending_list(client, compound, user)
    assert_error_shape(response, 403)
    assert "items" not in response.json


def test_official_above_cannot_list_requests(client, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3])
    assert_error_shape(pending_list(client, compound, make_user(Role.OFFICIAL, area=area_tree[2])), 403)


def test_status_filter_lists_only_that_status_newest_first(client, compound, make_user, reviewer):
    rooms = ["101", "201", "301", "401"]
    ids = [ask(client, compound, make_user(), room=room).json["id"] for room in rooms]
    headers = bearer_for(reviewer)
    client.post(f"/api/v1/bindings/{ids[0]}/approve", headers=headers)
    client.post(f"/api/v1/bindings/{ids[1]}/reject", json={"reason": "不是本户"}, headers=headers)

    def listed(**query):
        response = client.get(
            f"/api/v1/compounds/{compound.id}/bindings", headers=headers, query_string=query
        )
        return [item["id"] for item in response.json["items"]]

    assert listed(status="pending") == [ids[3], ids[2]]
    assert listed(status="approved") == [ids[0]]
    assert listed(status="rejected") == [ids[1]]
    assert listed() == ids[::-1]
    assert listed(page_size=1, page=2) == [ids[2]]


@pytest.mark.parametrize(
    "query",
    [{"status": "waiting"}, {"status": ""}, {"page": 0}, {"page_size": 101}, {"page": 10001}, {"page": "x"}],
)
def test_bad_list_query_is_422(client, compound, reviewer, query):
    response = client.get(
        f"/api/v1/compounds/{compound.id}/bindings", headers=bearer_for(reviewer), query_string=query
    )
    assert_error_shape(response, 422)


def test_list_needs_sign_in(client, compound):
    assert_error_shape(client.get(f"/api/v1/compounds/{compound.id}/bindings"), 401)


# ---- approving -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("relation", "role"), [("owner", Role.OWNER), ("tenant", Role.RESIDENT)])
def test_approval_makes_a_verified_membership_and_an_audit_event(
    client, compound, household, make_user, reviewer, relation, role
):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household, relation=relation).json["id"]
    before = datetime.now(UTC)
    response = client.post(f"/api/v1/bindings/{binding_id}/approve", headers=bearer_for(reviewer))
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    assert datetime.fromisoformat(response.json["decided_at"]).utcoffset() == timedelta(0)

    db.session.expire_all()
    (membership,) = memberships_of(applicant)
    assert (membership.role, membership.compound_id, membership.household_id) == (
        role,
        compound.id,
        household.id,
    )
    assert membership.verified_by_id == reviewer.id
    assert membership.verified_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= membership.verified_at <= datetime.now(UTC) + timedelta(seconds=5)
    binding = db.session.get(BindingRequest, binding_id)
    assert (binding.status, binding.decided_by_id) == (BindingStatus.APPROVED, reviewer.id)
    (event,) = audit("binding.approve", binding_id)
    assert (event.actor_id, event.compound_id) == (reviewer.id, compound.id)
    assert event.before == {"status": "pending"} and event.after["role"] == role.value


@pytest.mark.parametrize("role", [Role.PARTY_SECRETARY, Role.STAFF])
def test_party_secretary_and_staff_may_approve(client, compound, household, make_user, role):
    binding_id = ask(client, compound, make_user(), household).json["id"]
    response = client.post(
        f"/api/v1/bindings/{binding_id}/approve", headers=bearer_for(make_user(role, compound))
    )
    assert response.status_code == 200 and response.json["status"] == "approved"


def test_approved_applicant_sees_the_household_in_me_and_lists_the_compound(
    client, compound, household, make_user, reviewer
):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household).json["id"]
    client.post(f"/api/v1/bindings/{binding_id}/approve", headers=bearer_for(reviewer))
    headers = bearer_for(applicant)
    me = client.get("/api/v1/me", headers=headers).json
    assert [(m["role"], m["household"]["id"]) for m in me["memberships"]] == [("owner", household.id)]
    assert me["memberships"][0]["verified_at"] is not None
    assert [b["status"] for b in me["bindings"]] == ["approved"]
    assert [c["id"] for c in client.get("/api/v1/compounds", headers=headers).json["items"]] == [compound.id]


def test_approving_twice_is_409_and_makes_one_membership(client, compound, household, make_user, reviewer):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household).json["id"]
    headers = bearer_for(reviewer)
    assert client.post(f"/api/v1/bindings/{binding_id}/approve", headers=headers).status_code == 200
    response = client.post(f"/api/v1/bindings/{binding_id}/approve", headers=headers)
    assert_error_shape(response, 409)
    assert "已处理" in response.json["message"]
    assert len(memberships_of(applicant)) == 1
    assert len(audit("binding.approve", binding_id)) == 1


def test_rejected_request_cannot_be_approved(client, compound, household, make_user, reviewer):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household).json["id"]
    headers = bearer_for(reviewer)
    client.post(f"/api/v1/bindings/{binding_id}/reject", json={"reason": "查无此人"}, headers=headers)
    assert_error_shape(client.post(f"/api/v1/bindings/{binding_id}/approve", headers=headers), 409)
    assert memberships_of(applicant) == []


def test_auto_verified_request_cannot_be_decided_again(client, compound, household, make_user, reviewer):
    register_owner(household)
    binding_id = ask(client, compound, make_user(phone=PHONE), household).json["id"]
    response = client.post(
        f"/api/v1/bindings/{binding_id}/reject", json={"reason": "x"}, headers=bearer_for(reviewer)
    )
    assert_error_shape(response, 409)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OWNER, Role.RESIDENT])
def test_non_reviewers_cannot_approve(client, compound, household, make_user, role):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household).json["id"]
    user = make_user(role, compound, household=household if role in (Role.OWNER, Role.RESIDENT) else None)
    assert_error_shape(client.post(f"/api/v1/bindings/{binding_id}/approve", headers=bearer_for(user)), 403)
    assert db.session.get(BindingRequest, binding_id).status is BindingStatus.PENDING
    assert memberships_of(applicant) == []


def test_applicant_cannot_approve_their_own_request(client, compound, household, make_user):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household).json["id"]
    response = client.post(
        f"/api/v1/bindings/{binding_id}/approve",
        headers=bearer_for(applicant) | {"X-Entry-Token": make_entry_token(compound)},
    )
    assert_error_shape(response, 404)
    assert memberships_of(applicant) == []


@pytest.mark.parametrize("binding_id", ["2147483647", str(HUGE_ID), "0", "abc"])
def test_deciding_a_missing_request_is_404(client, make_user, binding_id):
    admin = bearer_for(make_user(Role.ADMIN))
    assert_error_shape(client.post(f"/api/v1/bindings/{binding_id}/approve", headers=admin), 404)
    assert_error_shape(
        client.post(f"/api/v1/bindings/{binding_id}/reject", json={"reason": "x"}, headers=admin), 404
    )


def test_deciding_needs_sign_in(client, compound, household, make_user):
    binding_id = ask(client, compound, make_user(), household).json["id"]
    assert_error_shape(client.post(f"/api/v1/bindings/{binding_id}/approve"), 401)
    assert_error_shape(client.post(f"/api/v1/bindings/{binding_id}/reject", json={"reason": "x"}), 401)


# ---- rejecting -------------------------------------------------------------------------------------


def test_rejection_records_the_reason_and_the_applicant_sees_it(
    client, compound, household, make_user, reviewer
):
    applicant = make_user()
    binding_id = ask(client, compound, applicant, household).json["id"]
    response = client.post(
        f"/api/v1/bindings/{binding_id}/reject",
        json={"reason": " 房号与产权登记不符 "},
        headers=bearer_for(reviewer),
    )
    assert response.status_code == 200
    assert response.json["status"] == "rejected" and response.json["reason"] == "房号与产权登记不符"
    (event,) = audit("binding.reject", binding_id)
    assert event.actor_id == reviewer.id and event.after == {
        "status": "rejected",
        "reason": "房号与产权登记不符",
    }
    assert memberships_of(applicant) == []

    me = client.get("/api/v1/me", headers=bearer_for(applicant)).json
    assert [(b["id"], b["status"], b["reason"]) for b in me["bindings"]] == [
        (binding_id, "rejected", "房号与产权登记不符")
    ]
    assert me["memberships"] == []


@pytest.mark.parametrize(
    "body", [None, {}, {"reason": ""}, {"reason": "   "}, {"reason": "理" * 201}, {"reason": 7}]
)
def test_rejection_without_a_reason_is_422(client, compound, household, make_user, reviewer, body):
    binding_id = ask(client, compound, make_user(), household).json["id"]
    response = client.post(f"/api/v1/bindings/{binding_id}/reject", json=body, headers=bearer_for(reviewer))
    assert 400 <= response.status_code < 500
    assert_error_shape(response, response.status_code)
    binding = db.session.get(BindingRequest, binding_id)
    db.session.refresh(binding)
    assert binding.status is BindingStatus.PENDING
    assert audit("binding.reject", binding_id) == []


def test_rejecting_twice_is_409(client, compound, household, make_user, reviewer):
    binding_id = ask(client, compound, make_user(), household).json["id"]
    headers = bearer_for(reviewer)
    assert (
        client.post(
            f"/api/v1/bindings/{binding_id}/reject", json={"reason": "a"}, headers=headers
        ).status_code
        == 200
    )
    assert_error_shape(
        client.post(f"/api/v1/bindings/{binding_id}/reject", json={"reason": "b"}, headers=headers), 409
    )
    assert len(audit("binding.reject", binding_id)) == 1


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_reviewer_cannot_decide_their_own_request(client, compound, household, reviewer, decision):
    binding_id = ask(client, compound, reviewer, household).json["id"]
    response = client.post(f"/api/v1/bindings/{binding_id}/{decision}", json={"reason": "自己审核"},
                           headers=bearer_for(reviewer))
    assert_error_shape(response, 409)
    assert "自己" in response.json["message"]
    assert db.session.get(BindingRequest, binding_id).status is BindingStatus.PENDING
    assert [m for m in memberships_of(reviewer) if m.household_id == household.id] == []
