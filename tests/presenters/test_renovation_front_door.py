"""One front door for renovation projects (老旧小区改造): for every role, the API and the pages show the same project
(status, progress, progress reports) and offer the same actions (the page marks each with data-action), for a
project under way and a completed one, and the same list; a stranger finds nothing through either door."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from backend.domain.compounds import AreaLevel
from backend.domain.rectifications import ResponsibleParty
from backend.domain.renovation import FundingSource, ItemClass
from backend.domain.roles import Role
from backend.models import Compound, User
from backend.services import renovation as service
from backend.services.renovation import ItemInput, ProjectInput
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

ROLES = [
    "committee", "party_secretary", "manager", "staff", "community_official", "street_official", "admin", "owner",
    "resident", "evaluator", "visitor", "stranger",
]
PARTY = {"manager", "staff"}
HOUSEHOLDS = {"owner", "resident"}
CREATORS = {"committee", "party_secretary", "community_official", "street_official", "admin"}


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    under_way: int
    completed: int


def build(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=2)
    household = first_household(compound)
    people: dict[str, User | None] = {
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
    items = [ItemInput(ItemClass.BASIC, "电气线路", 5_000_000, FundingSource.CENTRAL)]
    committee, manager = people["committee"].id, people["manager"].id
    under_way = service.create_project(compound.id, committee, ProjectInput("楼道线路改造", ResponsibleParty.COMPANY, items))
    service.post_progress(under_way.id, manager, "已完成1栋", 40, [])
    completed = service.create_project(compound.id, committee, ProjectInput("消防通道整治", ResponsibleParty.COMPANY, items))
    service.post_progress(completed.id, manager, "完工", 100, [])
    return World(compound, people, under_way.id, completed.id)


@pytest.fixture
def world(built_once) -> World:
    return built_once(build)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


@pytest.mark.parametrize("project", ["under_way", "completed"])
@pytest.mark.parametrize("role", ROLES)
def test_a_project_reads_the_same_through_the_api_and_the_page(app, client, world, role, project):
    project_id = getattr(world, project)
    api = client.get(f"/api/v1/renovation-projects/{project_id}",
                     headers=api_headers(world.people[role], _entry(world, role)))
    page = browser(app, world.people[role], _entry(world, role)).get(f"/h5/renovation/{project_id}")

    assert api.status_code == page.status_code == (404 if role == "stranger" else 200)
    if api.status_code != 200:
        return
    body = text(page)
    assert re.search(r'id="project-title">(.*?)</h1>', body).group(1) == api.json["title"]
    assert int(re.search(r'data-percent="(\d+)"', body).group(1)) == api.json["percent"]
    assert [int(found) for found in re.findall(r'data-update="(\d+)"', body)] == [u["id"] for u in api.json["updates"]]
    assert set(api.json["actions"]) == actions_on(body)
    expected = (PARTY if project == "under_way" else HOUSEHOLDS)
    assert set(api.json["actions"]) == ({"progress" if project == "under_way" else "rate"} if role in expected
                                        else set())


@pytest.mark.parametrize("role", ROLES)
def test_the_list_reads_the_same_through_the_api_and_the_page(app, client, world, role):
    api = client.get(f"/api/v1/compounds/{world.compound.id}/renovation-projects",
                     headers=api_headers(world.people[role], _entry(world, role)))
    page = browser(app, world.people[role], _entry(world, role)).get(f"/h5/c/{world.compound.code}/renovation")

    assert api.status_code == page.status_code == (404 if role == "stranger" else 200)
    if api.status_code != 200:
        return
    ids = [item["id"] for item in api.json["items"]]
    assert ids == [int(found) for found in re.findall(r'data-project="(\d+)"', text(page))]
    assert ids == [world.under_way, world.completed]
    assert set(api.json["actions"]) == actions_on(text(page))
    assert (api.json["actions"] == ["create"]) == (role in CREATORS)
