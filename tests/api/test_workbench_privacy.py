"""The workbench and call buttons (issue 15), as a reviewer probed them: the reporter's whole phone reaches only the assigned
staff and the manager (API, pages, lists, workbench, notices), each reveal audited; the committee's number hidden
until it is made public; odd input 4xx, never 500."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Notice
from backend.shared.clock import beijing_date, utcnow
from tests.api.test_workbench import (  # noqa: F401
    accept,
    bearer_for,
    compound,
    households,
    manager,
    other_staff,
    resident,
    reveal,
    staff,
    submitted,
)
from tests.support import assert_error_shape

PHONE = "13812341234"


@pytest.fixture
def browser(app, page_sign_in):  # noqa: F811
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def reveals() -> list[tuple[int, int]]:
    db.session.expire_all()
    return [(event.actor_id, event.target_id) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "work_order.reveal_phone").order_by(AuditEvent.id))]


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.PARTY_SECRETARY, Role.OFFICIAL])
def test_the_compounds_other_roles_never_get_the_whole_phone(client, compound, resident, staff, make_user, role,  # noqa: F811
                                                             area_tree):
    who = make_user(role, compound) if role is not Role.OFFICIAL else make_user(role, area=area_tree[3])
    order = submitted(client, compound, resident)
    accept(client, order["id"], staff)

    refused = reveal(client, order["id"], who)
    assert_error_shape(refused, refused.status_code)
    assert refused.status_code in (403, 404)
    shown = client.get(f"/api/v1/work-orders/{order['id']}", headers=bearer_for(who))
    assert PHONE not in shown.get_data(as_text=True)
    assert reveals() == []


def test_the_whole_phone_is_in_no_list_workbench_or_notice(client, compound, resident, staff, manager):  # noqa: F811
    order = submitted(client, compound, resident, urgency="urgent")
    accept(client, order["id"], staff)
    client.post(f"/api/v1/work-orders/{order['id']}/transitions", json={"action": "start"}, headers=bearer_for(staff))

    for user in (staff, manager):
        for path in (f"/api/v1/compounds/{compound.id}/work-orders", f"/api/v1/compounds/{compound.id}/workbench",
                     f"/api/v1/compounds/{compound.id}/work-orders?mine=1"):
            assert PHONE not in client.get(path, headers=bearer_for(user)).get_data(as_text=True), path
    notices = db.session.scalars(select(Notice)).all()
    assert notices and all(PHONE not in f"{notice.title}{notice.body}{notice.link}" for notice in notices)
    assert reveals() == []


def test_pages_show_the_whole_phone_only_after_the_assigned_staff_asks_and_each_time_audited(
        client, compound, resident, staff, other_staff, manager, make_user, browser):  # noqa: F811
    order = submitted(client, compound, resident)
    accept(client, order["id"], staff)
    committee = make_user(Role.COMMITTEE, compound)

    for user in (staff, other_staff, manager, committee):
        page = browser(user)
        for path in (f"/h5/work-orders/{order['id']}", f"/h5/c/{compound.code}/work-orders",
                     f"/h5/c/{compound.code}", f"/h5/c/{compound.code}/work-orders/queue"):
            assert PHONE not in html.unescape(page.get(path).get_data(as_text=True)), (user.id, path)
    assert reveals() == []

    for user, allowed in ((other_staff, False), (committee, False), (staff, True), (staff, True), (manager, True)):
        page = browser(user)
        response = page.post(f"/h5/work-orders/{order['id']}/reporter-phone", data={"csrf_token": page.csrf})
        assert (PHONE in html.unescape(response.get_data(as_text=True))) is allowed, (user.id, response.status_code)
    assert reveals() == [(staff.id, order["id"]), (staff.id, order["id"]), (manager.id, order["id"])]


def test_reassigned_away_the_first_staff_member_can_no_longer_reveal(client, compound, resident, staff, other_staff,  # noqa: F811
                                                                     manager):  # noqa: F811
    order = submitted(client, compound, resident)
    accept(client, order["id"], staff)
    moved = client.post(f"/api/v1/work-orders/{order['id']}/transitions",
                        json={"action": "assign", "assignee_id": other_staff.id}, headers=bearer_for(manager))
    assert moved.status_code == 200, moved.json

    assert_error_shape(reveal(client, order["id"], staff), 403)
    assert reveal(client, order["id"], other_staff).json["phone"] == PHONE


def test_a_follower_of_a_common_area_order_sees_no_phone_of_the_reporter(client, compound, households, resident,  # noqa: F811
                                                                          make_user):
    neighbour = make_user(Role.OWNER, compound, household=households[1], phone="13900001111")
    order = submitted(client, compound, resident)
    followed = client.post(f"/api/v1/work-orders/{order['id']}/follow", headers=bearer_for(neighbour))
    assert followed.status_code in (200, 201, 204), followed.get_json()

    shown = client.get(f"/api/v1/work-orders/{order['id']}", headers=bearer_for(neighbour)).json
    assert shown["reporter_phone_masked"] is None
    assert "1234" not in str(shown.get("reporter_phone_masked"))
    assert_error_shape(reveal(client, order["id"], neighbour), 403)


# ---- the committee's number --------------------------------------------------------------------------------


def test_the_committees_number_is_nowhere_until_made_public(client, compound, manager, resident, make_user, browser):  # noqa: F811
    committee = make_user(Role.COMMITTEE, compound)
    url = f"/api/v1/compounds/{compound.id}/contact-phones"
    saved = client.patch(url, json={"committee_phone": "13700007777"}, headers=bearer_for(committee))
    assert saved.status_code == 200, saved.json

    for user in (resident, manager, None):
        response = client.get(url, headers=bearer_for(user) if user else {})
        assert "13700007777" not in response.get_data(as_text=True), user
    for user in (resident, manager):
        page = browser(user)
        assert "13700007777" not in page.get(f"/h5/c/{compound.code}").get_data(as_text=True)
        assert "13700007777" not in page.get(f"/h5/c/{compound.code}/contact-phones").get_data(as_text=True)
    order = submitted(client, compound, resident)
    assert "13700007777" not in client.get(f"/api/v1/work-orders/{order['id']}",
                                           headers=bearer_for(resident)).get_data(as_text=True)

    client.patch(url, json={"committee_phone_public": True}, headers=bearer_for(committee))
    assert "13700007777" in client.get(url, headers=bearer_for(resident)).get_data(as_text=True)


def test_another_compounds_manager_or_committee_cannot_set_our_numbers(client, compound, make_user, make_compound):  # noqa: F811
    other = make_compound()
    url = f"/api/v1/compounds/{compound.id}/contact-phones"
    for user in (make_user(Role.MANAGER, other), make_user(Role.COMMITTEE, other)):
        assert_error_shape(client.patch(url, json={"service_phone": "13700007777"}, headers=bearer_for(user)), 404)
    assert_error_shape(client.patch(url, json={"service_phone": "13700007777"},
                                    headers=bearer_for(make_user(Role.COMMITTEE, compound))), 403)


# ---- odd input --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"service_phone": 13700007777}, {"service_phone": None}, {"committee_phone_public": "perhaps"},
    {"committee_phone_public": None}, {"service_phone": "1" * 31}, {"service_phone": "０８１２－３３３４５６７８９０１"},
    {"unknown": 1}, {"service_phone": "+8613700007777" + "0" * 10},
], ids=lambda body: str(body)[:30])
def test_contact_phone_odd_input_is_4xx(client, compound, manager, make_user, body):  # noqa: F811
    response = client.patch(f"/api/v1/compounds/{compound.id}/contact-phones", json=body,
                            headers=bearer_for(make_user(Role.ADMIN)))

    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:200])


@pytest.mark.parametrize("visit", [
    {"visit_date": "99999-01-01", "visit_half_day": "am"}, {"visit_date": "0001-01-01", "visit_half_day": "am"},
    {"visit_date": "9999-12-31", "visit_half_day": "am"}, {"visit_date": 20261201, "visit_half_day": "am"},
    {"visit_half_day": "evening"}, {"visit_half_day": ["am"]}, {"visit_date": None, "visit_half_day": "am"},
], ids=lambda visit: str(visit)[:40])
def test_visit_time_odd_input_is_4xx(client, compound, households, resident, visit):  # noqa: F811
    body = {"category": "水电维修", "description": "厨房水管漏水", "household_id": households[0].id} | visit
    response = client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body, headers=bearer_for(resident))

    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:200])


def test_reveal_of_huge_or_missing_order_is_404(client, staff):  # noqa: F811
    for order_id in (2147483647, 2147483648, 0):
        response = client.post(f"/api/v1/work-orders/{order_id}/reporter-phone", headers=bearer_for(staff))
        assert response.status_code == 404, (order_id, response.status_code)


def test_visit_day_is_the_beijing_day(client, compound, households, resident):  # noqa: F811
    today = beijing_date(utcnow())
    body = {"category": "水电维修", "description": "厨房水管漏水", "household_id": households[0].id,
            "visit_date": (today - timedelta(days=1)).isoformat(), "visit_half_day": "am"}
    assert_error_shape(client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body,
                                   headers=bearer_for(resident)), 422)
