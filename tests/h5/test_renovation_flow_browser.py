"""A renovation project end to end in a real browser on a 375 px WeChat phone (issue 19): the committee sets up a
project from the owners' topic on the page; the company's manager (the responsible party) reports progress with a
photo, then completion; a resident finds it on the compound home (改造进度), rates it, and follows the timeline back
to the topic, whose page links the project."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backend.domain.consultations import Step
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Topic
from backend.shared.clock import utcnow
from tests import photo_samples
from tests.h5.phone import assert_fits_phone
from tests.h5.test_meeting_flow_browser import sign_in_here
from tests.support import first_household

pytestmark = pytest.mark.live


def test_the_party_reports_progress_with_a_photo_and_a_resident_rates_the_completed_project(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=1, households_per_building=1)
    committee = make_user(role=Role.COMMITTEE, compound=compound, username="rn-committee")
    make_user(role=Role.MANAGER, compound=compound, username="rn-manager")
    make_user(role=Role.OWNER, compound=compound, household=first_household(compound), username="rn-owner")
    topic = Topic(compound_id=compound.id, proposer_id=committee.id, title="老旧线路改造", body="楼道线路老化",
                  step=Step.IMPLEMENTATION, created_at=utcnow() - timedelta(days=20),
                  ballot_closed_at=utcnow() - timedelta(days=3))
    db.session.add(topic)
    db.session.commit()
    code, topic_id = compound.code, topic.id
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    desk = phone().new_page()
    desk.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(desk, "rn-committee")
    desk.locator("#home-new-project-link").click()
    form = desk.locator("#project-form")
    form.locator("input[name=title]").fill("楼道电气线路改造")
    form.locator("select[name=responsible_party]").select_option("company")
    form.locator("select[name=topic_id]").select_option(str(topic_id))
    form.locator("select[name=item_0_category]").select_option("电气线路")
    form.locator("input[name=item_0_budget]").fill("80000")
    assert_fits_phone(desk)
    form.get_by_role("button", name="建立项目").click()
    expect(desk.locator(".ll-flash")).to_have_text("改造项目已建立，已通知责任方")
    expect(desk).to_have_url(re.compile(rf"{live_server}/h5/renovation/\d+$"))
    project_path = desk.url.removeprefix(live_server)
    expect(desk.locator("#project-topic")).to_contain_text("老旧线路改造")
    expect(desk.locator("#progress-form")).to_have_count(0)

    manager = phone().new_page()
    manager.goto(f"{live_server}/h5/login?next={project_path}")
    sign_in_here(manager, "rn-manager")
    progress = manager.locator("#progress-form")
    progress.locator("textarea[name=note]").fill("1栋线路已更换，正在安装配电箱")
    progress.locator("input[name=percent]").fill("60")
    progress.locator("input[name=photos]").set_input_files([{
        "name": "IMG_wires.jpg", "mimeType": "image/jpeg", "buffer": photo_samples.camera_jpeg(texture=True).data}])
    assert_fits_phone(manager)
    progress.get_by_role("button", name="提交进度").click()
    expect(manager.locator(".ll-flash")).to_have_text("改造进度已更新")
    expect(manager.locator("#project-progress")).to_contain_text("施工中")
    expect(manager.locator("#project-updates img")).to_have_count(1)
    progress = manager.locator("#progress-form")
    progress.locator("textarea[name=note]").fill("全部完工，已通过验收")
    progress.locator("input[name=percent]").fill("100")
    progress.get_by_role("button", name="提交进度").click()
    expect(manager.locator("#project-progress")).to_contain_text("已完工")
    expect(manager.locator("#progress-form")).to_have_count(0)
    expect(manager.locator("#rating-form")).to_have_count(0)

    resident = phone().new_page()
    resident.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(resident, "rn-owner")
    expect(resident.locator("#home-renovation")).to_contain_text("楼道电气线路改造")
    resident.locator("#home-renovation [data-project]").first.click()
    expect(resident.locator("#project-updates img")).to_have_count(1)
    rating = resident.locator("#rating-form")
    rating.locator("select[name=stars]").select_option("4")
    rating.locator("textarea[name=comment]").fill("线路整齐了，晚上楼道也亮了")
    assert_fits_phone(resident)
    rating.get_by_role("button", name="提交评价").click()
    expect(resident.locator(".ll-flash")).to_have_text("感谢您的评价")
    expect(resident.locator("#rating-average")).to_have_text("4.00")
    expect(resident.locator("#project-comments")).to_contain_text("线路整齐了")
    timeline = resident.locator("#project-timeline")
    expect(timeline.locator("[data-done='1']")).to_have_count(6)
    resident.screenshot(path=str(artifacts / "renovation-rated.png"), full_page=True)

    resident.locator("#project-topic a").click()
    expect(resident).to_have_url(f"{live_server}/h5/topics/{topic_id}")
    expect(resident.locator("#topic-renovation")).to_contain_text("楼道电气线路改造")
    expect(resident.locator("#topic-renovation")).to_contain_text("已完工")
