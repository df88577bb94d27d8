"""Governance API: a compound's party organisation and self-governance body with history, area coverage, first
secretaries and their monthly log; who may do what, and another street's official 404 on every endpoint."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel, GovernanceBody, PartyOrgForm
from backend.domain.reports import ReportKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, GovernanceRecord, Membership, Report
from backend.services import reports
from backend.services.governance import coverage
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests.support import assert_error_shape, first_household


@pytest.fixture
def town(area_tree, make_area, make_compound, make_user):
    """Two streets of one district; a compound in the first street's community, with its desk and people."""
    city, district, street, community = area_tree
    other_street = make_area("大河中路街道", AreaLevel.STREET, district)
    other_community = make_area("大河社区", AreaLevel.COMMUNITY, other_street)
    compound = make_compound(area=community)
    other = make_compound(area=other_community)
    return {
        "city": city, "district": district, "street": street, "community": community, "compound": compound,
        "other": other,
        "district_official": make_user(Role.OFFICIAL, area=district),
        "street_official": make_user(Role.OFFICIAL, area=street),
        "community_official": make_user(Role.OFFICIAL, area=community),
        "stranger_official": make_user(Role.OFFICIAL, area=other_street),
        "committee": make_user(Role.COMMITTEE, compound),
        "resident": make_user(Role.RESIDENT, compound, household=first_household(compound)),
    }


def gov_url(compound) -> str:
    return f"/api/v1/compounds/{compound.id}/governance"


def test_an_official_records_governance_and_every_change_is_kept(client, town, sign_in):
    headers = sign_in(town["community_official"])
    today = beijing_date(utcnow())
    body = {"party_org_form": "single", "party_secretary_name": "王书记", "party_members": 12,
            "body": "owners_committee", "body_formed_on": (today - timedelta(days=700)).isoformat(),
            "body_term_ends_on": (today + timedelta(days=400)).isoformat(), "body_members": 5}

    first = client.put(gov_url(town["compound"]), json=body, headers=headers)
    again = client.put(gov_url(town["compound"]), json=body, headers=headers)
    second = client.put(gov_url(town["compound"]), json={"party_org_form": "joint", "body_members": 7},
                        headers=headers)

    assert first.status_code == again.status_code == second.status_code == 200, first.json
    current = second.json["current"]
    assert (current["party_org_form"], current["party_org_form_label"], current["body_members"]) == ("joint", "联建", 7)
    assert [r["changed"] for r in second.json["history"]] == [
        ["party_org_form", "body_members"],
        ["party_org_form", "party_secretary_name", "party_members", "body", "body_formed_on", "body_term_ends_on",
         "body_members"],
    ]
    compound = db.session.get(Compound, town["compound"].id)
    assert (compound.party_org_form, compound.governance_body) == (PartyOrgForm.JOINT, GovernanceBody.OWNERS_COMMITTEE)
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "governance.update")
                                .order_by(AuditEvent.id)).all()
    assert len(audits) == 2
    assert (audits[1].before, audits[1].after) == ({"party_org_form": "single", "body_members": 5},
                                                   {"party_org_form": "joint", "body_members": 7})


def test_setting_the_body_to_none_clears_its_details_and_bad_dates_are_422(client, town, sign_in):
    headers = sign_in(town["street_official"])
    today = beijing_date(utcnow())
    client.put(gov_url(town["compound"]), json={"body": "property_committee", "body_members": 3,
                                                "body_term_ends_on": (today + timedelta(days=30)).isoformat()},
               headers=headers)
    cleared = client.put(gov_url(town["compound"]), json={"body": "none"}, headers=headers).json["current"]
    assert (cleared["body_members"], cleared["body_term_ends_on"]) == (0, None)

    bad = client.put(gov_url(town["compound"]), json={"body": "self_committee", "body_formed_on": today.isoformat(),
                                                      "body_term_ends_on": today.isoformat()}, headers=headers)
    assert_error_shape(bad, 422)
    assert_error_shape(client.put(gov_url(town["compound"]), json={"party_members": -1}, headers=headers), 422)


@pytest.mark.parametrize(("who", "read", "write"), [
    ("committee", 200, 403),
    ("resident", 403, 403),
    ("community_official", 200, 200),
    ("district_official", 200, 200),
    ("stranger_official", 404, 404),
])
def test_who_reads_and_writes_governance(client, town, sign_in, who, read, write):
    headers = sign_in(town[who])
    assert client.get(gov_url(town["compound"]), headers=headers).status_code == read
    assert client.put(gov_url(town["compound"]), json={"party_members": 3}, headers=headers).status_code == write


def test_another_streets_official_gets_404_on_every_endpoint(client, town, sign_in, make_user):
    headers = sign_in(town["stranger_official"])
    compound, community = town["compound"], town["community"]
    secretary = make_user()
    assigned = client.post(f"/api/v1/compounds/{compound.id}/first-secretary", headers=sign_in(town["district_official"]),
                           json={"user_id": secretary.id, "started_on": beijing_date(utcnow()).isoformat(),
                                 "goals": "成立业委会"})
    assert assigned.status_code == 201, assigned.json
    assignment_id = assigned.json["first_secretary"]["id"]
    month = beijing_date(utcnow()).isoformat()
    for method, path, body in [
        ("GET", gov_url(compound), None), ("PUT", gov_url(compound), {"party_members": 1}),
        ("GET", f"/api/v1/areas/{community.id}/coverage", None),
        ("GET", f"/api/v1/areas/{community.id}/ledger.xlsx", None),
        ("POST", f"/api/v1/compounds/{compound.id}/first-secretary", {"user_id": secretary.id, "started_on": month,
                                                                     "goals": "x"}),
        ("DELETE", f"/api/v1/compounds/{compound.id}/first-secretary", None),
        ("GET", f"/api/v1/first-secretaries/{assignment_id}/logs", None),
        ("PUT", f"/api/v1/first-secretaries/{assignment_id}/logs", {"body": "x"}),
        ("GET", f"/api/v1/areas/{community.id}/first-secretary-logs?month={month}", None),
    ]:
        response = client.open(path, method=method, json=body, headers=headers)
        assert_error_shape(response, 404)


def test_coverage_counts_each_form_and_body_in_basis_points_in_one_statement(client, town, sign_in, make_compound,
                                                                             count_queries):
    headers = sign_in(town["street_official"])
    for _ in range(2):
        make_compound(area=town["community"])
    client.put(gov_url(town["compound"]), json={"party_org_form": "grid", "body": "self_committee"}, headers=headers)

    url = f"/api/v1/areas/{town['street'].id}/coverage"
    with count_queries() as statements:
        figures = coverage(town["street"].id)
    grouped = [s for s in statements if "GROUP BY" in s.upper()]
    assert len(grouped) == 1
    response = client.get(url, headers=headers).json
    assert response["compounds"] == figures.compounds == 3
    forms = {line["value"]: (line["count"], line["basis_points"]) for line in response["party_forms"]}
    assert forms == {"single": (0, 0), "joint": (0, 0), "grid": (1, 3333), "none": (2, 6667)}
    assert (response["with_body"]["count"], response["with_body"]["basis_points"]) == (1, 3333)
    # Officials below an area (a district official under the city, a community under its street) are 403 there.
    assert client.get(f"/api/v1/areas/{town['city'].id}/coverage", headers=sign_in(town["district_official"])
                      ).status_code == 403
    assert_error_shape(client.get(url, headers=sign_in(town["community_official"])), 403)
    assert_error_shape(client.get(url, headers=sign_in(town["resident"])), 403)


# ---- first secretaries ------------------------------------------------------------------------------------------


def _assign(client, town, headers, **body):
    payload = {"started_on": beijing_date(utcnow()).isoformat(), "goals": "半年内成立业委会"} | body
    return client.post(f"/api/v1/compounds/{town['compound'].id}/first-secretary", json=payload, headers=headers)


def test_only_a_district_official_sends_a_first_secretary(client, town, sign_in, make_user):
    person = make_user()
    for who in ("street_official", "community_official", "committee"):
        assert_error_shape(_assign(client, town, sign_in(town[who]), user_id=person.id), 403)
    assert_error_shape(_assign(client, town, sign_in(town["resident"]), user_id=person.id), 403)

    sent = _assign(client, town, sign_in(town["district_official"]), user_id=person.id)

    assert sent.status_code == 201, sent.json
    assert sent.json["first_secretary"]["user_id"] == person.id
    assert db.session.get(Compound, town["compound"].id).first_secretary_name == person.display_name
    assert_error_shape(_assign(client, town, sign_in(town["district_official"]), user_id=person.id), 409)


def test_a_first_secretary_found_by_phone_reviews_topics_as_a_party_secretary(client, town, sign_in, make_user):
    district = sign_in(town["district_official"])
    client.put(gov_url(town["compound"]), json={"party_org_form": "single"}, headers=district)
    person = make_user(phone="13900001111")
    assert _assign(client, town, district, phone="139 0000 1111", name="李第一").status_code == 201
    topic = client.post(f"/api/v1/compounds/{town['compound'].id}/topics", headers=sign_in(town["committee"]),
                        json={"title": "更换电梯", "body": "电梯使用已满二十年", "raise": True})
    assert topic.status_code == 201, topic.json

    declined = client.post(f"/api/v1/topics/{topic.json['id']}/review", headers=sign_in(person),
                           json={"decision": "decline", "reason": "不属于业主自治事项"})

    assert declined.status_code == 200, declined.json
    assert declined.json["step"] == "declined"


def test_ending_removes_the_party_secretary_role_and_keeps_the_logs(client, town, sign_in, make_user):
    district = sign_in(town["district_official"])
    person = make_user()
    assignment_id = _assign(client, town, district, user_id=person.id).json["first_secretary"]["id"]
    mine = sign_in(person)
    logs_url = f"/api/v1/first-secretaries/{assignment_id}/logs"
    assert client.put(logs_url, json={"body": "走访了 30 户"}, headers=mine).status_code == 200
    corrected = client.put(logs_url, json={"body": "走访了 32 户"}, headers=mine)
    assert [(i["body"], i["editable"]) for i in corrected.json["items"]] == [("走访了 32 户", True)]
    # Officials above read it; the committee and others may not write it.
    for who in ("community_official", "street_official", "district_official"):
        assert client.get(logs_url, headers=sign_in(town[who])).json["items"][0]["body"] == "走访了 32 户"
    assert_error_shape(client.get(logs_url, headers=sign_in(town["committee"])), 403)
    assert_error_shape(client.put(logs_url, json={"body": "x"}, headers=sign_in(town["street_official"])), 403)
    month = beijing_date(utcnow()).isoformat()
    area_logs = client.get(f"/api/v1/areas/{town['street'].id}/first-secretary-logs?month={month}",
                           headers=sign_in(town["street_official"])).json["items"]
    assert [(i["compound_id"], i["log"]) for i in area_logs] == [(town["compound"].id, "走访了 32 户")]

    ended = client.delete(f"/api/v1/compounds/{town['compound'].id}/first-secretary", headers=district)

    assert ended.status_code == 200 and ended.json["first_secretary"] is None
    assert db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.user_id == person.id, Membership.role == Role.PARTY_SECRETARY)) == 0
    assert db.session.get(Compound, town["compound"].id).first_secretary_name == ""
    assert client.get(logs_url, headers=mine).json["items"][0]["body"] == "走访了 32 户"
    assert_error_shape(client.put(logs_url, json={"body": "x"}, headers=mine), 409)


def test_history_rows_are_appended_never_changed(client, town, sign_in):
    headers = sign_in(town["district_official"])
    for form in ("single", "joint", "grid"):
        client.put(gov_url(town["compound"]), json={"party_org_form": form}, headers=headers)
    forms = db.session.scalars(select(GovernanceRecord.party_org_form).where(
        GovernanceRecord.compound_id == town["compound"].id).order_by(GovernanceRecord.id)).all()
    assert forms == [PartyOrgForm.SINGLE, PartyOrgForm.JOINT, PartyOrgForm.GRID]


def test_the_months_report_carries_the_first_secretarys_log(client, town, sign_in, make_user):
    person = make_user()
    district = sign_in(town["district_official"])
    assignment_id = _assign(client, town, district, user_id=person.id).json["first_secretary"]["id"]
    client.put(f"/api/v1/first-secretaries/{assignment_id}/logs", json={"body": "走访了 30 户，成立楼栋议事会"},
               headers=sign_in(person))
    today = beijing_date(utcnow())
    first_of_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)

    with time_machine.travel(datetime.combine(first_of_next, time(1, 10), SHANGHAI).astimezone(UTC)):
        report = db.session.get(Report, reports.periodic_report_now(town["street"].id, ReportKind.MONTHLY,
                                                                    first_of_next))

    assert [(line["compound_id"], line["month"], line["text"]) for line in report.figures["first_secretary_logs"]] == [
        (town["compound"].id, f"{today.year}年{today.month}月", "走访了 30 户，成立楼栋议事会")]
