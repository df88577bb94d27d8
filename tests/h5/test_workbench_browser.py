"""A staff member signs in on a 375 px WeChat phone, lands on the compound home with 我的待办 on top, and accepts
an urgent, overdue burst main from it in one tap, ahead of a newer routine order; the order page then offers the
service phone and the reporter's masked number."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.domain.workorders import Urgency
from backend.extensions import db
from backend.services import workorders as workorder_service
from backend.shared.clock import utcnow
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live


def sign_in(page: Page, live_server: str, username: str, next_path: str) -> None:
    page.goto(f"{live_server}/h5/login?next={next_path}")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}{next_path}")


def test_staff_accept_an_urgent_order_from_the_workbench(live_server, make_compound, area_tree, make_user, phone,
                                                         artifacts):
    compound = make_compound(name="金沙苑小区", area=area_tree[3])
    compound.service_phone = "0812-3334567"
    resident = make_user(role=Role.OWNER, compound=compound, household=first_household(compound),
                         phone="13812341234")
    make_user(role=Role.STAFF, compound=compound, username="wb-staff")
    with time_machine.travel(utcnow() - timedelta(hours=2)):
        burst = workorder_service.submit_order(
            user_id=resident.id, compound_id=compound.id, category="水电维修", description="总水管爆裂",
            urgency=Urgency.URGENT, location_text="2栋楼下").id
    routine = workorder_service.submit_order(
        user_id=resident.id, compound_id=compound.id, category="绿化", description="树枝挡路",
        urgency=Urgency.NORMAL, location_text="东门").id
    code = compound.code
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    staff = phone().new_page()
    sign_in(staff, live_server, "wb-staff", f"/h5/c/{code}")
    bench = staff.locator("#workbench")
    expect(bench).to_contain_text("我的待办")
    expect(bench.locator("#wb-to-accept")).to_have_text("2")
    expect(bench.locator("#wb-overdue")).to_have_text("1")
    rows = bench.locator("[data-order]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-order", str(burst))
    expect(rows.nth(1)).to_have_attribute("data-order", str(routine))
    expect(rows.first).to_contain_text("紧急")
    expect(rows.first).to_contain_text("已超时")
    expect(staff.locator("#call-buttons a[href='tel:08123334567']")).to_be_visible()
    assert_fits_phone(staff)
    staff.screenshot(path=str(artifacts / "workbench-home.png"), full_page=True)

    rows.first.get_by_role("button", name="受理").click()
    expect(staff).to_have_url(re.compile(rf"/h5/c/{code}(#workbench)?$"))
    expect(staff.locator("body")).to_contain_text(f"已受理：水电维修 #{burst}")
    expect(bench.locator("#wb-to-accept")).to_have_text("1")
    expect(bench.locator("#wb-in-progress")).to_have_text("1")
    expect(bench.locator(f"[data-order='{burst}'] button")).to_have_count(0)
    assert_fits_phone(staff)

    bench.locator(f"[data-order='{burst}'] a").first.click()
    expect(staff.locator("#reporter-phone")).to_contain_text("138****1234")
    staff.get_by_role("button", name="显示电话").click()
    expect(staff.locator("#reporter-tel")).to_have_attribute("href", "tel:13812341234")
    assert_fits_phone(staff)
