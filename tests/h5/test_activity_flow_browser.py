"""An activity (社区活动) in a real browser on a 375 px WeChat phone: the committee publishes a free clinic and opens
its check-in poster; a resident finds it on the compound home, signs up as a volunteer, scans the poster's QR link
and is checked in; the resident's 志愿服务 record and the committee's per-person record show the hours."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.shared.clock import SHANGHAI, utcnow
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live


def sign_in_here(page: Page, username: str) -> None:
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()


def test_a_resident_signs_up_for_an_activity_and_checks_in_by_qr(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="阳光花园", area=area_tree[3], buildings=1, households_per_building=2)
    make_user(role=Role.COMMITTEE, compound=compound, username="act-committee")
    resident_user = make_user(role=Role.OWNER, compound=compound, household=first_household(compound),
                              username="act-resident")
    code, resident_name = compound.code, resident_user.display_name
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    # In 40 minutes: the check-in code already works (from 1 h before the start).
    starts = (utcnow() + timedelta(minutes=40)).astimezone(SHANGHAI)
    ends = starts + timedelta(hours=2)

    # The committee publishes a free clinic from the compound's activity list.
    committee = phone().new_page()
    committee.goto(f"{live_server}/h5/c/{code}/activities")
    sign_in_here(committee, "act-committee")
    expect(committee).to_have_url(f"{live_server}/h5/c/{code}/activities")
    committee.get_by_role("link", name="发布活动").click()
    form = committee.locator("#activity-form")
    form.locator("label", has_text="义诊").click()
    form.locator("input[name=title]").fill("党员志愿者义诊进小区")
    form.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=ends_at]").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=place]").fill("小区党群服务站门前")
    form.locator("input[name=organiser]").fill("金沙社区党委")
    form.locator("input[name=capacity]").fill("20")
    form.locator("textarea[name=description]").fill("测血压、血糖，用药咨询")
    assert_fits_phone(committee)
    committee.screenshot(path=str(artifacts / "activity-new-form.png"), full_page=True)
    form.get_by_role("button", name="发布活动").click()
    expect(committee).to_have_url(re.compile(rf"{live_server}/h5/activities/\d+$"))
    detail_url = committee.url
    expect(committee.locator(".ll-flash")).to_have_text("活动已发布，居民可以报名")
    expect(committee.locator("#activity-time")).to_contain_text(starts.strftime("%Y-%m-%d %H:%M"))
    expect(committee.locator("#places")).to_have_text("0/20 人")

    # The resident finds it on the compound home and signs up to help.
    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(resident, "act-resident")
    expect(resident).to_have_url(f"{live_server}/h5/c/{code}")
    home_block = resident.locator("#home-activities")
    expect(home_block).to_contain_text("党员志愿者义诊进小区")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "activity-home-block.png"), full_page=True)
    home_block.locator(".ll-activity-row").first.click()
    expect(resident).to_have_url(detail_url)
    signup = resident.locator("#signup-form")
    signup.locator("label", has_text="我来当志愿者").click()
    expect(signup.locator("input[name=as_volunteer]")).to_be_checked()
    signup.get_by_role("button", name="报名参加").click()
    expect(resident.locator(".ll-flash")).to_have_text("报名成功")
    expect(resident.locator("#my-signup")).to_have_text("已报名 · 志愿者")
    expect(resident.locator("#places")).to_have_text("1/20 人")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "activity-signed-up.png"), full_page=True)

    # The poster the committee prints: the QR code holds the check-in link.
    committee.goto(detail_url)
    expect(committee.locator("#signups")).to_contain_text(resident_name)
    committee.locator("#poster-link").click()
    expect(committee.locator("#activity-poster")).to_contain_text("微信扫码签到")
    expect(committee.locator("#checkin-qr svg")).to_be_visible()
    committee.screenshot(path=str(artifacts / "activity-checkin-poster.png"), full_page=True)
    checkin_url = committee.locator("#checkin-qr").get_attribute("data-checkin-url")
    assert re.fullmatch(r"http://linli\.test/h5/activities/\d+/checkin\?t=[\w.-]+", checkin_url), checkin_url
    checkin_url = checkin_url.replace(app.config["LINLI_PUBLIC_URL"], live_server)

    # The resident scans it at the clinic: checked in as a volunteer; a second scan changes nothing.
    resident.goto(checkin_url)
    result = resident.locator("#checkin-result")
    expect(result.locator("h2")).to_have_text("签到成功")
    expect(resident.locator("#checkin-volunteer")).to_be_visible()
    checked_in_at = resident.locator("#checkin-time").inner_text()
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "activity-checkin-success.png"), full_page=True)
    resident.goto(checkin_url)
    expect(result.locator("h2")).to_have_text("已签到")
    expect(resident.locator("#checkin-time")).to_have_text(checked_in_at)
    result.get_by_role("link", name="查看活动详情").click()
    expect(resident.locator("#checkin-count")).to_have_text("1 人")
    expect(resident.locator("#my-checkin")).to_contain_text("已签到")

    # 我的志愿服务 for the activity's (Beijing) year: the two hours of the clinic, once.
    resident.goto(f"{live_server}/h5/volunteering?year={starts.year}")
    expect(resident.locator("#total-hours")).to_have_text("2.0 小时")
    expect(resident.locator("#volunteer-lines")).to_contain_text("党员志愿者义诊进小区")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "activity-volunteer-record.png"), full_page=True)

    # The committee's record per person.
    committee.goto(f"{live_server}/h5/c/{code}/volunteering?year={starts.year}")
    expect(committee.locator("#volunteer-totals")).to_contain_text(resident_name)
    expect(committee.locator("#volunteer-totals")).to_contain_text("2.0 小时")
    assert_fits_phone(committee)
