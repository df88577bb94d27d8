"""One front door for environment campaigns (卫生评比): for every role, the API and the pages answer the campaign, its
round and the compound's board alike — the same status (404 for those who are not to see it), the same actions
(the page marks each with data-action), the same buildings in the same ranks."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from backend.domain.campaigns import CampaignKind, ChecklistItem
from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.models import Compound, User
from backend.services import campaigns as service
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import buildings_of, first_household

ROLES = ["community_official", "street_official", "admin", "evaluator", "committee", "manager", "owner", "resident",
         "visitor", "stranger"]
RANKED = re.compile(r'data-building="(\d+)" data-rank="(\d+)"')


@dataclass
class World:
    compound: Compound
    people: dict[str, User | None]
    campaign_id: int
    round_id: int


def _build(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    compound = make_compound(area=community, buildings=2, households_per_building=1)
    neighbour = make_compound(area=community, buildings=1, households_per_building=1)
    household = first_household(compound)
    people: dict[str, User | None] = {
        "community_official": make_user(Role.OFFICIAL, area=community),
        "street_official": make_user(Role.OFFICIAL, area=street),
        "admin": make_user(Role.ADMIN),
        "evaluator": make_user(phone="13800138555"),
        "committee": make_user(Role.COMMITTEE, compound),
        "manager": make_user(Role.MANAGER, compound),
        "owner": make_user(Role.OWNER, compound, household=household),
        "resident": make_user(Role.RESIDENT, compound, household=household),
        "visitor": None,
        "stranger": make_user(Role.COMMITTEE, make_compound(
            area=make_area("别的社区", AreaLevel.COMMUNITY, make_area("别的街道", AreaLevel.STREET, district)))),
    }
    official = people["community_official"].id
    campaign = service.create_campaign(community.id, official, title="垃圾分类评比", kind=CampaignKind.SORTING,
                                       checklist=[ChecklistItem("垃圾分类准确", 50), ChecklistItem("楼道堆物", 50)],
                                       red_flag_count=1)
    service.appoint_evaluator(campaign.id, official, "13800138555")
    held = service.add_round(campaign.id, official, service.today())
    first, second = buildings_of(compound)
    (other,) = buildings_of(neighbour)
    for building, lost in ((first, 10), (second, 0), (other, 10)):
        service.record_score(held.id, building.id, official, {"垃圾分类准确": 50 - lost, "楼道堆物": 50}, "",
                             [service.FindingDraft("垃圾分类准确", "混投")] if lost else [])
    return World(compound, people, campaign.id, held.id)


@pytest.fixture
def world(built_once) -> World:
    return built_once(_build)


def _entry(world: World, role: str) -> Compound | None:
    return world.compound if role == "visitor" else None


@pytest.mark.parametrize("role", ROLES)
def test_the_campaign_and_its_round_read_the_same_through_both_doors(app, world, role):
    person = world.people[role]
    headers = api_headers(person, _entry(world, role))
    phone = browser(app, person, _entry(world, role))
    api = app.test_client().get(f"/api/v1/campaigns/{world.campaign_id}", headers=headers)
    page = phone.get(f"/h5/campaigns/{world.campaign_id}")
    if person is None:
        assert api.status_code == 401 and page.status_code == 302
        return
    assert api.status_code == page.status_code
    if api.status_code != 200:
        assert api.status_code == 404
        return
    assert set(api.json["actions"]) == actions_on(text(page))
    api_round = app.test_client().get(f"/api/v1/campaign-rounds/{world.round_id}", headers=headers)
    page_round = text(phone.get(f"/h5/campaign-rounds/{world.round_id}"))
    ranking = page_round.split('id="ranking"')[1].split('id="unscored"')[0]
    assert [(row["building_id"], row["rank"]) for row in api_round.json["ranking"]] == [
        (int(building), int(rank)) for building, rank in RANKED.findall(ranking)]
    assert set(api_round.json["actions"]) == actions_on(ranking)


@pytest.mark.parametrize("role", ROLES)
def test_the_compound_board_reads_the_same_through_both_doors(app, world, role):
    person = world.people[role]
    api = app.test_client().get(f"/api/v1/compounds/{world.compound.id}/campaigns",
                                headers=api_headers(person, _entry(world, role)))
    page = browser(app, person, _entry(world, role)).get(f"/h5/c/{world.compound.code}/campaigns")
    assert api.status_code == page.status_code
    if role in ("stranger", "evaluator"):
        # The evaluator has no role in the compound: they read the round itself.
        assert api.status_code == 404
        return
    (campaign,) = api.json["campaigns"]
    assert [(row["building_id"], row["rank"]) for row in campaign["buildings"]] == [
        (int(building), int(rank)) for building, rank in RANKED.findall(text(page))]
    # Two of this compound's buildings ranked 1 and 2 (the neighbour's ties for 2nd but is not shown).
    assert [row["rank"] for row in campaign["buildings"]] == [1, 2] and campaign["ranked"] == 3
