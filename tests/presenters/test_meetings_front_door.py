"""One front door for the four meetings (四会): for every role, the API and the pages show the same meetings,
the same invitees, attendance and minutes, and offer the same actions (the page marks each with data-action)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from backend.domain.consultations import MeetingKind, Party
from backend.domain.roles import Role
from backend.models import Compound, User
from backend.services import meetings as service
from backend.services.meetings import RESIDENT_REPRESENTATIVE, InviteeSpec
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
START = datetime(2026, 12, 4, 11, 30, tzinfo=UTC)
MOMENTS = {"before the start": T0, "during the meeting": START + timedelta(hours=1)}
# Each person as the page shows them, or the count of neighbours it does not name.
PARTY = re.compile(
    r'data-party="(\w+)" data-count="(\d+)">\s*<div class="weui-cell__hd">.*?</div>\s*'
    r'<div class="weui-cell__bd">(.*?)</div>',
    re.S,
)
ROLES = [
    "convener", "committee", "party_secretary", "official", "admin", "manager", "staff", "owner", "resident",
    "evaluator", "visitor", "stranger",
]


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    meeting_id: int
    past_id: int


@pytest.fixture
def world(area_tree, make_compound, make_user) -> World:
    *_, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=3)
    household = first_household(compound)
    people: dict[str, User | None] = {
        "convener": make_user(Role.COMMITTEE, compound),
        "committee": make_user(Role.COMMITTEE, compound),
        "party_secretary": make_user(Role.PARTY_SECRETARY, compound),
        "official": make_user(Role.OFFICIAL, area=community),
        "admin": make_user(Role.ADMIN),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "owner": make_user(Role.OWNER, compound, household=household),
        "resident": make_user(Role.RESIDENT, compound, household=household),
        "evaluator": make_user(Role.EVALUATOR, compound),
        "visitor": None,
        "stranger": make_user(Role.COMMITTEE, make_compound()),
    }
    with time_machine.travel(T0 - timedelta(days=20), tick=False):
        past = service.create_meeting(
            compound_id=compound.id, convener_id=people["convener"].id, kind=MeetingKind.EVALUATION,
            title="上月评议会", agenda="评议物业服务", starts_at=T0 - timedelta(days=10), place="党群服务站",
        )
    with time_machine.travel(T0, tick=False):
        meeting = service.create_meeting(
            compound_id=compound.id, convener_id=people["convener"].id, kind=MeetingKind.HEARING,
            title="物业费调整听证会", agenda="一、说明调价方案", starts_at=START, place="党群服务站",
            invitees=[
                InviteeSpec(Party.PROPERTY_COMPANY, user_id=people["manager"].id),
                InviteeSpec(Party.RESIDENT, user_id=people["resident"].id),
                InviteeSpec(Party.RESIDENT, name="王秀英"),
                InviteeSpec(Party.MERCHANT, name="东门超市 李老板"),
            ],
        )
    with time_machine.travel(START, tick=False):
        service.check_in(meeting.id, people["manager"].id, service.make_checkin_token(meeting))
        service.record_minutes(
            meeting.id, people["convener"].id, frozenset({Role.COMMITTEE}), "各方发言（草稿）", "", publish=False
        )
    return World(compound, people, meeting.id, past.id)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


def api_detail(client, world: World, role: str) -> tuple[int, dict | None]:
    response = client.get(
        f"/api/v1/meetings/{world.meeting_id}", headers=api_headers(world.people[role], _entry(world, role))
    )
    if response.status_code != 200:
        return response.status_code, None
    body = response.json
    parties: dict[str, list[str]] = {}
    for invitee in body["invitees"]:
        parties.setdefault(invitee["party"], []).append(invitee["name"])
    return 200, {
        "parties": parties,
        "attendance_count": body["attendance_count"],
        "minutes": body["minutes"] or None,
        "actions": set(body["actions"]),
    }


def page_detail(app, world: World, role: str) -> tuple[int, dict | None]:
    response = browser(app, world.people[role], _entry(world, role)).get(f"/h5/meetings/{world.meeting_id}")
    if response.status_code != 200:
        return response.status_code, None
    body = text(response)
    parties: dict[str, list[str]] = {}
    for party, count, shown in PARTY.findall(body):
        # A party the page counts without naming (residents' representatives to their neighbours).
        hidden = shown.strip() == f"{count} 位居民代表"
        parties[party] = [RESIDENT_REPRESENTATIVE] * int(count) if hidden else shown.strip().split("、")
    minutes = re.search(r'id="minutes">\s*<div class="weui-cell"><div class="weui-cell__bd ll-wo-text">(.*?)</div>', body)
    return 200, {
        "parties": parties,
        "attendance_count": int(re.search(r'id="attendance-count">(\d+) 人', body).group(1)),
        "minutes": minutes.group(1) if minutes else None,
        "actions": actions_on(body),
    }


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("role", ROLES)
def test_a_meeting_reads_the_same_through_the_api_and_the_page(app, client, world, role, moment):
    with time_machine.travel(MOMENTS[moment], tick=False):
        through_api = api_detail(client, world, role)
        through_page = page_detail(app, world, role)

    assert through_api == through_page
    status, seen = through_api
    assert status == (404 if role == "stranger" else 200)
    if seen is None:
        return
    # During the check-in window, everyone signed in who has not checked in yet (the manager has) is asked to.
    checking_in = {"check_in"} if moment == "during the meeting" and role not in ("manager", "visitor") else set()
    if role in ("convener", "committee", "party_secretary", "official", "admin"):
        # Invitations close at the start; minutes are published only after it.
        when = {"invite"} if moment == "before the start" else {"publish_minutes"}
        runs = {"save_minutes", "print_checkin_poster", "renew_checkin_code", "view_attendance"}
        assert seen["actions"] == when | runs | checking_in
        assert seen["minutes"] == "各方发言（草稿）"
        assert seen["parties"]["resident"] == [world.people["resident"].display_name, "王秀英"]
    else:
        assert seen["minutes"] is None and seen["actions"] == checking_in
        assert seen["parties"]["resident"] == [RESIDENT_REPRESENTATIVE] * 2


@pytest.mark.parametrize("role", ROLES)
def test_the_list_reads_the_same_through_the_api_and_the_page(app, client, world, role):
    with time_machine.travel(T0, tick=False):
        api = client.get(
            f"/api/v1/compounds/{world.compound.id}/meetings",
            headers=api_headers(world.people[role], _entry(world, role)),
        )
        page = browser(app, world.people[role], _entry(world, role)).get(f"/h5/c/{world.compound.code}/meetings")

    assert api.status_code == page.status_code == (404 if role == "stranger" else 200)
    if api.status_code == 200:
        body = text(page)
        assert [item["id"] for item in api.json["items"]] == [int(i) for i in re.findall(r'data-meeting="(\d+)"', body)]
        assert set(api.json["actions"]) == actions_on(body)
        assert (api.json["actions"] == ["convene"]) == (role in ("convener", "committee", "party_secretary", "official",
                                                                  "admin"))
