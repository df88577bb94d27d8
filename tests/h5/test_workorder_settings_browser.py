"""The manager sets the work-order (报事报修) categories' time limits in a real browser on a 375 px WeChat phone:
from the board to the settings page, one time changed and saved, the new value shown and in force."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.services import workorders as workorder_service
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.live



def sign_in(page: Page, live_server: str, username: str, next_path: str) -> None:
    page.goto(f"{live_server}/h5/login?next={next_path}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}{next_path}")


def test_manager_shortens_the_lift_urgent_accept_time(live_server, make_compound, area_tree, make_user, phone,
                                                       artifacts):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=2, households_per_building=4)
    make_user(role=Role.MANAGER, compound=compound, username="wo-manager")
    code, compound_id = compound.code, compound.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    page = phone().new_page()
    sign_in(page, live_server, "wo-manager", f"/h5/c/{code}/work-orders")
    expect(page.locator("h1")).to_have_text("报修工单")
    page.locator("#categories-link").click()
    expect(page).to_have_url(f"{live_server}/h5/c/{code}/work-orders/categories")
    expect(page.locator("h1")).to_have_text("报修类别和时限")
    expect(page.locator("#categories-explain")).to_contain_text("已提交的工单保持原来的时限")
    assert_fits_phone(page)

    # Every deadline is a number and its unit beside it: 30 分钟 and 24 小时 side by side, one way of writing.
    lift = page.locator('fieldset[data-category="电梯"]')
    urgent_accept = lift.get_by_label("电梯 紧急 受理", exact=True)
    expect(urgent_accept).to_have_value("30")
    expect(lift.get_by_label("电梯 紧急 受理 单位")).to_have_value("minutes")
    expect(lift.get_by_label("电梯 紧急 办结", exact=True)).to_have_value("24")
    expect(lift.get_by_label("电梯 紧急 办结 单位")).to_have_value("hours")
    urgent_accept.fill("15")
    # The normal close time typed in minutes rather than hours: 2 days and a half hour.
    lift.get_by_label("电梯 一般 办结", exact=True).fill("2910")
    lift.get_by_label("电梯 一般 办结 单位").select_option(label="分钟")
    page.locator("#save-categories").click()

    expect(page).to_have_url(f"{live_server}/h5/c/{code}/work-orders/categories")
    expect(page.locator(".ll-flash")).to_have_text("已保存报修类别和时限")
    lift = page.locator('fieldset[data-category="电梯"]')
    expect(lift.get_by_label("电梯 紧急 受理", exact=True)).to_have_value("15")
    expect(lift.get_by_label("电梯 一般 受理", exact=True)).to_have_value("4")
    expect(lift.get_by_label("电梯 一般 受理 单位")).to_have_value("hours")
    expect(lift.get_by_label("电梯 一般 办结", exact=True)).to_have_value("2910")
    expect(lift.locator("[data-summary]")).to_have_text("现行时限：一般 4小时内受理、48小时30分内办结；紧急 15分钟内受理、24小时内办结")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "workorder-categories.png"), full_page=True)

    # A typo is refused on the page in Chinese, beside the cell, and the page still fits the phone.
    page.locator('fieldset[data-category="停车"]').get_by_label("停车 一般 办结", exact=True).fill("9999")
    page.locator("#save-categories").click()
    expect(page.locator("#problems")).to_contain_text("一般报修的办结时限请填写1小时到720小时之间")
    parking = page.locator('fieldset[data-category="停车"]')
    expect(parking.locator(".ll-wo-sla__error")).to_have_text("一般报修的办结时限请填写1小时到720小时之间")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "workorder-categories-error.png"), full_page=True)

    db.session.close()
    saved = {item.name: item for item in workorder_service.categories(compound_id)}
    assert saved["电梯"].urgent.accept == timedelta(minutes=15)
    assert saved["电梯"].normal.close == timedelta(minutes=2910)
    assert saved["停车"].normal.close == timedelta(hours=72)
