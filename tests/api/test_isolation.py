"""Cross-compound isolation: nobody of compound A (any role, its street's official, its QR visitors) reaches
anything of compound B in another street, through any endpoint, and B's pending binding stays pending."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from itsdangerous import URLSafeSerializer

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, BindingRequest, Compound, Household, Membership
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token, revoke_qr_codes
from tests.support import assert_error_shape, buildings_of, first_household

ERROR_KEYS = {"code", "status", "message", "errors"}


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@dataclass
class World:
    a: Compound
    b: Compound
    callers: dict[str, dict[str, str]]
    b_binding: BindingRequest
    b_household_ids: set[int]
    b_building_id: int


def build_world(area_tree, make_area, make_compound, make_user) -> World:
    _city, district, street_a, community_a = area_tree
    community_b = make_area("B社区", AreaLevel.COMMUNITY, make_area("B街道", AreaLevel.STREET, district))
    a = make_compound(name="甲小区", area=community_a)
    b = make_compound(name="乙小区", area=community_b)
    a_households = db.session.scalars(
        db.select(Household).where(Household.compound_id == a.id).order_by(Household.id)
    ).all()
    b_households = db.session.scalars(db.select(Household).where(Household.compound_id == b.id)).all()
    applicant = make_user()
    b_binding = BindingRequest(
        user_id=applicant.id,
        compound_id=b.id,
        household_id=first_household(b).id,
        claimed_name="乙住户",
        relation=Relation.OWNER,
        status=BindingStatus.PENDING,
    )
    db.session.add(b_binding)
    db.session.commit()
    a_entry = {"X-Entry-Token": make_entry_token(a)}
    callers = {
        "resident": bearer_for(make_user(Role.RESIDENT, a, household=a_households[0])),
        "owner": bearer_for(make_user(Role.OWNER, a, household=a_households[1])),
        "committee": bearer_for(make_user(Role.COMMITTEE, a)),
        "party_secretary": bearer_for(make_user(Role.PARTY_SECRETARY, a)),
        "staff": bearer_for(make_user(Role.STAFF, a)),
        "manager": bearer_for(make_user(Role.MANAGER, a)),
        "official_of_a_street": bearer_for(make_user(Role.OFFICIAL, area=street_a)),
        "visitor_with_a_entry": bearer_for(make_user()) | a_entry,
        "signed_out_with_a_entry": a_entry,
    }
    return World(
        a=a,
        b=b,
        callers=callers,
        b_binding=b_binding,
        b_household_ids={h.id for h in b_households},
        b_building_id=buildings_of(b)[0].id,
    )


@pytest.fixture
def world(built_once) -> World:
    """Built by the module's first test and kept for the others; what each test changes is rolled back."""
    return built_once(build_world)


def _b_binding_body(w: World) -> dict:
    return {"building_id": w.b_building_id, "unit": "1", "room": "101", "name": "甲的人", "relation": "owner"}


# (name, method, path, json body): every endpoint that names compound B or one of its rows.
ENDPOINTS = {
    "compound": ("GET", lambda w: f"/api/v1/compounds/{w.b.id}", None),
    "buildings": ("GET", lambda w: f"/api/v1/compounds/{w.b.id}/buildings", None),
    "households": ("GET", lambda w: f"/api/v1/compounds/{w.b.id}/households", None),
    "households_of_building": (
        "GET",
        lambda w: f"/api/v1/compounds/{w.b.id}/households?building_id={w.b_building_id}",
        None,
    ),
    "request_binding": ("POST", lambda w: f"/api/v1/compounds/{w.b.id}/bindings", _b_binding_body),
    "list_bindings": ("GET", lambda w: f"/api/v1/compounds/{w.b.id}/bindings?status=pending", None),
    "approve": ("POST", lambda w: f"/api/v1/bindings/{w.b_binding.id}/approve", None),
    "reject": (
        "POST",
        lambda w: f"/api/v1/bindings/{w.b_binding.id}/reject",
        lambda w: {"reason": "甲的拒绝"},
    ),
    "qr_png": ("GET", lambda w: f"/api/v1/compounds/{w.b.id}/qr.png", None),
    "qr_svg": ("GET", lambda w: f"/api/v1/compounds/{w.b.id}/qr.svg", None),
    "building_qr_png": (
        "GET",
        lambda w: f"/api/v1/compounds/{w.b.id}/qr.png?building_id={w.b_building_id}",
        None,
    ),
}
CALLERS = [
    "resident",
    "owner",
    "committee",
    "party_secretary",
    "staff",
    "manager",
    "official_of_a_street",
    "visitor_with_a_entry",
    "signed_out_with_a_entry",
]


def _numbers(value, key=None):
    """Every number in a JSON document except the error's own status code."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v, key)
    elif isinstance(value, int) and key != "code":
        yield value


def assert_nothing_of_b(response, w: World) -> None:
    assert response.status_code in (401, 403, 404), (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    assert_error_shape(response, response.status_code)
    assert set(response.json) <= ERROR_KEYS
    text = response.get_data(as_text=True)
    assert w.b.name not in text and w.b.code not in text
    assert not set(_numbers(response.json)) & w.b_household_ids


def assert_b_untouched(w: World) -> None:
    """B still has exactly its one pending request, no members and no audited decision."""
    db.session.expire_all()
    binding = db.session.get(BindingRequest, w.b_binding.id)
    assert binding.status is BindingStatus.PENDING and binding.decided_at is None
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(BindingRequest).where(BindingRequest.compound_id == w.b.id)
        )
        == 1
    )
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(Membership).where(Membership.compound_id == w.b.id)
        )
        == 0
    )
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.compound_id == w.b.id)
        )
        == 0
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_compound_a_cannot_reach_compound_b(client, world, endpoint, caller):
    method, path, body = ENDPOINTS[endpoint]
    headers = world.callers[caller]
    response = client.open(path(world), method=method, headers=headers, json=body(world) if body else None)
    # Signed-out callers are stopped at the door (401) by endpoints that need sign-in; everyone else 403/404.
    if "Authorization" in headers:
        assert response.status_code in (403, 404)
    assert_nothing_of_b(response, world)
    assert_b_untouched(world)


@pytest.mark.parametrize("caller", CALLERS)
def test_compound_list_of_a_never_contains_b(client, world, caller):
    response = client.get("/api/v1/compounds", headers=world.callers[caller], query_string={"page_size": 100})
    if response.status_code == 200:
        assert world.b.id not in [item["id"] for item in response.json["items"]]
        assert world.b.name not in response.get_data(as_text=True)
    else:
        assert_error_shape(response, 401)


# ---- B's rows smuggled through A's endpoints ---------------------------------------------------------


def test_household_filter_with_b_building_lists_nothing_of_b(client, world):
    response = client.get(
        f"/api/v1/compounds/{world.a.id}/households",
        headers=world.callers["committee"],
        query_string={"building_id": world.b_building_id},
    )
    assert response.status_code == 200
    assert response.json["items"] == [] and response.json["total"] == 0


def test_binding_to_a_with_b_building_never_binds_a_b_household(client, world):
    response = client.post(
        f"/api/v1/compounds/{world.a.id}/bindings",
        json=_b_binding_body(world),
        headers=world.callers["visitor_with_a_entry"],
    )
    assert_error_shape(response, 409)
    assert_b_untouched(world)
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(BindingRequest)
            .where(BindingRequest.household_id.in_(world.b_household_ids))
        )
        == 1
    )


def test_qr_of_a_with_b_building_is_404(client, world):
    response = client.get(
        f"/api/v1/compounds/{world.a.id}/qr.png",
        headers=world.callers["staff"],
        query_string={"building_id": world.b_building_id},
    )
    assert_nothing_of_b(response, world)
    assert response.status_code == 404


def test_b_reviewer_list_does_not_show_a_bindings(client, world, make_user):
    # The other way round: A's pending request never shows in B's list, and B's in A's.
    a_applicant = make_user()
    client.post(
        f"/api/v1/compounds/{world.a.id}/bindings",
        json={
            "building_id": buildings_of(world.a)[0].id,
            "unit": "1",
            "room": "101",
            "name": "甲住户",
            "relation": "owner",
        },
        headers=bearer_for(a_applicant) | {"X-Entry-Token": make_entry_token(world.a)},
    )
    a_list = client.get(f"/api/v1/compounds/{world.a.id}/bindings", headers=world.callers["committee"]).json
    assert [item["claimed_name"] for item in a_list["items"]] == ["甲住户"]
    b_reviewer = bearer_for(make_user(Role.COMMITTEE, world.b))
    b_list = client.get(f"/api/v1/compounds/{world.b.id}/bindings", headers=b_reviewer).json
    assert [item["id"] for item in b_list["items"]] == [world.b_binding.id]


# ---- entry tokens ----------------------------------------------------------------------------------


def _b_reads(client, world, headers):
    return [
        client.get(f"/api/v1/compounds/{world.b.id}", headers=headers),
        client.get(f"/api/v1/compounds/{world.b.id}/buildings", headers=headers),
    ]


def test_entry_token_of_a_building_of_a_opens_nothing_of_b(client, world):
    headers = {"X-Entry-Token": make_entry_token(world.a, buildings_of(world.a)[0])}
    for response in _b_reads(client, world, headers):
        assert_nothing_of_b(response, world)


def test_entry_cookie_of_a_opens_nothing_of_b(client, world):
    client.set_cookie("linli_entry", make_entry_token(world.a))
    for response in _b_reads(client, world, {}):
        assert_nothing_of_b(response, world)


def forged_tokens(world: World) -> dict[str, str]:
    genuine = make_entry_token(world.a)
    other_key = URLSafeSerializer("not-the-secret", salt="linli-qr-entry")
    payload, _, signature = genuine.rpartition(".")
    a_payload_b_id = URLSafeSerializer("x").dump_payload({"c": world.b.id, "v": 1}).decode()
    return {
        "signed_with_another_key": other_key.dumps({"c": world.b.id, "v": world.b.qr_version}),
        "a_signature_on_b_payload": f"{a_payload_b_id}.{signature}",
        "tampered_signature": f"{payload}.{signature[:-2]}xx",
        "unsigned_payload": a_payload_b_id,
        "garbage": "definitely-not-a-token",
        "oversized": "a" * 5000,
        "non_ascii": "小区令牌",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "signed_with_another_key",
        "a_signature_on_b_payload",
        "tampered_signature",
        "unsigned_payload",
        "garbage",
        "oversized",
        "non_ascii",
    ],
)
def test_forged_entry_token_opens_nothing(client, world, make_user, kind):
    token = forged_tokens(world)[kind]
    for headers in ({"X-Entry-Token": token}, bearer_for(make_user()) | {"X-Entry-Token": token}):
        for response in _b_reads(client, world, headers):
            assert_nothing_of_b(response, world)
        binding = client.post(
            f"/api/v1/compounds/{world.b.id}/bindings", json=_b_binding_body(world), headers=headers
        )
        assert_nothing_of_b(binding, world)
    assert_b_untouched(world)


def test_revoked_entry_token_of_b_opens_nothing(client, world, make_user):
    old = {"X-Entry-Token": make_entry_token(world.b)}
    revoke_qr_codes(world.b.id, actor_id=None)
    for response in _b_reads(client, world, old):
        assert_error_shape(response, 404)
    binding = client.post(
        f"/api/v1/compounds/{world.b.id}/bindings",
        json=_b_binding_body(world),
        headers=bearer_for(make_user()) | old,
    )
    assert_error_shape(binding, 404)
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(BindingRequest)
            .where(BindingRequest.compound_id == world.b.id)
        )
        == 1
    )


def test_current_entry_token_of_b_does_open_b(client, world):
    # The control for the tests above: B's own current token is what opens B.
    headers = {"X-Entry-Token": make_entry_token(world.b)}
    assert [r.status_code for r in _b_reads(client, world, headers)] == [200, 200]
