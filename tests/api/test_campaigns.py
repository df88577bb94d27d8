"""Environment campaigns (卫生评比) through the API: a community official starts a campaign over the community's
compounds and appoints an evaluator; rounds are scored per building (a second entry updates, never doubles); each
round is ranked with ties (1, 1, 3) and its red flags include ties; residents see only their compound's buildings;
a finding becomes a work order carrying the same photo files, and a rectification item, once each; another
compound's people and strangers get 404."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    BuildingScore,
    CampaignPhoto,
    Compound,
    RectificationPhoto,
    User,
    WorkOrder,
    WorkOrderPhoto,
)
from backend.shared.clock import beijing_date, utcnow
from tests.photo_samples import camera_jpeg
from tests.support import assert_error_shape, bearer, buildings_of, first_household

ITEMS = ("楼道堆物", "垃圾分类准确", "车辆乱停", "飞线充电", "小广告")


@dataclass
class World:
    compound: Compound
    neighbour: Compound
    outsider: Compound
    community_id: int
    community_official: User
    street_official: User
    evaluator: User
    resident: User
    neighbour_resident: User
    outsider_resident: User
    manager: User


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    compound = make_compound(area=community, buildings=3, households_per_building=1)
    neighbour = make_compound(area=community, buildings=1, households_per_building=1)
    outsider = make_compound(area=make_area("别的社区", AreaLevel.COMMUNITY, make_area("别的街道", AreaLevel.STREET,
                                                                                   district)),
                             buildings=1, households_per_building=1)
    return World(
        compound=compound, neighbour=neighbour, outsider=outsider, community_id=community.id,
        community_official=make_user(Role.OFFICIAL, area=community),
        street_official=make_user(Role.OFFICIAL, area=street), evaluator=make_user(phone="13800138123"),
        resident=make_user(Role.RESIDENT, compound, household=first_household(compound)),
        neighbour_resident=make_user(Role.RESIDENT, neighbour, household=first_household(neighbour)),
        outsider_resident=make_user(Role.RESIDENT, outsider, household=first_household(outsider)),
        manager=make_user(Role.MANAGER, compound),
    )


def points(**lost) -> list[dict]:
    return [{"item": name, "points": 20 - lost.get(name, 0)} for name in ITEMS]


def start(client, world: World) -> dict:
    response = client.post(f"/api/v1/areas/{world.community_id}/campaigns", headers=bearer(client, world.community_official),
                           json={"title": "12月卫生评比", "kind": "hygiene", "red_flag_count": 2})
    assert response.status_code == 201, response.json
    return response.json


def new_round(client, headers, campaign_id: int) -> dict:
    response = client.post(f"/api/v1/campaigns/{campaign_id}/rounds", headers=headers,
                           json={"inspected_on": beijing_date(utcnow()).isoformat()})
    assert response.status_code == 201, response.json
    return response.json


def score(client, headers, round_id: int, building_id: int, **body) -> dict:
    response = client.put(f"/api/v1/campaign-rounds/{round_id}/buildings/{building_id}/score", headers=headers,
                          json={"points": points()} | body)
    assert response.status_code == 200, response.json
    return response.json


def test_a_round_is_ranked_with_ties_and_red_flags_include_them_residents_see_their_own_buildings(client, world):
    campaign = start(client, world)
    assert [item["name"] for item in campaign["checklist"]] == list(ITEMS)
    assert {each["id"] for each in campaign["compounds"]} == {world.compound.id, world.neighbour.id}
    official = bearer(client, world.community_official)
    first, second, third = (building.id for building in buildings_of(world.compound))
    (other,) = (building.id for building in buildings_of(world.neighbour))
    held = new_round(client, official, campaign["id"])
    assert held["number"] == 1 and len(held["unscored"]) == 4
    # A round is one day's: tapping again the same day finds it.
    assert new_round(client, official, campaign["id"])["id"] == held["id"]
    score(client, official, held["id"], first, points=points(小广告=5))
    score(client, official, held["id"], second, points=points(楼道堆物=2, 小广告=3))
    score(client, official, held["id"], third, points=points(飞线充电=10))
    ranking = score(client, official, held["id"], other, points=points(车辆乱停=1))["ranking"]
    # 99, 95, 95, 90: ties share 2nd, the next is 4th; two red flags → three buildings (the tie counts).
    assert [(row["building_id"], row["total"], row["rank"], row["red_flag"]) for row in ranking] == [
        (other, 99, 1, True), *sorted([(first, 95, 2, True), (second, 95, 2, True)]), (third, 90, 4, False)]

    # A second entry for the same building updates its score: one row, the new total, the ranking moves.
    ranking = score(client, official, held["id"], third, points=points())["ranking"]
    assert ranking[0] == ranking[0] | {"building_id": third, "total": 100, "rank": 1}
    assert db.session.scalar(select(func.count()).select_from(BuildingScore).where(
        BuildingScore.building_id == third)) == 1

    board = client.get(f"/api/v1/compounds/{world.compound.id}/campaigns", headers=bearer(client, world.resident))
    assert board.status_code == 200
    (entry,) = board.json["campaigns"]
    assert entry["ranked"] == 4 and entry["red_flags"] == 2 and entry["round"]["number"] == 1
    # Only this compound's buildings; the neighbour's (now 2nd) is counted, never named.
    assert [(row["building_id"], row["rank"], row["red_flag"]) for row in entry["buildings"]] == [
        (third, 1, True), *sorted([(first, 3, False), (second, 3, False)])]
    assert "compound_name" not in str(board.json) and str(other) not in {str(row["building_id"])
                                                                          for row in entry["buildings"]}

    # Residents read the board, not the campaign's own screens; another compound's board is hidden.
    assert_error_shape(client.get(f"/api/v1/campaigns/{campaign['id']}", headers=bearer(client, world.resident)), 404)
    assert_error_shape(client.get(f"/api/v1/campaign-rounds/{held['id']}", headers=bearer(client, world.resident)), 404)
    assert_error_shape(client.get(f"/api/v1/compounds/{world.compound.id}/campaigns",
                                  headers=bearer(client, world.outsider_resident)), 404)
    outsider_board = client.get(f"/api/v1/compounds/{world.outsider.id}/campaigns",
                                headers=bearer(client, world.outsider_resident))
    assert outsider_board.status_code == 200 and outsider_board.json["campaigns"] == []


def test_an_evaluator_scores_with_findings_which_become_a_work_order_and_a_rectification_once_each(client, world):
    campaign = start(client, world)
    appointed = client.post(f"/api/v1/campaigns/{campaign['id']}/evaluators",
                            headers=bearer(client, world.community_official),
                            json={"phone": "13800138123", "name": "王评比"})
    assert appointed.status_code == 200 and appointed.json["evaluators"] == [world.evaluator.display_name]
    scorer = bearer(client, world.evaluator)
    assert set(client.get(f"/api/v1/campaigns/{campaign['id']}", headers=scorer).json["actions"]) == {
        "add_round", "score", "to_work_order"}
    first = buildings_of(world.compound)[0].id
    held = new_round(client, scorer, campaign["id"])
    row = score(client, scorer, held["id"], first, points=points(飞线充电=15),
                findings=[{"item": "飞线充电", "note": "2单元楼道飞线充电"}])["ranking"][0]
    (finding,) = row["findings"]
    added = client.post(f"/api/v1/campaign-findings/{finding['id']}/photos", headers=scorer,
                        data={"photos": [camera_jpeg(texture=True).upload(), camera_jpeg(800, 600).upload()]},
                        content_type="multipart/form-data")
    assert added.status_code == 200, added.json
    assert len(added.json["photos"]) == 2
    original = [client.get(photo["url"], headers=scorer).data for photo in added.json["photos"]]

    # A second score of the building keeps the finding (one per item) and its photos.
    score(client, scorer, held["id"], first, points=points(飞线充电=16),
          findings=[{"item": "飞线充电", "note": "2单元楼道飞线充电，已劝导"}])
    assert client.get(f"/api/v1/campaign-findings/{finding['id']}", headers=scorer).json["note"] == "2单元楼道飞线充电，已劝导"

    made = client.post(f"/api/v1/campaign-findings/{finding['id']}/work-order", headers=scorer)
    assert made.status_code == 200, made.json
    order_id = made.json["work_order_id"]
    again = client.post(f"/api/v1/campaign-findings/{finding['id']}/work-order", headers=scorer)
    assert again.json["work_order_id"] == order_id
    assert db.session.scalar(select(func.count()).select_from(WorkOrder).where(
        WorkOrder.compound_id == world.compound.id)) == 1

    # The work order shows the same photo files: same keys in storage, same bytes through its own photo URLs.
    kept = set(db.session.scalars(select(CampaignPhoto.storage_key).where(CampaignPhoto.finding_id == finding["id"])))
    assert set(db.session.scalars(select(WorkOrderPhoto.storage_key).where(
        WorkOrderPhoto.work_order_id == order_id))) == kept
    order = client.get(f"/api/v1/work-orders/{order_id}", headers=bearer(client, world.manager))
    assert order.status_code == 200, order.json
    assert order.json["building_id"] == first and "飞线充电" in order.json["description"]
    shown = [photo["url"] for event in order.json["timeline"] for photo in event["photos"]]
    manager = bearer(client, world.manager)
    assert sorted(client.get(url, headers=manager).data for url in shown) == sorted(original)

    # The rectification item: not an evaluator's nor a community official's (supervision is the street's).
    body = {"responsible_party": "company", "deadline": (beijing_date(utcnow()) + timedelta(days=7)).isoformat()}
    assert_error_shape(client.post(f"/api/v1/campaign-findings/{finding['id']}/rectification", headers=scorer,
                                   json=body), 403)
    assert_error_shape(client.post(f"/api/v1/campaign-findings/{finding['id']}/rectification",
                                   headers=bearer(client, world.community_official), json=body), 403)
    street = bearer(client, world.street_official)
    item = client.post(f"/api/v1/campaign-findings/{finding['id']}/rectification", headers=street, json=body)
    assert item.status_code == 200, item.json
    assert client.post(f"/api/v1/campaign-findings/{finding['id']}/rectification", headers=street,
                       json=body).json["rectification_id"] == item.json["rectification_id"]
    assert set(db.session.scalars(select(RectificationPhoto.storage_key).where(
        RectificationPhoto.rectification_id == item.json["rectification_id"]))) == kept
    detail = client.get(f"/api/v1/campaign-findings/{finding['id']}", headers=street).json
    assert detail["work_order_id"] == order_id and detail["actions"] == []


def test_strangers_get_404_bad_input_422_and_a_closed_campaign_409(client, world):
    campaign = start(client, world)
    official = bearer(client, world.community_official)
    held = new_round(client, official, campaign["id"])
    first = buildings_of(world.compound)[0].id
    (outside,) = buildings_of(world.outsider)
    outsider = bearer(client, world.outsider_resident)
    for path in (f"/api/v1/campaigns/{campaign['id']}", f"/api/v1/campaign-rounds/{held['id']}"):
        assert_error_shape(client.get(path, headers=outsider), 404)
    assert_error_shape(client.put(f"/api/v1/campaign-rounds/{held['id']}/buildings/{first}/score", headers=outsider,
                                  json={"points": points()}), 404)
    # A building outside the campaign, an item not on the checklist, points over the item's maximum.
    assert_error_shape(client.put(f"/api/v1/campaign-rounds/{held['id']}/buildings/{outside.id}/score",
                                  headers=official, json={"points": points()}), 404)
    assert_error_shape(client.put(f"/api/v1/campaign-rounds/{held['id']}/buildings/{first}/score", headers=official,
                                  json={"points": [*points(), {"item": "乱贴乱画", "points": 1}]}), 422)
    assert_error_shape(client.put(f"/api/v1/campaign-rounds/{held['id']}/buildings/{first}/score", headers=official,
                                  json={"points": points(小广告=-5)}), 422)
    # Another area's official cannot start a campaign here; a campaign over a compound outside the area is refused.
    assert_error_shape(client.post(f"/api/v1/areas/{world.community_id}/campaigns", headers=outsider,
                                   json={"title": "评比", "kind": "sorting"}), 404)
    assert_error_shape(client.post(f"/api/v1/areas/{world.community_id}/campaigns", headers=official,
                                   json={"title": "评比", "kind": "sorting", "compound_ids": [world.outsider.id]}), 422)
    closed = client.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=official)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    assert_error_shape(client.post(f"/api/v1/campaigns/{campaign['id']}/rounds", headers=official,
                                   json={"inspected_on": beijing_date(utcnow()).isoformat()}), 409)
    assert_error_shape(client.put(f"/api/v1/campaign-rounds/{held['id']}/buildings/{first}/score", headers=official,
                                  json={"points": points()}), 409)
