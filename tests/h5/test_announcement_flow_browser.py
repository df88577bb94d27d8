"""An urgent notice (紧急通知) in a real browser on a 375 px WeChat phone: a committee member posts it from the compound
home page through the form; once the jobs have run, a resident sees it on the home page, marked 紧急, and in the
inbox (我的消息), and opens it from there."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.shared.clock import beijing_date, utcnow
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.rating_support import run_jobs
from tests.support import first_household

pytestmark = pytest.mark.live


def test_a_committee_member_posts_an_urgent_notice_and_a_resident_sees_it_at_home_and_in_the_inbox(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=1, households_per_building=2)
    make_user(role=Role.COMMITTEE, compound=compound, username="an-committee")
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="an-resident")
    code = compound.code
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    ends = beijing_date(utcnow()) + timedelta(days=1)

    committee = phone().new_page()
    committee.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(committee, "an-committee")
    expect(committee).to_have_url(f"{live_server}/h5/c/{code}")
    expect(committee.locator("#home-announcements")).to_contain_text("暂无通知公告")
    committee.locator("#home-new-announcement-link").click()
    expect(committee.locator("h1")).to_have_text("发布通知")
    form = committee.locator("#announcement-form")
    form.locator("label", has_text="停水停电").click()
    form.locator("input[name=title]").fill("3栋今晚紧急停水")
    form.locator("textarea[name=body]").fill("3栋总水管爆裂，今晚20:00起停水抢修，预计明早6:00恢复。\n请提前储水。")
    form.locator("input[name=ends_on]").fill(ends.isoformat())
    form.locator("label", has_text="紧急通知").click()
    expect(form.locator("input[name=urgent]")).to_be_checked()
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "announcement-new-form.png"), full_page=True)
    form.get_by_role("button", name="发布").click()

    expect(committee).to_have_url(re.compile(rf"{live_server}/h5/announcements/\d+$"))
    detail_url = committee.url
    expect(committee.locator(".ll-flash")).to_have_text("紧急通知已发布，已立即推送给全体已认证住户")
    expect(committee.locator("#announcement-badges")).to_contain_text("紧急")
    expect(committee.locator("#announcement-badges")).to_contain_text("停水停电")
    expect(committee.locator("#read-count")).to_have_text("1 人")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "announcement-detail-committee.png"), full_page=True)

    # The worker's part: the inbox rows and their pushes.
    run_jobs(app)

    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(resident, "an-resident")
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}")
    block = resident.locator("#home-announcements")
    expect(block).to_contain_text("3栋今晚紧急停水")
    expect(block.locator(".ll-badge_urgent")).to_have_text("紧急")
    expect(block.locator("#announcements-link")).to_have_text("查看全部")
    expect(block.locator("#home-new-announcement-link")).to_have_count(0)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "announcement-home-resident.png"), full_page=True)

    resident.locator("#home-inbox-link").click()
    inbox = resident.locator("#inbox")
    expect(inbox).to_contain_text("停水停电：3栋今晚紧急停水")
    expect(inbox.locator(".ll-badge_urgent")).to_have_text("紧急")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "announcement-inbox-resident.png"), full_page=True)
    inbox.get_by_text("停水停电：3栋今晚紧急停水").click()
    expect(resident).to_have_url(detail_url)
    expect(resident.locator("#announcement-body")).to_contain_text("预计明早6:00恢复")
    expect(resident.locator("#read-count")).to_have_count(0)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "announcement-detail-resident.png"), full_page=True)

    committee.reload()
    expect(committee.locator("#read-count")).to_have_text("2 人")
