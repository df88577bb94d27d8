"""Work orders have one front door: for every way of standing to a compound and orders in every state (an urge
still cooling down, an escalation by the system included), the API's detail and the order page show the same
answer: seen or hidden, the same place, the same allowed actions (the page's forms carry them as data-action),
the same wait before urging again, and the same timeline naming who did what in the same words."""
from __future__ import annotations

import html as html_lib
import itertools
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine

from backend.domain.roles import Role
from backend.domain.workorders import Action, Urgency
from backend.extensions import db
from backend.models import Compound, Household, Membership, User
from backend.services import qr as qr_service
from backend.services import workorders as service
from backend.services.auth import issue_tokens
from backend.shared.clock import utcnow
from tests.support import TEST_PASSWORD, buildings_of

SUBMITTER, FOLLOWER, OTHER_RESIDENT = "submitter", "follower", "other_resident"
STAFF_ASSIGNED, STAFF_UNASSIGNED, MANAGER = "staff_assigned", "staff_unassigned", "manager"
COMMITTEE, COMMITTEE_RESIDENT, OFFICIAL, QR_VISITOR = "committee", "committee_resident", "official", "qr_visitor"

# Orders of a common area (so a neighbour may follow them), each left in one state.
OVERDUE = "submitted_overdue_escalated"  # filed 5 hours ago, unassigned, the manager already reminded
URGED = "submitted_urged_just_now"  # assigned to STAFF_ASSIGNED, urged by its submitter a moment ago
IN_PROGRESS, CLOSED, CONFIRMED, RATED, WITHDRAWN = "in_progress", "closed", "confirmed", "rated", "withdrawn"
STATES = (OVERDUE, URGED, IN_PROGRESS, CLOSED, CONFIRMED, RATED, WITHDRAWN)

# What each person may do with each order, written out (upload_photos has no button of its own on the page).
HIDDEN = None
NOTHING: frozenset[str] = frozenset()
EXPECTED: dict[str, dict[str, frozenset[str] | None]] = {
    SUBMITTER: {OVERDUE: {"withdraw", "urge"}, URGED: {"withdraw"}, IN_PROGRESS: {"urge"},
                CLOSED: {"confirm", "dispute"}, CONFIRMED: {"rate"}, RATED: NOTHING, WITHDRAWN: NOTHING},
    FOLLOWER: {OVERDUE: {"urge"}, URGED: NOTHING, IN_PROGRESS: {"urge"}, CLOSED: NOTHING, CONFIRMED: NOTHING,
               RATED: NOTHING, WITHDRAWN: NOTHING},
    OTHER_RESIDENT: dict.fromkeys(STATES, HIDDEN),
    STAFF_ASSIGNED: {OVERDUE: {"accept", "reject", "merge"}, URGED: {"accept", "reject", "merge"},
                     IN_PROGRESS: {"close"}, CLOSED: NOTHING, CONFIRMED: NOTHING, RATED: NOTHING, WITHDRAWN: NOTHING},
    STAFF_UNASSIGNED: {OVERDUE: {"accept", "reject", "merge"}, **dict.fromkeys(STATES[1:], NOTHING)},
    MANAGER: {OVERDUE: {"accept", "reject", "merge", "assign"}, URGED: {"accept", "reject", "merge", "assign"},
              IN_PROGRESS: {"close", "assign"}, CLOSED: NOTHING, CONFIRMED: NOTHING, RATED: {"reply"},
              WITHDRAWN: NOTHING},
    COMMITTEE: dict.fromkeys(STATES, NOTHING),
    # On the committee and living here: sees every order, and may join an open one about the same problem.
    COMMITTEE_RESIDENT: {OVERDUE: {"follow"}, URGED: {"follow"}, IN_PROGRESS: {"follow"},
                         **dict.fromkeys(STATES[3:], NOTHING)},
    OFFICIAL: dict.fromkeys(STATES, NOTHING),
    QR_VISITOR: dict.fromkeys(STATES, HIDDEN),
}
EXTRAS = ("urge", "rate", "reply", "follow")
_reports = itertools.count(1)


@dataclass
class World:
    compound: Compound
    people: dict[str, User]
    orders: dict[str, int]


def _households(compound: Compound) -> list[Household]:
    return list(db.session.scalars(
        db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))


@pytest.fixture
def world(make_compound, make_user, area_tree) -> World:
    compound = make_compound(area=area_tree[3])
    homes = _households(compound)
    people = {
        SUBMITTER: make_user(Role.OWNER, compound, household=homes[0]),
        FOLLOWER: make_user(Role.RESIDENT, compound, household=homes[1]),
        OTHER_RESIDENT: make_user(Role.OWNER, compound, household=homes[2]),
        STAFF_ASSIGNED: make_user(Role.STAFF, compound),
        STAFF_UNASSIGNED: make_user(Role.STAFF, compound),
        MANAGER: make_user(Role.MANAGER, compound),
        COMMITTEE: make_user(Role.COMMITTEE, compound),
        COMMITTEE_RESIDENT: make_user(Role.COMMITTEE, compound),
        OFFICIAL: make_user(Role.OFFICIAL, area=area_tree[2]),
        QR_VISITOR: make_user(),
    }
    db.session.add(Membership(user_id=people[COMMITTEE_RESIDENT].id, role=Role.OWNER, compound_id=compound.id,
                              household_id=homes[3].id, verified_at=utcnow()))
    db.session.commit()
    building = buildings_of(compound)[0]

    def file() -> int:
        order = service.submit_order(
            user_id=people[SUBMITTER].id, compound_id=compound.id, category="公共设施",
            description=f"楼道灯不亮（{next(_reports)}）", urgency=Urgency.NORMAL, building_id=building.id,
            location_text="3楼楼道",
        )
        service.follow(order.id, people[FOLLOWER].id)
        return order.id

    def step(order_id: int, who: str, action: Action, **fields) -> None:
        roles = frozenset({Role.STAFF} if who.startswith("staff") else {Role.MANAGER} if who == MANAGER
                          else {Role.OWNER})
        service.transition(order_id, people[who].id, roles, action, **fields)

    with time_machine.travel(utcnow() - timedelta(hours=5)):
        overdue = file()
    assert service.escalate_order(overdue, utcnow()) is not None
    orders = {OVERDUE: overdue}

    orders[URGED] = file()
    step(orders[URGED], MANAGER, Action.ASSIGN, assignee_id=people[STAFF_ASSIGNED].id)
    service.urge(orders[URGED], people[SUBMITTER].id)

    for state in (IN_PROGRESS, CLOSED, CONFIRMED, RATED):
        orders[state] = file()
        step(orders[state], STAFF_ASSIGNED, Action.ACCEPT)
        step(orders[state], STAFF_ASSIGNED, Action.START)
    for state in (CLOSED, CONFIRMED, RATED):
        step(orders[state], STAFF_ASSIGNED, Action.CLOSE, note="已更换灯泡")
    step(orders[CONFIRMED], SUBMITTER, Action.CONFIRM)
    step(orders[RATED], SUBMITTER, Action.CONFIRM, rating={"stars": 4, "comment": "", "tags": ["及时"]})

    orders[WITHDRAWN] = file()
    step(orders[WITHDRAWN], SUBMITTER, Action.WITHDRAW, note="灯又亮了")
    return World(compound, people, orders)


@dataclass(frozen=True)
class Seen:
    """One order as one screen showed it to one person; None everywhere when it was hidden (404)."""

    status: int
    place: str | None = None
    allowed: frozenset[str] | None = None
    waits_to_urge: bool | None = None
    timeline: tuple[tuple[str, str, str], ...] | None = None


def through_api(client, user: User, order_id: int) -> Seen:
    response = client.get(f"/api/v1/work-orders/{order_id}",
                          headers={"Authorization": f"Bearer {issue_tokens(user)[0]}"})
    if response.status_code != 200:
        return Seen(response.status_code)
    body = response.json
    return Seen(
        200, body["place"],
        frozenset(body["actions"]) | {name for name in EXTRAS if body[f"can_{name}"]},
        body["next_urge_at"] is not None,
        tuple((entry["action"], entry["action_label"], entry["actor_label"]) for entry in body["timeline"]),
    )


_PLACE = re.compile(r'>位置</label>\s*<span class="weui-form-preview__value">([^<]*)</span>')
_OFFERED = re.compile(r'<form\b[^>]*\bdata-action="([^"]+)"')
_ENTRY = re.compile(r'data-event="([^"]+)">.*?class="ll-timeline__what">([^<]*)<.*?class="ll-timeline__who">([^<]*)<',
                    re.S)


def through_page(phone, order_id: int) -> Seen:
    response = phone.get(f"/h5/work-orders/{order_id}")
    if response.status_code != 200:
        return Seen(response.status_code)
    page = response.get_data(as_text=True)
    offered = _OFFERED.findall(page)
    assert len(offered) == len(set(offered)), offered
    timeline = page.split('id="timeline"', 1)[1]
    return Seen(
        200, html_lib.unescape(_PLACE.search(page).group(1)), frozenset(offered), 'id="urge-wait"' in page,
        tuple(tuple(html_lib.unescape(part) for part in entry) for entry in _ENTRY.findall(timeline)),
    )


def phone_of(app, world: World, role: str):
    """A phone signed in through the password form; the visitor's has scanned the compound's QR code."""
    phone = app.test_client()
    user = world.people[role]
    signed_in = phone.post("/h5/login/password", data={"username": user.username, "password": TEST_PASSWORD})
    assert signed_in.status_code == 302
    if role == QR_VISITOR:
        entry = qr_service.entry_url(world.compound).removeprefix(app.config["LINLI_PUBLIC_URL"])
        assert phone.get(entry).status_code == 302
    return phone


@pytest.mark.parametrize("role", list(EXPECTED))
def test_the_api_and_the_page_show_each_order_alike(app, client, world, role):
    phone = phone_of(app, world, role)
    for state in STATES:
        order_id = world.orders[state]
        api, page = through_api(client, world.people[role], order_id), through_page(phone, order_id)
        assert api == page, f"{role} on the {state} order"
        expected = EXPECTED[role][state]
        if expected is HIDDEN:
            assert api.status == 404, f"{role} on the {state} order"
        else:
            assert api.allowed == expected, f"{role} on the {state} order"
            assert api.timeline, f"{role} on the {state} order"


def test_an_urge_cooling_down_is_a_wait_on_both_doors_and_a_429_with_retry_after(app, client, world):
    """The drift this door closes: the page offered 催办 within the 4 hours and only the API knew better."""
    for role in (SUBMITTER, FOLLOWER):
        api = through_api(client, world.people[role], world.orders[URGED])
        assert "urge" not in api.allowed and api.waits_to_urge
        assert "urge" in through_api(client, world.people[role], world.orders[IN_PROGRESS]).allowed

    bearer = {"Authorization": f"Bearer {issue_tokens(world.people[FOLLOWER])[0]}"}
    refused = client.post(f"/api/v1/work-orders/{world.orders[URGED]}/urge", headers=bearer)
    assert refused.status_code == 429 and refused.json["message"] == "4小时内已催办过，请耐心等待"
    assert 0 < int(refused.headers["Retry-After"]) <= 4 * 3600

    phone = phone_of(app, world, FOLLOWER)
    detail = f"/h5/work-orders/{world.orders[URGED]}"
    answer = phone.post(f"{detail}/urge", data={"csrf_token": phone.get_cookie("csrf_access_token").value},
                        headers={"Referer": f"http://localhost{detail}"})
    assert answer.status_code == 303 and answer.headers["Location"] == detail
    assert "4小时内已催办过，请耐心等待" in phone.get(detail).get_data(as_text=True)


def test_the_timeline_names_who_did_what_in_one_set_of_words(client, world):
    """Residents see each other by title only (报修人, 居民), themselves as 我, staff by title and name, the
    system as 系统; those who run the compound see the residents' names too."""
    manager, staff = world.people[MANAGER], world.people[STAFF_ASSIGNED]
    seen_by_follower = through_api(client, world.people[FOLLOWER], world.orders[URGED]).timeline
    assert seen_by_follower == (
        ("submit", "提交报修", "报修人"),
        ("follow", "关注工单", "我"),
        ("assign", "派单", f"物业经理 {manager.display_name}"),
        ("urge", "催办", "报修人"),
    )
    seen_by_committee = through_api(client, world.people[COMMITTEE], world.orders[OVERDUE]).timeline
    assert seen_by_committee == (
        ("submit", "提交报修", f"报修人 {world.people[SUBMITTER].display_name}"),
        ("follow", "关注工单", f"居民 {world.people[FOLLOWER].display_name}"),
        ("escalate", "超时升级", "系统"),
    )
    seen_by_submitter = through_api(client, world.people[SUBMITTER], world.orders[IN_PROGRESS]).timeline
    assert seen_by_submitter[2:] == (("accept", "受理", f"物业人员 {staff.display_name}"),
                                     ("start", "开始处理", f"物业人员 {staff.display_name}"))
