"""A street official signs in on a 375 px phone, lands on the home page, opens the street's dashboard (figures,
charts drawn by ECharts, tables scrolling inside their own box), drills down to the community and from the
compound table to the compound's page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.extensions import db
from backend.services import dashboard
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.live


def test_a_street_official_drills_down_to_a_compound(live_server, area_tree, make_area, make_compound, make_user,
                                                     phone, artifacts):
    _city, _district, street, community = area_tree
    other_community = make_area("第二社区", AreaLevel.COMMUNITY, street)
    jinsha = make_compound(name="金沙苑小区", area=community)
    make_compound(name="向阳小区", area=other_community)
    make_user(role=Role.OFFICIAL, area=street, username="dash-official")
    dashboard.refresh()
    code, street_id, community_id, street_name = jinsha.code, street.id, community.id, street.name
    db.session.commit()
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill("dash-official")
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    page.locator(f'#dashboard-links [data-area="{street_id}"]').click()
    expect(page).to_have_url(f"{live_server}/h5/areas/{street_id}/dashboard")
    expect(page.locator("#breadcrumbs")).to_contain_text(street_name)
    expect(page.locator("#refreshed")).to_contain_text("更新于")
    expect(page.locator("#compound-table tbody tr")).to_have_count(2)
    # ECharts drew the charts from the page's JSON (SVG renderer).
    expect(page.locator("#chart-models svg")).to_have_count(1)
    expect(page.locator("#chart-collection svg")).to_have_count(1)
    assert_fits_phone(page)
    page.screenshot(path=artifacts / "dashboard-street.png", full_page=True)

    page.locator(f'#children [data-area="{community_id}"] a').click()
    expect(page).to_have_url(f"{live_server}/h5/areas/{community_id}/dashboard")
    rows = page.locator("#compound-table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="金沙苑小区").click()
    expect(page).to_have_url(f"{live_server}/h5/c/{code}")
