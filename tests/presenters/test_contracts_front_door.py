"""One front door for the company's contract and its handover inspection: for every role, the API and the pages
show the same contract and inspection and offer the same actions (the page marks each with data-action)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from backend.domain.compounds import AreaLevel
from backend.domain.contracts import ItemState
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, PropertyCompany, User
from backend.services import contracts as service
from backend.shared.clock import beijing_date, utcnow
from tests.contracts_support import contract_in_force
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

ROLES = ["committee", "party_secretary", "manager", "staff", "community_official", "admin", "owner", "resident",
         "evaluator", "stranger"]
DESK = {"committee", "party_secretary", "admin"}


@dataclass
class World:
    compound: Compound
    people: dict[str, User]
    contract_id: int
    inspection_id: int


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, _, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=2)
    household = first_household(compound)
    people = {
        "committee": make_user(Role.COMMITTEE, compound),
        "party_secretary": make_user(Role.PARTY_SECRETARY, compound),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "community_official": make_user(Role.OFFICIAL, area=community),
        "admin": make_user(Role.ADMIN),
        "owner": make_user(Role.OWNER, compound, household=household),
        "resident": make_user(Role.RESIDENT, compound, household=household),
        "evaluator": make_user(Role.EVALUATOR, compound),
        "stranger": make_user(Role.COMMITTEE, make_compound(
            area=make_area("别的社区", AreaLevel.COMMUNITY, make_area("别的街道", AreaLevel.STREET, district)))),
    }
    company = PropertyCompany(name="安居物业", credit_code="91510400MA6DOORS01")
    db.session.add(company)
    db.session.commit()
    today = beijing_date(utcnow())
    committee = people["committee"].id
    contract_id = contract_in_force(compound.id, company.id, committee, today, today + timedelta(days=700))
    inspection = service.start_handover(contract_id, committee)
    for item in service.items_of(inspection.id):
        service.record_item(inspection.id, item.id, committee,
                            ItemState.DEFECTIVE if item.position == 1 else ItemState.GOOD, "")
    return World(compound, people, contract_id, inspection.id)


def through_api(client, world: World, role: str, path: str) -> tuple[int, dict | None]:
    response = client.get(f"/api/v1{path}", headers=api_headers(world.people[role]))
    if response.status_code != 200:
        return response.status_code, None
    body = response.json
    actions = set(body["actions"]) | {action for item in body.get("items", []) for action in item["actions"]}
    return 200, {"status": body["status_label"], "actions": actions}


def through_page(app, world: World, role: str, path: str) -> tuple[int, dict | None]:
    response = browser(app, world.people[role]).get(f"/h5{path}")
    if response.status_code != 200:
        return response.status_code, None
    body = text(response)
    status = re.search(r'id="(?:contract|handover)-status" data-status="[a-z_]+">(.*?)</span>', body).group(1)
    return 200, {"status": status, "actions": actions_on(body)}


@pytest.mark.parametrize("role", ROLES)
def test_the_contract_and_its_handover_read_the_same_through_both_doors(app, client, world, role):
    for path, desk_actions in (
        (f"/contracts/{world.contract_id}", {"renew", "reselect", "dismiss"}),
        (f"/handovers/{world.inspection_id}", {"record", "resolve"}),
    ):
        api, page = through_api(client, world, role, path), through_page(app, world, role, path)
        assert api == page, path
        status, seen = api
        assert status == {"stranger": 404, "evaluator": 403}.get(role, 200)
        if seen is not None:
            assert seen["actions"] == (desk_actions if role in DESK else set()), path

    # Put right, nothing is open: each side may sign, and only its own people.
    committee = world.people["committee"].id
    service.resolve_item(world.inspection_id, service.items_of(world.inspection_id)[0].id, committee)
    api = through_api(client, world, role, f"/handovers/{world.inspection_id}")
    assert api == through_page(app, world, role, f"/handovers/{world.inspection_id}")
    if api[1] is not None:
        expected = {"record", "sign_committee"} if role in DESK else {"sign_company"} if role == "manager" else set()
        assert api[1]["actions"] == expected
