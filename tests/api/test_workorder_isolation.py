"""Work-order isolation: nobody of another compound (any role, its official), and no resident or QR visitor
of the order's own compound who neither filed nor follows it, reads or changes the order, its photos (by
URL too) or the compound's lists; every such request is a 404 (401 signed out) and changes nothing."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.domain.workorders import Action, Status, Urgency
from backend.extensions import db
from backend.models import Compound, Household, WorkOrder, WorkOrderEvent, WorkOrderPhoto
from backend.services import photos
from backend.services import workorders as workorder_service
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token
from tests import photo_samples as samples
from tests.support import assert_error_shape


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@dataclass
class World:
    a: Compound
    order_id: int
    photo_url: str
    pending_photo_url: str
    b_order_id: int
    callers: dict[str, dict[str, str]]


def households_of(compound: Compound) -> list[Household]:
    return list(
        db.session.scalars(
            db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


def _photo(order_id: int, user_id: int) -> WorkOrderPhoto:
    prepared = photos.prepare_photo(samples.camera_jpeg(160, 120).stream())
    return workorder_service.upload_photo(order_id, user_id, prepared)


def build_world(area_tree, make_area, make_compound, make_user) -> World:
    _city, district, street_a, community_a = area_tree
    street_b = make_area("B街道", AreaLevel.STREET, district)
    a = make_compound(name="甲小区", area=community_a)
    b = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY, street_b))
    a_households, b_households = households_of(a), households_of(b)
    submitter = make_user(Role.OWNER, a, household=a_households[0])
    a_staff = make_user(Role.STAFF, a)
    roles = frozenset({Role.STAFF})
    order = workorder_service.submit_order(
        user_id=submitter.id, compound_id=a.id, category="水电维修", description="卫生间漏水",
        urgency=Urgency.NORMAL, household_id=a_households[0].id,
    )
    for action in (Action.ACCEPT, Action.START):
        workorder_service.transition(order.id, a_staff.id, roles, action)
    after = _photo(order.id, a_staff.id)
    workorder_service.transition(order.id, a_staff.id, roles, Action.CLOSE, note="已修好", photo_ids=[after.id])
    pending = _photo(order.id, a_staff.id)

    b_submitter = make_user(Role.OWNER, b, household=b_households[0])
    b_staff = make_user(Role.STAFF, b)
    b_order = workorder_service.submit_order(
        user_id=b_submitter.id, compound_id=b.id, category="其他", description="乙的事", urgency=Urgency.NORMAL,
        location_text="乙东门",
    )
    callers = {
        "b_resident": bearer_for(b_submitter),
        "b_staff": bearer_for(b_staff),
        "b_manager": bearer_for(make_user(Role.MANAGER, b)),
        "b_committee": bearer_for(make_user(Role.COMMITTEE, b)),
        "b_party_secretary": bearer_for(make_user(Role.PARTY_SECRETARY, b)),
        "b_official": bearer_for(make_user(Role.OFFICIAL, area=street_b)),
        "visitor_with_a_entry": bearer_for(make_user()) | {"X-Entry-Token": make_entry_token(a)},
        "a_neighbour": bearer_for(make_user(Role.RESIDENT, a, household=a_households[1])),
        "a_owner_same_building": bearer_for(make_user(Role.OWNER, a, household=a_households[2])),
    }
    return World(
        a=a, order_id=order.id, photo_url=f"/api/v1/work-orders/{order.id}/photos/{after.id}",
        pending_photo_url=f"/api/v1/work-orders/{order.id}/photos/{pending.id}", b_order_id=b_order.id,
        callers=callers,
    )


@pytest.fixture
def world(built_once) -> World:
    """Built by the module's first test and kept for the others; what each test changes is rolled back."""
    return built_once(build_world)


def _upload():
    return {"photo": samples.camera_jpeg(120, 90).upload()}


# (method, path, json body, multipart form): everything that names the order of compound A or its photos.
ORDER_ENDPOINTS = {
    "detail": ("GET", lambda w: f"/api/v1/work-orders/{w.order_id}", None, None),
    "photo": ("GET", lambda w: w.photo_url, None, None),
    "pending_photo": ("GET", lambda w: w.pending_photo_url, None, None),
    "upload": ("POST", lambda w: f"/api/v1/work-orders/{w.order_id}/photos", None, _upload),
    "follow": ("POST", lambda w: f"/api/v1/work-orders/{w.order_id}/follow", None, None),
    "urge": ("POST", lambda w: f"/api/v1/work-orders/{w.order_id}/urge", None, None),
    "rate": ("POST", lambda w: f"/api/v1/work-orders/{w.order_id}/rating", lambda w: {"stars": 1}, None),
    "reply": (
        "POST", lambda w: f"/api/v1/work-orders/{w.order_id}/rating/reply", lambda w: {"reply": "乙"}, None
    ),
    **{
        f"transition_{action.value}": (
            "POST", lambda w: f"/api/v1/work-orders/{w.order_id}/transitions",
            lambda w, action=action: {"action": action.value, "note": "乙的操作"}, None,
        )
        for action in Action
    },
}
# Everything that names compound A itself.
COMPOUND_ENDPOINTS = {
    "list": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/work-orders", None, None),
    "list_filtered": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/work-orders?status=closed", None, None),
    "submit": (
        "POST", lambda w: f"/api/v1/compounds/{w.a.id}/work-orders",
        lambda w: {"category": "其他", "description": "乙来报修", "location_text": "甲东门"}, None,
    ),
    "duplicates": (
        "GET", lambda w: f"/api/v1/compounds/{w.a.id}/work-orders/duplicates?category=水电维修&location_text=x",
        None, None,
    ),
    "stats": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/work-orders/stats", None, None),
    "categories": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/work-order-categories", None, None),
    "configure": (
        "PUT", lambda w: f"/api/v1/compounds/{w.a.id}/work-order-categories",
        lambda w: {"items": [{"name": "乙的类别", "accept_minutes_normal": 1, "close_minutes_normal": 60,
                              "accept_minutes_urgent": 1, "close_minutes_urgent": 60}]}, None,
    ),
}
OUTSIDERS = ["b_resident", "b_staff", "b_manager", "b_committee", "b_party_secretary", "b_official"]
NEIGHBOURS = ["a_neighbour", "a_owner_same_building", "visitor_with_a_entry"]


def _call(client, w: World, endpoint, headers):
    method, path, body, form = endpoint
    if form is not None:
        return client.open(
            path(w), method=method, data=form(), headers=headers, content_type="multipart/form-data"
        )
    return client.open(path(w), method=method, json=body(w) if body else None, headers=headers)


def _snapshot(w: World) -> tuple:
    db.session.expire_all()
    order = db.session.get(WorkOrder, w.order_id)
    events = db.session.scalar(db.select(db.func.count()).where(WorkOrderEvent.work_order_id == w.order_id))
    uploads = db.session.scalar(db.select(db.func.count()).where(WorkOrderPhoto.work_order_id == w.order_id))
    return order.status, order.confirmed_at, order.urge_count, events, uploads


@pytest.mark.parametrize("caller", OUTSIDERS + NEIGHBOURS)
@pytest.mark.parametrize("name", sorted(ORDER_ENDPOINTS))
def test_nobody_without_a_part_in_the_order_reaches_it(client, world, caller, name):
    before = _snapshot(world)
    response = _call(client, world, ORDER_ENDPOINTS[name], world.callers[caller])
    assert_error_shape(response, 404)
    assert _snapshot(world) == before
    assert "卫生间漏水" not in response.get_data(as_text=True)


@pytest.mark.parametrize("caller", OUTSIDERS)
@pytest.mark.parametrize("name", sorted(COMPOUND_ENDPOINTS))
def test_another_compound_reaches_nothing_of_the_compound(client, world, caller, name):
    response = _call(client, world, COMPOUND_ENDPOINTS[name], world.callers[caller])
    assert_error_shape(response, 404)
    assert db.session.scalar(db.select(db.func.count()).where(WorkOrder.compound_id == world.a.id)) == 1


@pytest.mark.parametrize("name", sorted(ORDER_ENDPOINTS) + sorted(COMPOUND_ENDPOINTS))
def test_signed_out_reaches_nothing(client, world, name):
    endpoints = ORDER_ENDPOINTS | COMPOUND_ENDPOINTS
    response = _call(client, world, endpoints[name], {})
    assert response.status_code in (401, 404)
    assert_error_shape(response, response.status_code)


def test_a_neighbours_list_leaves_the_order_out(client, world):
    response = client.get(f"/api/v1/compounds/{world.a.id}/work-orders", headers=world.callers["a_neighbour"])
    assert response.status_code == 200
    assert response.json["items"] == [] and response.json["total"] == 0


def test_a_photo_of_a_is_not_found_under_an_order_of_b(client, world):
    photo_path = world.photo_url.rsplit("/photos/", 1)[1]
    for caller in ("b_staff", "b_resident"):
        response = client.get(f"/api/v1/work-orders/{world.b_order_id}/photos/{photo_path}",
                              headers=world.callers[caller])
        assert_error_shape(response, 404)


def test_the_order_is_still_readable_by_those_who_run_its_compound(client, world, make_user):
    """The 404s above are about who asks, not a broken order."""
    staff = make_user(Role.STAFF, world.a)
    response = client.get(f"/api/v1/work-orders/{world.order_id}", headers=bearer_for(staff))
    assert response.status_code == 200
    assert response.json["status"] == Status.CLOSED.value
    assert client.get(world.photo_url, headers=bearer_for(staff)).status_code == 200
