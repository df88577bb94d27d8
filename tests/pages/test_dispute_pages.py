"""Dispute mediation (矛盾纠纷调解) pages without JavaScript: an official opens a case through the form (refusals beside
their fields), adds a step, records the outcome with an agreement photo; the resident party reads it from 我的调解,
a neighbour and staff get the error page, the area's list shows it to the street."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples


@pytest.fixture
def world(area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compound = make_compound(name="金沙苑小区", area=community, buildings=1, households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    return {
        "compound": compound, "homes": homes, "street": street,
        "official": make_user(Role.OFFICIAL, area=community),
        "street_official": make_user(Role.OFFICIAL, area=street),
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "neighbour": make_user(Role.OWNER, compound, household=homes[1]),
        "staff": make_user(Role.STAFF, compound),
    }


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_official_runs_a_case_through_the_pages_and_the_party_reads_it(world, phone):
    compound = world["compound"]
    official = phone(world["official"])
    listing = official.get(f"/h5/c/{compound.code}/disputes")
    assert listing.status_code == 200 and 'data-action="open"' in text(listing)
    form = {"csrf_token": official.csrf, "title": "楼上漏水纠纷", "kind": "neighbour", "summary": "卫生间漏水",
            "party_kind_0": "owner", "party_household_0": str(world["homes"][0].id),
            "party_kind_1": "company", "party_name_1": ""}
    refused = official.post(f"/h5/c/{compound.code}/disputes/new", data=form)
    assert refused.status_code == 422 and "请填写当事人名称或选择住户" in text(refused)
    assert 'value="楼上漏水纠纷"' in text(refused)
    created = official.post(f"/h5/c/{compound.code}/disputes/new", data=form | {"party_name_1": "阳光物业"})
    assert created.status_code == 302
    url = created.headers["Location"]
    case = official.get(url)
    assert "调解中" in text(case) and 'id="step-form"' in text(case) and "阳光物业" in text(case)
    stepped = official.post(f"{url}/steps", data={"csrf_token": official.csrf,
                                                 "happened_on": beijing_date(utcnow()).isoformat(),
                                                 "note": "双方到社区面谈"})
    assert stepped.status_code == 302
    settled = official.post(f"{url}/outcome", data={"csrf_token": official.csrf, "outcome": "settled",
                                                   "agreement": samples.camera_jpeg().upload()},
                            content_type="multipart/form-data")
    assert settled.status_code == 302
    after = text(official.get(url))
    assert "调解成功" in after and 'id="step-form"' not in after and 'id="dispute-agreement"' in after
    refused_step = official.post(f"{url}/steps", data={"csrf_token": official.csrf,
                                                      "happened_on": beijing_date(utcnow()).isoformat(),
                                                      "note": "再谈"})
    assert refused_step.status_code == 409 and "不能再添加记录" in text(refused_step)

    resident = phone(world["owner"])
    mine = text(resident.get("/h5/disputes/mine"))
    assert "楼上漏水纠纷" in mine
    seen = resident.get(url)
    assert seen.status_code == 200 and "双方到社区面谈" in text(seen) and 'id="step-form"' not in text(seen)
    assert resident.get(f"{url}/agreement").mimetype == "image/jpeg"
    assert 'id="my-disputes-link"' in text(resident.get("/h5/inbox"))

    for other in ("neighbour", "staff"):
        assert phone(world[other]).get(url).status_code == 404
    area = phone(world["street_official"]).get(f"/h5/areas/{world['street'].id}/disputes?status=settled")
    assert area.status_code == 200 and "楼上漏水纠纷" in text(area)
    assert "暂无调解案件" in text(phone(world["street_official"]).get(
        f"/h5/areas/{world['street'].id}/disputes?status=open"))


def test_the_pages_refuse_those_who_may_not_see_them(world, phone, make_user, make_compound):
    code = world["compound"].code
    staff = phone(world["staff"])
    assert staff.get(f"/h5/c/{code}/disputes").status_code == 403
    assert staff.get(f"/h5/c/{code}/disputes/new").status_code == 403
    assert phone(world["owner"]).get(f"/h5/c/{code}/disputes/new").status_code == 403
    stranger = phone(make_user(Role.OFFICIAL, area=make_compound().area))
    assert stranger.get(f"/h5/c/{code}/disputes").status_code == 404
    assert stranger.get(f"/h5/areas/{world['street'].id}/disputes").status_code == 404
    listing = phone(world["owner"]).get(f"/h5/c/{code}/disputes")
    assert listing.status_code == 200 and 'data-action="open"' not in text(listing)
    assert phone(world["owner"]).get("/h5/disputes/mine").status_code == 200
