"""One front door for announcements (通知公告): for every role, the API and the pages show the same notices in the
same order, the same read count (or none) and offer the same actions (the page marks each with data-action), for a
compound's notice and for an area's."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from backend.domain.announcements import Category
from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.models import Compound, User
from backend.services import announcements as service
from backend.services.announcements import Draft
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

ROLES = [
    "author", "committee", "party_secretary", "manager", "staff", "community_official", "street_official", "admin",
    "owner", "resident", "evaluator", "visitor", "stranger",
]
# Who changes (and sees the read count of) a notice posted to the compound, and one posted to the whole street.
MANAGE_COMPOUND_NOTICE = {"author", "committee", "party_secretary", "manager", "community_official",
                          "street_official", "admin"}
MANAGE_STREET_NOTICE = {"street_official", "admin"}
EVERYTHING = {"edit", "delete", "view_reads"}


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    compound_notice: int
    street_notice: int


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=3)
    household = first_household(compound)
    people: dict[str, User | None] = {
        "author": make_user(Role.COMMITTEE, compound),
        "committee": make_user(Role.COMMITTEE, compound),
        "party_secretary": make_user(Role.PARTY_SECRETARY, compound),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "community_official": make_user(Role.OFFICIAL, area=community),
        "street_official": make_user(Role.OFFICIAL, area=street),
        "admin": make_user(Role.ADMIN),
        "owner": make_user(Role.OWNER, compound, household=household),
        "resident": make_user(Role.RESIDENT, compound, household=household),
        "evaluator": make_user(Role.EVALUATOR, compound),
        "visitor": None,
        "stranger": make_user(Role.COMMITTEE, make_compound(
            area=make_area("别的社区", AreaLevel.COMMUNITY, make_area("别的街道", AreaLevel.STREET, district)))),
    }
    compound_notice = service.post_to_compound(
        compound.id, people["author"].id, Draft("电梯检修", "周三9:00—12:00电梯检修", Category.CONSTRUCTION, pinned=True))
    street_notice = service.post_to_area(
        street.id, people["street_official"].id, Draft("冬季防火提示", "不在楼道充电", Category.OTHER))
    return World(compound, people, compound_notice.id, street_notice.id)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


def api_detail(client, world: World, role: str, announcement_id: int) -> tuple[int, dict | None]:
    response = client.get(f"/api/v1/announcements/{announcement_id}",
                          headers=api_headers(world.people[role], _entry(world, role)))
    if response.status_code != 200:
        return response.status_code, None
    body = response.json
    return 200, {"title": body["title"], "read_count": body["read_count"], "actions": set(body["actions"])}


def page_detail(app, world: World, role: str, announcement_id: int) -> tuple[int, dict | None]:
    response = browser(app, world.people[role], _entry(world, role)).get(f"/h5/announcements/{announcement_id}")
    if response.status_code != 200:
        return response.status_code, None
    body = text(response)
    count = re.search(r'id="read-count">(\d+) 人', body)
    return 200, {
        "title": re.search(r'id="announcement-title">(.*?)</h1>', body).group(1),
        "read_count": int(count.group(1)) if count else None,
        "actions": actions_on(body),
    }


@pytest.mark.parametrize("notice", ["compound", "street"])
@pytest.mark.parametrize("role", ROLES)
def test_a_notice_reads_the_same_through_the_api_and_the_page(app, client, world, role, notice):
    announcement_id = world.compound_notice if notice == "compound" else world.street_notice
    through_api = api_detail(client, world, role, announcement_id)
    through_page = page_detail(app, world, role, announcement_id)

    assert through_api == through_page
    status, seen = through_api
    assert status == (404 if role == "stranger" else 200)
    if seen is None:
        return
    manages = role in (MANAGE_COMPOUND_NOTICE if notice == "compound" else MANAGE_STREET_NOTICE)
    assert seen["actions"] == (EVERYTHING if manages else set())
    # Each door's opening counted this person once (a QR visitor is nobody to count).
    assert seen["read_count"] == (1 if manages else None)


@pytest.mark.parametrize("role", ROLES)
def test_the_list_reads_the_same_through_the_api_and_the_page(app, client, world, role):
    api = client.get(f"/api/v1/compounds/{world.compound.id}/announcements",
                     headers=api_headers(world.people[role], _entry(world, role)))
    page = browser(app, world.people[role], _entry(world, role)).get(f"/h5/c/{world.compound.code}/announcements")

    assert api.status_code == page.status_code == (404 if role == "stranger" else 200)
    if api.status_code != 200:
        return
    body = text(page)
    ids = [item["id"] for item in api.json["items"]]
    assert ids == [int(found) for found in re.findall(r'data-announcement="(\d+)"', body)]
    assert ids == [world.compound_notice, world.street_notice]  # pinned first
    counts = [item["read_count"] for item in api.json["items"]]
    assert counts == [int(found) if found else None for found in re.findall(
        r'data-announcement="\d+".*?(?:data-read-count="(\d+)"|</a>)', body, re.S)]
    assert set(api.json["actions"]) == actions_on(body)
    posters = {"author", "committee", "party_secretary", "manager", "community_official", "street_official", "admin"}
    assert (api.json["actions"] == ["post"]) == (role in posters)
