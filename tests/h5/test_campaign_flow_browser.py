"""An environment campaign in a real browser on a 375 px WeChat phone (issue 19): the appointed inspector starts a
round from the start page's 环境评比 link, scores two buildings (a finding with a photo on one); the community official turns the finding into a work
order in one tap and the order shows the photo; a resident sees the compound's ranking with its red-flag building."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backend.domain.campaigns import CampaignKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.services import campaigns as service
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.h5.test_rectification_flow_browser import photo_file
from tests.support import first_household

pytestmark = pytest.mark.live


def test_an_inspector_records_a_round_with_a_photo_and_a_resident_sees_the_ranking(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    _, _, _, community = area_tree
    compound = make_compound(name="炳草岗小区", area=community, buildings=2, households_per_building=1)
    official = make_user(role=Role.OFFICIAL, area=community, username="cp-official")
    make_user(username="cp-inspector", phone="13800138666")
    make_user(role=Role.RESIDENT, compound=compound, household=first_household(compound), username="cp-resident")
    campaign = service.create_campaign(community.id, official.id, title="12月卫生评比", kind=CampaignKind.HYGIENE,
                                       checklist=[], red_flag_count=1)
    service.appoint_evaluator(campaign.id, official.id, "13800138666")
    campaign_id, code = campaign.id, compound.code
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    inspector = phone().new_page()
    inspector.goto(f"{live_server}/h5/login?next=/h5/")
    sign_in_here(inspector, "cp-inspector")
    inspector.locator("#my-campaigns-link").click()
    inspector.locator(f"[data-campaign='{campaign_id}']").click()
    expect(inspector.locator("#campaign-title")).to_have_text("12月卫生评比")
    inspector.locator("#round-form").get_by_role("button", name="开始新一轮检查").click()
    expect(inspector.locator(".ll-flash")).to_have_text("第1轮检查已开始")
    round_url = inspector.url

    inspector.locator("#unscored [data-action=score]").first.click()
    form = inspector.locator("#score-form")
    wires = form.locator("[data-item='3']")  # 飞线充电
    wires.locator("input[name=points_3]").fill("8")
    wires.locator("textarea[name=finding_3]").fill("1单元楼道飞线充电")
    wires.locator("input[name=finding_3_photos]").set_input_files([photo_file("IMG_wires.jpg")])
    assert_fits_phone(inspector)
    inspector.screenshot(path=str(artifacts / "campaign-score-form.png"), full_page=True)
    form.get_by_role("button", name="保存评分").click()
    expect(inspector).to_have_url(round_url)
    expect(inspector.locator(".ll-flash")).to_contain_text("评分已保存")
    inspector.locator("#unscored [data-action=score]").first.click()
    inspector.locator("#score-form").get_by_role("button", name="保存评分").click()
    ranking = inspector.locator("#ranking [data-rank]")
    expect(ranking).to_have_count(2)
    expect(ranking.first).to_contain_text("100分")
    expect(ranking.first.locator("[data-red-flag]")).to_have_count(1)
    expect(ranking.nth(1)).to_contain_text("88分")
    expect(ranking.nth(1).locator("[data-finding]")).to_contain_text("1张照片")
    finding_url = ranking.nth(1).locator("[data-finding]").get_attribute("href")

    desk = phone().new_page()
    desk.goto(f"{live_server}/h5/login?next={finding_url}")
    sign_in_here(desk, "cp-official")
    expect(desk.locator("#finding-photos img")).to_have_count(1)
    desk.locator("#work-order-form").get_by_role("button", name="转为报修工单").click()
    expect(desk.locator(".ll-flash")).to_have_text("已转为报修工单")
    expect(desk.locator("#work-order-form")).to_have_count(0)
    desk.locator("#finding-work-order").click()
    expect(desk).to_have_url(re.compile(rf"{live_server}/h5/work-orders/\d+$"))
    expect(desk.locator("img[alt^='照片'], .ll-wo-photos img").first).to_be_visible()

    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(resident, "cp-resident")
    resident.locator("#campaigns-link").click()
    board = resident.locator(f"[data-board='{campaign_id}']")
    expect(board.locator("[data-rank]")).to_have_count(2)
    expect(board.locator("[data-rank='1']")).to_contain_text("红旗楼栋")
    expect(board.locator("[data-rank='2']")).to_contain_text("第2名 · 88/100分")
    expect(resident.locator("#board")).to_contain_text("2栋参评，红旗楼栋1栋")
    assert_fits_phone(resident)
    resident.screenshot(path=str(artifacts / "campaign-board.png"), full_page=True)
