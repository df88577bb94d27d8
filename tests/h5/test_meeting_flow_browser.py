"""A meeting (四会) from convening to attendance in a real browser on a 375 px WeChat phone: a committee member
convenes a hearing with invitees by party and opens its check-in poster; a resident opens the poster's QR link,
signs in and is checked in (once); the committee sees the attendance."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.pages import SHANGHAI
from backend.shared.clock import utcnow
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live



def sign_in_here(page: Page, username: str) -> None:
    """Sign in on the login page the browser was sent to; it returns to where it came from."""
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()


def test_committee_convenes_and_a_resident_checks_in_by_the_poster_link(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=2, households_per_building=4)
    committee_user = make_user(role=Role.COMMITTEE, compound=compound, username="mt-committee")
    manager = make_user(role=Role.MANAGER, compound=compound, username="mt-manager")
    resident_user = make_user(
        role=Role.OWNER, compound=compound, household=first_household(compound), username="mt-resident"
    )
    code, manager_id = compound.code, manager.id
    committee_name, resident_name = committee_user.display_name, resident_user.display_name
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    # In 40 minutes: the check-in code already works (from 1 h before the start).
    starts = (utcnow() + timedelta(minutes=40)).astimezone(SHANGHAI)

    # The committee member convenes a hearing from the compound's meeting list.
    committee = phone().new_page()
    committee.goto(f"{live_server}/h5/c/{code}/meetings")
    sign_in_here(committee, "mt-committee")
    expect(committee).to_have_url(f"{live_server}/h5/c/{code}/meetings")
    committee.get_by_role("link", name="召集会议").click()
    expect(committee.locator("h1")).to_have_text("召集会议")
    form = committee.locator("#meeting-form")
    form.locator("label", has_text="听证会").click()
    form.locator("input[name=title]").fill("物业费调整听证会")
    form.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=place]").fill("小区党群服务站")
    form.locator("textarea[name=agenda]").fill("一、物业说明调价方案\n二、居民代表发言\n三、形成听证意见")
    form.locator(f"label:has(input[value='property_company:{manager_id}'])").click()
    expect(form.locator(f"input[value='property_company:{manager_id}']")).to_be_checked()
    form.locator("textarea[name=merchant_names]").fill("东门超市 李老板")
    form.locator("textarea[name=resident_names]").fill("王秀英、张建国")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "meeting-new-form.png"), full_page=True)
    form.get_by_role("button", name="发布会议").click()

    expect(committee).to_have_url(re.compile(rf"{live_server}/h5/meetings/\d+$"))
    detail_url = committee.url
    expect(committee.locator(".ll-flash")).to_have_text("会议已发布，受邀人会收到通知")
    expect(committee.locator("#meeting-time")).to_have_text(starts.strftime("%Y-%m-%d %H:%M"))
    expect(committee.locator("#invitees")).to_contain_text("王秀英、张建国")
    expect(committee.locator("#invitees")).to_contain_text("东门超市 李老板")
    expect(committee.locator("#attendance-count")).to_have_text("0 人")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "meeting-detail-convener.png"), full_page=True)

    # The poster to print: the QR code and, on it, the link the code holds.
    committee.locator("#poster-link").click()
    expect(committee.locator("h1")).to_have_text("物业费调整听证会")
    expect(committee.locator("#meeting-poster")).to_contain_text("扫码签到")
    expect(committee.locator("#checkin-qr svg")).to_be_visible()
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "meeting-checkin-poster.png"), full_page=True)
    checkin_url = committee.locator("#checkin-qr").get_attribute("data-checkin-url")
    assert re.fullmatch(r"http://linli\.test/h5/meetings/\d+/checkin\?t=[\w.-]+", checkin_url), checkin_url
    checkin_url = checkin_url.replace(app.config["LINLI_PUBLIC_URL"], live_server)

    # A resident scans it: signs in first, comes back and is checked in; a second scan changes nothing.
    resident = phone().new_page()
    resident.goto(checkin_url)
    expect(resident).to_have_url(re.compile(rf"{live_server}/h5/login\?next="))
    sign_in_here(resident, "mt-resident")
    expect(resident).to_have_url(checkin_url)
    result = resident.locator("#checkin-result")
    expect(result.locator("h2")).to_have_text("签到成功")
    expect(result).to_contain_text("物业费调整听证会")
    checked_in_at = resident.locator("#checkin-time").inner_text()
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "meeting-checkin-success.png"), full_page=True)
    resident.goto(checkin_url)
    expect(result.locator("h2")).to_have_text("已签到")
    expect(resident.locator("#checkin-time")).to_have_text(checked_in_at)
    result.get_by_role("link", name="查看会议详情").click()
    expect(resident).to_have_url(detail_url)
    expect(resident.locator("#attendance-count")).to_have_text("1 人")
    expect(resident.locator("#my-checkin")).to_contain_text("已签到")
    expect(resident.locator("#attendance")).to_have_count(0)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "meeting-detail-resident.png"), full_page=True)

    # The committee sees who came.
    committee.goto(detail_url)
    expect(committee.locator("#attendance-count")).to_have_text("1 人")
    expect(committee.locator("#attendance")).to_contain_text(resident_name)
    expect(committee.locator("#attendance")).not_to_contain_text(committee_name)
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "meeting-attendance.png"), full_page=True)

    # The compound's list shows it among the coming meetings, in Beijing time.
    committee.goto(f"{live_server}/h5/c/{code}/meetings")
    coming = committee.locator("#coming-meetings")
    expect(coming).to_contain_text("物业费调整听证会")
    expect(coming).to_contain_text(starts.strftime("%Y-%m-%d %H:%M"))
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "meeting-list.png"), full_page=True)
