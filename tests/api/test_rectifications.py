"""Inspections and rectification (整改台账) through the API: a street official records a supervision inspection whose
findings become items; the party answers with photos; only the inspector accepts (销号) or returns; every endpoint
hides the compound from another street's official (404) and refuses its residents (403); the area's ledger lists
overdue items first; the overdue sweep takes each escalation step once, however often it runs (time-machine)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.notifications import RECTIFICATION_ANSWERED, RECTIFICATION_NEW, RECTIFICATION_OVERDUE
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Notice, RectificationEscalation, User
from backend.services import rectifications as service
from backend.shared.clock import beijing_date, utcnow
from tests.photo_samples import camera_jpeg
from tests.support import assert_error_shape, bearer, first_household

MULTIPART = "multipart/form-data"


@dataclass
class World:
    compound: Compound
    other_compound: Compound
    street_area_id: int
    inspector: User
    colleague: User
    community_official: User
    district_official: User
    other_official: User
    manager: User
    committee: User
    resident: User


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    other_street = make_area("银江镇", AreaLevel.STREET, district)
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    other = make_compound(area=make_area("江南社区", AreaLevel.COMMUNITY, other_street), buildings=1,
                          households_per_building=1)
    return World(
        compound=compound, other_compound=other, street_area_id=street.id,
        inspector=make_user(Role.OFFICIAL, area=street), colleague=make_user(Role.OFFICIAL, area=street),
        community_official=make_user(Role.OFFICIAL, area=community),
        district_official=make_user(Role.OFFICIAL, area=district),
        other_official=make_user(Role.OFFICIAL, area=other_street),
        manager=make_user(Role.MANAGER, compound), committee=make_user(Role.COMMITTEE, compound),
        resident=make_user(Role.RESIDENT, compound, household=first_household(compound)),
    )


def today():
    return beijing_date(utcnow())


def finding(**changes) -> dict:
    return {"item": "飞线充电", "finding": "3栋楼道飞线充电", "responsible_party": "company",
            "deadline": (today() + timedelta(days=7)).isoformat(), "urgency": "urgent"} | changes


def body(*findings, items=("飞线充电", "环境卫生")) -> dict:
    return {"inspected_on": today().isoformat(), "note": "月度检查", "items": [{"name": name} for name in items],
            "findings": list(findings)}


def record(client, world, user=None, *findings):
    response = client.post(f"/api/v1/compounds/{world.compound.id}/inspections",
                           headers=bearer(client, user or world.inspector), json=body(*(findings or (finding(),))))
    assert response.status_code == 201, response.json
    return response.json


def answer(client, item_id, user, note="已拆除飞线，安装充电桩"):
    sample = camera_jpeg(400, 300)
    return client.post(f"/api/v1/rectifications/{item_id}/answer", headers=bearer(client, user),
                       data={"note": note, "photos": [sample.upload()]}, content_type=MULTIPART)


def notices(kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == kind))


def test_a_street_official_records_findings_and_the_company_answers_and_the_inspector_accepts(client, world):
    recorded = record(client, world, None, finding(), finding(item="环境卫生", finding="垃圾清运不及时",
                                                               responsible_party="committee", urgency="normal"))
    assert recorded["kind"] == "supervision" and recorded["points"] is None
    assert [item["name"] for item in recorded["items"]] == ["飞线充电", "环境卫生"]
    first, second = recorded["rectifications"]
    assert (first["status"], first["responsible_party_label"], first["actions"]) == ("open", "物业服务企业", ["add_photos"])
    assert notices(RECTIFICATION_NEW) == 2

    manager = bearer(client, world.manager)
    seen = client.get(f"/api/v1/rectifications/{first['id']}", headers=manager).json
    assert seen["actions"] == ["answer"]
    # The committee answers for its own item, never for the company's.
    assert_error_shape(answer(client, first["id"], world.committee), 403)
    answered = answer(client, first["id"], world.manager)
    assert answered.status_code == 200, answered.json
    assert answered.json["status"] == "answered"
    answer_event = answered.json["events"][-1]
    assert answer_event["action"] == "answer" and len(answer_event["photos"]) == 1
    assert client.get(answer_event["photos"][0]["url"], headers=manager).status_code == 200
    assert notices(RECTIFICATION_ANSWERED) == 1
    assert_error_shape(answer(client, first["id"], world.manager), 409)

    # Only the official who recorded it decides: not a colleague of the same street, not the district.
    for other in (world.colleague, world.district_official, world.manager):
        assert_error_shape(client.post(f"/api/v1/rectifications/{first['id']}/accept",
                                       headers=bearer(client, other), json={}), 403)
        assert_error_shape(client.post(f"/api/v1/rectifications/{first['id']}/return",
                                       headers=bearer(client, other), json={"reason": "不合格"}), 403)
    inspector = bearer(client, world.inspector)
    assert client.get(f"/api/v1/rectifications/{first['id']}", headers=inspector).json["actions"] == ["accept", "return"]
    returned = client.post(f"/api/v1/rectifications/{first['id']}/return", headers=inspector,
                           json={"reason": "仍有飞线"})
    assert returned.json["status"] == "open" and returned.json["events"][-1]["note"] == "仍有飞线"
    assert answer(client, first["id"], world.manager).status_code == 200
    accepted = client.post(f"/api/v1/rectifications/{first['id']}/accept", headers=inspector, json={"note": "已核实"})
    assert accepted.json["status"] == "accepted" and accepted.json["actions"] == []
    assert_error_shape(client.post(f"/api/v1/rectifications/{first['id']}/return", headers=inspector,
                                   json={"reason": "再看看"}), 409)

    assert answer(client, second["id"], world.committee).status_code == 200


def test_who_may_record_an_inspection(client, world):
    url = f"/api/v1/compounds/{world.compound.id}/inspections"
    good = body(finding())
    assert_error_shape(client.post(url, headers=bearer(client, world.community_official), json=good), 403)
    assert_error_shape(client.post(url, headers=bearer(client, world.manager), json=good), 403)
    assert_error_shape(client.post(url, headers=bearer(client, world.resident), json=good), 403)
    assert_error_shape(client.post(url, headers=bearer(client, world.other_official), json=good), 404)
    assert client.post(url, headers=bearer(client, world.district_official), json=good).status_code == 201


def test_an_inspection_keeps_to_the_checklist_and_the_calendar(client, world):
    url = f"/api/v1/compounds/{world.compound.id}/inspections"
    headers = bearer(client, world.inspector)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert_error_shape(client.post(url, headers=headers, json=body(finding()) | {"inspected_on": tomorrow}), 422)
    assert_error_shape(client.post(url, headers=headers, json=body(finding(), items=("打麻将",))), 422)
    assert_error_shape(client.post(url, headers=headers, json=body(finding(item="投诉处理"))), 422)
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert_error_shape(client.post(url, headers=headers, json=body(finding(deadline=yesterday))), 422)
    assert_error_shape(client.post(url, headers=headers, json=body(finding(responsible_party="mayor"))), 422)
    mixed = body() | {"items": [{"name": "保洁", "points": 5, "max_points": 10}, {"name": "飞线充电"}]}
    assert_error_shape(client.post(url, headers=headers, json=mixed), 422)


def test_the_nearest_checklist_wins(client, world):
    street = f"/api/v1/areas/{world.street_area_id}/inspection-checklist"
    inspector = bearer(client, world.inspector)
    assert client.get(street, headers=inspector).json["source_label"] == "默认清单"
    assert_error_shape(client.put(street, headers=bearer(client, world.other_official), json={"items": ["x"]}), 404)
    assert_error_shape(client.put(street, headers=bearer(client, world.manager), json={"items": ["x"]}), 403)
    assert_error_shape(client.put(street, headers=inspector, json={"items": []}), 422)
    saved = client.put(street, headers=inspector, json={"items": ["电梯安全", "飞线充电", "电梯安全"]})
    assert saved.json["items"] == ["电梯安全", "飞线充电"]
    assert service.checklist_for_compound(world.compound.id) == ("电梯安全", "飞线充电")
    assert service.checklist_for_compound(world.other_compound.id)[0] == "物业服务"
    url = f"/api/v1/compounds/{world.compound.id}/inspections"
    assert_error_shape(client.post(url, headers=inspector, json=body(items=("环境卫生",))), 422)
    assert client.post(url, headers=inspector, json=body(finding(item="电梯安全"), items=("电梯安全",))).status_code == 201


def test_scope_of_every_reading_endpoint(client, world):
    item = record(client, world)["rectifications"][0]
    inspection_id = item["inspection_id"]
    compound = world.compound.id
    urls = [f"/api/v1/compounds/{compound}/inspections", f"/api/v1/inspections/{inspection_id}",
            f"/api/v1/compounds/{compound}/rectifications", f"/api/v1/rectifications/{item['id']}"]
    for url in urls:
        assert client.get(url, headers=bearer(client, world.manager)).status_code == 200, url
        assert client.get(url, headers=bearer(client, world.district_official)).status_code == 200, url
        assert_error_shape(client.get(url, headers=bearer(client, world.other_official)), 404)
        assert_error_shape(client.get(url, headers=bearer(client, world.resident)), 403)
    area = f"/api/v1/areas/{world.street_area_id}/rectifications"
    assert client.get(area, headers=bearer(client, world.inspector)).json["total"] == 1
    assert_error_shape(client.get(area, headers=bearer(client, world.other_official)), 404)
    assert_error_shape(client.get(area, headers=bearer(client, world.manager)), 403)
    assert_error_shape(client.post(f"/api/v1/rectifications/{item['id']}/answer",
                                   headers=bearer(client, world.other_official), data={"note": "x"},
                                   content_type=MULTIPART), 404)
    assert_error_shape(client.post(f"/api/v1/rectifications/{item['id']}/accept",
                                   headers=bearer(client, world.resident), json={}), 403)


def test_the_area_ledger_lists_overdue_items_first(client, world):
    later = record(client, world, None, finding(deadline=(today() + timedelta(days=30)).isoformat()))
    sooner = record(client, world, None, finding(deadline=today().isoformat()))
    with time_machine.travel(utcnow() + timedelta(days=2)):
        ledger = client.get(f"/api/v1/areas/{world.street_area_id}/rectifications",
                            headers=bearer(client, world.district_official)).json
        assert [item["id"] for item in ledger["items"]] == [sooner["rectifications"][0]["id"],
                                                           later["rectifications"][0]["id"]]
        assert [item["overdue"] for item in ledger["items"]] == [True, False]
        assert ledger["overdue_count"] == 1
        assert service.overdue_counts([world.compound.id, world.other_compound.id], beijing_date(utcnow())) == {
            world.compound.id: 1, world.other_compound.id: 0}
        only = client.get(f"/api/v1/compounds/{world.compound.id}/rectifications?overdue=true",
                          headers=bearer(client, world.manager)).json
        assert only["total"] == 1
    day = today()
    overdue = service.overdue_in_area(world.street_area_id, day, day + timedelta(days=5))
    assert [item.id for item in overdue] == [sooner["rectifications"][0]["id"]]
    assert service.overdue_in_area(world.street_area_id, day - timedelta(days=5), day) == []


def test_escalation_takes_each_step_once_even_when_the_sweep_runs_twice(client, world):
    item = record(client, world, None, finding(deadline=today().isoformat()))["rectifications"][0]
    steps = lambda: db.session.scalar(select(func.count()).select_from(RectificationEscalation))  # noqa: E731
    assert service.sweep() == 0
    with time_machine.travel(utcnow() + timedelta(days=1)):
        assert service.sweep() == 1
        assert service.sweep() == 0
    assert steps() == 1 and notices(RECTIFICATION_OVERDUE) == 1
    with time_machine.travel(utcnow() + timedelta(days=4)):
        assert service.sweep() == 1
        assert service.sweep() == 0
    with time_machine.travel(utcnow() + timedelta(days=30)):
        assert service.sweep() == 1
        assert service.sweep() == 0
        seen = client.get(f"/api/v1/rectifications/{item['id']}", headers=bearer(client, world.inspector)).json
        assert seen["escalation_label"] == "已报区县住建督办"
    assert steps() == 3 and notices(RECTIFICATION_OVERDUE) == 3


def test_an_answered_or_accepted_item_is_not_escalated(client, world):
    item = record(client, world, None, finding(deadline=today().isoformat()))["rectifications"][0]
    assert answer(client, item["id"], world.manager).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=30)):
        assert service.sweep() == 0


def test_a_scored_inspection_still_goes_to_the_rating(client, world):
    response = client.post(f"/api/v1/compounds/{world.compound.id}/inspections",
                           headers=bearer(client, world.inspector),
                           json={"inspected_on": today().isoformat(), "items": [{"name": "保洁", "max_points": 10,
                                                                                 "points": 8}]})
    # Scoring is the housing department's (rating): a street official may record only supervision inspections.
    assert_error_shape(response, 403)


def test_the_area_ledger_asks_the_same_number_of_queries_for_more_items(client, world, count_queries):
    url = f"/api/v1/areas/{world.street_area_id}/rectifications"
    headers = bearer(client, world.inspector)
    record(client, world, None, finding(), finding(responsible_party="community"))
    with count_queries() as few:
        assert client.get(url, headers=headers).json["total"] == 2
    record(client, world, None, *[finding(responsible_party=party) for party in ("company", "committee",
                                                                                  "community")] * 3)
    with count_queries() as many:
        assert client.get(url, headers=headers).json["total"] == 11
    assert len(many) == len(few)


def test_the_area_ledger_asks_the_same_number_of_queries_for_items_of_more_compounds(
    client, world, make_compound, area_tree, count_queries
):
    url = f"/api/v1/areas/{world.street_area_id}/rectifications"
    headers = bearer(client, world.inspector)
    record(client, world, None, finding(), finding(responsible_party="community"))
    with count_queries() as one_compound:
        assert client.get(url, headers=headers).json["total"] == 2
    community = area_tree[3]
    for _ in range(3):
        other = make_compound(area=community, buildings=1, households_per_building=1)
        response = client.post(f"/api/v1/compounds/{other.id}/inspections", headers=headers,
                               json=body(finding(responsible_party="community")))
        assert response.status_code == 201, response.json
    with count_queries() as four_compounds:
        page = client.get(url, headers=headers).json
    assert page["total"] == 5
    # Each line offers the actions the item's own page offers (roles read per compound there).
    for item in page["items"]:
        assert item["actions"] == client.get(f"/api/v1/rectifications/{item['id']}", headers=headers).json["actions"]
    community_headers = bearer(client, world.community_official)
    community_url = f"/api/v1/areas/{community.id}/rectifications"
    for item in client.get(community_url, headers=community_headers).json["items"]:
        own = client.get(f"/api/v1/rectifications/{item['id']}", headers=community_headers).json["actions"]
        assert item["actions"] == own
    assert len(four_compounds) == len(one_compound)

