"""Spending requests (支出申请) in a real browser on a 375 px WeChat phone: a committee member files a request with a
photo of the quote; once the jobs have run, a second member finds it in the inbox, sees the quote and approves;
the request shows 已批准 with both approvers, and the requester has no approve button on their own request."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.domain.compounds import ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from tests import photo_samples as samples
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.rating_support import run_jobs

pytestmark = pytest.mark.live


def test_a_member_files_a_request_with_a_quote_and_two_others_approve(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts, tmp_path
):
    compound = make_compound(name="五十四街坊", area=area_tree[3], model=ManagementModel.TRUST, buildings=1,
                             households_per_building=2)
    make_user(role=Role.COMMITTEE, compound=compound, username="sp-first")
    make_user(role=Role.COMMITTEE, compound=compound, username="sp-second")
    make_user(role=Role.COMMITTEE, compound=compound, username="sp-third")
    compound_id = compound.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    quote = tmp_path / "quote.jpg"
    quote.write_bytes(samples.camera_jpeg().data)

    first = phone().new_page()
    first.goto(f"{live_server}/h5/login?next=/h5/compounds/{compound_id}/spending")
    sign_in_here(first, "sp-first")
    expect(first.locator("#spending-requests")).to_contain_text("暂无支出申请")
    first.locator("#new-spending-link").click()
    form = first.locator("#spending-form")
    form.locator("input[name=title]").fill("更换单元门禁")
    form.locator("select[name=purpose]").select_option("other")
    form.locator("select[name=category]").select_option("repair")
    form.locator("input[name=amount]").fill("1200.50")
    form.locator("input[name=payee]").fill("安居门禁工程部")
    form.locator("textarea[name=description]").fill("1栋单元门禁损坏三个月，两家报价取低者。")
    form.locator("#quote-0").set_input_files(str(quote))
    assert_fits_phone(first)
    first.screenshot(path=str(artifacts / "spending-new-form.png"), full_page=True)
    form.get_by_role("button", name="提交申请").click()

    expect(first).to_have_url(re.compile(rf"{live_server}/h5/spending-requests/\d+$"))
    request_url = first.url.removeprefix(live_server)
    expect(first.locator(".ll-flash")).to_have_text("已提交，等待业委会审批")
    expect(first.locator("#spending-status")).to_have_text("待业委会审批")
    expect(first.locator("#spending-amount")).to_have_text("¥1,200.50")
    expect(first.locator("#spending-quotes img")).to_be_visible()
    expect(first.locator("#approve-form")).to_have_count(0)

    run_jobs(app)

    for index, username in enumerate(("sp-second", "sp-third")):
        member = phone().new_page()
        member.goto(f"{live_server}/h5/login?next=/h5/inbox")
        sign_in_here(member, username)
        expect(member.locator("#inbox")).to_contain_text("支出申请“更换单元门禁”等待审批")
        member.goto(f"{live_server}{request_url}")
        expect(member.locator("#spending-quotes img")).to_be_visible()
        member.locator("#approve-form").get_by_role("button", name="同意支出").click()
        if index == 0:
            expect(member.locator(".ll-flash")).to_have_text("已同意，还需一名委员审批")
            expect(member.locator("#spending-status")).to_have_text("待业委会审批")
        else:
            expect(member.locator(".ll-flash")).to_have_text("已批准，已通知申请人")
            expect(member.locator("#spending-status")).to_have_text("已批准（可支出）")
            expect(member.locator("#spending-approvals")).to_contain_text("同意")
            assert_fits_phone(member)
            member.screenshot(path=str(artifacts / "spending-approved.png"), full_page=True)
        expect(member.locator("#approve-form")).to_have_count(0)

    first.reload()
    expect(first.locator("#spending-status")).to_have_text("已批准（可支出）")
    expect(first.locator("#spending-decision")).to_contain_text("业委会2名成员审批同意")
