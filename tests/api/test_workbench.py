"""The staff workbench (我的待办), the board's order, the call buttons, the reporter's phone and the visit time,
through the API."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Household
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests.support import assert_error_shape

_reports = itertools.count(1)


def bearer_for(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=2, households_per_building=3)


@pytest.fixture
def households(compound) -> list[Household]:
    return list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                   .order_by(Household.id)))


@pytest.fixture
def resident(make_user, compound, households):
    return make_user(Role.OWNER, compound, household=households[0], phone="13812341234")


@pytest.fixture
def staff(make_user, compound):
    return make_user(Role.STAFF, compound)


@pytest.fixture
def other_staff(make_user, compound):
    return make_user(Role.STAFF, compound)


@pytest.fixture
def manager(make_user, compound):
    return make_user(Role.MANAGER, compound)


def submitted(client, compound, user, **overrides) -> dict:
    body = {"category": "水电维修", "description": f"厨房水管漏水（{next(_reports)}）", "urgency": "normal"} | overrides
    if not {"household_id", "building_id", "location_text"} & overrides.keys():
        body["location_text"] = "3栋北侧"
    response = client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body, headers=bearer_for(user))
    assert response.status_code == 201, response.json
    return response.json


def accept(client, order_id, user) -> None:
    response = client.post(f"/api/v1/work-orders/{order_id}/transitions", json={"action": "accept"},
                           headers=bearer_for(user))
    assert response.status_code == 200, response.json


def workbench(client, compound, user):
    return client.get(f"/api/v1/compounds/{compound.id}/workbench", headers=bearer_for(user))


# ---- the board's order ------------------------------------------------------------------------------------


def test_an_urgent_overdue_burst_main_is_not_behind_newer_routine_orders(client, compound, resident, staff):
    with time_machine.travel(utcnow() - timedelta(hours=2)):
        burst = submitted(client, compound, resident, category="水电维修", urgency="urgent",
                          description="总水管爆裂", location_text="2栋楼下")
    routine = [submitted(client, compound, resident, category="绿化")["id"] for _ in range(3)]

    board = client.get(f"/api/v1/compounds/{compound.id}/work-orders", headers=bearer_for(staff)).json["items"]
    assert [item["id"] for item in board] == [burst["id"], *routine]
    assert board[0]["overdue"] is True
    for page_size in (1, 2):
        first = client.get(f"/api/v1/compounds/{compound.id}/work-orders", query_string={"page_size": page_size},
                           headers=bearer_for(staff)).json["items"]
        assert first[0]["id"] == burst["id"]


def test_finished_orders_come_after_the_open_ones(client, compound, resident, staff):
    done = submitted(client, compound, resident)
    client.post(f"/api/v1/work-orders/{done['id']}/transitions", json={"action": "withdraw"},
                headers=bearer_for(resident))
    open_one = submitted(client, compound, resident)

    board = client.get(f"/api/v1/compounds/{compound.id}/work-orders", headers=bearer_for(staff)).json["items"]
    assert [item["id"] for item in board] == [open_one["id"], done["id"]]


# ---- the workbench -----------------------------------------------------------------------------------------


def test_staff_workbench_counts_and_puts_urgent_and_overdue_first(client, compound, resident, staff, other_staff):
    with time_machine.travel(utcnow() - timedelta(hours=5)):
        late = submitted(client, compound, resident, category="绿化")
    routine = submitted(client, compound, resident)
    urgent = submitted(client, compound, resident, urgency="urgent", description="电梯困人")
    mine = submitted(client, compound, resident, category="公共设施")
    accept(client, mine["id"], staff)
    theirs = submitted(client, compound, resident, category="环境卫生")
    accept(client, theirs["id"], other_staff)

    response = workbench(client, compound, staff)
    assert response.status_code == 200, response.json
    bench = response.json
    assert (bench["to_accept"], bench["in_progress"], bench["overdue"]) == (3, 1, 1)
    assert bench["unassigned_count"] is None and bench["unassigned"] == []
    # Another staff member's order is theirs, not on my workbench.
    assert [item["id"] for item in bench["items"]] == [late["id"], urgent["id"], routine["id"], mine["id"]]
    assert {item["id"]: item["can_accept"] for item in bench["items"]} == {
        late["id"]: True, urgent["id"]: True, routine["id"]: True, mine["id"]: False,
    }

    accept(client, urgent["id"], staff)
    assert workbench(client, compound, staff).json["to_accept"] == 2


def test_the_manager_sees_every_open_order_and_the_unassigned(client, compound, resident, staff, manager):
    waiting = submitted(client, compound, resident)
    taken = submitted(client, compound, resident, category="绿化")
    accept(client, taken["id"], staff)

    bench = workbench(client, compound, manager).json
    assert (bench["to_accept"], bench["in_progress"], bench["unassigned_count"]) == (1, 1, 1)
    assert {item["id"] for item in bench["items"]} == {waiting["id"], taken["id"]}
    assert [item["id"] for item in bench["unassigned"]] == [waiting["id"]]


def test_only_handlers_have_a_workbench(client, compound, resident, make_user, make_compound):
    assert_error_shape(workbench(client, compound, resident), 403)
    assert_error_shape(workbench(client, compound, make_user(Role.COMMITTEE, compound)), 403)
    elsewhere = make_user(Role.STAFF, make_compound())
    assert_error_shape(workbench(client, compound, elsewhere), 404)
    assert_error_shape(client.get(f"/api/v1/compounds/{compound.id}/workbench"), 401)


def test_the_workbench_costs_the_same_statements_however_many_orders(client, compound, resident, manager,
                                                                     count_queries):
    def statements() -> int:
        with count_queries() as seen:
            assert workbench(client, compound, manager).status_code == 200
        return len(seen)

    for _ in range(2):
        submitted(client, compound, resident)
    few = statements()
    for n in range(8):
        submitted(client, compound, resident, urgency="urgent" if n % 2 else "normal")
    assert statements() == few


# ---- call buttons ---------------------------------------------------------------------------------------------


def phones_url(compound) -> str:
    return f"/api/v1/compounds/{compound.id}/contact-phones"


def test_manager_sets_the_service_phone_and_committee_its_own(client, compound, manager, make_user, resident):
    committee = make_user(Role.COMMITTEE, compound)
    response = client.patch(phones_url(compound), json={"service_phone": "0812 333 4567"}, headers=bearer_for(manager))
    assert response.status_code == 200, response.json
    assert response.json["service_phone"] == "0812-3334567"
    assert response.json["buttons"] == [{"label": "物业服务电话", "phone": "0812-3334567", "tel": "tel:08123334567"}]

    hidden = client.patch(phones_url(compound), json={"committee_phone": "13900001111"}, headers=bearer_for(committee))
    assert hidden.status_code == 200, hidden.json
    assert [b["label"] for b in hidden.json["buttons"]] == ["物业服务电话"]
    # Not published yet: nobody but the committee reads the number back.
    assert client.get(phones_url(compound), headers=bearer_for(resident)).json["committee_phone"] == ""
    assert client.get(phones_url(compound), headers=bearer_for(manager)).json["committee_phone"] == ""
    shown = client.patch(phones_url(compound), json={"committee_phone_public": True}, headers=bearer_for(committee))
    assert shown.json["buttons"][1] == {"label": "业委会联系电话", "phone": "13900001111", "tel": "tel:13900001111"}

    # Everyone of the compound reads the buttons.
    assert len(client.get(phones_url(compound), headers=bearer_for(resident)).json["buttons"]) == 2
    audited = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == compound.id)).all()
    assert audited.count("compound.contact_phones") == 3


def test_each_sets_only_their_own_number(client, compound, manager, make_user, resident, make_compound):
    committee = make_user(Role.COMMITTEE, compound)
    assert_error_shape(client.patch(phones_url(compound), json={"committee_phone": "13900001111"},
                                    headers=bearer_for(manager)), 403)
    assert_error_shape(client.patch(phones_url(compound), json={"service_phone": "13900001111"},
                                    headers=bearer_for(committee)), 403)
    assert_error_shape(client.patch(phones_url(compound), json={"service_phone": "13900001111"},
                                    headers=bearer_for(resident)), 403)
    assert_error_shape(client.patch(phones_url(make_compound()), json={"service_phone": "13900001111"},
                                    headers=bearer_for(manager)), 404)
    assert client.get(phones_url(compound), headers=bearer_for(resident)).json["service_phone"] == ""


@pytest.mark.parametrize("phone", ["12345", "1381234123", "abc", "0812-123", "+1 415 555 0100"])
def test_a_number_that_is_not_one_is_refused(client, compound, manager, phone):
    response = client.patch(phones_url(compound), json={"service_phone": phone}, headers=bearer_for(manager))
    assert_error_shape(response, 422)
    assert "service_phone" in response.json["errors"]


def test_an_empty_number_removes_the_button(client, compound, manager):
    client.patch(phones_url(compound), json={"service_phone": "400-123-4567"}, headers=bearer_for(manager))
    cleared = client.patch(phones_url(compound), json={"service_phone": ""}, headers=bearer_for(manager))
    assert cleared.json["buttons"] == []


# ---- the reporter's phone -------------------------------------------------------------------------------------


def reveal(client, order_id, user):
    return client.post(f"/api/v1/work-orders/{order_id}/reporter-phone", headers=bearer_for(user))


def test_the_reporter_phone_is_masked_and_revealed_only_to_its_handler(client, compound, resident, staff,
                                                                       other_staff, manager, make_compound,
                                                                       make_user):
    order = submitted(client, compound, resident)
    for user in (staff, other_staff, manager, resident):
        shown = client.get(f"/api/v1/work-orders/{order['id']}", headers=bearer_for(user)).json
        assert shown["reporter_phone_masked"] == "138****1234"
        assert "13812341234" not in str(shown)
    # Unassigned: no staff member handles it yet, only the manager may call.
    assert_error_shape(reveal(client, order["id"], staff), 403)
    accept(client, order["id"], staff)

    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=bearer_for(staff)).json["can_reveal_phone"]
    revealed = reveal(client, order["id"], staff)
    assert revealed.status_code == 200, revealed.json
    assert revealed.json == {"phone": "13812341234", "tel": "tel:13812341234"}
    assert reveal(client, order["id"], manager).json["phone"] == "13812341234"

    other = client.get(f"/api/v1/work-orders/{order['id']}", headers=bearer_for(other_staff)).json
    assert other["reporter_phone_masked"] == "138****1234" and other["can_reveal_phone"] is False
    assert_error_shape(reveal(client, order["id"], other_staff), 403)
    assert_error_shape(reveal(client, order["id"], resident), 403)
    assert_error_shape(reveal(client, order["id"], make_user(Role.MANAGER, make_compound())), 404)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "work_order.reveal_phone")).all()
    assert [(e.actor_id, e.target_id) for e in events] == [(staff.id, order["id"]), (manager.id, order["id"])]


# ---- the visit time -------------------------------------------------------------------------------------------


def test_a_home_repair_books_a_visit_time_staff_see(client, compound, households, resident, staff):
    day = beijing_date(utcnow()) + timedelta(days=3)
    order = submitted(client, compound, resident, household_id=households[0].id, visit_date=day.isoformat(),
                      visit_half_day="pm")
    assert (order["visit_date"], order["visit_half_day"]) == (day.isoformat(), "pm")
    assert order["visit_label"] == f"{day.month}月{day.day}日 下午"
    [item] = workbench(client, compound, staff).json["items"]
    assert item["visit_label"] == f"{day.month}月{day.day}日 下午"


@pytest.mark.parametrize(
    ("days", "half", "common"),
    [(-1, "am", False), (31, "am", False), (2, None, False), (None, "am", False), (2, "am", True), (2, "noon", False)],
)
def test_a_visit_time_out_of_bounds_is_refused(client, compound, households, resident, days, half, common):
    today = beijing_date(utcnow())
    body = {"category": "水电维修", "description": "水龙头坏了", "urgency": "normal"}
    body |= {"location_text": "东门"} if common else {"household_id": households[0].id}
    if days is not None:
        body["visit_date"] = (today + timedelta(days=days)).isoformat()
    if half is not None:
        body["visit_half_day"] = half
    response = client.post(f"/api/v1/compounds/{compound.id}/work-orders", json=body, headers=bearer_for(resident))
    assert_error_shape(response, 422)


def test_the_visit_window_is_today_to_thirty_days_on(client, compound, households, resident):
    today = beijing_date(utcnow())
    for day in (today, today + timedelta(days=30)):
        submitted(client, compound, resident, household_id=households[0].id, visit_date=day.isoformat(),
                  visit_half_day="am")
