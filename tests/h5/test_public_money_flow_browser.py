"""Public money in the open, end to end in a real browser on a 375 px WeChat phone: the committee of a trust compound
posts last month's repair with a photo of the receipt against an approved request and closes the month with the
bank's balance; an owner opens 公共账本 from the compound home and finds the entry, its voucher photo and the closed
month's statement."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.domain.compounds import ManagementModel
from backend.domain.funds import Category, SpendingPurpose, SpendingStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import SpendingRequest
from tests import photo_samples as samples
from tests.fund_statements_support import month_text, months_ago, open_account
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.support import first_household

pytestmark = pytest.mark.live


def test_the_committee_posts_and_closes_and_an_owner_sees_entry_voucher_and_statement(
    live_server, make_compound, make_user, phone, artifacts, tmp_path
):
    compound = make_compound(name="五十四街坊", model=ManagementModel.TRUST, buildings=1, households_per_building=2)
    last_month = months_ago(1)
    account = open_account(compound, last_month, opening_fen=200_000)
    committee = make_user(Role.COMMITTEE, compound, username="pm-committee")
    make_user(Role.OWNER, compound, household=first_household(compound), username="pm-owner")
    db.session.add(SpendingRequest(compound_id=compound.id, requester_id=committee.id, title="修补单元门",
                                   purpose=SpendingPurpose.OTHER, amount_fen=60_000, category=Category.REPAIR,
                                   payee="老李五金", status=SpendingStatus.APPROVED, threshold_fen=500_000))
    compound_id, code, account_id, month = compound.id, compound.code, account.id, month_text(last_month)
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    receipt = tmp_path / "receipt.jpg"
    receipt.write_bytes(samples.camera_jpeg().data)

    desk = phone().new_page()
    desk.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/funds/entries/new")
    sign_in_here(desk, "pm-committee")
    form = desk.locator("#entry-form")
    form.locator("select[name=category]").select_option("repair")
    form.locator("input[name=amount]").fill("450.00")
    form.locator("input[name=entry_date]").fill(last_month.replace(day=12).isoformat())
    form.locator("input[name=counterparty]").fill("老李五金")
    form.locator("input[name=note]").fill("修补2单元门禁")
    form.locator("select[name=spending_request_id]").select_option(index=1)
    form.locator("#entry-voucher").set_input_files(str(receipt))
    form.get_by_role("button", name="记账").click()
    expect(desk).to_have_url(re.compile(rf"{live_server}/h5/fund-entries/\d+$"))
    entry_url = desk.url
    expect(desk.locator("#entry-title")).to_contain_text("−¥450.00")

    desk.goto(f"{live_server}/h5/compounds/{compound_id}/funds/desk")
    desk.locator(f"#months-to-close [data-month='{month}']").click()
    close = desk.locator("#close-form")
    close.locator(f"input[name=bank_{account_id}]").fill("1550.00")
    assert_fits_phone(desk)
    close.get_by_role("button", name="结账").click()
    expect(desk.locator("#statement-status")).to_have_text("已结账")
    expect(desk.locator(".account-difference")).to_have_count(0)
    desk.screenshot(path=str(artifacts / "public-money-closed.png"), full_page=True)

    owner = phone().new_page()
    owner.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(owner, "pm-owner")
    owner.locator("#funds-link").click()
    expect(owner.locator("#fund-balance")).to_have_text("¥1,550.00")
    latest = owner.locator("#latest-entries")
    expect(latest).to_contain_text("维修")
    expect(latest.locator(".voucher-link")).to_have_count(1)
    assert_fits_phone(owner)
    owner.screenshot(path=str(artifacts / "public-money-owner-overview.png"), full_page=True)

    latest.get_by_role("link", name=re.compile("维修")).click()
    expect(owner).to_have_url(entry_url)
    expect(owner.locator("#entry-note")).to_have_text("修补2单元门禁")
    voucher = owner.locator("#entry-vouchers img")
    expect(voucher).to_be_visible()
    assert owner.evaluate("img => img.complete && img.naturalWidth", voucher.element_handle()) > 0
    expect(owner.locator("#reversal-form")).to_have_count(0)

    owner.goto(f"{live_server}/h5/compounds/{compound_id}/funds")
    owner.locator(f"#fund-months [data-month='{month}']").click()
    expect(owner.locator("#statement-status")).to_have_text("已结账")
    expect(owner.locator("#total-expense")).to_have_text("¥450.00")
    expect(owner.locator("#total-closing")).to_have_text("¥1,550.00")
    expect(owner.locator(f"[data-account='{account_id}']")).to_contain_text("支出 · 维修")
    expect(owner.locator("#close-form")).to_have_count(0)
    assert_fits_phone(owner)
    owner.screenshot(path=str(artifacts / "public-money-owner-statement.png"), full_page=True)
