"""A rating round (评星定级) in a real browser on a 375 px WeChat phone: the district's official starts the round,
the street's official reviews it, the district's confirms it (the publicity starts), and after the publicity (the frozen clock moved past its end)
publishes it; the company's stars then show on the compound's home page and on the public company page."""
from __future__ import annotations

import pytest
import time_machine
from playwright.sync_api import expect

from backend.domain.compounds import AreaLevel
from backend.domain.rating import StarMethod
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import RatingMethod, RatingRound
from tests.h5.test_meeting_flow_browser import assert_fits_phone, sign_in_here
from tests.photo_samples import camera_jpeg
from tests.rating_support import closed_survey, make_company, run_jobs, serve, tally
from tests.support import first_household

pytestmark = pytest.mark.live


def test_an_official_runs_a_round_to_published_and_the_stars_reach_the_compound_home(
    app, live_server, make_area, make_compound, make_user, phone, artifacts
):
    city = make_area("攀枝花市", AreaLevel.CITY)
    district = make_area("东区", AreaLevel.DISTRICT, city)
    street = make_area("炳草岗街道", AreaLevel.STREET, district)
    community = make_area("金沙社区", AreaLevel.COMMUNITY, street)
    compound = make_compound(name="金沙苑小区", area=community)
    company = make_company("阳光物业", has_party_org=True)
    serve(compound, company)
    official = make_user(Role.OFFICIAL, area=district, username="rt-official")
    make_user(Role.OFFICIAL, area=street, username="rt-street")
    make_user(Role.OWNER, compound, household=first_household(compound), username="rt-owner")
    db.session.add(RatingMethod(area_id=district.id, survey_weight=60, service_weight=20, inspection_weight=20,
                                method=StarMethod.BANDS, bands=[[9000, 5], [8000, 4], [6000, 3]], cutoffs_bp=[],
                                min_stars=0, publicity_days=7))
    tally(closed_survey(official, district.id), compound, [0, 0, 0, 0, 2, 18])
    code, company_id = compound.code, company.id
    db.session.commit()
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/login?next=/h5/")
    sign_in_here(page, "rt-official")
    page.locator("#rating-link").click()
    expect(page.locator("h1")).to_have_text("物业评星定级")
    form = page.locator("#round-form")
    form.locator("select[name=period_kind]").select_option("quarter")
    form.locator("input[name=period_start]").fill("2026-07-01")
    form.get_by_role("button", name="发起并计算得分").click()
    expect(page.locator("#round-status")).to_have_text("待初审")
    run_jobs(app)
    page.reload()
    assert_fits_phone(page)
    expect(page.locator("#ranking [data-company]")).to_have_count(1)
    expect(page.locator("#ranking")).to_contain_text("阳光物业")
    expect(page.locator("[data-action=review]")).to_have_count(0)
    round_id = db.session.scalar(db.select(RatingRound.id))
    db.session.close()
    street_page = phone().new_page()
    street_page.goto(f"{live_server}/h5/login?next=/h5/rating/rounds/{round_id}")
    sign_in_here(street_page, "rt-street")
    street_page.locator("form[data-action=review] button").click()
    expect(street_page.locator("#round-status")).to_have_text("待复核")
    page.reload()
    page.locator("form[data-action=confirm] button").click()
    expect(page.locator("#round-status")).to_have_text("公示中")
    expect(page.locator("[data-action=publish]")).to_have_count(0)
    page.screenshot(path=str(artifacts / "rating-publicity.png"), full_page=True)

    # A resident finds the publicity on the compound home and objects; the official answers in public.
    owner = phone().new_page()
    owner.goto(f"{live_server}/h5/login?next=/h5/c/{code}")
    sign_in_here(owner, "rt-owner")
    owner.locator("#rating-publicity-link").click()
    objection = owner.locator("form[data-action=object]")
    objection.locator("select[name=company_id]").select_option(label="阳光物业")
    objection.locator("textarea[name=reason]").fill("绿化养护不到位，分数偏高")
    objection.get_by_role("button", name="提交异议").click()
    expect(owner.locator("#objections")).to_contain_text("【阳光物业】绿化养护不到位")
    assert_fits_phone(owner)
    page.reload()
    answer = page.locator("form[data-action=answer]")
    answer.locator("textarea[name=answer]").fill("已现场复核，绿化得分已计入")
    answer.get_by_role("button", name="答复").click()
    expect(page.locator("#objections")).to_contain_text("答复：已现场复核")

    ends = db.session.scalar(db.select(RatingRound.publicity_ends_at))
    db.session.close()
    with time_machine.travel(ends, tick=True):
        page.reload()
        page.locator("form[data-action=publish] button").click()
        expect(page.locator("#round-status")).to_have_text("已授牌")
        expect(page.locator("#ranking [data-stars='5']")).to_have_count(1)

        page.goto(f"{live_server}/h5/c/{code}")
        link = page.locator("#company-stars-link")
        expect(link).to_contain_text("阳光物业 ★★★★★")
        expect(link).to_contain_text("红色物业")
        assert_fits_phone(page)
        link.click()
        expect(page).to_have_url(f"{live_server}/h5/companies/{company_id}")
        expect(page.locator("#red-property")).to_have_text("红色物业")
        expect(page.locator("#company-history")).to_contain_text("2026年第3季度")
        assert_fits_phone(page)
        page.screenshot(path=str(artifacts / "rating-company.png"), full_page=True)


def test_an_official_records_credit_and_an_inspection_on_the_phone(
    app, live_server, make_area, make_compound, make_user, phone, artifacts
):
    district = make_area("东区", AreaLevel.DISTRICT, make_area("攀枝花市", AreaLevel.CITY))
    compound = make_compound(name="金沙苑小区", area=make_area("金沙社区", AreaLevel.COMMUNITY, district))
    company = make_company("阳光物业")
    serve(compound, company)
    make_user(Role.OFFICIAL, area=district, username="rt-inspector")
    code, company_id, district_id = compound.code, company.id, district.id
    db.session.commit()
    db.session.close()

    page = phone().new_page()
    page.goto(f"{live_server}/h5/rating/areas/{district_id}/method")
    sign_in_here(page, "rt-inspector")
    method = page.locator("#method-form")
    for field, value in (("survey_weight", "50"), ("service_weight", "30"), ("inspection_weight", "20"),
                         ("band_5", "90"), ("band_4", "80"), ("band_3", "70")):
        method.locator(f"input[name={field}]").fill(value)
    method.get_by_role("button", name="保存本区域评星办法").click()
    expect(page.locator("input[name=band_4]")).to_have_value("80")
    assert_fits_phone(page)

    page.goto(f"{live_server}/h5/rating/companies/{company_id}/credit")
    form = page.locator("#credit-form")
    form.locator("select[name=kind]").select_option("bad")
    form.locator("input[name=points_centi]").fill("-200")
    form.locator("input[name=occurred_on]").fill("2026-08-01")
    form.locator("textarea[name=reason]").fill("垃圾清运不及时")
    form.get_by_role("button", name="保存记录").click()
    expect(page.locator("#credit-records [data-kind=bad]")).to_contain_text("垃圾清运不及时")
    expect(page.locator("#credit-records")).to_contain_text("2027-08-01")
    assert_fits_phone(page)

    page.goto(f"{live_server}/h5/c/{code}/inspection")
    checklist = page.locator("#checklist .ll-check-item")
    expect(checklist).to_have_count(7)
    checklist.nth(1).locator("input[name=item_points]").fill("7")
    checklist.nth(1).locator("input[name=item_finding]").fill("楼道有杂物")
    sample = camera_jpeg(320, 240)
    checklist.nth(1).locator("input[name=item_photo]").set_input_files(
        {"name": sample.filename, "mimeType": sample.content_type, "buffer": sample.data})
    page.get_by_role("button", name="保存检查结果").click()
    expect(page.locator("#inspections")).to_contain_text("57/60")
    expect(page.locator("#inspections")).to_contain_text("95.00")
    expect(page.locator("#inspections")).to_contain_text("保洁：楼道有杂物")
    photo_link = page.locator("#inspections a", has_text="照片")
    assert page.request.get(live_server + photo_link.get_attribute("href")).headers["content-type"] == "image/jpeg"
    assert_fits_phone(page)
    page.screenshot(path=str(artifacts / "rating-inspection.png"), full_page=True)
