"""One front door for activities (社区活动): for every role, the API and the pages show the same activity (places,
waiting list, one's own sign-up) and the same list, and offer the same actions (the page marks each with
data-action), before the start and during the check-in window."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine

from backend.domain.activities import ActivityKind
from backend.domain.roles import Role
from backend.models import Compound, User
from backend.services import activities as service
from backend.shared.clock import utcnow
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

ROLES = ["organiser", "committee", "official", "admin", "manager", "staff", "owner", "resident", "evaluator",
         "visitor", "stranger"]
ORGANISERS = {"organiser", "committee", "official", "admin"}
MOMENTS = {"before the start": timedelta(0), "during the activity": timedelta(days=2, minutes=30)}


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    activity_id: int


@pytest.fixture
def world(area_tree, make_compound, make_user) -> World:
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=3)
    home = first_household(compound)
    people: dict[str, User | None] = {
        "organiser": make_user(Role.PARTY_SECRETARY, compound),
        "committee": make_user(Role.COMMITTEE, compound),
        "official": make_user(Role.OFFICIAL, area=community),
        "admin": make_user(Role.ADMIN),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "owner": make_user(Role.OWNER, compound, household=home),
        "resident": make_user(Role.RESIDENT, compound, household=home),
        "evaluator": make_user(Role.EVALUATOR, compound),
        "visitor": None,
        "stranger": make_user(Role.COMMITTEE, make_compound()),
    }
    starts = utcnow() + timedelta(days=2)
    activity = service.create_activity(
        compound_id=compound.id, creator_id=people["organiser"].id, kind=ActivityKind.ELDER_CARE, title="助老探访",
        description="", starts_at=starts, ends_at=starts + timedelta(hours=2), place="党群服务站", organiser="社区",
        capacity=1,
    )
    service.sign_up(activity.id, people["staff"].id, as_volunteer=True)
    service.sign_up(activity.id, people["owner"].id, as_volunteer=False)
    return World(compound, people, activity.id)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


def api_detail(client, world: World, role: str):
    response = client.get(f"/api/v1/activities/{world.activity_id}",
                          headers=api_headers(world.people[role], _entry(world, role)))
    if response.status_code != 200:
        return response.status_code, None
    body = response.json
    mine = body["my_signup"]
    return 200, {"places": (body["confirmed_count"], body["waiting_count"]),
                 "mine": (mine["status"], mine["waiting_position"]) if mine else None,
                 "actions": set(body["actions"])}


def page_detail(app, world: World, role: str):
    response = browser(app, world.people[role], _entry(world, role)).get(f"/h5/activities/{world.activity_id}")
    if response.status_code != 200:
        return response.status_code, None
    body = text(response)
    places = re.search(r'id="places" data-confirmed="(\d+)" data-waiting="(\d+)"', body)
    mine = re.search(r'id="my-signup" data-status="(\w+)">[^<（]*(?:（第 (\d+) 位）)?', body)
    return 200, {"places": (int(places.group(1)), int(places.group(2))),
                 "mine": (mine.group(1), int(mine.group(2)) if mine.group(2) else None) if mine else None,
                 "actions": actions_on(body)}


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("role", ROLES)
def test_an_activity_reads_the_same_through_the_api_and_the_page(app, client, world, role, moment):
    with time_machine.travel(utcnow() + MOMENTS[moment]):
        through_api = api_detail(client, world, role)
        through_page = page_detail(app, world, role)

    assert through_api == through_page
    status, seen = through_api
    assert status == (404 if role == "stranger" else 200)
    if seen is None:
        return
    assert seen["places"] == (1, 1)
    assert seen["mine"] == {"staff": ("confirmed", None), "owner": ("waiting", 1)}.get(role)
    joins = role not in ("visitor", "evaluator")
    if moment == "before the start":
        expected = ({"cancel_signup"} if role in ("staff", "owner") else {"sign_up"}) if joins else set()
        organising = {"view_signups", "print_checkin_poster", "renew_checkin_code", "cancel"}
    else:
        expected = {"check_in"} if joins else set()
        organising = {"view_signups", "print_checkin_poster", "renew_checkin_code", "post_report"}
    assert seen["actions"] == expected | (organising if role in ORGANISERS else set())


@pytest.mark.parametrize("role", ROLES)
def test_the_list_reads_the_same_through_the_api_and_the_page(app, client, world, role):
    api = client.get(f"/api/v1/compounds/{world.compound.id}/activities",
                     headers=api_headers(world.people[role], _entry(world, role)))
    page = browser(app, world.people[role], _entry(world, role)).get(f"/h5/c/{world.compound.code}/activities")

    assert api.status_code == page.status_code == (404 if role == "stranger" else 200)
    if api.status_code == 200:
        body = text(page)
        assert [item["id"] for item in api.json["items"]] == [int(i) for i in re.findall(r'data-activity="(\d+)"', body)]
        assert set(api.json["actions"]) == actions_on(body) == ({"organise"} if role in ORGANISERS else set())
