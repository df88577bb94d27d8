"""A satisfaction survey in a real browser on a 375 px WeChat phone: a resident opens 服务评价 from the compound
home, answers the six dimensions with big buttons on one screen, reads the receipt; after the close sees the
published results with an ECharts chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import PropertyCompany
from backend.services import surveys as service
from backend.services.surveys import CampaignDraft
from backend.shared.clock import utcnow
from tests.h5.phone import assert_fits_phone
from tests.support import TEST_PASSWORD, first_household

pytestmark = pytest.mark.live



def test_a_resident_answers_reads_the_receipt_and_after_the_close_the_chart(
    app, live_server, make_compound, area_tree, make_user, phone, artifacts
):
    *_, street, community = area_tree
    compound = make_compound(name="金沙苑小区", area=community, buildings=1, households_per_building=4)
    company = PropertyCompany(name="攀钢物业", credit_code="91510400MA62400001")
    db.session.add(company)
    db.session.flush()
    compound.property_company_id = company.id
    db.session.commit()
    make_user(Role.OWNER, compound, household=first_household(compound), username="sv-owner")
    official = make_user(Role.OFFICIAL, area=street)
    survey = service.create_campaign(CampaignDraft(
        title="第四季度物业服务满意度测评", area_id=street.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=5), min_households=1, min_response_bp=2500), official.id)
    code, survey_id, official_id = compound.code, survey.id, official.id
    db.session.commit()
    db.session.close()  # no open read transaction may hold SQLite locks while the server thread writes

    page = phone().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/h5/c/{code}/surveys")
    form = page.locator("#password-form")
    form.locator("input[name=username]").fill("sv-owner")
    form.locator("input[name=password]").fill(TEST_PASSWORD)
    form.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/h5/c/{code}/surveys")
    page.get_by_text("第四季度物业服务满意度测评").click()
    expect(page.locator("#answer-form")).to_be_visible()
    assert_fits_phone(page)
    # Six big buttons per dimension; each tap target is at least 44 px high.
    for index, question in enumerate(page.locator("fieldset[data-kind=dimension]").all()):
        button = question.locator("label").filter(has=page.get_by_text("很满意" if index % 2 == 0 else "满意",
                                                                        exact=True))
        box = button.bounding_box()
        assert box and box["height"] >= 44
        button.click()
    page.locator("fieldset[data-kind=text] textarea").fill("保洁阿姨很负责")
    page.screenshot(path=str(artifacts / "survey-answer.png"), full_page=True)
    page.get_by_role("button", name="提交评价").click()

    expect(page.locator("#receipt-household")).to_have_text("1栋1单元101室")
    expect(page.locator("#receipt-revision")).to_contain_text("第 1 次")
    expect(page.locator("#receipt-answers")).to_contain_text("保洁阿姨很负责")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "survey-receipt.png"), full_page=True)

    with app.app_context():
        assert service.close(survey_id, official_id)
        db.session.remove()

    page.goto(f"{live_server}/h5/surveys/{survey_id}")
    page.get_by_role("link", name="查看测评结果").click()
    chart = page.locator(".ll-sv-chart").first
    expect(chart.locator("svg")).to_have_count(1)
    # 3 很满意 and 3 满意: all satisfied, score (3 × 100 + 3 × 75) / 6.
    expect(page.locator(".ll-sv-overall")).to_contain_text("满意率 100.00% · 87.50分")
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "survey-results.png"), full_page=True)
    assert errors == []
