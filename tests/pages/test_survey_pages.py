"""Satisfaction survey pages: the compound tile and list, answering on one screen with big buttons, the receipt,
the results (样本不足 below the minimum, comments to the company only when published), the committee starting a
campaign, a surveyor's paper entry, and anonymity in HTML: no page shows a household next to its answers but
the household's own receipt."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.rating import QuestionKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, PropertyCompany, Survey, SurveyEvaluator, SurveyResponse
from backend.services import surveys as service
from backend.services.surveys import AnswerInput, CampaignDraft
from backend.shared.clock import utcnow
from tests import photo_samples as samples

COMMENT = "垃圾清运不及时-独一无二的意见5531"


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def world(make_compound, make_user, area_tree):
    *_, street, community = area_tree
    compound = make_compound(name="金沙苑", area=community, buildings=1, households_per_building=4)
    company = PropertyCompany(name="攀钢物业", credit_code="91510400MA62300001")
    db.session.add(company)
    db.session.flush()
    compound.property_company_id = company.id
    db.session.commit()
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    people = {
        "owners": [make_user(Role.OWNER, compound, household=home) for home in homes],
        "committee": make_user(Role.COMMITTEE, compound),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "official": make_user(Role.OFFICIAL, area=street),
        "evaluator": make_user(),
    }
    survey = service.create_campaign(CampaignDraft(
        title="物业服务满意度测评", area_id=street.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=5), min_households=2, publish_comments=True), people["official"].id)
    db.session.add(SurveyEvaluator(survey_id=survey.id, user_id=people["evaluator"].id,
                                   appointed_by_id=people["official"].id))
    db.session.commit()
    return compound, homes, people, survey.id


def form_answers(survey_id: int, value: int, comment: str = "") -> dict:
    data = {}
    for question in service.get_survey(survey_id).questions:
        if question.kind is QuestionKind.DIMENSION:
            data[f"q{question.id}"] = str(value)
        elif comment:
            data[f"q{question.id}"] = comment
    return data


def test_a_resident_answers_on_one_screen_and_reads_the_receipt(world, phone):
    compound, homes, people, survey_id = world
    owner = phone(people["owners"][0])
    home = text(owner.get(f"/h5/c/{compound.code}"))
    assert 'id="surveys-link"' in home and "测评中 1" in home
    listing = text(owner.get(f"/h5/c/{compound.code}/surveys"))
    assert "物业服务满意度测评" in listing and 'data-action="answer"' in listing
    page = text(owner.get(f"/h5/surveys/{survey_id}"))
    assert page.count('class="ll-sv-choice ll-sv-choice_5"') == 6 and 'id="answer-form"' in page

    missing = owner.post(f"/h5/surveys/{survey_id}/answer", data={"csrf_token": owner.csrf})
    assert missing.status_code == 422 and "请回答" in text(missing)
    done = owner.post(f"/h5/surveys/{survey_id}/answer",
                      data={"csrf_token": owner.csrf} | form_answers(survey_id, 4, "很好"))
    assert done.status_code == 302 and "/receipt" in done.headers["Location"]
    receipt = text(owner.get(done.headers["Location"]))
    assert "1栋1单元101室" in receipt and "第 1 次" in receipt and receipt.count("满意") >= 6
    again = text(owner.get(f"/h5/surveys/{survey_id}"))
    assert 'data-action="change_answer"' in again and "查看回执" in again
    # The form comes back with the answers given, to change one without starting over.
    assert again.count('value="4" required checked') == 6 and ">很好</textarea>" in again


def test_nobody_else_sees_a_household_next_to_its_answers_in_any_page(world, phone, client):
    compound, homes, people, survey_id = world
    service.submit_sheet(survey_id, people["owners"][2].id, None, [
        AnswerInput(question.id, 1) if question.kind is QuestionKind.DIMENSION else AnswerInput(question.id,
                                                                                                text=COMMENT)
        for question in service.get_survey(survey_id).questions])
    for owner in people["owners"][:2]:
        service.submit_sheet(survey_id, owner.id, None, [
            AnswerInput(question.id, 5) for question in service.get_survey(survey_id).questions
            if question.kind is QuestionKind.DIMENSION])
    room = "1栋1单元301室"
    pages = [f"/h5/surveys/{survey_id}", f"/h5/surveys/{survey_id}/results", f"/h5/c/{compound.code}/surveys",
             f"/h5/surveys/{survey_id}/receipt?household_id={homes[2].id}", "/h5/me/surveys", f"/h5/c/{compound.code}"]
    readers = [people["staff"], people["manager"], people["committee"], people["owners"][0]]

    def seen_by(reader) -> str:
        browser = phone(reader)
        return "\n".join(text(browser.get(path)) for path in pages)

    for reader in readers:
        seen = seen_by(reader)
        assert COMMENT not in seen and room not in seen
    service.close(survey_id, people["official"].id)
    for reader in readers:
        seen = seen_by(reader)
        assert room not in seen, reader.username
    # The company reads the comment, as text only, once closed and published.
    results = text(phone(people["manager"]).get(f"/h5/surveys/{survey_id}/results"))
    assert COMMENT in results and room not in results and 'id="chart-' in results
    assert "echarts.min.js" in results
    assert COMMENT not in text(phone(people["owners"][0]).get(f"/h5/surveys/{survey_id}/results"))
    # The household itself reads its own receipt.
    own = text(phone(people["owners"][2]).get(f"/h5/surveys/{survey_id}/receipt"))
    assert room in own and COMMENT in own
    assert phone(people["owners"][0]).get(
        f"/h5/surveys/{survey_id}/receipt?household_id={homes[2].id}").status_code == 404


def test_a_compound_below_the_minimum_shows_sample_insufficient(world, phone):
    compound, homes, people, survey_id = world
    service.submit_sheet(survey_id, people["owners"][0].id, None, [
        AnswerInput(question.id, 5) for question in service.get_survey(survey_id).questions
        if question.kind is QuestionKind.DIMENSION])
    running = text(phone(people["official"]).get(f"/h5/surveys/{survey_id}/results"))
    assert "参与 1 / 4 户" in running and "至少需 2 户" in running and "echarts" not in running
    official = phone(people["official"])
    closed = official.post(f"/h5/surveys/{survey_id}/close", data={"csrf_token": official.csrf})
    assert closed.status_code == 302
    results = text(phone(people["owners"][1]).get(f"/h5/surveys/{survey_id}/results"))
    assert "样本不足" in results and 'data-sufficient="no"' in results and "满意率 100.00%" not in results
    assert "echarts.min.js" not in results


def test_the_committee_starts_a_campaign_for_its_compound_from_the_form(world, phone):
    compound, _, people, _ = world
    committee = phone(people["committee"])
    form = text(committee.get("/h5/surveys/new"))
    assert f'value="compound:{compound.id}"' in form
    now = utcnow() + timedelta(hours=8)
    response = committee.post("/h5/surveys/new", data={
        "csrf_token": committee.csrf, "title": "本小区测评", "place": f"compound:{compound.id}",
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"), "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "min_percent": "40", "min_households": "12", "owners_only": "true"})
    assert response.status_code == 302, text(response)[:500]
    survey = db.session.scalar(select(Survey).where(Survey.title == "本小区测评"))
    assert (survey.compound_id, survey.min_response_bp, survey.min_households, survey.owners_only) == (
        compound.id, 4000, 12, True)
    bad = committee.post("/h5/surveys/new", data={"csrf_token": committee.csrf, "title": "",
                                                  "place": f"compound:{compound.id}"})
    assert bad.status_code == 422 and "请填写测评名称" in text(bad)
    # The form cannot go below the city's sample rule, nor past the calendar.
    assert 'min="30"' in form and 'min="10"' in form
    for field, value, message in (("min_percent", "0", "最低参与率须在30到100之间"),
                                  ("min_households", "1", "最低参与户数不能少于10户"),
                                  ("closes_at", "9999-12-31T23:59", "结束时间须在2000年至2100年之间")):
        low = committee.post("/h5/surveys/new", data={
            "csrf_token": committee.csrf, "title": "一户说了算", "place": f"compound:{compound.id}",
            "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")} | {field: value})
        assert low.status_code == 422 and message in text(low), field
    manager = phone(people["manager"])
    refused = manager.post("/h5/surveys/new", data={
        "csrf_token": manager.csrf, "title": "物业自己测", "place": f"compound:{compound.id}",
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"), "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")})
    assert refused.status_code == 403


def test_a_surveyor_enters_a_paper_sheet_by_building_and_room(world, phone):
    compound, homes, people, survey_id = world
    evaluator = phone(people["evaluator"])
    assert 'id="my-surveys-link"' in text(evaluator.get("/h5/"))
    assert 'id="my-surveys-link"' not in text(phone(people["owners"][0]).get("/h5/"))
    mine = text(evaluator.get("/h5/me/surveys"))
    assert "物业服务满意度测评" in mine
    form = text(evaluator.get(f"/h5/surveys/{survey_id}/paper"))
    building_id = homes[3].building_id
    assert f'value="{building_id}"' in form
    response = evaluator.post(f"/h5/surveys/{survey_id}/paper", content_type="multipart/form-data", data={
        "csrf_token": evaluator.csrf, "building_id": str(building_id), "unit": "1", "room": "401",
        "photo": samples.camera_jpeg(160, 120).upload()} | form_answers(survey_id, 3))
    assert response.status_code == 302, text(response)[:500]
    sheet = db.session.scalar(select(SurveyResponse).where(SurveyResponse.household_id == homes[3].id))
    assert sheet.paper and sheet.photo_key
    unknown = evaluator.post(f"/h5/surveys/{survey_id}/paper", content_type="multipart/form-data", data={
        "csrf_token": evaluator.csrf, "building_id": str(building_id), "unit": "1", "room": "999",
        "photo": samples.camera_jpeg(160, 120).upload()} | form_answers(survey_id, 3))
    assert unknown.status_code == 422 and "找不到该房屋" in text(unknown)
    assert phone(people["owners"][0]).get(f"/h5/surveys/{survey_id}/paper").status_code == 403
    # A household that answered online keeps its own sheet.
    service.submit_sheet(survey_id, people["owners"][0].id, None, [
        AnswerInput(question.id, 5) for question in service.get_survey(survey_id).questions
        if question.kind is QuestionKind.DIMENSION])
    online = evaluator.post(f"/h5/surveys/{survey_id}/paper", content_type="multipart/form-data", data={
        "csrf_token": evaluator.csrf, "building_id": str(building_id), "unit": "1", "room": "101",
        "photo": samples.camera_jpeg(160, 120).upload()} | form_answers(survey_id, 1))
    assert online.status_code == 409 and "该户已在线作答，无需录入纸质问卷" in text(online)
    kept = db.session.scalar(select(SurveyResponse).where(SurveyResponse.household_id == homes[0].id))
    db.session.refresh(kept)
    assert not kept.paper and kept.photo_key is None


def test_the_creator_adds_and_removes_questions_until_the_first_answer(world, phone):
    compound, _, people, survey_id = world
    official = phone(people["official"])
    added = official.post(f"/h5/surveys/{survey_id}/questions", data={
        "csrf_token": official.csrf, "kind": "choice", "text": "您是否愿意续聘现物业？", "option_lines": "愿意\n不愿意\n"})
    assert added.status_code == 302, text(added)[:300]
    official.post(f"/h5/surveys/{survey_id}/questions", data={
        "csrf_token": official.csrf, "kind": "text", "text": "停车有何建议？"})
    page = text(official.get(f"/h5/surveys/{survey_id}"))
    assert "您是否愿意续聘现物业？" in page and "愿意 / 不愿意" in page and "停车有何建议？" in page
    bad = official.post(f"/h5/surveys/{survey_id}/questions", data={
        "csrf_token": official.csrf, "kind": "choice", "text": "只有一个选项", "option_lines": "是"})
    assert bad.status_code == 422 and "至少需要2个选项" in text(bad)
    official.post(f"/h5/surveys/{survey_id}/questions", data={"csrf_token": official.csrf, "remove": "0"})
    assert [question.text for question in service.get_survey(survey_id).questions][7:] == ["停车有何建议？"]
    owner = phone(people["owners"][0])
    assert owner.post(f"/h5/surveys/{survey_id}/questions", data={
        "csrf_token": owner.csrf, "remove": "0"}).status_code == 403
    service.submit_sheet(survey_id, people["owners"][0].id, None, [
        AnswerInput(question.id, 5) for question in service.get_survey(survey_id).questions
        if question.kind is QuestionKind.DIMENSION])
    frozen = official.post(f"/h5/surveys/{survey_id}/questions", data={"csrf_token": official.csrf, "remove": "0"})
    assert frozen.status_code == 409 and 'id="questions-form"' not in text(official.get(f"/h5/surveys/{survey_id}"))


def test_a_tenant_receipt_in_an_owners_only_campaign_shows_no_answers(world, phone, make_user):
    compound, homes, people, _ = world
    tenant = make_user(Role.RESIDENT, compound, household=homes[1])
    survey = service.create_campaign(CampaignDraft(
        title="业主测评", area_id=compound.area_id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=5), owners_only=True), people["official"].id)
    service.submit_sheet(survey.id, people["owners"][1].id, None, [
        AnswerInput(question.id, 1) if question.kind is QuestionKind.DIMENSION else AnswerInput(question.id,
                                                                                                text=COMMENT)
        for question in service.get_survey(survey.id).questions])
    seen = text(phone(tenant).get(f"/h5/surveys/{survey.id}/receipt"))
    assert "1栋1单元201室" in seen and "第 1 次" in seen and 'id="receipt-hidden"' in seen
    assert COMMENT not in seen and "很不满意" not in seen and 'id="receipt-answers"' not in seen
    assert 'id="change-link"' not in seen
    own = text(phone(people["owners"][1]).get(f"/h5/surveys/{survey.id}/receipt"))
    assert COMMENT in own and "很不满意" in own and 'id="receipt-hidden"' not in own
