"""The rating pages: refused input comes back as the page with the reason, the steps and forms do what the API
does, other areas' rounds stay hidden, and the company page is public."""
from __future__ import annotations

import html

import pytest

from backend.extensions import db
from backend.models import CreditRecord, Inspection, RatingRound
from tests.api.test_rating import METHOD, put_method, surveys
from tests.api.test_rating import world as world  # noqa: PLC0414  (the fixture)
from tests.presenters.two_doors import api_headers
from tests.rating_support import run_jobs


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_official_starts_and_reviews_a_round_on_the_pages(app, client, world, phone):
    put_method(client, world, METHOD)
    surveys(world)
    official = phone(world.district_official)
    listing = official.get("/h5/rating")
    assert world.district.name in text(listing) and 'id="round-form"' in text(listing)
    bad = official.post("/h5/rating/rounds", data={"csrf_token": official.csrf, "area_id": world.district.id,
                                                   "period_kind": "quarter", "period_start": "2026-08-01"})
    assert "季度须从1月、4月、7月或10月的1日开始" in text(bad)
    created = official.post("/h5/rating/rounds", data={"csrf_token": official.csrf, "area_id": world.district.id,
                                                       "period_kind": "quarter", "period_start": "2026-07-01"})
    assert created.status_code == 302
    round_id = db.session.scalar(db.select(RatingRound.id))
    run_jobs(app)
    page = text(official.get(f"/h5/rating/rounds/{round_id}"))
    assert "宏达物业" in page and "样本不足 1" in page and 'data-action="review"' not in page
    assert "/inspection" in page  # the district's housing department inspects the compounds below
    # The 初审 is the street's; its official is offered no inspection it may not enter.
    street = phone(world.street_official)
    street_page = text(street.get(f"/h5/rating/rounds/{round_id}"))
    assert 'data-action="review"' in street_page and "信用记录" in street_page and "/inspection" not in street_page
    reviewed = street.post(f"/h5/rating/rounds/{round_id}/review", data={"csrf_token": street.csrf})
    assert reviewed.status_code == 302
    again = street.post(f"/h5/rating/rounds/{round_id}/review", data={"csrf_token": street.csrf},
                        headers={"Referer": f"http://localhost/h5/rating/rounds/{round_id}"}, follow_redirects=True)
    assert "该轮评星不在待初审状态" in text(again)
    assert phone(world.other_official).get(f"/h5/rating/rounds/{round_id}").status_code == 404
    for person, listed in ((world.street_official, True), (world.city_official, True), (world.other_official, False)):
        assert (f'data-round="{round_id}"' in text(phone(person).get("/h5/rating"))) is listed
    assert phone(world.resident).get(f"/h5/rating/rounds/{round_id}").status_code == 404


def test_credit_and_inspection_forms(world, phone):
    official = phone(world.street_official)
    refused = official.post(f"/h5/rating/companies/{world.a.id}/credit", data={
        "csrf_token": official.csrf, "kind": "good", "points_centi": "-100", "reason": "表彰", "occurred_on": "2026-08-01"})
    assert "良好记录须加分" in text(refused)
    saved = official.post(f"/h5/rating/companies/{world.a.id}/credit", data={
        "csrf_token": official.csrf, "kind": "bad", "points_centi": "-100", "reason": "投诉多", "occurred_on": "2026-08-01",
        "expires_on": ""})
    assert saved.status_code == 302
    assert db.session.scalar(db.select(CreditRecord.points_centi)) == -100
    assert phone(world.resident).get(f"/h5/rating/companies/{world.a.id}/credit").status_code == 404

    # The street's official records credit but does not inspect: the district's housing department does.
    refused = official.get(f"/h5/c/{world.a1.code}/inspection")
    assert refused.status_code == 403 and "只有区县住建部门" in text(refused)
    official = phone(world.district_official)
    form = official.get(f"/h5/c/{world.a1.code}/inspection")
    assert text(form).count('name="item_name"') == 7
    names = ["服务接待", "保洁", ""]
    saved = official.post(f"/h5/c/{world.a1.code}/inspection", data={
        "csrf_token": official.csrf, "inspected_on": "2026-08-02", "note": "",
        "item_name": names, "item_max_points": ["10", "10", ""], "item_points": ["10", "4", ""],
        "item_finding": ["", "垃圾桶满溢", ""]}, content_type="multipart/form-data")
    assert saved.status_code == 302
    inspection = db.session.scalar(db.select(Inspection))
    assert (inspection.points, inspection.max_points, inspection.items[1].finding) == (14, 20, "垃圾桶满溢")
    too_many = official.post(f"/h5/c/{world.a1.code}/inspection", data={
        "csrf_token": official.csrf, "inspected_on": "2026-08-02", "item_name": ["保洁"], "item_max_points": ["10"],
        "item_points": ["12"], "item_finding": [""]}, content_type="multipart/form-data")
    assert "第1项得分不能高于满分" in text(too_many)
    assert phone(world.resident).get(f"/h5/c/{world.a1.code}/inspection").status_code == 403


def test_the_company_page_needs_no_sign_in(client, world):
    page = client.get(f"/h5/companies/{world.a.id}")
    assert page.status_code == 200 and "阳光物业" in text(page) and "尚未评星" in text(page)
    assert client.get("/h5/companies/2147483647").status_code == 404


def test_the_method_form_takes_points_and_percents(client, world, phone):
    official = phone(world.district_official)
    url = f"/h5/rating/areas/{world.district.id}/method"
    assert "尚未设置" in text(official.get(url))
    base = {"csrf_token": official.csrf, "survey_weight": "50", "service_weight": "30", "inspection_weight": "20",
            "min_stars": "0", "publicity_days": "7"}
    refused = official.post(url, data=base | {"survey_weight": "60", "method": "bands", "band_5": "90"})
    assert "三项权重之和须为100" in text(refused)
    saved = official.post(url, data=base | {"method": "rank", "cutoff": ["10", "35", "85", "97", ""]})
    assert saved.status_code == 302
    body = client.get(f"/api/v1/areas/{world.street.id}/rating-method", headers=api_headers(world.street_official))
    assert (body.json["method"], body.json["cutoffs_bp"], body.json["inherited"]) == ("rank", [1000, 3500, 8500, 9700],
                                                                                     True)
    assert 'value="35"' in text(official.get(url))
    assert official.post(url, data=base | {"method": "bands", "band_5": "90", "band_3": "60"}).status_code == 302
    assert client.get(f"/api/v1/areas/{world.district.id}/rating-method",
                      headers=api_headers(world.district_official)).json["bands"] == [
        {"min_score_centi": 6000, "stars": 3}, {"min_score_centi": 9000, "stars": 5}]
    assert phone(world.street_official).get(url).status_code == 403
