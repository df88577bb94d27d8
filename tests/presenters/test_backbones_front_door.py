"""One front door for the 治理骨干 roster: for every role, the API and the roster page show the same entries in the
same states and offer the same steps on each (the page marks them with data-action), and the same 登记 / 我要当志愿者.
Keepers (the party secretary, the officials over the compound, admins) see applications and history; everyone else
the active roster only."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from backend.domain.backbones import BackboneAction, BackboneKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Household, User
from backend.services import backbones as service
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import buildings_of

KEEPERS = ("party_secretary", "official", "admin")
ROLES = [*KEEPERS, "committee", "staff", "manager", "owner", "resident", "evaluator", "visitor", "stranger"]


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]


def build_world(area_tree, make_compound, make_user) -> World:
    *_, community = area_tree
    compound = make_compound(area=community, buildings=2, households_per_building=2)
    homes = list(db.session.scalars(db.select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    people: dict[str, User | None] = {
        "party_secretary": make_user(Role.PARTY_SECRETARY, compound),
        "official": make_user(Role.OFFICIAL, area=community),
        "admin": make_user(Role.ADMIN),
        "committee": make_user(Role.COMMITTEE, compound),
        "staff": make_user(Role.STAFF, compound),
        "manager": make_user(Role.MANAGER, compound),
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "resident": make_user(Role.RESIDENT, compound, household=homes[1]),
        "evaluator": make_user(Role.EVALUATOR, compound),
        "visitor": None,
        "stranger": make_user(Role.PARTY_SECRETARY, make_compound()),
    }
    keeper = people["official"].id
    service.add_member(compound.id, keeper, name="张建国", kind=BackboneKind.BUILDING_HEAD,
                       building_id=buildings_of(compound)[0].id, skills=["调解"])
    service.add_member(compound.id, keeper, name="阳光社工站", kind=BackboneKind.SOCIAL_ORG)
    ended = service.add_member(compound.id, keeper, name="李退休", kind=BackboneKind.CAPABLE)
    service.decide(ended.id, keeper, BackboneAction.END, "搬走了")
    neighbour = make_user(Role.OWNER, compound, household=homes[2])
    service.volunteer(compound.id, neighbour.id, name="刘芳", note="周末有空")
    return World(compound, people)


@pytest.fixture
def world(built_once) -> World:
    return built_once(build_world)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


def through_api(client, world: World, role: str, status: str):
    response = client.get(f"/api/v1/compounds/{world.compound.id}/backbones?status={status}",
                          headers=api_headers(world.people[role], _entry(world, role)))
    if response.status_code != 200:
        return response.status_code, None, None
    lines = sorted((item["id"], item["status"], frozenset(item["actions"]))
                   for group in response.json["groups"] for item in group["items"])
    return 200, lines, set(response.json["actions"])


def through_page(app, world: World, role: str, status: str):
    response = browser(app, world.people[role], _entry(world, role)).get(
        f"/h5/c/{world.compound.code}/backbones?status={status}")
    if response.status_code != 200:
        return response.status_code, None, None
    head, *cells = text(response).split('data-member="')
    lines = sorted((int(re.match(r"\d+", cell).group()), re.search(r'data-status="(\w+)"', cell).group(1),
                    frozenset(actions_on(cell))) for cell in cells)
    return 200, lines, actions_on(head)


@pytest.mark.parametrize("status", ["live", "ended"])
@pytest.mark.parametrize("role", ROLES)
def test_the_roster_reads_the_same_through_the_api_and_the_page(app, client, world, role, status):
    api = through_api(client, world, role, status)
    assert api == through_page(app, world, role, status)
    if role == "stranger":
        assert api[0] == 404
        return
    assert api[0] == 200
    statuses = [line_status for _, line_status, _ in api[1]]
    if role in KEEPERS:
        assert statuses == (["active", "active", "pending"] if status == "live" else ["ended"])
        assert api[2] == {"add"}
        assert {actions for _, _, actions in api[1]} == (
            {frozenset({"end"}), frozenset({"confirm", "decline"})} if status == "live" else {frozenset()})
    else:
        # The public sees the active roster, whatever it asks for, and may do nothing to it.
        assert statuses == ["active", "active"]
        assert all(not actions for _, _, actions in api[1])
        assert api[2] == ({"volunteer"} if role in ("owner", "resident") else set())
