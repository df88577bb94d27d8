"""Satisfaction surveys (满意度测评) through the API: a street official's campaign over its compounds, a household's
sheet (one, the last counts) and its receipt, paper sheets by an appointed surveyor, the close and the results
(样本不足 below the minimum), who may answer (403 tenants, 404 strangers, 409 outside the window), and anonymity:
nobody but the household itself ever reads its answers next to it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.domain.rating import DEFAULT_DIMENSIONS
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    Area,
    Compound,
    Household,
    PropertyCompany,
    Survey,
    SurveyEvaluator,
    SurveyResponse,
    SurveyTally,
    User,
)
from backend.services import surveys as service
from backend.services.auth import issue_tokens
from backend.shared.clock import utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape, race

COMMENT = "电梯三号机经常停运-唯一意见7781"


@dataclass
class Place:
    street: Area
    compound: Compound
    neighbour: Compound
    elsewhere: Compound
    homes: list[Household]
    owners: list[User]
    tenant: User
    neighbour_owners: list[User]
    stranger: User
    official: User
    manager: User
    staff: User
    committee: User


def households(compound: Compound) -> list[Household]:
    return list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))


def headers(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def call(client, method: str, path: str, user: User | None = None, **kwargs):
    return client.open(path, method=method, headers=headers(user) if user else {}, **kwargs)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@pytest.fixture
def place(make_compound, make_area, area_tree, make_user) -> Place:
    _, district, street, community = area_tree
    steel = PropertyCompany(name="攀钢物业", credit_code="91510400MA62100001")
    golden = PropertyCompany(name="金沙物业", credit_code="91510400MA62100002")
    db.session.add_all([steel, golden])
    db.session.flush()
    # Sixteen homes: enough for the city's sample rule (10 households and 30%) to be met.
    compound = make_compound(name="金沙苑", area=community, households_per_building=8)
    neighbour = make_compound(name="炳草岗小区", area=community)
    elsewhere = make_compound(name="别处小区", area=make_area("别的社区", parent=district))
    compound.property_company_id = steel.id
    neighbour.property_company_id = golden.id
    elsewhere.property_company_id = steel.id
    db.session.commit()
    homes = households(compound)
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes]
    neighbour_owners = [make_user(Role.OWNER, neighbour, household=home) for home in households(neighbour)[:2]]
    return Place(
        street=street, compound=compound, neighbour=neighbour, elsewhere=elsewhere, homes=homes, owners=owners,
        tenant=make_user(Role.RESIDENT, compound, household=homes[1]),
        neighbour_owners=neighbour_owners,
        stranger=make_user(Role.OWNER, elsewhere, household=households(elsewhere)[0]),
        official=make_user(Role.OFFICIAL, area=street),
        manager=make_user(Role.MANAGER, compound),
        staff=make_user(Role.STAFF, compound),
        committee=make_user(Role.COMMITTEE, compound),
    )


def campaign(client, place: Place, **body) -> dict:
    now = utcnow()
    body = {
        "title": "2026年第四季度物业服务满意度测评", "area_id": place.street.id,
        "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=7)).isoformat(),
        "questions": [{"kind": "choice", "text": "您是否愿意续聘现物业？", "options": ["愿意", "不愿意", "无所谓"]}],
    } | body
    return ok(call(client, "POST", "/api/v1/surveys", place.official, json=body), 201)


def sheet(survey: dict, value: int = 5, comment: str = "", choice: int | None = 0, **extra) -> dict:
    answers = []
    for question in survey["questions"]:
        if question["kind"] == "dimension":
            answers.append({"question_id": question["id"], "value": value})
        elif question["kind"] == "choice" and choice is not None:
            answers.append({"question_id": question["id"], "value": choice})
        elif question["kind"] == "text" and comment:
            answers.append({"question_id": question["id"], "text": comment})
    return {"answers": answers} | extra


def answer(client, survey: dict, user: User, **kwargs):
    return call(client, "PUT", f"/api/v1/surveys/{survey['id']}/response", user, json=sheet(survey, **kwargs))


def close(client, survey: dict, user: User):
    return call(client, "POST", f"/api/v1/surveys/{survey['id']}/close", user)


def results(client, survey: dict, user: User) -> dict:
    return ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}/results", user))


def test_an_official_starts_a_campaign_over_every_compound_of_the_street_with_the_template(client, place):
    survey = campaign(client, place)
    kinds = [(question["kind"], question["text"], question["required"]) for question in survey["questions"]]
    assert kinds == [("dimension", text, True) for text in DEFAULT_DIMENSIONS] + [
        ("text", "其他意见和建议", False), ("choice", "您是否愿意续聘现物业？", False)]
    assert survey["compounds"] == 2 and survey["state"] == "open"
    assert set(survey["actions"]) == {"close", "edit_questions", "appoint_evaluator"}
    assert [choice["label"] for choice in survey["answer_choices"]] == ["很满意", "满意", "一般", "不满意", "很不满意", "不了解"]


def test_the_committee_starts_one_for_its_compound_and_a_manager_may_not(client, place):
    now = utcnow()
    body = {"title": "本小区测评", "compound_id": place.compound.id, "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(days=3)).isoformat()}
    survey = ok(call(client, "POST", "/api/v1/surveys", place.committee, json=body), 201)
    assert survey["compounds"] == 1 and survey["compound_id"] == place.compound.id
    assert_error_shape(call(client, "POST", "/api/v1/surveys", place.manager, json=body), 403)
    assert_error_shape(call(client, "POST", "/api/v1/surveys", place.stranger, json=body), 404)
    assert_error_shape(call(client, "POST", "/api/v1/surveys", place.committee,
                            json=body | {"area_id": place.street.id}), 422)
    assert_error_shape(call(client, "POST", "/api/v1/surveys", place.committee,
                            json=body | {"closes_at": (now - timedelta(days=1)).isoformat()}), 422)


def test_a_household_answers_changes_its_mind_and_reads_its_receipt_the_last_sheet_counting(client, place):
    survey = campaign(client, place)
    first = ok(answer(client, survey, place.owners[0], value=3))
    assert (first["revision"], first["household_id"], first["paper"]) == (1, place.homes[0].id, False)
    again = ok(answer(client, survey, place.owners[0], value=5, comment="保洁很好"))
    assert again["revision"] == 2
    receipt = ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}/response", place.owners[0]))
    assert receipt["revision"] == 2
    assert [answer["label"] for answer in receipt["answers"]][:6] == ["很满意"] * 6
    assert receipt["answers"][6]["text"] == "保洁很好"
    assert db.session.scalar(select(SurveyResponse.revision).where(
        SurveyResponse.survey_id == survey["id"])) == 2
    detail = ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}", place.owners[0]))
    assert detail["frozen"] is True and detail["actions"] == ["change_answer"]
    assert detail["my_households"] == [{"household_id": place.homes[0].id, "label": "1栋1单元101室",
                                        "may_answer": True, "answered": True}]


def test_questions_are_frozen_by_the_first_answer(client, place):
    survey = campaign(client, place)
    path = f"/api/v1/surveys/{survey['id']}"
    extra = [{"kind": "text", "text": "您对停车管理有何建议？"}]
    changed = ok(call(client, "PATCH", path, place.official, json={"questions": extra}))
    assert changed["questions"][-1]["text"] == "您对停车管理有何建议？" and len(changed["questions"]) == 8
    assert_error_shape(call(client, "PATCH", path, place.manager, json={"questions": extra}), 403)
    ok(answer(client, changed, place.owners[0]))
    assert_error_shape(call(client, "PATCH", path, place.official, json={"questions": []}), 409)
    assert "edit_questions" not in ok(call(client, "GET", path, place.official))["actions"]


def test_who_may_answer_tenants_strangers_and_the_window(client, place):
    survey = campaign(client, place, owners_only=True)
    assert_error_shape(answer(client, survey, place.tenant), 403)
    assert_error_shape(answer(client, survey, place.committee), 403)
    for path in ("", "/response", "/results"):
        assert_error_shape(call(client, "PUT" if path == "/response" else "GET",
                                f"/api/v1/surveys/{survey['id']}{path}", place.stranger,
                                json=sheet(survey) if path == "/response" else None), 404)
    assert_error_shape(answer(client, survey, place.stranger), 404)
    # Answering for a household of my compound that is not mine: 404 too.
    assert_error_shape(answer(client, survey, place.owners[0], household_id=place.homes[3].id), 404)
    assert_error_shape(answer(client, survey, place.owners[0], value=7), 422)
    assert_error_shape(call(client, "PUT", f"/api/v1/surveys/{survey['id']}/response", place.owners[0],
                            json={"answers": []}), 422)
    ok(close(client, survey, place.official))
    assert_error_shape(answer(client, survey, place.owners[0]), 409)
    assert_error_shape(close(client, survey, place.official), 409)

    later = campaign(client, place, opens_at=(utcnow() + timedelta(days=1)).isoformat())
    assert_error_shape(answer(client, later, place.owners[0]), 409)


def test_results_show_only_the_bar_while_running_then_figures_or_sample_insufficient(client, place):
    survey = campaign(client, place)
    for index, value in enumerate([5, 5, 5, 5, 4, 4, 4, 4, 2, 2]):
        ok(answer(client, survey, place.owners[index], value=value))
    ok(answer(client, survey, place.neighbour_owners[0], value=1))
    running = results(client, survey, place.official)
    assert running["published"] is False and running["campaign"]["figures"] == []
    bars = {row["compound_name"]: row for row in running["compounds"]}
    assert (bars["金沙苑"]["answered"], bars["金沙苑"]["response_rate_bp"], bars["金沙苑"]["needed"]) == (10, 6250, 10)
    assert all(row["figures"] == [] and row["overall"] is None for row in running["compounds"])
    assert "view_results" not in ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}", place.owners[0]))["actions"]

    ok(close(client, survey, place.official))
    closed = results(client, survey, place.official)
    by_name = {row["compound_name"]: row for row in closed["compounds"]}
    mine = by_name["金沙苑"]
    assert closed["published"] is True and mine["sufficient"] is True and mine["sample_label"] is None
    # 4 很满意 + 4 满意 of 10 valid per dimension: 满意率 80%, score (4×100 + 4×75 + 2×25)/10 = 75.
    assert [(figure["label"], figure["valid"], figure["rate_bp"], figure["score_centi"])
            for figure in mine["figures"]] == [(text, 10, 8000, 7500) for text in DEFAULT_DIMENSIONS]
    assert mine["overall"]["valid"] == 60 and mine["overall"]["rate_bp"] == 8000
    neighbour = by_name["炳草岗小区"]
    assert (neighbour["sufficient"], neighbour["sample_label"], neighbour["figures"], neighbour["overall"]) == (
        False, "样本不足", [], None)
    # The campaign pools only compounds with a sufficient sample.
    assert closed["campaign"]["overall"]["valid"] == 60 and closed["campaign"]["answered"] == 11
    # A resident sees their own compound's, not the neighbour's.
    assert [row["compound_name"] for row in results(client, survey, place.owners[5])["compounds"]] == ["金沙苑"]
    assert "view_results" in ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}", place.owners[0]))["actions"]
    overall = db.session.scalars(select(SurveyTally).where(
        SurveyTally.survey_id == survey["id"], SurveyTally.subject == "overall")).all()
    assert sorted((row.answered, row.sufficient) for row in overall) == [(1, False), (10, True)]


def test_the_tally_rerun_gives_identical_rows(client, place):
    survey = campaign(client, place)
    for index in range(4):
        ok(answer(client, survey, place.owners[index], value=index % 6, comment=f"意见{index}"))
    ok(close(client, survey, place.official))

    def rows():
        db.session.expire_all()
        return [(row.id, row.compound_id, row.subject, row.households, row.answered, row.counts, row.valid,
                 row.satisfied, row.rate_bp, row.score_centi, row.sufficient)
                for row in db.session.scalars(select(SurveyTally).where(SurveyTally.survey_id == survey["id"])
                                              .order_by(SurveyTally.id))]

    before = rows()
    # Six dimensions, the choice question and overall, for each of the two compounds.
    assert len(before) == 16
    service.tally(survey["id"])
    service.tally(survey["id"])
    assert rows() == before


def test_an_appointed_surveyor_enters_a_paper_sheet_with_its_photo(client, place, make_user):
    survey = campaign(client, place)
    path = f"/api/v1/surveys/{survey['id']}/evaluators"
    assert_error_shape(call(client, "POST", path, place.committee, json={"phone": "13900001111"}), 403)
    appointed = ok(call(client, "POST", path, place.official, json={"phone": "13900001111", "name": "第三方王"}), 201)
    evaluator = db.session.get(User, appointed["user_id"])
    assert appointed["phone_masked"].startswith("139") and evaluator.display_name == "第三方王"
    again = ok(call(client, "POST", path, place.official, json={"phone": "139 0000 1111"}), 201)
    assert again["user_id"] == evaluator.id

    def paper(user, household, **fields):
        body = {"household_id": str(household.id),
                "answers": json.dumps(sheet(survey, value=4)["answers"]),
                "photo": samples.camera_jpeg(160, 120).upload()} | fields
        return client.post(f"/api/v1/surveys/{survey['id']}/paper-responses", data=body, headers=headers(user),
                           content_type="multipart/form-data")

    assert "enter_paper" in ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}", evaluator))["actions"]
    entered = ok(paper(evaluator, place.homes[6]), 201)
    assert "answers" not in entered and "household_id" not in json.dumps(entered)
    stored = db.session.scalar(select(SurveyResponse).where(SurveyResponse.household_id == place.homes[6].id))
    assert stored.paper and stored.photo_key and stored.answered_by_id == evaluator.id
    # The household's own people read it as their receipt.
    receipt = ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}/response", place.owners[6]))
    assert receipt["paper"] is True and receipt["answers"][0]["label"] == "满意"
    assert_error_shape(paper(place.owners[0], place.homes[0]), 403)
    assert_error_shape(paper(evaluator, households(place.elsewhere)[0]), 422)
    assert_error_shape(paper(evaluator, place.homes[5], photo=None), 422)
    mine = ok(call(client, "GET", "/api/v1/me/surveys", evaluator))
    assert [item["id"] for item in mine["items"]] == [survey["id"]]
    assert [item["id"] for item in ok(call(client, "GET", "/api/v1/me/surveys", place.official))["items"]] == [
        survey["id"]]


def test_the_compound_lists_running_campaigns_and_closed_ones_with_results(client, place):
    survey = campaign(client, place)
    campaign(client, place, title="下个月的测评", opens_at=(utcnow() + timedelta(days=10)).isoformat(),
             closes_at=(utcnow() + timedelta(days=20)).isoformat())
    path = f"/api/v1/compounds/{place.compound.id}/surveys"
    listed = ok(call(client, "GET", path, place.owners[0]))["items"]
    assert [(item["id"], item["actions"]) for item in listed] == [(survey["id"], ["answer"])]
    assert len(ok(call(client, "GET", path, place.official))["items"]) == 2
    assert_error_shape(call(client, "GET", path, place.stranger), 404)


# ---- anonymity -----------------------------------------------------------------------------------------


def everything_seen(client, survey: dict, place: Place, user: User) -> str:
    """Every answer this person gets from the campaign's endpoints."""
    paths = [f"/api/v1/surveys/{survey['id']}", f"/api/v1/surveys/{survey['id']}/results",
             f"/api/v1/compounds/{place.compound.id}/surveys", "/api/v1/me/surveys",
             f"/api/v1/surveys/{survey['id']}/response",
             f"/api/v1/surveys/{survey['id']}/response?household_id={place.homes[2].id}"]
    return "\n".join(json.dumps(call(client, "GET", path, user).get_json(), ensure_ascii=False) for path in paths)


def test_nobody_but_the_household_reads_its_answers_next_to_it(client, place):
    survey = campaign(client, place, publish_comments=True)
    ok(answer(client, survey, place.owners[2], value=1, comment=COMMENT))
    for index in (0, 3, 4):
        ok(answer(client, survey, place.owners[index], value=5, comment=f"第{index}户的意见"))
    # Enough sheets for the compound's sample, without comments.
    for index in range(5, 11):
        ok(answer(client, survey, place.owners[index], value=4))
    room = "1栋1单元301室"
    for reader in (place.staff, place.manager, place.committee, place.owners[0], place.tenant):
        seen = everything_seen(client, survey, place, reader)
        assert COMMENT not in seen and room not in seen, reader.username
        assert_error_shape(call(client, "GET", f"/api/v1/surveys/{survey['id']}/response?household_id="
                                f"{place.homes[2].id}", reader), 404)
    ok(close(client, survey, place.official))
    for reader in (place.staff, place.manager, place.committee, place.owners[0], place.tenant):
        seen = everything_seen(client, survey, place, reader)
        assert room not in seen and f'"household_id": {place.homes[2].id}' not in seen
    # The company reads comments as text only, in the order of their text.
    company = results(client, survey, place.manager)["compounds"]
    assert company[0]["comments"] == sorted([COMMENT, "第0户的意见", "第3户的意见", "第4户的意见"])
    assert results(client, survey, place.owners[0])["compounds"][0]["comments"] is None
    # The household itself reads its own sheet.
    receipt = ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}/response", place.owners[2]))
    assert receipt["household_label"] == room and receipt["answers"][6]["text"] == COMMENT


def test_comments_stay_hidden_from_the_company_unless_published(client, place):
    survey = campaign(client, place)
    # A sufficient sample: the comments stay hidden for want of publication, not of sheets.
    for index in range(10):
        ok(answer(client, survey, place.owners[index], comment=COMMENT))
    ok(close(client, survey, place.official))
    company = results(client, survey, place.manager)["compounds"][0]
    assert company["sufficient"] is True and company["comments"] is None
    assert COMMENT not in json.dumps(results(client, survey, place.manager), ensure_ascii=False)


def test_the_lists_cost_the_same_statements_however_many_campaigns(client, place, count_queries):
    def statements(user: User, path: str) -> int:
        with count_queries() as seen:
            ok(call(client, "GET", path, user))
        return len(seen)

    lists = [(place.owners[0], f"/api/v1/compounds/{place.compound.id}/surveys"), (place.official, "/api/v1/me/surveys")]
    ok(answer(client, campaign(client, place), place.owners[0]))
    one = [statements(user, path) for user, path in lists]
    for _ in range(3):
        ok(answer(client, campaign(client, place), place.owners[0]))
    assert [statements(user, path) for user, path in lists] == one
    assert len(ok(call(client, "GET", lists[0][1], place.owners[0]))["items"]) == 4


# ---- the sample rule's floor, odd bodies, paper over online, a tenant's receipt ---------------------------------


def committee_body(place: Place, **extra) -> dict:
    now = utcnow()
    return {"title": "本小区测评", "compound_id": place.compound.id, "opens_at": (now - timedelta(minutes=5)).isoformat(),
            "closes_at": (now + timedelta(days=3)).isoformat()} | extra


@pytest.mark.parametrize(("rule", "message"), [
    ({"min_response_bp": 0}, "最低参与率须在30%到100%之间"),
    ({"min_response_bp": 2999}, "最低参与率须在30%到100%之间"),
    ({"min_response_bp": 10001}, "最低参与率须在30%到100%之间"),
    ({"min_households": 0}, "最低参与户数不能少于10户"),
    ({"min_households": 9}, "最低参与户数不能少于10户"),
])
def test_a_campaign_cannot_lower_the_city_sample_rule(client, place, rule, message):
    response = call(client, "POST", "/api/v1/surveys", place.committee, json=committee_body(place, **rule))
    assert_error_shape(response, 422)
    assert message in json.dumps(response.get_json(), ensure_ascii=False)


def test_one_household_sheet_never_reaches_the_company_as_figures(client, place):
    survey = ok(call(client, "POST", "/api/v1/surveys", place.committee, json=committee_body(place)), 201)
    assert (survey["min_response_bp"], survey["min_households"]) == (3000, 10)
    ok(answer(client, survey, place.owners[0], value=1))
    ok(close(client, survey, place.committee))
    row = results(client, survey, place.manager)["compounds"][0]
    assert (row["answered"], row["sufficient"], row["sample_label"], row["figures"]) == (1, False, "样本不足", [])


def test_a_compound_without_a_sheet_is_never_sufficient(client, place):
    survey = ok(call(client, "POST", "/api/v1/surveys", place.committee, json=committee_body(place)), 201)
    # A rule stored before the floor (or written by hand) that nothing could fail.
    db.session.execute(update(Survey).where(Survey.id == survey["id"]).values(min_response_bp=0, min_households=0))
    db.session.commit()
    ok(close(client, survey, place.committee))
    row = results(client, survey, place.committee)["compounds"][0]
    assert (row["answered"], row["sufficient"], row["sample_label"]) == (0, False, "样本不足")


@pytest.mark.parametrize("answers", ["[" * 100_000, "[" * 40 + "]" * 40], ids=["100000-deep", "40-deep"])
def test_paper_answers_nested_too_deep_are_refused_not_a_crash(client, place, answers):
    survey = campaign(client, place)
    data = {"household_id": str(place.homes[0].id), "answers": answers, "photo": samples.camera_jpeg().upload()}
    path = f"/api/v1/surveys/{survey['id']}/paper-responses"
    assert_error_shape(call(client, "POST", path, place.official, data=data, content_type="multipart/form-data"), 422)
    # Read before the sign-in is asked for: anonymous too.
    data["photo"] = samples.camera_jpeg().upload()
    assert_error_shape(client.post(path, data=data, content_type="multipart/form-data"), 422)


@pytest.mark.parametrize("times", [
    {"closes_at": "9999-12-31T23:59:59-14:00"},
    {"opens_at": "0001-01-01T00:00:00+14:00"},
    {"closes_at": "9999-12-31T23:59:59+00:00"},
    {"opens_at": "1999-12-31T23:59:59+00:00"},
    {"closes_at": "2101-01-01T00:00:00+00:00"},
])
def test_campaign_times_at_the_calendar_edge_are_refused(client, place, times):
    response = call(client, "POST", "/api/v1/surveys", place.official,
                    json={"title": "t", "area_id": place.street.id, "opens_at": utcnow().isoformat(),
                          "closes_at": (utcnow() + timedelta(days=3)).isoformat()} | times)
    assert_error_shape(response, 422)
    assert "须在2000年至2100年之间" in json.dumps(response.get_json(), ensure_ascii=False)
    survey = campaign(client, place)
    assert_error_shape(call(client, "PATCH", f"/api/v1/surveys/{survey['id']}", place.official, json=times), 422)


def test_text_only_on_a_text_question_and_a_value_never_on_one(client, place):
    survey = campaign(client, place)
    path = f"/api/v1/surveys/{survey['id']}/response"
    good = sheet(survey)["answers"]
    dimension = next(question["id"] for question in survey["questions"] if question["kind"] == "dimension")
    choice = next(question["id"] for question in survey["questions"] if question["kind"] == "choice")
    comment = next(question["id"] for question in survey["questions"] if question["kind"] == "text")
    for question_id, wrong in ((dimension, {"value": 5, "text": "文字在满意度题上"}),
                               (choice, {"value": 0, "text": "文字在单选题上"}),
                               (comment, {"value": 3, "text": "意见"})):
        answers = [item for item in good if item["question_id"] != question_id] + [{"question_id": question_id} | wrong]
        assert_error_shape(call(client, "PUT", path, place.owners[0], json={"answers": answers}), 422)
    assert db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey["id"])) is None


def appointed(client, place: Place, survey: dict) -> User:
    body = {"phone": "13900002222", "name": "第三方李"}
    made = ok(call(client, "POST", f"/api/v1/surveys/{survey['id']}/evaluators", place.official, json=body), 201)
    return db.session.get(User, made["user_id"])


def paper_sheet(client, survey: dict, surveyor: User, household: Household, value: int = 2):
    body = {"household_id": str(household.id), "answers": json.dumps(sheet(survey, value=value)["answers"]),
            "photo": samples.camera_jpeg(160, 120).upload()}
    return client.post(f"/api/v1/surveys/{survey['id']}/paper-responses", data=body, headers=headers(surveyor),
                       content_type="multipart/form-data")


def test_a_paper_sheet_never_replaces_the_household_online_answer(client, place):
    survey = campaign(client, place)
    surveyor = appointed(client, place, survey)
    ok(answer(client, survey, place.owners[0], value=5))
    refused = paper_sheet(client, survey, surveyor, place.homes[0])
    assert_error_shape(refused, 409)
    assert refused.get_json()["message"] == "该户已在线作答，无需录入纸质问卷"
    receipt = ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}/response", place.owners[0]))
    assert (receipt["paper"], receipt["revision"], receipt["answers"][0]["label"]) == (False, 1, "很满意")
    # A paper sheet replaces an earlier paper sheet; the household's own answer after it replaces it in turn.
    ok(paper_sheet(client, survey, surveyor, place.homes[3], value=2), 201)
    ok(paper_sheet(client, survey, surveyor, place.homes[3], value=3), 201)
    ok(answer(client, survey, place.owners[3], value=4))
    receipt = ok(call(client, "GET", f"/api/v1/surveys/{survey['id']}/response", place.owners[3]))
    assert (receipt["paper"], receipt["revision"], receipt["answers"][0]["label"]) == (False, 3, "满意")
    assert_error_shape(paper_sheet(client, survey, surveyor, place.homes[3]), 409)


def test_a_tenant_in_an_owners_only_campaign_sees_that_the_household_answered_not_how(client, place):
    survey = campaign(client, place, owners_only=True)
    ok(answer(client, survey, place.owners[1], value=1, comment=COMMENT))
    path = f"/api/v1/surveys/{survey['id']}/response"
    tenant = ok(call(client, "GET", path, place.tenant))
    assert (tenant["household_id"], tenant["revision"], tenant["answers_shown"], tenant["answers"]) == (
        place.homes[1].id, 1, False, [])
    assert tenant["updated_at"] and COMMENT not in json.dumps(tenant, ensure_ascii=False)
    owner = ok(call(client, "GET", path, place.owners[1]))
    assert owner["answers_shown"] is True and owner["answers"][0]["label"] == "很不满意"
    # Where tenants answer too, the tenant reads the household's sheet as its own.
    open_to_all = campaign(client, place)
    ok(answer(client, open_to_all, place.owners[1], value=1))
    assert ok(call(client, "GET", f"/api/v1/surveys/{open_to_all['id']}/response", place.tenant))["answers_shown"]


@pytest.mark.postgresql
@pytest.mark.live
def test_paper_sheets_racing_with_the_household_online_answer_never_replace_it(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    home = households(compound)[0]
    owner, committee, surveyor = make_user(Role.OWNER, compound, household=home), make_user(Role.COMMITTEE, compound), \
        make_user()
    survey = service.create_campaign(service.CampaignDraft(
        title="测评", compound_id=compound.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=3)), committee.id)
    db.session.add(SurveyEvaluator(survey_id=survey.id, user_id=surveyor.id, appointed_by_id=committee.id))
    db.session.commit()
    detail = {"questions": [{"id": question.id, "kind": question.kind.value} for question in survey.questions]}
    survey_id, home_id = survey.id, home.id
    online = ("PUT", f"/api/v1/surveys/{survey_id}/response", headers(owner), sheet(detail, value=5))
    papers = []
    for _ in range(5):
        boundary, body = encode_multipart({
            "household_id": str(home_id), "answers": json.dumps(sheet(detail, value=1)["answers"]),
            "photo": FileStorage(*samples.camera_jpeg(160, 120).upload())})
        papers.append(("POST", f"/api/v1/surveys/{survey_id}/paper-responses",
                       headers(surveyor) | {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body))
    db.session.remove()

    answers = race(app, [*papers[:2], online, *papers[2:]])
    assert answers[2][0] == 200 and {status for status, _ in answers[:2] + answers[3:]} <= {201, 409}, answers
    # Whatever the order, the household's own answer is the sheet that counts.
    stored = db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)).all()
    assert len(stored) == 1 and not stored[0].paper and stored[0].photo_key is None
    assert stored[0].revision == 1 + sum(status == 201 for status, _ in answers)
