"""治理骨干 in a real browser on a 375 px WeChat phone: the party secretary enters a building head from the roster;
a resident puts themselves forward with 我要当志愿者 and the secretary confirms; the resident finds both on the
public roster."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.extensions import db
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live


def sign_in(page, live_server: str, username: str, code: str) -> None:
    page.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/h5/c/{code}")


def test_a_keeper_enters_a_building_head_and_a_resident_volunteers(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=2, households_per_building=2)
    make_user(Role.PARTY_SECRETARY, compound, username="secretary-browser")
    make_user(Role.OWNER, compound, household=first_household(compound), username="owner-browser")
    code = compound.code
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    keeper = phone().new_page()
    sign_in(keeper, live_server, "secretary-browser", code)
    keeper.locator("#backbones-link").click()
    expect(keeper.locator("h1")).to_have_text("治理骨干")
    keeper.locator("#add-backbone-link").click()
    form = keeper.locator("#backbone-form")
    form.locator("select[name=kind]").select_option(label="楼栋长")
    form.locator("input[name=name]").fill("张建国")
    form.locator("select[name=building_id]").select_option(label="2栋")
    form.locator("input[name=skills]").fill("水电维修 调解")
    assert_fits_phone(keeper)
    keeper.screenshot(path=str(artifacts / "backbones-add.png"), full_page=True)
    form.locator("#backbone-submit").click()
    expect(keeper.locator(".ll-flash")).to_have_text("已登记：张建国")
    head = keeper.locator("[data-member]", has_text="张建国")
    expect(head).to_contain_text("2栋")
    expect(head).to_contain_text("特长：水电维修、调解")

    resident = phone().new_page()
    sign_in(resident, live_server, "owner-browser", code)
    resident.locator("#backbones-link").click()
    resident.locator("#volunteer-link").click()
    expect(resident.locator("h1")).to_have_text("我要当志愿者")
    volunteer = resident.locator("#volunteer-form")
    volunteer.locator("input[name=name]").fill("刘芳")
    volunteer.locator("input[name=skills]").fill("理发")
    volunteer.locator("input[name=note]").fill("周末有空")
    assert_fits_phone(resident)
    volunteer.locator("#volunteer-submit").click()
    expect(resident.locator(".ll-flash")).to_have_text("申请已提交，请等待小区党组织确认")
    expect(resident.locator("#my-entries")).to_contain_text("待确认")
    resident.screenshot(path=str(artifacts / "backbones-volunteer.png"), full_page=True)

    keeper.reload()
    expect(keeper.locator("#pending-count")).to_have_text("1")
    keeper.locator("[data-member]", has_text="刘芳").get_by_role("button", name="确认").click()
    expect(keeper.locator(".ll-flash")).to_have_text("已确认")
    assert_fits_phone(keeper)
    keeper.screenshot(path=str(artifacts / "backbones-roster-keeper.png"), full_page=True)

    resident.goto(f"{live_server}/h5/c/{code}/backbones")
    roster = resident.locator("#roster")
    expect(roster).to_contain_text("楼栋长（1）")
    expect(roster).to_contain_text("张建国")
    expect(roster).to_contain_text("志愿者（1）")
    expect(roster).to_contain_text("刘芳")
    expect(roster.locator("[data-action]")).to_have_count(0)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "backbones-roster.png"), full_page=True)
