"""The officials' workspace end to end in a real browser on a 375 px WeChat phone (issue 16): a street official opens
the street's dashboard, drills into the flagged compound, records a supervision inspection with a finding (photo,
party = the property company, deadline, urgency); the company's manager answers it with a photo; the official
accepts it (销号); the area's ledger shows it 已销号 (also at desktop width), and the month's report (定期通报), built
by the cron's code on the 1st, lists it."""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from backend.domain.compounds import AreaLevel
from backend.domain.reports import ReportKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.services import dashboard, flags, reports
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests import photo_samples
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here

pytestmark = pytest.mark.live


def photo_file(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": photo_samples.camera_jpeg(texture=True).data}


def test_a_street_official_drills_into_a_flagged_compound_inspects_and_accepts_the_answer_the_report_lists_it(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    _, _, street, community = area_tree
    assert street.level is AreaLevel.STREET
    compound = make_compound(name="金沙苑小区", area=community, buildings=1, households_per_building=1)
    make_user(role=Role.OFFICIAL, area=street, username="re-street")
    make_user(role=Role.MANAGER, compound=compound, username="re-manager")
    code, street_id, compound_id = compound.code, street.id, compound.id
    db.session.commit()
    # The nightly jobs have run: the compound (no self-governance body) is flagged, the dashboard's figures are kept.
    flags.sweep([compound_id])
    dashboard.refresh()
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    deadline = beijing_date(utcnow()) + timedelta(days=7)

    official = phone().new_page()
    official.goto(f"{live_server}/h5/login?next=/h5/areas/{street_id}/dashboard?flag=any")
    sign_in_here(official, "re-street")
    flagged = official.locator("#compound-table tbody tr")
    expect(flagged).to_have_count(1)
    flagged.first.get_by_role("link", name="金沙苑小区").click()
    expect(official).to_have_url(f"{live_server}/h5/c/{code}")
    official.locator("#inspect-link").click()
    expect(official.locator("h1")).to_have_text("记录监督检查")
    form = official.locator("#inspection-record-form")
    expect(form.locator("#checklist")).to_contain_text("飞线充电")
    first = form.locator("[data-finding='0']")
    first.locator("select[name=finding_0_item]").select_option("飞线充电")
    first.locator("textarea[name=finding_0_finding]").fill("2栋楼道飞线充电，存在火灾隐患")
    first.locator("select[name=finding_0_responsible_party]").select_option("company")
    first.locator("input[name=finding_0_deadline]").fill(deadline.isoformat())
    first.locator("select[name=finding_0_urgency]").select_option("urgent")
    first.locator("input[name=finding_0_photos]").set_input_files([photo_file("IMG_wires.jpg")])
    assert_fits_phone(official)
    official.screenshot(path=str(artifacts / "rectification-record-form.png"), full_page=True)
    form.get_by_role("button", name="保存检查记录").click()

    expect(official).to_have_url(re.compile(rf"{live_server}/h5/inspections/\d+$"))
    expect(official.locator(".ll-flash")).to_have_text("检查已记录，登记整改1项")
    official.locator("[data-rectification]").first.click()
    expect(official).to_have_url(re.compile(rf"{live_server}/h5/rectifications/\d+$"))
    item_url = official.url
    expect(official.locator("#rectification-badges")).to_contain_text("待整改")
    expect(official.locator("#rectification-events img")).to_have_count(1)
    expect(official.locator("#answer-form")).to_have_count(0)
    expect(official.locator("#accept-form")).to_have_count(0)

    manager = phone().new_page()
    manager.goto(f"{live_server}/h5/login?next={item_url.removeprefix(live_server)}")
    sign_in_here(manager, "re-manager")
    expect(manager.locator("#rectification-finding")).to_have_text("2栋楼道飞线充电，存在火灾隐患")
    answer = manager.locator("#answer-form")
    answer.locator("textarea[name=note]").fill("已拆除飞线，楼下新装充电桩4个")
    answer.locator("input[name=photos]").set_input_files([photo_file("IMG_fixed.jpg")])
    assert_fits_phone(manager)
    answer.get_by_role("button", name="提交整改回复").click()
    expect(manager.locator(".ll-flash")).to_have_text("整改情况已回复，等待验收")
    expect(manager.locator("#rectification-badges")).to_contain_text("待验收")
    expect(manager.locator("#rectification-events img")).to_have_count(2)
    expect(manager.locator("#accept-form")).to_have_count(0)

    official.reload()
    expect(official.locator("#rectification-events")).to_contain_text("已拆除飞线")
    official.locator("#accept-form").get_by_role("button", name="验收销号").click()
    expect(official.locator(".ll-flash")).to_have_text("已验收销号")
    expect(official.locator("#rectification-badges")).to_contain_text("已销号")
    expect(official.locator("#return-form")).to_have_count(0)
    official.screenshot(path=str(artifacts / "rectification-accepted.png"), full_page=True)

    official.goto(f"{live_server}/h5/areas/{street_id}/rectifications")
    expect(official.locator("#rectifications [data-rectification]")).to_have_count(1)
    expect(official.locator("#rectifications")).to_contain_text("金沙苑小区 · 飞线充电")
    assert_fits_phone(official)

    desktop = official.context.new_page()
    desktop.set_viewport_size({"width": 1280, "height": 800})
    desktop.goto(f"{live_server}/h5/areas/{street_id}/rectifications")
    expect(desktop.locator("#rectifications")).to_contain_text("已销号")
    assert desktop.evaluate("document.documentElement.scrollWidth") <= 1280

    # The 1st of next month, 01:10 Beijing: the cron's code builds the street's monthly report, which lists the item.
    first_of_next = (beijing_date(utcnow()).replace(day=28) + timedelta(days=4)).replace(day=1)
    with time_machine.travel(datetime.combine(first_of_next, time(1, 10), SHANGHAI).astimezone(UTC)):
        report_id = reports.periodic_report_now(street_id, ReportKind.MONTHLY, first_of_next)
        db.session.close()
        official.goto(f"{live_server}/h5/reports/{report_id}")
        raised = official.locator("#rectifications-raised")
        expect(raised).to_contain_text("金沙苑小区")
        expect(raised).to_contain_text("2栋楼道飞线充电")
        expect(raised).to_contain_text("已销号")
        assert_fits_phone(official)
