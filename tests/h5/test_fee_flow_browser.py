"""Property fees in a real browser on a 375 px WeChat phone: a resident sees this month's bill with the 先买后补
subsidy month by month, pays through the sandbox and gets the electronic receipt; a staff member records a cash
payment for another household at the desk; the committee's collection rate moves with each payment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.domain.fees import BillingCycle, period_start_for
from backend.domain.roles import Role
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.pages import SHANGHAI
from backend.shared.clock import utcnow
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = [pytest.mark.live, pytest.mark.calendar]



def sign_in_here(page: Page, username: str) -> None:
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()


def test_a_resident_pays_by_the_sandbox_staff_take_cash_and_the_collection_rate_moves(
    live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=2, households_per_building=2)
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="fee-owner")
    make_user(role=Role.STAFF, compound=compound, username="fee-staff")
    make_user(role=Role.COMMITTEE, compound=compound, username="fee-committee")
    make_user(role=Role.OFFICIAL, area=area_tree[2], username="fee-official")
    # This month's bills at ¥1.50/m²; the street's subsidy began six months ago, so this month is at 50%.
    this_month = period_start_for(utcnow().astimezone(SHANGHAI).date(), BillingCycle.MONTHLY)
    make_policy(area_id=area_tree[2].id, name="炳草岗街道物业费过渡期补贴", period_start=add_months(this_month, -6))
    make_schedule(compound, effective_from=this_month, due_day=28)
    bills = issue_bills_for(compound, this_month)
    code, month_label = compound.code, f"{this_month.year}年{this_month.month}月"
    first_bill, second_bill = bills[0].id, bills[1].id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    # The resident signs in and finds 待缴 1 on the compound's 物业缴费 tile.
    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/c/{code}/bills")
    sign_in_here(resident, "fee-owner")
    resident.goto(f"{live_server}/h5/c/{code}")
    expect(resident.locator("#unpaid-bills")).to_have_text("待缴 1")
    resident.locator("#fees-link").click()
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}/bills")

    # 物业费 ¥121.88 − 补贴 ¥60.94 (50% of this month, an estimate until paid) = 应缴 ¥60.94.
    bill = resident.locator(f"#bill-{first_bill}")
    expect(bill.locator(".ll-fee-bill__period")).to_have_text(month_label)
    expect(bill.locator(".ll-fee-amount")).to_have_text("¥121.88")
    expect(bill.locator(".ll-fee-subsidy")).to_have_text("−¥60.94")
    expect(bill.locator(".ll-fee-share")).to_have_text("¥60.94")
    expect(bill.locator(".ll-fee-months caption")).to_contain_text("预计，以缴费时为准")
    expect(bill.locator(".ll-fee-month td")).to_have_text([month_label, "¥121.88", "50%", "¥60.94"])
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-bills.png"), full_page=True)
    # 大字模式 (适老化): the month-by-month table still fits the screen.
    resident.locator("#large-text-toggle").click()
    expect(resident.locator("body")).to_have_class(re.compile("large-text"))
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-bills-large-text.png"), full_page=True)
    resident.locator("#large-text-toggle").click()
    expect(resident.locator("body")).not_to_have_class(re.compile("large-text"))

    # Paying: the bill, the sandbox's order page, the receipt.
    bill.get_by_role("link", name="查看并缴费").click()
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}/bills/{first_bill}")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-bill-detail.png"), full_page=True)
    resident.locator("#pay-button").click()
    expect(resident.locator("h1")).to_have_text("确认缴费")
    expect(resident.locator("#order-amount")).to_have_text("¥60.94")
    expect(resident.locator("#order .ll-fee-subsidy")).to_have_text("−¥60.94")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-pay-sandbox.png"), full_page=True)
    resident.get_by_role("button", name="确认支付（模拟）").click()

    expect(resident).to_have_url(re.compile(rf"{live_server}/h5/c/{code}/receipts/\d+$"))
    expect(resident.locator(".ll-flash")).to_have_text("缴费成功")
    expect(resident.locator("#receipt-no")).to_have_text(re.compile(r"^R\d{8}[0-9A-F]{10}$"))
    expect(resident.locator("#receipt-household")).to_have_text("1栋1单元101室")
    expect(resident.locator("#receipt-period")).to_have_text(month_label)
    expect(resident.locator("#receipt-bill")).to_have_text("¥121.88")
    expect(resident.locator("#receipt-subsidy")).to_have_text("¥60.94")
    expect(resident.locator("#receipt-paid")).to_have_text("¥60.94")
    expect(resident.locator("#receipt-method")).to_have_text("模拟支付")
    expect(resident.locator("#receipt-time")).to_contain_text("（北京时间）")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "fee-receipt.png"), full_page=True)

    resident.goto(f"{live_server}/h5/c/{code}/bills")
    expect(bill.locator(".ll-fee-status")).to_have_text("已缴")
    expect(bill.locator(".ll-fee-months caption")).not_to_contain_text("预计")
    resident.goto(f"{live_server}/h5/c/{code}")
    expect(resident.locator("#unpaid-bills")).to_have_count(0)

    # The committee's collection rate: one household of four has paid.
    committee = phone().new_page()
    committee.goto(f"{live_server}/h5/c/{code}/fees/collection")
    sign_in_here(committee, "fee-committee")
    expect(committee).to_have_url(f"{live_server}/h5/c/{code}/fees/collection")
    period = committee.locator(f"[data-period='{this_month.isoformat()[:7]}']")
    expect(period.locator("[data-rate=households]")).to_have_text("25%")
    expect(period).to_contain_text("已缴 1 / 应缴 4 户")

    # Staff take cash for the neighbour at the desk: building, unit, room, then the paper receipt's number.
    staff = phone().new_page()
    staff.goto(f"{live_server}/h5/c/{code}/fees/desk")
    sign_in_here(staff, "fee-staff")
    expect(staff.locator("h1")).to_have_text("收费台")
    search = staff.locator("#household-search")
    search.locator("select[name=building_id]").select_option(label="1栋")
    search.locator("input[name=unit]").fill("1")
    search.locator("input[name=room]").fill("201")
    search.get_by_role("button", name="查找房屋").click()
    expect(staff.locator("#desk-household")).to_contain_text("1栋1单元201室")
    desk_bill = staff.locator(f"#desk-bill-{second_bill}")
    # ¥123.75 − 50% (¥61.88, rounded half-up) = ¥61.87, prefilled.
    expect(desk_bill.locator("input[name=amount]")).to_have_value("61.87")
    expect(desk_bill.locator("input[name=method][value=cash]")).to_be_checked()
    desk_bill.locator("input[name=offline_receipt_no]").fill("0012345")
    assert_fits_phone(staff)
    staff.screenshot(path=str(artifacts / "fee-desk.png"), full_page=True)
    desk_bill.get_by_role("button", name="登记收款").click()
    expect(staff).to_have_url(re.compile(rf"{live_server}/h5/c/{code}/receipts/\d+$"))
    expect(staff.locator(".ll-flash")).to_have_text("已登记现金收款¥61.87")
    expect(staff.locator("#receipt-method")).to_have_text("现金")
    expect(staff.locator("#receipt-paid")).to_have_text("¥61.87")
    expect(staff.locator("#receipt")).to_contain_text("0012345")
    staff.screenshot(path=str(artifacts / "fee-desk-receipt.png"), full_page=True)

    # The collection rate has moved: two of four households, ¥245.63 of ¥491.26 billed.
    committee.reload()
    expect(period.locator("[data-rate=households]")).to_have_text("50%")
    expect(period.locator("[data-rate=fen]")).to_have_text("50%")
    expect(period).to_contain_text("已缴 2 / 应缴 4 户")
    expect(period).to_contain_text("已缴 ¥245.63 / 应收 ¥491.26")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "fee-collection.png"), full_page=True)

    # The committee's other fee pages and the street's settlement fit the phone too.
    for name, path, heading in (
        ("fee-schedules", "fees/schedules", "收费标准"),
        ("fee-policies", "fees/policies", "物业费补贴政策"),
        ("fee-arrears", "fees/arrears", "欠费清单"),
    ):
        committee.goto(f"{live_server}/h5/c/{code}/{path}")
        expect(committee.locator("h1")).to_have_text(heading)
        assert_fits_phone(committee)
        committee.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    # The two unpaid bills are due on the 28th: arrears only on the month's last days.
    overdue = utcnow().astimezone(SHANGHAI).date() > this_month.replace(day=28)
    expect(committee.locator("#arrears-count")).to_contain_text("共 2 户欠费" if overdue else "共 0 户欠费")

    # The online payment's follow-up (its subsidy granted), as the worker runs it a moment after the payment.
    assert follow_up_payments() == 1
    db.session.close()
    official = phone().new_page()
    official.goto(f"{live_server}/h5/settlement")
    sign_in_here(official, "fee-official")
    expect(official.locator("#settlement-rows")).to_contain_text("金沙苑小区")
    # The subsidy of both payments: ¥60.94 + ¥61.88.
    expect(official.locator("#settlement-total")).to_have_text("¥122.82")
    assert_fits_phone(official)
    official.screenshot(path=str(artifacts / "fee-settlement.png"), full_page=True)
