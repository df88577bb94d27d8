"""Problem compounds in a real browser: a street official signs in on a 375 px WeChat phone, opens 问题小区 from the
area overview, sees the flagged compound with its reason and since when, and opens its history; the same pages fit
a desktop window."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.services import flags as flag_service
from tests.flags_support import add_open_disputes
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here

pytestmark = pytest.mark.live


def test_a_street_official_sees_a_flagged_compound_with_its_reason(
    app, live_server, make_compound, area_tree, make_user, phone, chromium, artifacts
):
    city, district, street, community = area_tree
    compound = make_compound(name="矛盾多发小区", area=community, buildings=1, households_per_building=2)
    add_open_disputes(compound, 3)
    make_user(role=Role.OFFICIAL, area=street, username="fl-street")
    compound_id, street_id = compound.id, street.id
    flag_service.sweep([compound_id])
    db.session.commit()
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/")
    sign_in_here(page, "fl-street")
    page.locator("#flags-link").click()
    expect(page).to_have_url(f"{live_server}/h5/flags/areas/{street_id}")
    group = page.locator(f".ll-flag-group[data-compound='{compound_id}']")
    expect(page.locator(f".weui-cells__title[data-compound='{compound_id}']")).to_have_text("矛盾多发小区")
    expect(group.locator("[data-rule=open_disputes] .ll-flag__reason")).to_have_text("调解中的矛盾纠纷 3 件，超过 2 件")
    expect(group.locator("[data-rule=open_disputes]")).to_contain_text("起")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "flags-area.png"), full_page=True)

    page.get_by_role("link", name="矛盾多发小区").click()
    expect(page.locator("h1")).to_have_text("矛盾多发小区")
    expect(page.locator("#active-flags")).to_contain_text("矛盾纠纷较多")
    expect(page.locator("#flag-history")).to_contain_text("无")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "flags-compound.png"), full_page=True)

    desktop = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        wide = desktop.new_page()
        wide.context.add_cookies(page.context.cookies())
        wide.goto(f"{live_server}/h5/flags/areas/{street_id}")
        expect(wide.locator(".ll-flag__reason").first).to_be_visible()
        assert wide.evaluate("document.documentElement.scrollWidth") <= 1280
    finally:
        desktop.close()
