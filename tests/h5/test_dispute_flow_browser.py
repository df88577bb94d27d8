"""Dispute mediation (矛盾纠纷调解) in a real browser on a 375 px WeChat phone: a community official opens a case with a
resident party, adds a step and records 调解成功 with a photo of the signed agreement; once the jobs have run, the
resident finds it in the inbox and in 我的调解, with the steps and the agreement. The case page also fits a desktop
window."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.extensions import db
from tests import photo_samples as samples
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.rating_support import run_jobs
from tests.support import first_household

pytestmark = pytest.mark.live


def test_an_official_mediates_a_case_and_the_resident_party_sees_it(
    app, live_server, make_compound, area_tree, make_user, phone, chromium, artifacts, tmp_path
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=1, households_per_building=2)
    home = first_household(compound)
    make_user(role=Role.OFFICIAL, area=area_tree[3], username="dp-official")
    make_user(role=Role.OWNER, compound=compound, household=home, username="dp-resident")
    code, home_id = compound.code, home.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes
    photo = tmp_path / "agreement.jpg"
    photo.write_bytes(samples.camera_jpeg().data)

    official = phone().new_page()
    official.goto(f"{live_server}/h5/login?next=/h5/c/{code}/disputes")
    sign_in_here(official, "dp-official")
    expect(official).to_have_url(f"{live_server}/h5/c/{code}/disputes")
    expect(official.locator("#disputes")).to_contain_text("暂无调解案件")
    official.locator("#new-dispute-link").click()
    form = official.locator("#dispute-form")
    form.locator("input[name=title]").fill("楼上漏水纠纷")
    form.locator("select[name=kind]").select_option("neighbour")
    form.locator("textarea[name=summary]").fill("2栋楼上卫生间漏水，楼下业主要求维修和赔偿。")
    form.locator("select[name=party_kind_0]").select_option("owner")
    form.locator("select[name=party_household_0]").select_option(str(home_id))
    form.locator("select[name=party_kind_1]").select_option("company")
    form.locator("input[name=party_name_1]").fill("阳光物业")
    assert_fits_phone(official)
    official.screenshot(path=str(artifacts / "dispute-new-form.png"), full_page=True)
    form.get_by_role("button", name="登记").click()

    expect(official).to_have_url(re.compile(rf"{live_server}/h5/disputes/\d+$"))
    case_url = official.url
    expect(official.locator("#dispute-status")).to_have_text("调解中")
    expect(official.locator("#dispute-parties")).to_contain_text("阳光物业")
    step = official.locator("#step-form")
    step.locator("textarea[name=note]").fill("双方到社区调解室面谈，物业同意先行维修。")
    step.get_by_role("button", name="添加记录").click()
    expect(official.locator("#dispute-steps")).to_contain_text("物业同意先行维修")

    outcome = official.locator("#outcome-form")
    outcome.locator("label", has_text="调解成功").click()
    outcome.locator("textarea[name=note]").fill("物业承担维修费用，楼上业主配合入户。")
    outcome.locator("input[name=agreement]").set_input_files(str(photo))
    outcome.get_by_role("button", name="记录结果").click()
    expect(official.locator(".ll-flash")).to_have_text("调解结果已记录，案件已结案")
    expect(official.locator("#dispute-status")).to_have_text("调解成功")
    expect(official.locator("#dispute-agreement img")).to_be_visible()
    expect(official.locator("#step-form")).to_have_count(0)
    assert_fits_phone(official)
    official.screenshot(path=str(artifacts / "dispute-settled-official.png"), full_page=True)

    run_jobs(app)

    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/login?next=/h5/inbox")
    sign_in_here(resident, "dp-resident")
    inbox = resident.locator("#inbox")
    expect(inbox).to_contain_text("调解结果：楼上漏水纠纷")
    resident.locator("#my-disputes-link").click()
    expect(resident.locator("#disputes")).to_contain_text("楼上漏水纠纷")
    resident.locator("#disputes").get_by_text("楼上漏水纠纷").click()
    expect(resident).to_have_url(case_url)
    expect(resident.locator("#dispute-status")).to_have_text("调解成功")
    expect(resident.locator("#dispute-steps")).to_contain_text("物业同意先行维修")
    expect(resident.locator("#dispute-parties [data-mine=true]")).to_contain_text("本人")
    expect(resident.locator("#dispute-agreement img")).to_be_visible()
    expect(resident.locator("#outcome-form")).to_have_count(0)
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "dispute-resident.png"), full_page=True)

    desktop = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page = desktop.new_page()
        page.goto(f"{live_server}/h5/login?next={case_url.removeprefix(live_server)}")
        sign_in_here(page, "dp-official")
        expect(page.locator("#dispute-status")).to_have_text("调解成功")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    finally:
        desktop.close()
