"""A campaign from the officials' side in a real browser on a 375 px WeChat phone: a street official starts one
from the home page, adds a question of its own and appoints a surveyor by phone; the surveyor enters a paper sheet
by building and room with its photo; the official closes it early and reads the results (样本不足 with one sheet
of eight households)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import SurveyResponse, User
from backend.pages import SHANGHAI
from backend.services import surveys as service
from backend.shared.clock import utcnow
from tests import photo_samples as samples
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD

pytestmark = pytest.mark.live



def sign_in(page: Page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/h5/login")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()


def test_an_official_runs_a_campaign_and_a_surveyor_enters_a_paper_sheet(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    *_, street, community = area_tree
    make_compound(name="金沙苑小区", area=community, buildings=2, households_per_building=4)
    make_user(Role.OFFICIAL, area=street, username="sv-official")
    surveyor = make_user(username="sv-surveyor", phone="13900002222")
    street_id, surveyor_id = street.id, surveyor.id
    db.session.commit()
    db.session.close()
    opens = utcnow().astimezone(SHANGHAI) - timedelta(minutes=5)

    official = phone().new_page()
    sign_in(official, live_server, "sv-official")
    official.goto(f"{live_server}/h5/")
    official.locator("#my-surveys-link").click()
    official.locator("#new-survey-link").click()
    form = official.locator("#survey-form")
    form.locator("input[name=title]").fill("炳草岗街道第四季度测评")
    form.locator("select[name=place]").select_option(f"area:{street_id}")
    form.locator("input[name=opens_at]").fill(opens.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=closes_at]").fill((opens + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    assert_fits_phone(official)
    form.get_by_role("button", name="发布测评").click()
    expect(official.locator("h1")).to_have_text("炳草岗街道第四季度测评")
    survey_id = int(re.search(r"/surveys/(\d+)", official.url).group(1))

    questions = official.locator("#questions-form")
    questions.locator("input[name=text]").fill("您是否愿意续聘现物业？")
    questions.locator("textarea[name=option_lines]").fill("愿意\n不愿意")
    questions.get_by_role("button", name="添加附加题").click()
    expect(official.locator("#extra-questions")).to_contain_text("愿意 / 不愿意")
    appoint = official.locator("#evaluator-form")
    appoint.locator("input[name=phone]").fill("13900002222")
    appoint.locator("input[name=name]").fill("第三方测评员")
    appoint.get_by_role("button", name="委托").click()
    expect(official.locator("#evaluator-form")).to_contain_text("已委托 1 人")
    assert_fits_phone(official)

    paper = phone().new_page()
    sign_in(paper, live_server, "sv-surveyor")
    paper.goto(f"{live_server}/h5/")
    paper.locator("#my-surveys-link").click()
    paper.get_by_text("炳草岗街道第四季度测评").click()
    paper.locator("#paper-link").click()
    entry = paper.locator("#paper-form")
    entry.locator("select[name=building_id]").select_option(label="金沙苑小区 2栋")
    entry.locator("input[name=unit]").fill("1")
    entry.locator("input[name=room]").fill("301")
    sample = samples.camera_jpeg(320, 240)
    entry.locator("input[name=photo]").set_input_files(
        files=[{"name": "sheet.jpg", "mimeType": "image/jpeg", "buffer": sample.data}])
    for question in entry.locator("fieldset[data-kind=dimension]").all():
        question.locator("label").filter(has=paper.get_by_text("一般", exact=True)).click()
    entry.locator("fieldset[data-kind=choice] label").filter(has=paper.get_by_text("愿意", exact=True)).click()
    assert_fits_phone(paper)
    paper.screenshot(path=str(artifacts / "survey-paper.png"), full_page=True)
    entry.get_by_role("button", name="录入").click()
    expect(paper.get_by_role("status")).to_contain_text("1单元301室 的纸质问卷")

    with app.app_context():
        sheet = db.session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id))
        assert sheet.paper and sheet.photo_key and sheet.answered_by_id == surveyor_id
        # Found by the phone: the surveyor keeps the name they already had.
        assert db.session.get(User, surveyor_id).display_name != "第三方测评员"
        assert service.get_survey(survey_id).frozen_at is not None
        db.session.remove()

    official.reload()
    expect(official.locator("#questions-form")).to_have_count(0)
    official.locator("#close-form").get_by_role("button").click()
    expect(official.locator(".ll-sv-result").first).to_contain_text("样本不足")
    expect(official.locator(".ll-sv-result").first).to_contain_text("参与 1 / 8 户")
    assert_fits_phone(official)
