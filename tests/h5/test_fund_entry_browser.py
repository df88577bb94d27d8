"""The journal in a real browser on a 375 px WeChat phone: the committee of a trust compound opens an account, saves the settings, posts
an expense against an approved spending request with a photo of the receipt, sees it with its voucher, and an
owner opens the month's entries, the entry and its voucher photo (no reversal form for them)."""
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
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.support import first_household

pytestmark = pytest.mark.live


def test_the_committee_posts_an_expense_with_a_receipt_photo_and_an_owner_sees_it(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts, tmp_path
):
    compound = make_compound(name="五十四街坊", area=area_tree[3], model=ManagementModel.TRUST, buildings=1,
                             households_per_building=2)
    committee = make_user(role=Role.COMMITTEE, compound=compound, username="fd-committee")
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="fd-owner")
    db.session.add(SpendingRequest(compound_id=compound.id, requester_id=committee.id, title="更换楼道灯",
                                   purpose=SpendingPurpose.OTHER, amount_fen=80_000, category=Category.REPAIR,
                                   payee="老王电工", status=SpendingStatus.APPROVED, threshold_fen=500_000))
    compound_id = compound.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    photo = tmp_path / "receipt.jpg"
    photo.write_bytes(samples.camera_jpeg().data)

    desk = phone().new_page()
    desk.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/funds/accounts")
    sign_in_here(desk, "fd-committee")
    expect(desk.locator("#fund-accounts")).to_contain_text("尚未开设账户")
    account = desk.locator("#account-form")
    account.locator("select[name=kind]").select_option("trust")
    account.locator("input[name=bank_name]").fill("成都银行")
    account.locator("input[name=account_no]").fill("6222000011112345")
    account.locator("input[name=opening_balance]").fill("5000")
    account.get_by_role("button", name="开设").click()
    expect(desk.locator("#fund-accounts")).to_contain_text("****2345")
    expect(desk.locator("#accounts-total")).to_have_text("¥5,000.00")

    desk.get_by_role("link", name="设置").click()
    settings = desk.locator("#settings-form")
    settings.locator("input[name=spending_threshold]").fill("3000")
    settings.locator("input[name=remuneration_rate_bp]").fill("1200")
    settings.get_by_role("button", name="保存").click()
    expect(desk.locator("#settings-threshold")).to_have_text("¥3,000.00以上")
    expect(desk.locator("#settings-remuneration")).to_contain_text("12")
    assert_fits_phone(desk)

    desk.goto(f"{live_server}/h5/compounds/{compound_id}/funds/entries")
    desk.locator("#new-expense-link").click()
    form = desk.locator("#entry-form")
    form.locator("select[name=category]").select_option("repair")
    form.locator("input[name=amount]").fill("320.50")
    form.locator("input[name=counterparty]").fill("老王电工")
    form.locator("input[name=note]").fill("更换3单元楼道灯")
    form.locator("select[name=spending_request_id]").select_option(index=1)
    form.locator("#entry-voucher").set_input_files(str(photo))
    assert_fits_phone(desk)
    desk.screenshot(path=str(artifacts / "fund-entry-form.png"), full_page=True)
    form.get_by_role("button", name="记账").click()

    expect(desk).to_have_url(re.compile(rf"{live_server}/h5/fund-entries/\d+$"))
    entry_url = desk.url
    expect(desk.locator("#entry-title")).to_contain_text("−¥320.50")
    expect(desk.locator("#entry-vouchers img")).to_be_visible()
    expect(desk.locator("#reversal-form")).to_be_visible()
    assert_fits_phone(desk)
    desk.screenshot(path=str(artifacts / "fund-entry-committee.png"), full_page=True)

    owner = phone().new_page()
    owner.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/funds/entries")
    sign_in_here(owner, "fd-owner")
    entries = owner.locator("#fund-entries")
    expect(entries).to_contain_text("维修")
    expect(entries).to_contain_text("凭证1张")
    expect(owner.locator("#new-expense-link")).to_have_count(0)
    entries.locator(".ll-fund-row").first.click()
    expect(owner).to_have_url(entry_url)
    expect(owner.locator("#entry-note")).to_have_text("更换3单元楼道灯")
    voucher = owner.locator("#entry-vouchers img")
    expect(voucher).to_be_visible()
    assert owner.evaluate("img => img.naturalWidth", voucher.element_handle()) > 0
    expect(owner.locator("#reversal-form")).to_have_count(0)
    assert_fits_phone(owner)
    owner.screenshot(path=str(artifacts / "fund-entry-owner.png"), full_page=True)
