"""The street's monthly report (定期通报) in a real browser: the street's official finds it in the area's report
history on a 375 px WeChat phone, reads the 三升一降 and the 红黑榜 (wide tables scroll in their own box, the page
never sideways), opens it on a desktop too, and asks for a report of a date range, which shows 生成中 until its job
has built it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backend.domain.reports import ReportKind
from backend.extensions import db
from backend.models import User
from backend.services.reports import periodic_report_now
from backend.shared.clock import beijing_date, utcnow
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.rating_support import run_jobs
from tests.report_support import HEADLINES, build_street

pytestmark = pytest.mark.live


def test_an_official_opens_the_monthly_report_and_asks_for_a_range(
    app, live_server, make_area, make_compound, make_user, phone, chromium, artifacts
):
    street = build_street(make_area, make_compound, make_user)
    report_id = periodic_report_now(street.street_id, ReportKind.MONTHLY, beijing_date(utcnow()))
    username = db.session.get(User, street.street_official).username
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/")
    sign_in_here(page, username)
    page.locator(f"#report-links [data-area='{street.street_id}']").click()
    expect(page.locator("h1")).to_have_text("定期通报")
    page.locator(f"#reports [data-report='{report_id}']").click()
    expect(page.locator("#report-title")).to_contain_text("炳草岗街道")
    expect(page.locator("#report-status")).to_have_text("已发布")
    for key, figure in HEADLINES.items():
        expect(page.locator(f"#headlines [data-headline={key}]")).to_contain_text(figure)
    expect(page.locator("#compounds-red")).to_contain_text("金沙苑")
    expect(page.locator("#compounds-black")).to_contain_text("清香坪")
    expect(page.locator("#problem-compounds")).to_contain_text("矛盾纠纷较多")
    assert_fits_phone(page)
    # The 红黑榜 is wider than the phone: it scrolls inside its box.
    box = page.locator("#compounds-red")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth && getComputedStyle(el).overflowX === 'auto'")
    page.screenshot(path=str(artifacts / "report-phone.png"), full_page=True)

    desktop = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    cookies = page.context.cookies()
    desktop.add_cookies(cookies)
    wide = desktop.new_page()
    wide.goto(f"{live_server}/h5/reports/{report_id}")
    expect(wide.locator("#headlines")).to_contain_text(HEADLINES["collection"])
    assert wide.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    wide.screenshot(path=str(artifacts / "report-desktop.png"), full_page=True)
    desktop.close()

    today = beijing_date(utcnow())
    page.goto(f"{live_server}/h5/areas/{street.street_id}/reports")
    form = page.locator("#report-form")
    form.locator("input[name=start]").fill((today - timedelta(days=30)).isoformat())
    form.locator("input[name=end]").fill(today.isoformat())
    form.get_by_role("button", name="生成通报").click()
    expect(page.locator("#report-status")).to_have_text("生成中")
    expect(page.locator("#report-building")).to_be_visible()
    run_jobs(app)
    db.session.close()
    page.reload()
    expect(page.locator("#report-status")).to_have_text("已发布")
    expect(page.locator("#report-title")).to_contain_text("专项通报")
    assert_fits_phone(page)
