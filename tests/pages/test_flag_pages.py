"""The problem-compound pages: an official reads the area's flagged compounds (grouped, with reasons and since), a
compound's history, re-judges one, and a district official sets thresholds typed as percents; refused input comes
back as the page with its reason; another street's compounds stay hidden."""
from __future__ import annotations

import html

import pytest

from backend.domain.compounds import GovernanceBody
from backend.extensions import db
from backend.models import Compound, FlagThreshold
from tests.api.test_flags import world as world  # noqa: PLC0414  (the fixture)


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_street_official_reads_the_problem_compounds(world, phone):
    street = phone(world.street_official)
    home = street.get("/h5/flags")
    assert home.status_code == 302 and home.location.endswith(f"/h5/flags/areas/{world.street.id}")
    page = text(street.get(f"/h5/flags/areas/{world.street.id}"))
    assert "问题小区甲" in page and "调解中的矛盾纠纷 3 件，超过 2 件" in page and "未成立自治组织" in page
    assert "平安小区" not in page and "仁和小区" not in page
    only = text(street.get(f"/h5/flags/areas/{world.street.id}?rule=open_disputes"))
    assert "调解中的矛盾纠纷" in only and "未成立业主大会" not in only
    bad = street.get(f"/h5/flags/areas/{world.street.id}?rule=nope")
    assert bad.status_code == 422 and "没有这种问题类型" in text(bad)


def test_a_compound_history_and_a_re_judgement(world, phone):
    street = phone(world.street_official)
    db.session.get(Compound, world.flagged.id).governance_body = GovernanceBody.OWNERS_COMMITTEE
    db.session.commit()
    swept = street.post(f"/h5/flags/compounds/{world.flagged.id}/sweep", data={"csrf_token": street.csrf})
    assert swept.status_code == 302
    page = text(street.get(swept.location))
    assert "已重新研判：新增 0 项，解除 1 项" in page
    active, history = page.split('id="flag-history"')
    assert "矛盾纠纷较多" in active and "未成立自治组织" in history and "解除" in history


def test_other_streets_and_residents_see_nothing(world, phone):
    assert phone(world.other_official).get(f"/h5/flags/areas/{world.street.id}").status_code == 404
    assert phone(world.other_official).get(f"/h5/flags/compounds/{world.flagged.id}").status_code == 404
    assert phone(world.resident).get(f"/h5/flags/compounds/{world.flagged.id}").status_code == 403


def test_a_district_official_sets_thresholds_as_percents(world, phone):
    district = phone(world.district_official)
    page = text(district.get(f"/h5/flags/areas/{world.district.id}/thresholds"))
    assert "使用系统默认标准" in page and 'value="60"' in page
    form = {"csrf_token": district.csrf, "collection_min_bp": "59.5", "overdue_orders_max": "3",
            "satisfaction_min_bp": "70", "low_stars": "1", "open_disputes_max": "4", "overdue_rectifications_max": "0"}
    saved = district.post(f"/h5/flags/areas/{world.district.id}/thresholds", data=form)
    assert saved.status_code == 302
    row = db.session.scalar(db.select(FlagThreshold).where(FlagThreshold.area_id == world.district.id))
    assert (row.collection_min_bp, row.satisfaction_min_bp, row.open_disputes_max) == (5950, 7000, 4)
    assert 'value="59.50"' in text(district.get(saved.location))
    refused = district.post(f"/h5/flags/areas/{world.district.id}/thresholds", data=form | {"low_stars": "9"})
    assert refused.status_code == 422 and "星级须为0–5" in text(refused)
    street = phone(world.street_official)
    read_only = text(street.get(f"/h5/flags/areas/{world.street.id}/thresholds"))
    assert f"现行标准来自{world.district.name}" in read_only and "由区县及以上住建部门设置" in read_only
