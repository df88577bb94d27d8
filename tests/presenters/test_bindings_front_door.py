"""One front door for household binding (住户绑定): for every role, the API's review list and the review page show
the same requests and offer the same decisions on each (the page marks them with data-action): a reviewer
decides someone else's pending request, never their own."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from backend.domain.bindings import Relation
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Building, Compound, Household, User
from backend.services import bindings as service
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import buildings_of

REVIEWERS = ("committee", "party_secretary", "staff", "admin")
ROLES = [*REVIEWERS, "manager", "official", "owner", "resident", "evaluator", "visitor", "stranger"]
STATUSES = ("pending", "approved", "rejected")


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    own_request_id: int  # the committee member's own request


def households_of(building: Building) -> list[Household]:
    return list(db.session.scalars(db.select(Household).where(Household.building_id == building.id).order_by(Household.id)))


@pytest.fixture
def world(area_tree, make_compound, make_user) -> World:
    *_, community = area_tree
    compound = make_compound(area=community, buildings=2, households_per_building=4)
    rooms = [f"{number}01" for number in range(1, 5)]
    # The requests are for the first building; the compound's verified people live in the second.
    building_id, home = buildings_of(compound)[0].id, households_of(buildings_of(compound)[1])[0]
    people: dict[str, User | None] = {
        "committee": make_user(Role.COMMITTEE, compound),
        "party_secretary": make_user(Role.PARTY_SECRETARY, compound),
        "staff": make_user(Role.STAFF, compound),
        "admin": make_user(Role.ADMIN),
        "manager": make_user(Role.MANAGER, compound),
        "official": make_user(Role.OFFICIAL, area=community),
        "owner": make_user(Role.OWNER, compound, household=home),
        "resident": make_user(Role.RESIDENT, compound, household=home),
        "evaluator": make_user(Role.EVALUATOR, compound),
        "visitor": None,
        "stranger": make_user(Role.COMMITTEE, make_compound()),
    }

    def ask(user: User, room: str) -> int:
        return service.request_binding(
            user_id=user.id, compound_id=compound.id, building_id=building_id, unit="1", room=room, name="张三",
            relation=Relation.OWNER, ip=None,
        ).id

    ask(make_user(), rooms[0])
    own = ask(people["committee"], rooms[1])
    service.approve_binding(ask(make_user(), rooms[2]), people["staff"].id, None)
    service.reject_binding(ask(make_user(), rooms[3]), people["staff"].id, "房号与产权登记不符", None)
    return World(compound, people, own)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


def through_api(client, world: World, role: str, status: str):
    response = client.get(
        f"/api/v1/compounds/{world.compound.id}/bindings?status={status}",
        headers=api_headers(world.people[role], _entry(world, role)),
    )
    if response.status_code != 200:
        return response.status_code, None
    return 200, [(item["id"], item["status_label"], set(item["actions"])) for item in response.json["items"]]


def through_page(app, world: World, role: str, status: str):
    response = browser(app, world.people[role], _entry(world, role)).get(
        f"/h5/c/{world.compound.code}/bindings?status={status}"
    )
    if response.status_code != 200:
        return response.status_code, None
    cards = text(response).split('data-binding="')[1:]
    return 200, [
        (int(re.match(r"\d+", card).group()), re.search(r'状态</label>\s*<span class="weui-form-preview__value">(.*?)<',
                                                        card).group(1), actions_on(card))
        for card in cards
    ]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_the_review_list_reads_the_same_through_the_api_and_the_page(app, client, world, role, status):
    api = through_api(client, world, role, status)
    page = through_page(app, world, role, status)

    if role == "visitor":
        # No one reviews without signing in: the API says 401, the page sends the phone to sign in.
        assert api == (401, None) and page[0] == 302
        return
    assert api == page
    expected_status = 200 if role in REVIEWERS else 404 if role == "stranger" else 403
    assert api[0] == expected_status
    if api[0] != 200:
        return
    lines = api[1]
    assert len(lines) == (2 if status == "pending" else 1)
    for binding_id, _, actions in lines:
        own = role == "committee" and binding_id == world.own_request_id
        assert actions == ({"approve", "reject"} if status == "pending" and not own else set())


def test_the_visitor_is_sent_to_sign_in(app, world):
    response = browser(app, None, world.compound).get(f"/h5/c/{world.compound.code}/bindings")
    assert urlsplit(response.headers["Location"]).path == "/h5/login"
