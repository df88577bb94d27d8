"""Dispute mediation (矛盾纠纷调解) through the API: opening a case (officials over the compound only), who sees it
(its officials, its resident parties; another street's official, a resident who is no party, staff: 404/403), steps
and the outcome by the mediator and those above, a step after the outcome refused (409), the link to where it
arose in the same compound only, the agreement as a checked photo or PDF, the parties told once, and the counts
other features read."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.notifications import DISPUTE_UPDATE
from backend.domain.rectifications import ResponsibleParty
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, Household, Notice, User
from backend.services import disputes as service
from backend.services import rectifications
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    a: Compound
    b: Compound  # another street's
    community_official: User  # A's community: the usual mediator
    colleague: User  # another official of A's community: reads, does not mediate
    street_official: User  # above the community
    other_street: User  # B's street
    owner: User  # a verified owner of A's first household: a party
    neighbour: User  # a verified resident of A's second household: no party
    staff: User
    committee: User
    homes: list[Household]


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    a = make_compound(name="甲小区", area=community, buildings=1, households_per_building=3)
    b_street = make_area("B街道", AreaLevel.STREET, district)
    b = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY, b_street), buildings=1,
                      households_per_building=1)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == a.id).order_by(Household.id)))
    return World(
        a=a, b=b,
        community_official=make_user(Role.OFFICIAL, area=community, phone="13800001111"),
        colleague=make_user(Role.OFFICIAL, area=community),
        street_official=make_user(Role.OFFICIAL, area=street),
        other_street=make_user(Role.OFFICIAL, area=b_street),
        owner=make_user(Role.OWNER, a, household=homes[0], phone="13900002222"),
        neighbour=make_user(Role.RESIDENT, a, household=homes[1], phone="13700003333"),
        staff=make_user(Role.STAFF, a),
        committee=make_user(Role.COMMITTEE, a),
        homes=homes,
    )


def _body(world: World, **changes) -> dict:
    return {"title": "楼上漏水纠纷", "summary": "楼上卫生间漏水，楼下业主要求赔偿", "kind": "neighbour",
            "parties": [{"kind": "owner", "household_id": world.homes[0].id},
                        {"kind": "company", "name": "阳光物业"}]} | changes


def _open(client, sign_in, world: World, by: User | None = None, **changes) -> dict:
    response = client.post(f"/api/v1/compounds/{world.a.id}/disputes", json=_body(world, **changes),
                           headers=sign_in(by or world.community_official))
    assert response.status_code == 201, response.json
    return response.json


def _step(client, headers, case_id: int, note: str = "召集双方在社区调解室面谈"):
    return client.post(f"/api/v1/disputes/{case_id}/steps",
                       json={"happened_on": beijing_date(utcnow()).isoformat(), "note": note}, headers=headers)


def test_an_official_opens_a_case_with_its_mediator_and_parties(client, sign_in, world):
    case = _open(client, sign_in, world)
    assert case["status"] == "open" and case["status_label"] == "调解中" and case["kind_label"] == "邻里"
    assert case["mediator_name"] == world.community_official.display_name
    assert case["mediator_area_name"] == "金沙社区"
    assert [party["kind"] for party in case["parties"]] == ["owner", "company"]
    assert case["parties"][1]["name"] == "阳光物业" and case["parties"][0]["name"] == "1栋1单元101室"
    assert set(case["actions"]) == {"add_step", "record_outcome", "attach_agreement", "view_contacts"}
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "dispute.open")) == 1


@pytest.mark.parametrize("who", ["committee", "staff", "owner"])
def test_people_of_the_compound_who_are_not_officials_cannot_open_a_case(client, sign_in, world, who):
    response = client.post(f"/api/v1/compounds/{world.a.id}/disputes", json=_body(world),
                           headers=sign_in(getattr(world, who)))
    assert_error_shape(response, 403)


def test_another_streets_official_gets_404_on_every_endpoint(client, sign_in, world):
    case = _open(client, sign_in, world)
    headers = sign_in(world.other_street)
    assert_error_shape(client.post(f"/api/v1/compounds/{world.a.id}/disputes", json=_body(world),
                                   headers=headers), 404)
    assert_error_shape(client.get(f"/api/v1/compounds/{world.a.id}/disputes", headers=headers), 404)
    assert_error_shape(client.get(f"/api/v1/disputes/{case['id']}", headers=headers), 404)
    assert_error_shape(_step(client, headers, case["id"]), 404)
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/outcome", data={"outcome": "settled"},
                                   headers=headers), 404)
    # Their file is never read: a broken one gets the same 404.
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/agreement",
                                   data={"agreement": (io.BytesIO(b"not a file we keep"), "a.pdf")},
                                   headers=headers), 404)
    assert_error_shape(client.get(f"/api/v1/disputes/{case['id']}/agreement", headers=headers), 404)
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/mediator",
                                   json={"mediator_id": world.other_street.id}, headers=headers), 404)
    # An area that is not theirs: 404 (their own street's list is empty of A's case).
    community_id = db.session.get(Compound, world.a.id).area_id
    assert_error_shape(client.get(f"/api/v1/areas/{community_id}/disputes", headers=headers), 404)
    own = client.get(f"/api/v1/areas/{world.b.area_id}/disputes", headers=headers)
    assert own.status_code == 200 and own.json["total"] == 0


def test_a_resident_party_sees_their_own_case_without_other_parties_phones(client, sign_in, world):
    case = _open(client, sign_in, world, parties=[{"kind": "owner", "household_id": world.homes[0].id},
                                                   {"kind": "neighbour", "user_id": world.neighbour.id}])
    _open(client, sign_in, world, title="另一起纠纷", parties=[{"kind": "neighbour", "user_id": world.neighbour.id},
                                                          {"kind": "company", "name": "阳光物业"}])
    mine = client.get(f"/api/v1/disputes/{case['id']}", headers=sign_in(world.owner))
    assert mine.status_code == 200
    assert mine.json["actions"] == []
    assert [party["mine"] for party in mine.json["parties"]] == [True, False]
    assert all(party["phone_masked"] is None for party in mine.json["parties"])
    assert "3333" not in mine.get_data(as_text=True) and "1111" not in mine.get_data(as_text=True)
    # The official sees the masked phone of the party named by account.
    official = client.get(f"/api/v1/disputes/{case['id']}", headers=sign_in(world.community_official))
    assert official.json["parties"][1]["phone_masked"] == "137****3333"
    # The compound's list and 我的调解 hold only the owner's own case.
    listed = client.get(f"/api/v1/compounds/{world.a.id}/disputes", headers=sign_in(world.owner))
    assert [item["id"] for item in listed.json["items"]] == [case["id"]] and listed.json["actions"] == []
    assert [item["id"] for item in client.get("/api/v1/me/disputes", headers=sign_in(world.owner)).json["items"]] \
        == [case["id"]]


def test_a_resident_who_is_no_party_and_staff_see_nothing(client, sign_in, world):
    case = _open(client, sign_in, world)
    for who in (world.neighbour, world.staff, world.committee):
        headers = sign_in(who)
        assert_error_shape(client.get(f"/api/v1/disputes/{case['id']}", headers=headers), 404)
        assert_error_shape(_step(client, headers, case["id"]), 404)
        assert_error_shape(client.get(f"/api/v1/disputes/{case['id']}/agreement", headers=headers), 404)
        assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/agreement",
                                       data={"agreement": (io.BytesIO(PDF), "a.pdf")}, headers=headers), 404)
        assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/outcome", data={"outcome": "settled"},
                                       headers=headers), 404)
        assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/mediator",
                                       json={"mediator_id": world.colleague.id}, headers=headers), 404)
        assert_error_shape(client.get(f"/api/v1/areas/{world.a.area_id}/disputes", headers=headers), 403)
    assert client.get(f"/api/v1/compounds/{world.a.id}/disputes", headers=sign_in(world.neighbour)).json["total"] == 0
    assert_error_shape(client.get(f"/api/v1/compounds/{world.a.id}/disputes", headers=sign_in(world.staff)), 403)
    assert client.get("/api/v1/me/disputes", headers=sign_in(world.neighbour)).json["total"] == 0


def test_the_mediator_and_officials_above_act_a_colleague_and_the_party_only_read(client, sign_in, world):
    case = _open(client, sign_in, world)
    assert_error_shape(_step(client, sign_in(world.colleague), case["id"]), 403)
    for action in ("outcome", "agreement"):
        assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/{action}",
                                       data={"outcome": "settled", "agreement": (io.BytesIO(PDF), "a.pdf")},
                                       headers=sign_in(world.owner)), 403)
    assert_error_shape(_step(client, sign_in(world.owner), case["id"]), 403)
    colleague_view = client.get(f"/api/v1/disputes/{case['id']}", headers=sign_in(world.colleague)).json
    assert colleague_view["actions"] == ["view_contacts"]
    assert _step(client, sign_in(world.community_official), case["id"]).status_code == 201
    above = _step(client, sign_in(world.street_official), case["id"], "街道司法所参与调解")
    assert above.status_code == 201 and [step["note"] for step in above.json["steps"]] == [
        "召集双方在社区调解室面谈", "街道司法所参与调解"]
    assert "change_mediator" in above.json["actions"]
    # Only those above change the mediator, and only to an official of the compound's community or street.
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/mediator", json={"mediator_id": world.colleague.id},
                                   headers=sign_in(world.community_official)), 403)
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/mediator",
                                   json={"mediator_id": world.other_street.id},
                                   headers=sign_in(world.street_official)), 422)
    moved = client.post(f"/api/v1/disputes/{case['id']}/mediator", json={"mediator_id": world.colleague.id},
                        headers=sign_in(world.street_official))
    assert moved.status_code == 200 and moved.json["mediator_name"] == world.colleague.display_name
    assert_error_shape(_step(client, sign_in(world.community_official), case["id"]), 403)
    assert _step(client, sign_in(world.colleague), case["id"]).status_code == 201


def test_the_outcome_closes_the_case_once_and_steps_after_it_are_refused(client, sign_in, world):
    case = _open(client, sign_in, world)
    headers = sign_in(world.community_official)
    settled = client.post(f"/api/v1/disputes/{case['id']}/outcome",
                          data={"outcome": "settled", "note": "物业承担维修费用",
                                "agreement": samples.camera_jpeg().upload()}, headers=headers)
    assert settled.status_code == 200, settled.json
    assert settled.json["status"] == "settled" and settled.json["closed_at"]
    assert settled.json["agreement"]["content_type"] == "image/jpeg"
    assert set(settled.json["actions"]) == {"attach_agreement", "view_contacts"}
    refused = _step(client, headers, case["id"])
    assert_error_shape(refused, 409)
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/outcome",
                                   data={"outcome": "referred", "referred_to": "区法院"}, headers=headers), 409)
    agreement = client.get(f"/api/v1/disputes/{case['id']}/agreement", headers=sign_in(world.owner))
    assert agreement.status_code == 200 and agreement.mimetype == "image/jpeg"
    assert agreement.headers["Content-Disposition"].startswith("attachment")
    assert b"GPS" not in agreement.data
    assert service.open_counts([world.a.id, world.b.id]) == {world.a.id: 0, world.b.id: 0}


def test_a_referred_case_names_to_whom_and_takes_no_agreement(client, sign_in, world):
    case = _open(client, sign_in, world)
    headers = sign_in(world.community_official)
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/outcome", data={"outcome": "referred"},
                                   headers=headers), 422)
    referred = client.post(f"/api/v1/disputes/{case['id']}/outcome",
                           data={"outcome": "referred", "referred_to": "东区人民调解委员会"}, headers=headers)
    assert referred.json["status"] == "referred" and referred.json["referred_to"] == "东区人民调解委员会"
    assert_error_shape(client.post(f"/api/v1/disputes/{case['id']}/agreement",
                                   data={"agreement": (io.BytesIO(PDF), "a.pdf")}, headers=headers), 409)


def test_the_agreement_may_be_a_pdf_but_never_one_with_scripts_or_something_else(client, sign_in, world):
    case = _open(client, sign_in, world)
    headers = sign_in(world.community_official)
    url = f"/api/v1/disputes/{case['id']}/agreement"
    scripted = PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
    assert_error_shape(client.post(url, data={"agreement": (io.BytesIO(scripted), "a.pdf")}, headers=headers), 422)
    assert_error_shape(client.post(url, data={"agreement": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "a.pdf")},
                                   headers=headers), 422)
    assert_error_shape(client.post(url, data={"agreement": (io.BytesIO(PDF[:-7]), "a.pdf")}, headers=headers), 422)
    assert_error_shape(client.post(url, data={"agreement": samples.php_with_jpeg_magic().upload()},
                                   headers=headers), 422)
    assert client.post(url, data={"agreement": (io.BytesIO(PDF), "协议.pdf")}, headers=headers).status_code == 200
    got = client.get(url, headers=headers)
    assert got.data == PDF and got.mimetype == "application/pdf"
    assert "sandbox" in got.headers["Content-Security-Policy"]


def test_the_link_must_be_a_row_of_the_same_compound(client, sign_in, world):
    today = beijing_date(utcnow())
    finding = rectifications.FindingInput("飞线充电", "楼道飞线", ResponsibleParty.COMPANY, today + timedelta(days=7))
    here, there = (rectifications.items_of_inspection(rectifications.record_inspection(
        compound.id, inspector.id, today, "", ["飞线充电"], [finding]).id)[0]
        for compound, inspector in ((world.a, world.street_official), (world.b, world.other_street)))
    headers = sign_in(world.community_official)
    for link_id in (there.id, 2_147_483_647):
        response = client.post(f"/api/v1/compounds/{world.a.id}/disputes",
                               json=_body(world, link_kind="rectification", link_id=link_id), headers=headers)
        assert_error_shape(response, 422)
        assert "link_id" in response.json["errors"]
    case = _open(client, sign_in, world, link_kind="rectification", link_id=here.id)
    assert case["link"]["kind"] == "rectification" and case["link"]["id"] == here.id


def test_parties_of_another_compound_and_bad_bodies_are_refused(client, sign_in, world, make_user):
    headers = sign_in(world.community_official)
    b_home = db.session.scalar(select(Household.id).where(Household.compound_id == world.b.id))
    b_owner = make_user(Role.OWNER, world.b, household=db.session.get(Household, b_home))
    url = f"/api/v1/compounds/{world.a.id}/disputes"
    for body in (
        _body(world, parties=[{"kind": "owner", "household_id": b_home}, {"kind": "company", "name": "物业"}]),
        _body(world, parties=[{"kind": "owner", "user_id": b_owner.id}, {"kind": "company", "name": "物业"}]),
        _body(world, parties=[{"kind": "company", "name": "物业"}]),
        _body(world, parties=[{"kind": "company", "household_id": world.homes[0].id}, {"kind": "owner", "name": "x"}]),
        _body(world, kind="fight"),
        _body(world, title=" "),
        _body(world, mediator_id=world.other_street.id),
    ):
        assert_error_shape(client.post(url, json=body, headers=headers), 422)


def test_the_parties_are_told_of_each_step_and_of_the_outcome_once(client, sign_in, world):
    case = _open(client, sign_in, world, parties=[{"kind": "owner", "household_id": world.homes[0].id},
                                                   {"kind": "neighbour", "user_id": world.neighbour.id}])
    headers = sign_in(world.community_official)
    step_id = _step(client, headers, case["id"]).json["steps"][0]["id"]
    client.post(f"/api/v1/disputes/{case['id']}/outcome", data={"outcome": "settled"}, headers=headers)
    client.post(f"/api/v1/disputes/{case['id']}/outcome", data={"outcome": "settled"}, headers=headers)
    notices = db.session.scalars(select(Notice).where(Notice.kind == DISPUTE_UPDATE).order_by(Notice.id)).all()
    assert [notice.dedupe_key for notice in notices] == [f"dispute-{case['id']}-step-{step_id}",
                                                         f"dispute-{case['id']}-outcome"]
    assert all(notice.link == f"/h5/disputes/{case['id']}" for notice in notices)
    assert notices[1].body == "调解成功"
    assert service.party_people(case["id"]) == sorted([world.owner.id, world.neighbour.id])


def test_counts_for_the_dashboard_and_reports(client, sign_in, world):
    first = _open(client, sign_in, world)
    _open(client, sign_in, world, title="第二起")
    client.post(f"/api/v1/disputes/{first['id']}/outcome", data={"outcome": "settled"},
                headers=sign_in(world.community_official))
    assert service.open_counts([world.a.id, world.b.id]) == {world.a.id: 1, world.b.id: 0}
    today = beijing_date(utcnow())
    counts = service.period_counts(world.a.area_id, today, today)
    assert (counts.opened, counts.settled, counts.referred) == (2, 1, 0)
    assert service.period_counts(world.b.area_id, today, today).opened == 0
    assert service.period_counts(world.a.area_id, today - timedelta(days=40), today - timedelta(days=10)).opened == 0


def test_a_district_official_opens_a_case_for_a_mediator_of_the_community(client, sign_in, world, area_tree,
                                                                          make_user):
    district = area_tree[1]
    official = make_user(Role.OFFICIAL, area=district)
    url = f"/api/v1/compounds/{world.a.id}/disputes"
    refused = client.post(url, json=_body(world), headers=sign_in(official))
    assert_error_shape(refused, 422)
    assert "mediator_id" in refused.json["errors"]
    case = client.post(url, json=_body(world, mediator_id=world.community_official.id), headers=sign_in(official))
    assert case.status_code == 201 and case.json["mediator_name"] == world.community_official.display_name
    # Above the mediator: the district official may hand the case on.
    assert "change_mediator" in case.json["actions"]
    listed = client.get(f"/api/v1/areas/{district.id}/disputes?status=open", headers=sign_in(official))
    assert [item["id"] for item in listed.json["items"]] == [case.json["id"]]
    assert client.get(f"/api/v1/areas/{district.id}/disputes?status=settled",
                      headers=sign_in(official)).json["total"] == 0


def test_the_area_list_costs_the_same_queries_for_one_case_or_many(client, sign_in, world, count_queries):
    headers = sign_in(world.street_official)
    url = f"/api/v1/areas/{world.a.area_id}/disputes"
    _open(client, sign_in, world)
    with count_queries() as one:
        assert client.get(url, headers=headers).json["total"] == 1
    for number in range(4):
        _open(client, sign_in, world, title=f"纠纷{number}")
    with count_queries() as five:
        assert client.get(url, headers=headers).json["total"] == 5
    assert len(five) == len(one)
