"""The 公共账本 in a real browser on a 375 px WeChat phone: an owner reads the overview (balance, this month's chart
of where the money went and its table, the latest entries); a committee member opens last month's statement from
the desk, closes it with the bank's balance in yuan, and sees the difference in red until explained."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backend.domain.compounds import ManagementModel
from backend.domain.funds import Category
from backend.domain.roles import Role
from backend.extensions import db
from tests.fund_statements_support import month_text, months_ago, open_account, post, this_month
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.support import first_household

pytestmark = pytest.mark.live


def test_an_owner_reads_the_books_and_the_committee_closes_a_month(
    live_server, make_compound, make_user, phone, artifacts
):
    compound = make_compound(name="五十四街坊", model=ManagementModel.TRUST, buildings=1, households_per_building=2)
    start = months_ago(1)
    account = open_account(compound, start, opening_fen=500_000)
    post(account, start.replace(day=6), Category.PROPERTY_FEE, 120_000)
    post(account, start.replace(day=9), Category.REPAIR, 30_000)
    post(account, this_month(), Category.CLEANING, 8_800, voucher=True)
    post(account, this_month(), Category.GREENING, 4_200)
    make_user(Role.OWNER, compound, household=first_household(compound), username="fs-owner")
    make_user(Role.COMMITTEE, compound, username="fs-committee")
    compound_id, code, account_id, month = compound.id, compound.code, account.id, month_text(start)
    db.session.commit()
    db.session.close()

    owner = phone().new_page()
    owner.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(owner, "fs-owner")
    owner.locator("#funds-link").click()
    expect(owner).to_have_url(f"{live_server}/h5/compounds/{compound_id}/funds")
    expect(owner.locator("#fund-balance")).to_have_text("¥5,770.00")
    expect(owner.locator("#fund-expense")).to_have_text("¥130.00")
    expect(owner.locator("#chart-spending svg")).to_be_visible()
    expect(owner.locator("#this-month-table")).to_contain_text("保洁")
    expect(owner.locator("#latest-entries .voucher-link")).to_have_count(1)
    expect(owner.locator("#desk-link")).to_have_count(0)
    assert_fits_phone(owner)
    owner.screenshot(path=str(artifacts / "funds-overview-owner.png"), full_page=True)

    keeper = phone().new_page()
    keeper.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/funds")
    sign_in_here(keeper, "fs-committee")
    keeper.locator("#desk-link").click()
    keeper.locator(f"#months-to-close [data-month='{month}']").click()
    expect(keeper.locator("#statement-status")).to_have_text("待结账")
    form = keeper.locator("#close-form")
    form.locator(f"input[name=bank_{account_id}]").fill("5899.50")
    assert_fits_phone(keeper)
    form.get_by_role("button", name="结账").click()
    expect(keeper.locator("#statement-status")).to_have_text("已结账")
    expect(keeper.locator(".account-difference")).to_have_text("-¥0.50（待说明）")
    keeper.screenshot(path=str(artifacts / "funds-statement-closed.png"), full_page=True)
    explain = keeper.locator(".explain-form")
    explain.locator("textarea[name=note]").fill("银行手续费次月冲回")
    explain.get_by_role("button", name="提交差额说明").click()
    expect(keeper.locator(".account-note")).to_have_text("说明：银行手续费次月冲回")
    expect(keeper.locator(".explain-form")).to_have_count(0)
    expect(keeper.locator("#close-form")).to_have_count(0)

    owner.goto(f"{live_server}/h5/compounds/{compound_id}/funds")
    expect(owner.locator(f"#fund-months [data-month='{month}']")).to_have_attribute("data-status", "closed")
