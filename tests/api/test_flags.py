"""Problem compounds through the API (issue 16, item 3): an area's flags with reason and since (history with
active=false, one rule with rule=), a compound's flags, a sweep on demand, and the thresholds (district and up set
them). Scope: another street's official 404, residents and staff 403/404, strangers 401."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from backend.domain.compounds import AreaLevel, GovernanceBody
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Area, AuditEvent, Compound, User
from backend.services import flags as service
from tests.flags_support import add_open_disputes
from tests.support import assert_error_shape, first_household


@dataclass
class World:
    district: Area
    street: Area
    other_street: Area
    flagged: Compound  # no self-governance body, 3 open disputes
    calm: Compound  # an owners' committee, nothing wrong
    elsewhere: Compound  # another street's, no body
    district_official: User
    street_official: User
    other_official: User
    resident: User
    staff: User


@pytest.fixture
def world(built_once):
    return built_once(_build)


def _build(area_tree, make_area, make_compound, make_user) -> World:
    city, district, street, community = area_tree
    other_street = make_area("仁和街道", AreaLevel.STREET, district)
    flagged = make_compound("问题小区甲", area=community)
    calm = make_compound("平安小区", area=community)
    calm.governance_body = GovernanceBody.OWNERS_COMMITTEE
    elsewhere = make_compound("仁和小区", area=make_area("仁和社区", AreaLevel.COMMUNITY, other_street))
    db.session.commit()
    add_open_disputes(flagged, 3)
    service.sweep([flagged.id, calm.id, elsewhere.id])
    return World(
        district=district, street=street, other_street=other_street, flagged=flagged, calm=calm, elsewhere=elsewhere,
        district_official=make_user(Role.OFFICIAL, area=district), street_official=make_user(Role.OFFICIAL, area=street),
        other_official=make_user(Role.OFFICIAL, area=other_street),
        resident=make_user(Role.RESIDENT, compound=flagged, household=first_household(flagged)),
        staff=make_user(Role.STAFF, compound=flagged),
    )


def test_a_street_official_sees_its_flagged_compounds_with_reasons(client, sign_in, world):
    response = client.get(f"/api/v1/areas/{world.street.id}/flags", headers=sign_in(world.street_official))
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["total"], body["page"], body["page_size"]) == (2, 1, 20)
    assert {item["compound_id"] for item in body["items"]} == {world.flagged.id}
    reasons = {item["rule"]: item["reason"] for item in body["items"]}
    assert reasons["open_disputes"] == "调解中的矛盾纠纷 3 件，超过 2 件"
    assert reasons["no_self_governance"].startswith("未成立")
    assert all(item["active"] and item["raised_at"] and item["cleared_at"] is None for item in body["items"])


def test_a_district_official_sees_every_street_below(client, sign_in, world):
    body = client.get(f"/api/v1/areas/{world.district.id}/flags", headers=sign_in(world.district_official)).json
    assert {item["compound_id"] for item in body["items"]} == {world.flagged.id, world.elsewhere.id}


def test_one_rule_only(client, sign_in, world):
    body = client.get(f"/api/v1/areas/{world.district.id}/flags?rule=open_disputes",
                      headers=sign_in(world.district_official)).json
    assert [item["compound_id"] for item in body["items"]] == [world.flagged.id]


def test_cleared_flags_are_the_history(client, sign_in, world):
    db.session.get(Compound, world.flagged.id).governance_body = GovernanceBody.SELF_COMMITTEE
    db.session.commit()
    headers = sign_in(world.street_official)
    response = client.post(f"/api/v1/compounds/{world.flagged.id}/flags/sweep", headers=headers)
    assert response.status_code == 200, response.json
    assert (response.json["cleared"], response.json["raised"]) == (1, 0)
    history = client.get(f"/api/v1/areas/{world.street.id}/flags?active=false", headers=headers).json["items"]
    assert [item["rule"] for item in history] == ["no_self_governance"]
    assert history[0]["cleared_at"] is not None and history[0]["active"] is False
    mine = client.get(f"/api/v1/compounds/{world.flagged.id}/flags", headers=headers).json
    assert [item["rule"] for item in mine["active"]] == ["open_disputes"]
    assert [item["rule"] for item in mine["history"]] == ["no_self_governance"]
    again = client.post(f"/api/v1/compounds/{world.flagged.id}/flags/sweep", headers=headers).json
    assert (again["raised"], again["reworded"], again["cleared"]) == (0, 0, 0)


@pytest.mark.parametrize("path", ["/api/v1/areas/{street}/flags", "/api/v1/areas/{street}/flag-thresholds"])
def test_area_scope(client, sign_in, world, path):
    url = path.format(street=world.street.id)
    assert_error_shape(client.get(url, headers=sign_in(world.other_official)), 404)
    assert_error_shape(client.get(url, headers=sign_in(world.resident)), 403)
    assert_error_shape(client.get(url, headers=sign_in(world.staff)), 403)
    assert_error_shape(client.get(url), 401)
    assert_error_shape(client.get(path.format(street=2147483647), headers=sign_in(world.street_official)), 404)


@pytest.mark.parametrize(("method", "path"), [("GET", "/flags"), ("POST", "/flags/sweep")])
def test_compound_scope(client, sign_in, world, method, path):
    url = f"/api/v1/compounds/{world.flagged.id}{path}"
    assert_error_shape(client.open(url, method=method, headers=sign_in(world.other_official)), 404)
    assert_error_shape(client.open(url, method=method, headers=sign_in(world.resident)), 403)
    assert_error_shape(client.open(url, method=method, headers=sign_in(world.staff)), 403)
    assert_error_shape(client.open(url, method=method), 401)
    assert client.open(url, method=method, headers=sign_in(world.district_official)).status_code == 200


def test_thresholds_default_then_inherited(client, sign_in, world):
    headers = sign_in(world.street_official)
    body = client.get(f"/api/v1/areas/{world.street.id}/flag-thresholds", headers=headers).json
    assert (body["defaults"], body["inherited"], body["may_edit"]) == (True, False, False)
    assert (body["collection_min_bp"], body["overdue_orders_max"], body["open_disputes_max"]) == (6000, 5, 2)
    given = {"collection_min_bp": 5000, "overdue_orders_max": 3, "satisfaction_min_bp": 7000, "low_stars": 1,
             "open_disputes_max": 4, "overdue_rectifications_max": 2}
    response = client.put(f"/api/v1/areas/{world.district.id}/flag-thresholds", json=given,
                          headers=sign_in(world.district_official))
    assert response.status_code == 200, response.json
    assert db.session.query(AuditEvent).filter_by(action="flags.thresholds").count() == 1
    body = client.get(f"/api/v1/areas/{world.street.id}/flag-thresholds", headers=headers).json
    assert (body["inherited"], body["source_area_id"], body["open_disputes_max"]) == (True, world.district.id, 4)
    # The district's 4 disputes allowed: the compound's 3 no longer fire.
    swept = client.post(f"/api/v1/compounds/{world.flagged.id}/flags/sweep", headers=headers).json
    assert swept["cleared"] == 1


def test_a_street_official_may_not_set_thresholds(client, sign_in, world):
    given = {"collection_min_bp": 5000, "overdue_orders_max": 3, "satisfaction_min_bp": 7000, "low_stars": 1,
             "open_disputes_max": 4, "overdue_rectifications_max": 2}
    assert_error_shape(client.put(f"/api/v1/areas/{world.street.id}/flag-thresholds", json=given,
                                  headers=sign_in(world.street_official)), 403)
    assert_error_shape(client.put(f"/api/v1/areas/{world.street.id}/flag-thresholds", json=given,
                                  headers=sign_in(world.other_official)), 404)


@pytest.mark.parametrize("bad", [
    {"collection_min_bp": 10001}, {"low_stars": 6}, {"overdue_orders_max": -1}, {"open_disputes_max": 1.5},
    {"satisfaction_min_bp": "60%"},
])
def test_bad_thresholds_are_422(client, sign_in, world, bad):
    given = {"collection_min_bp": 5000, "overdue_orders_max": 3, "satisfaction_min_bp": 7000, "low_stars": 1,
             "open_disputes_max": 4, "overdue_rectifications_max": 2} | bad
    assert_error_shape(client.put(f"/api/v1/areas/{world.district.id}/flag-thresholds", json=given,
                                  headers=sign_in(world.district_official)), 422)


def test_an_unknown_rule_is_422(client, sign_in, world):
    assert_error_shape(client.get(f"/api/v1/areas/{world.street.id}/flags?rule=nope",
                                  headers=sign_in(world.street_official)), 422)
