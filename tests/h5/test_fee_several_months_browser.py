"""Paying several months at once in a real browser on a 375 px WeChat phone: a resident with three unpaid months
presses 全部缴清, pays one order through the sandbox and gets one receipt listing the three months, the payee and
the payer; the household's payment history links to it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.domain.fees import BillingCycle, period_start_for
from backend.domain.roles import Role
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.models import PropertyCompany
from backend.pages import SHANGHAI
from backend.shared.clock import utcnow
from tests.fees_support import issue_bills_for, make_policy, make_schedule
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = [pytest.mark.live, pytest.mark.calendar]


def sign_in_here(page: Page, username: str) -> None:
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()


def test_a_resident_pays_three_months_in_one_payment_and_gets_one_receipt_listing_them(
    live_server, make_compound, area_tree, make_user, phone, artifacts
):
    company = PropertyCompany(name="攀枝花金沙物业服务有限公司", credit_code="91510400MA6XYZ5678")
    db.session.add(company)
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=1, households_per_building=2)
    compound.property_company_id = company.id
    owner = make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="months-owner")
    owner.display_name = "王建国"
    # Three months at ¥1.50/m² (81.25 m²: ¥121.88 each); the street's subsidy is at 50% for all three.
    this_month = period_start_for(utcnow().astimezone(SHANGHAI).date(), BillingCycle.MONTHLY)
    first_month = add_months(this_month, -2)
    make_policy(area_id=area_tree[2].id, name="炳草岗街道物业费过渡期补贴", period_start=add_months(this_month, -6))
    make_schedule(compound, effective_from=first_month, due_day=28)
    for month in range(3):
        issue_bills_for(compound, add_months(first_month, month))
    code = compound.code
    labels = [f"{m.year}年{m.month}月" for m in (add_months(first_month, month) for month in range(3))]
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/c/{code}/bills")
    sign_in_here(resident, "months-owner")
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}/bills")

    # 3 × (¥121.88 − ¥60.94) = ¥182.82, in one button.
    pay_all = resident.get_by_role("button", name=re.compile("全部缴清"))
    expect(pay_all).to_have_text("全部缴清 ¥182.82（3 个月）")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-months-bills.png"), full_page=True)
    pay_all.click()

    expect(resident.locator("h1")).to_have_text("确认缴费")
    expect(resident.locator("#order-lines tbody tr")).to_have_count(3)
    expect(resident.locator("#order-lines tbody tr td:first-child")).to_have_text(labels)
    expect(resident.locator("#order-amount")).to_have_text("¥182.82")
    expect(resident.locator("header")).to_contain_text("退出")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-months-pay.png"), full_page=True)
    resident.get_by_role("button", name="确认支付（模拟）").click()

    expect(resident).to_have_url(re.compile(rf"{live_server}/h5/c/{code}/receipts/\d+$"))
    expect(resident.locator(".ll-flash")).to_have_text("缴费成功")
    expect(resident.locator("#receipt-no")).to_have_text(re.compile(r"^R\d{8}[0-9A-F]{10}$"))
    expect(resident.locator("#receipt-lines tbody tr")).to_have_count(3)
    expect(resident.locator("#receipt-lines tbody tr td:first-child")).to_have_text(labels)
    expect(resident.locator("#receipt-payee")).to_have_text("攀枝花金沙物业服务有限公司")
    expect(resident.locator("#receipt-payer")).to_have_text("1栋1单元101室 王**")
    expect(resident.locator("#receipt-bill")).to_have_text("¥365.64")
    expect(resident.locator("#receipt-subsidy")).to_have_text("¥182.82")
    expect(resident.locator("#receipt-paid")).to_have_text("¥182.82")
    expect(resident.locator("#receipt-save-hint")).to_be_visible()
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-months-receipt.png"), full_page=True)

    # The history has the one receipt, which opens it again; no month is left to pay.
    resident.locator("#receipt-history-link").click()
    expect(resident.locator("h1")).to_have_text("缴费记录")
    expect(resident.locator("#history a")).to_have_count(1)
    expect(resident.locator("#history a")).to_contain_text("3 个账单")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-months-history.png"), full_page=True)
    resident.locator("#history a").click()
    expect(resident.locator("#receipt-lines tbody tr")).to_have_count(3)
    resident.goto(f"{live_server}/h5/c/{code}/bills")
    expect(resident.get_by_role("button", name=re.compile("全部缴清"))).to_have_count(0)
    expect(resident.locator(".ll-fee-status")).to_have_text(["已缴", "已缴", "已缴"])
