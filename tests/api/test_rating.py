"""Company scores and stars (评星定级) through the API: the per-area method (the nearest area above wins), credit
records and inspections, a round computed by a real worker (samples too small left out, rank cut-offs with ties,
no star after a major accident or a 黑榜 listing, a rerun giving identical rows), the steps in order, each once, by
the right officials, objections during publicity, publish refused too early or with an unanswered objection, the
红黑榜 export and the public company page."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.rating import CreditKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Area, AuditEvent, CompanyRating, Compound, CreditRecord, PropertyCompany, User
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests.photo_samples import camera_jpeg
from tests.rating_support import (
    Q3,
    closed_survey,
    committee_survey,
    make_company,
    run_jobs,
    serve,
    snapshot,
    tally,
)
from tests.support import assert_error_shape, first_household, race

MULTIPART = "multipart/form-data"
BANDS = [{"min_score_centi": 9000, "stars": 5}, {"min_score_centi": 8000, "stars": 4},
         {"min_score_centi": 7000, "stars": 3}, {"min_score_centi": 6000, "stars": 2},
         {"min_score_centi": 5000, "stars": 1}]
METHOD = {"survey_weight": 50, "service_weight": 30, "inspection_weight": 20, "method": "bands", "bands": BANDS}


def headers(user: User | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user is not None else {}


@dataclass
class World:
    city: Area
    district: Area
    street: Area
    community: Area
    a1: Compound  # company A, enough answers
    a2: Compound  # company A, too few answers
    b1: Compound  # company B
    c1: Compound  # company C (another street of the district)
    a: PropertyCompany
    b: PropertyCompany
    c: PropertyCompany
    city_official: User
    district_official: User
    street_official: User
    community_official: User
    other_official: User  # another district
    resident: User  # of a1
    stranger: User  # of a compound in another district


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    city, district, street, community = area_tree
    street2 = make_area("第二街道", AreaLevel.STREET, district)
    community2 = make_area("第二社区", AreaLevel.COMMUNITY, street2)
    other_district = make_area("西区", AreaLevel.DISTRICT, city)
    elsewhere = make_compound(area=make_area("西区社区", AreaLevel.COMMUNITY, other_district))
    a1 = make_compound(name="甲小区", area=community, buildings=1, households_per_building=2)
    a2 = make_compound(name="乙小区", area=community)
    b1 = make_compound(name="丙小区", area=community)
    c1 = make_compound(name="丁小区", area=community2)
    a, b, c = make_company("阳光物业", has_party_org=True), make_company("安居物业"), make_company("宏达物业")
    serve(a1, a), serve(a2, a), serve(b1, b), serve(c1, c), serve(elsewhere, make_company())
    db.session.commit()
    return World(
        city=city, district=district, street=street, community=community, a1=a1, a2=a2, b1=b1, c1=c1, a=a, b=b, c=c,
        city_official=make_user(Role.OFFICIAL, area=city),
        district_official=make_user(Role.OFFICIAL, area=district),
        street_official=make_user(Role.OFFICIAL, area=street),
        community_official=make_user(Role.OFFICIAL, area=community),
        other_official=make_user(Role.OFFICIAL, area=other_district),
        resident=make_user(Role.RESIDENT, a1, household=first_household(a1)),
        stranger=make_user(Role.RESIDENT, elsewhere, household=first_household(elsewhere)),
    )


def put_method(client, world: World, body: dict, user: User | None = None, area: Area | None = None):
    area = area or world.district
    return client.put(f"/api/v1/areas/{area.id}/rating-method", json=body,
                      headers=headers(user or world.district_official))


def start_round(client, app, world: World, user: User | None = None, area: Area | None = None) -> dict:
    response = client.post("/api/v1/rating-rounds", headers=headers(user or world.district_official),
                           json={"area_id": (area or world.district).id, "period_kind": "quarter",
                                 "period_start": Q3.isoformat()})
    assert response.status_code == 201, response.json
    run_jobs(app)
    return get_round(client, response.json["id"], user or world.district_official)


def get_round(client, round_id: int, user: User | None) -> dict:
    response = client.get(f"/api/v1/rating-rounds/{round_id}", headers=headers(user))
    assert response.status_code == 200, response.json
    return response.json


def lines(round_body: dict) -> dict[str, dict]:
    return {line["company_name"]: line for line in round_body["lines"]}


def surveys(world: World) -> None:
    survey = closed_survey(world.district_official, world.district.id)
    tally(survey, world.a1, [0, 0, 0, 0, 10, 10])  # 87.5 points
    tally(survey, world.a2, [0, 5, 0, 0, 0, 0], sufficient=False)  # would drag A down to 58.33
    tally(survey, world.b1, [0, 0, 0, 20, 0, 0])  # 50 points
    tally(survey, world.c1, [2, 0, 0, 0, 0, 20])  # 100 points; 不了解 is not valid
    db.session.commit()


# ---- the method --------------------------------------------------------------------------------------------------


def test_method_is_data_and_the_nearest_area_above_wins(client, world):
    assert put_method(client, world, METHOD).status_code == 200
    inherited = client.get(f"/api/v1/areas/{world.street.id}/rating-method", headers=headers(world.street_official))
    assert inherited.status_code == 200
    assert (inherited.json["inherited"], inherited.json["source_area_id"], inherited.json["survey_weight"]) == (
        True, world.district.id, 50)
    own = put_method(client, world, METHOD | {"method": "rank", "cutoffs_bp": [1000, 3500, 8500, 9700]},
                     user=world.street_official, area=world.street)
    assert own.status_code == 200 and own.json["inherited"] is False and own.json["cutoffs_bp"][0] == 1000
    body = client.get(f"/api/v1/areas/{world.community.id}/rating-method", headers=headers(world.community_official))
    assert (body.json["source_area_id"], body.json["method"]) == (world.street.id, "rank")


@pytest.mark.parametrize("bad", [
    METHOD | {"survey_weight": 60},
    METHOD | {"bands": []},
    METHOD | {"bands": [{"min_score_centi": 9000, "stars": 4}, {"min_score_centi": 8000, "stars": 5}]},
    METHOD | {"method": "rank", "cutoffs_bp": [5000, 2000]},
    METHOD | {"method": "rank", "cutoffs_bp": [1000, 2000, 3000, 4000, 5000, 6000]},
    METHOD | {"method": "stars"},
    METHOD | {"min_stars": 6},
    METHOD | {"survey_weight": "fifty"},
])
def test_a_bad_method_is_refused(client, world, bad):
    assert_error_shape(put_method(client, world, bad), 422)


def test_method_by_the_wrong_people(client, world):
    assert_error_shape(put_method(client, world, METHOD, user=world.street_official), 403)
    assert_error_shape(put_method(client, world, METHOD, user=world.other_official), 404)
    assert_error_shape(put_method(client, world, METHOD, user=world.resident), 403)
    assert_error_shape(client.put(f"/api/v1/areas/{world.district.id}/rating-method", json=METHOD), 401)


def test_a_round_without_any_method_is_refused(client, world):
    response = client.post("/api/v1/rating-rounds", headers=headers(world.district_official),
                           json={"area_id": world.district.id, "period_kind": "quarter", "period_start": "2026-07-01"})
    assert_error_shape(response, 409)
    assert "评星办法" in response.json["message"]


def test_a_period_must_begin_a_quarter_and_a_round_is_started_once(client, app, world):
    put_method(client, world, METHOD)
    response = client.post("/api/v1/rating-rounds", headers=headers(world.district_official),
                           json={"area_id": world.district.id, "period_kind": "quarter", "period_start": "2026-08-01"})
    assert_error_shape(response, 422)
    start_round(client, app, world)
    again = client.post("/api/v1/rating-rounds", headers=headers(world.district_official),
                        json={"area_id": world.district.id, "period_kind": "quarter", "period_start": "2026-07-01"})
    assert_error_shape(again, 409)
    assert_error_shape(client.post("/api/v1/rating-rounds", headers=headers(world.street_official), json={
        "area_id": world.district.id, "period_kind": "year", "period_start": "2026-01-01"}), 403)


# ---- the compute -------------------------------------------------------------------------------------------------


def test_a_compound_below_the_minimum_sample_is_left_out_and_counted(client, app, world):
    put_method(client, world, METHOD)
    surveys(world)
    rows = lines(start_round(client, app, world))
    assert set(rows) == {"阳光物业", "安居物业", "宏达物业"}
    a = rows["阳光物业"]
    assert (a["survey_score_centi"], a["compounds_rated"], a["compounds_insufficient"]) == (8750, 1, 1)
    assert a["compounds"] == ["乙小区", "甲小区"] or sorted(a["compounds"]) == ["乙小区", "甲小区"]
    # Only the survey part: the composite is the survey score, and the bands give ★4.
    assert (a["composite_centi"], a["stars"], a["red_property"]) == (8750, 4, False)
    assert (rows["宏达物业"]["survey_score_centi"], rows["宏达物业"]["stars"], rows["宏达物业"]["rank"]) == (10000, 5, 1)
    assert (rows["安居物业"]["composite_centi"], rows["安居物业"]["stars"]) == (5000, 1)


def test_composite_weighs_survey_service_inspection_and_credit(client, app, world):
    put_method(client, world, METHOD)
    surveys(world)
    # Service: 8 of 10 within SLA, 6 confirmed, ratings average 4★ (75 points) → (80 + 60 + 75) / 3 = 71.67.
    snapshot(world.b, date(2026, 7, 1), orders=6, closed=5, within_sla=4, confirmed=3, rating_count=2, rating_sum=8)
    snapshot(world.b, date(2026, 8, 1), orders=5, closed=5, within_sla=4, confirmed=3)
    snapshot(world.b, date(2026, 10, 1), orders=50, closed=0, within_sla=0, confirmed=0)  # after the quarter
    db.session.commit()
    inspected = client.post(f"/api/v1/compounds/{world.b1.id}/inspections", headers=headers(world.district_official),
                            json={"inspected_on": "2026-09-10", "items": [
                                {"name": "保洁", "max_points": 10, "points": 9, "finding": "楼道有杂物"},
                                {"name": "绿化", "max_points": 10, "points": 7}]})
    assert inspected.status_code == 201, inspected.json
    assert (inspected.json["score_centi"], inspected.json["company_id"]) == (8000, world.b.id)
    credit = client.post(f"/api/v1/companies/{world.b.id}/credit-records", headers=headers(world.street_official),
                         data={"kind": "good", "points_centi": "200", "reason": "抗洪抢险表彰",
                               "occurred_on": "2026-03-01"}, content_type=MULTIPART)
    assert credit.status_code == 201, credit.json
    assert credit.json["expires_on"] == "2027-03-01"
    row = lines(start_round(client, app, world))["安居物业"]
    assert (row["survey_score_centi"], row["service_score_centi"], row["inspection_score_centi"]) == (5000, 7167, 8000)
    # (50 × 5000 + 30 × 7167 + 20 × 8000) / 100 = 6250.1 → 6250, + 200 credit.
    assert (row["credit_centi"], row["composite_centi"], row["stars"]) == (200, 6450, 2)


def test_rank_cut_offs_with_ties(client, app, world, make_compound):
    put_method(client, world, METHOD | {"method": "rank", "cutoffs_bp": [2500, 5000, 7500]})
    d = make_company("德信物业")
    d1 = make_compound(name="戊小区", area=world.community)
    serve(d1, d)
    survey = closed_survey(world.district_official, world.district.id)
    tally(survey, world.a1, [0, 0, 0, 0, 0, 10])  # 100
    tally(survey, world.b1, [0, 0, 0, 0, 0, 10])  # 100, tied with A
    tally(survey, world.c1, [0, 0, 0, 0, 10, 0])  # 75
    tally(survey, d1, [0, 0, 0, 10, 0, 0])  # 50
    db.session.commit()
    rows = lines(start_round(client, app, world))
    # 4 companies: ★5 to rank ≤ 1, ★4 to rank ≤ 2, ★3 to rank ≤ 3; the tie shares rank 1.
    assert {name: (row["rank"], row["stars"]) for name, row in rows.items()} == {
        "阳光物业": (1, 5), "安居物业": (1, 5), "宏达物业": (3, 3), "德信物业": (4, 0)}


@pytest.mark.parametrize("kind", [CreditKind.MAJOR_ACCIDENT, CreditKind.BLACKLIST])
def test_a_major_accident_or_a_blacklisting_takes_the_star_but_not_the_score(client, app, world, kind):
    put_method(client, world, METHOD)
    surveys(world)
    response = client.post(f"/api/v1/companies/{world.c.id}/credit-records", headers=headers(world.district_official),
                           data={"kind": str(kind), "points_centi": "0", "reason": "电梯事故",
                                 "occurred_on": "2026-09-01", "evidence": camera_jpeg(400, 300).upload()},
                           content_type=MULTIPART)
    assert response.status_code == 201, response.json
    assert response.json["has_evidence"] is True
    row = lines(start_round(client, app, world))["宏达物业"]
    assert (row["composite_centi"], row["rank"], row["stars"]) == (10000, 1, 0)
    assert row["no_star_reason"] in ("期内发生重大事故", "期内列入黑榜")


def test_a_bar_from_before_the_period_does_not_count(client, app, world):
    put_method(client, world, METHOD)
    surveys(world)
    db.session.add(CreditRecord(company_id=world.c.id, kind=CreditKind.BLACKLIST, points_centi=0, reason="旧事",
                                occurred_on=date(2026, 5, 1), expires_on=date(2027, 5, 1),
                                recorded_by_id=world.district_official.id, area_id=world.district.id))
    db.session.commit()
    assert lines(start_round(client, app, world))["宏达物业"]["stars"] == 5


def test_rerunning_the_compute_gives_identical_rows(client, app, world):
    from backend.jobs.rating import compute_round

    put_method(client, world, METHOD)
    surveys(world)
    round_id = start_round(client, app, world)["id"]

    def rows():
        return [tuple(getattr(row, column.key) for column in CompanyRating.__table__.columns)
                for row in db.session.scalars(select(CompanyRating).where(CompanyRating.round_id == round_id)
                                              .order_by(CompanyRating.company_id))]

    first = rows()
    assert compute_round(round_id) is True
    db.session.expire_all()
    assert rows() == first and len(first) == 3


def test_bad_credit_and_inspection_input(client, world):
    official = headers(world.district_official)
    url = f"/api/v1/companies/{world.a.id}/credit-records"
    base = {"kind": "bad", "points_centi": "-300", "reason": "垃圾清运不及时", "occurred_on": "2026-08-01"}
    assert client.post(url, headers=official, data=base, content_type=MULTIPART).status_code == 201
    assert_error_shape(client.post(url, headers=official, data=base | {"points_centi": "300"}, content_type=MULTIPART), 422)
    assert_error_shape(client.post(url, headers=official, data=base | {"expires_on": "2026-07-01"}, content_type=MULTIPART), 422)
    assert_error_shape(client.post(url, headers=official, data=base | {"kind": "great"}, content_type=MULTIPART), 422)
    assert_error_shape(client.post(url, headers=headers(world.other_official), data=base, content_type=MULTIPART), 404)
    assert_error_shape(client.post(url, headers=headers(world.resident), data=base, content_type=MULTIPART), 404)
    listed = client.get(url, headers=official)
    assert [item["points_centi"] for item in listed.json["items"]] == [-300]
    inspections = f"/api/v1/compounds/{world.a1.id}/inspections"
    item = {"name": "保洁", "max_points": 10, "points": 11}
    assert_error_shape(client.post(inspections, headers=official, json={"inspected_on": "2026-08-01",
                                                                        "items": [item]}), 422)
    assert_error_shape(client.post(inspections, headers=official, json={"inspected_on": "2026-08-01",
                                                                        "items": []}), 422)
    good = {"inspected_on": "2026-08-01", "items": [item | {"points": 8}]}
    assert_error_shape(client.post(inspections, headers=headers(world.resident), json=good), 403)
    assert_error_shape(client.post(inspections, headers=headers(world.other_official), json=good), 404)


def test_an_appointed_evaluator_inspects_the_campaign_compounds(client, world, make_user, make_compound):
    from backend.models import SurveyEvaluator

    evaluator = make_user()
    survey = closed_survey(world.district_official, world.district.id)
    tally(survey, world.a1, [0, 0, 0, 0, 0, 10])
    db.session.add(SurveyEvaluator(survey_id=survey.id, user_id=evaluator.id, appointed_by_id=world.district_official.id))
    db.session.commit()
    body = {"inspected_on": "2026-08-01", "items": [{"name": "绿化", "max_points": 10, "points": 6}]}
    assert client.post(f"/api/v1/compounds/{world.a1.id}/inspections", headers=headers(evaluator),
                       json=body).status_code == 201
    assert_error_shape(client.post(f"/api/v1/compounds/{world.b1.id}/inspections", headers=headers(evaluator),
                                   json=body), 404)


# ---- the steps ---------------------------------------------------------------------------------------------------


def step(client, round_id: int, name: str, user: User):
    return client.post(f"/api/v1/rating-rounds/{round_id}/{name}", headers=headers(user))


def test_the_steps_in_order_each_once_by_the_right_officials(client, app, world):
    put_method(client, world, METHOD | {"publicity_days": 7})
    surveys(world)
    body = start_round(client, app, world)
    round_id = body["id"]
    assert set(body["actions"]) == {"export"}
    # Residents see nothing before publicity; another district's officials nothing at all.
    assert_error_shape(client.get(f"/api/v1/rating-rounds/{round_id}", headers=headers(world.resident)), 404)
    assert_error_shape(client.get(f"/api/v1/rating-rounds/{round_id}"), 404)
    assert_error_shape(step(client, round_id, "review", world.other_official), 404)
    assert_error_shape(step(client, round_id, "review", world.city_official), 403)
    # A district official does not review its own district's round: a street under it does.
    assert_error_shape(step(client, round_id, "review", world.district_official), 403)
    assert_error_shape(step(client, round_id, "confirm", world.district_official), 409)
    assert_error_shape(step(client, round_id, "publish", world.district_official), 409)
    assert step(client, round_id, "review", world.street_official).status_code == 200
    assert_error_shape(step(client, round_id, "review", world.street_official), 409)
    assert_error_shape(step(client, round_id, "confirm", world.street_official), 403)
    assert_error_shape(step(client, round_id, "confirm", world.other_official), 404)
    confirmed = step(client, round_id, "confirm", world.district_official)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "publicity"
    ends = datetime.fromisoformat(confirmed.json["publicity_ends_at"])
    assert_error_shape(step(client, round_id, "confirm", world.city_official), 409)
    assert_error_shape(step(client, round_id, "publish", world.district_official), 409)

    seen = get_round(client, round_id, world.resident)
    assert seen["actions"] == ["object"]
    objection = client.post(f"/api/v1/rating-rounds/{round_id}/objections", headers=headers(world.resident),
                            json={"company_id": world.a.id, "reason": "保洁经常不到位"})
    assert objection.status_code == 201, objection.json
    assert_error_shape(client.post(f"/api/v1/rating-rounds/{round_id}/objections", headers=headers(world.stranger),
                                   json={"reason": "不服"}), 404)
    assert_error_shape(client.post(f"/api/v1/rating-rounds/{round_id}/objections",
                                   headers=headers(world.district_official), json={"reason": "不服"}), 403)
    assert_error_shape(client.post(f"/api/v1/rating-rounds/{round_id}/objections", headers=headers(world.resident),
                                   json={"reason": ""}), 422)

    with time_machine.travel(ends + timedelta(seconds=1), tick=False):
        assert_error_shape(client.post(f"/api/v1/rating-rounds/{round_id}/objections",
                                       headers=headers(world.resident), json={"reason": "晚了"}), 409)
        unanswered = step(client, round_id, "publish", world.district_official)
        assert_error_shape(unanswered, 409)
        assert "异议" in unanswered.json["message"]
        answer_url = f"/api/v1/rating-objections/{objection.json['id']}/answer"
        assert_error_shape(client.post(answer_url, headers=headers(world.street_official), json={"answer": "已核实"}),
                           403)
        answered = client.post(answer_url, headers=headers(world.district_official), json={"answer": "已核实，维持"})
        assert answered.status_code == 200
        assert_error_shape(client.post(answer_url, headers=headers(world.district_official), json={"answer": "再答"}),
                           409)
        assert_error_shape(step(client, round_id, "publish", world.street_official), 403)
        published = step(client, round_id, "publish", world.district_official)
        assert published.status_code == 200 and published.json["status"] == "published"
        assert_error_shape(step(client, round_id, "publish", world.district_official), 409)

    public = get_round(client, round_id, world.resident)
    assert public["objections"][0]["answer"] == "已核实，维持"
    assert "user_id" not in public["objections"][0]
    assert [s["done"] for s in public["steps"]] == [True, True, True, True]


def test_publish_is_refused_during_publicity(client, app, world):
    put_method(client, world, METHOD)
    round_id = start_round(client, app, world)["id"]
    step(client, round_id, "review", world.street_official)
    ends = datetime.fromisoformat(step(client, round_id, "confirm", world.district_official).json["publicity_ends_at"])
    with time_machine.travel(ends - timedelta(seconds=1), tick=False):
        refused = step(client, round_id, "publish", world.district_official)
        assert_error_shape(refused, 409)
        assert "公示期未满" in refused.json["message"]


def test_the_company_page_is_public_with_stars_history_and_the_red_label(client, app, world):
    put_method(client, world, METHOD)
    survey = closed_survey(world.district_official, world.district.id)
    tally(survey, world.a1, [0, 0, 0, 0, 0, 10])
    db.session.commit()
    assert client.get(f"/api/v1/companies/{world.a.id}").json == {
        "id": world.a.id, "name": "阳光物业", "has_party_org": True, "stars": None, "red_property": False,
        "history": []}
    round_id = start_round(client, app, world)["id"]
    step(client, round_id, "review", world.street_official)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=8), tick=False):
        step(client, round_id, "confirm", world.district_official)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=16), tick=False):
        assert step(client, round_id, "publish", world.district_official).status_code == 200
    page = client.get(f"/api/v1/companies/{world.a.id}").json
    assert (page["stars"], page["red_property"], len(page["history"])) == (5, True, 1)
    assert page["history"][0]["period_label"] == "2026年第3季度"
    assert_error_shape(client.get("/api/v1/companies/2147483647"), 404)


def test_the_honour_roll_export_is_for_officials(client, app, world):
    put_method(client, world, METHOD)
    surveys(world)
    round_id = start_round(client, app, world)["id"]
    response = client.get(f"/api/v1/rating-rounds/{round_id}.xlsx", headers=headers(world.street_official))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=3)]
    assert [(row[1], row[10]) for row in rows] == [("宏达物业", "红榜"), ("阳光物业", None), ("安居物业", "黑榜")]
    assert_error_shape(client.get(f"/api/v1/rating-rounds/{round_id}.xlsx", headers=headers(world.other_official)),
                       404)


def test_finding_photos_and_evidence_are_for_those_who_may_see_them(client, world):
    official = headers(world.district_official)
    inspection = client.post(f"/api/v1/compounds/{world.a1.id}/inspections", headers=official, json={
        "inspected_on": "2026-08-01", "items": [{"name": "保洁", "max_points": 10, "points": 6, "finding": "有杂物"}]})
    url = f"/api/v1/inspections/{inspection.json['id']}/items/1/photo"
    assert_error_shape(client.get(url, headers=official), 404)
    attached = client.post(url, headers=official, data={"photo": camera_jpeg(320, 240).upload()},
                           content_type=MULTIPART)
    assert attached.status_code == 200 and attached.json["items"][0]["has_photo"] is True
    assert client.get(url, headers=official).mimetype == "image/jpeg"
    assert_error_shape(client.get(url, headers=headers(world.resident)), 404)
    assert_error_shape(client.get(url.replace("/items/1/", "/items/2/"), headers=official), 404)
    record = client.post(f"/api/v1/companies/{world.a.id}/credit-records", headers=official, content_type=MULTIPART,
                         data={"kind": "bad", "points_centi": "-100", "reason": "投诉多", "occurred_on": "2026-08-01",
                               "evidence": camera_jpeg(320, 240).upload()})
    evidence = f"/api/v1/credit-records/{record.json['id']}/evidence"
    assert client.get(evidence, headers=official).mimetype == "image/jpeg"
    assert_error_shape(client.get(evidence, headers=headers(world.other_official)), 404)
    assert_error_shape(client.get(evidence, headers=headers(world.resident)), 404)


@pytest.mark.postgresql
@pytest.mark.live
def test_a_step_taken_at_once_by_many_happens_once(client, app, world):
    put_method(client, world, METHOD)
    surveys(world)
    round_id = start_round(client, app, world)["id"]
    step(client, round_id, "review", world.street_official)
    path = f"/api/v1/rating-rounds/{round_id}/confirm"
    answers = race(app, [("POST", path, headers(user), None) for user in
                         [world.district_official, world.city_official] * 5])
    assert sorted(status for status, _ in answers) == [200] + [409] * 9
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "rating.round.confirm")) == 1


def test_reading_a_round_and_credit_records_costs_the_same_for_more_companies(client, app, world, make_compound,
                                                                              count_queries):
    put_method(client, world, METHOD)
    surveys(world)
    for number in range(3):
        db.session.add(CreditRecord(company_id=world.a.id, kind=CreditKind.BAD, points_centi=-100, reason=f"投诉{number}",
                                    occurred_on=date(2026, 8, 1), expires_on=date(2027, 8, 1),
                                    recorded_by_id=world.district_official.id, area_id=world.district.id))
    db.session.commit()
    small = start_round(client, app, world, area=world.street, user=world.street_official)["id"]
    for _ in range(4):
        serve(make_compound(area=world.community), make_company())
    db.session.commit()
    large = client.post("/api/v1/rating-rounds", headers=headers(world.district_official), json={
        "area_id": world.district.id, "period_kind": "quarter", "period_start": "2026-07-01"}).json["id"]
    run_jobs(app)

    def cost(round_id: int, user: User) -> int:
        client.get(f"/api/v1/rating-rounds/{round_id}", headers=headers(user))
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get(f"/api/v1/rating-rounds/{round_id}", headers=headers(user)).status_code == 200
        return len(statements)

    assert cost(small, world.district_official) == cost(large, world.district_official)
    with count_queries() as statements:
        listed = client.get(f"/api/v1/companies/{world.a.id}/credit-records", headers=headers(world.district_official))
    assert len(listed.json["items"]) == 3 and len(statements) <= 8


# ---- whose data counts ---------------------------------------------------------------------------------------------


def test_a_committees_own_campaign_never_scores_its_company(client, app, world, make_user):
    committee = make_user(Role.COMMITTEE, world.b1)
    own = committee_survey(committee, world.b1)
    tally(own, world.b1, [0, 0, 0, 0, 0, 1], households=1)  # one 很满意 sheet, "sufficient" by its own rule
    db.session.commit()
    assert put_method(client, world, METHOD).status_code == 200
    b = lines(start_round(client, app, world))["安居物业"]
    assert (b["survey_score_centi"], b["compounds_rated"], b["stars"]) == (None, 0, 0)
    assert b["no_star_reason"] == "期内无评价数据"


def test_credit_counts_only_from_officials_in_line_with_the_rounds_area(client, app, world, make_area, make_compound,
                                                                        make_user):
    north = make_area("北区", AreaLevel.DISTRICT, world.city)
    serve(make_compound(name="北区小区", area=make_area("北区社区", AreaLevel.COMMUNITY, north)), world.b)
    north_official = make_user(Role.OFFICIAL, area=north)
    surveys(world)  # B: 50 points, ★1
    url = f"/api/v1/companies/{world.b.id}/credit-records"
    for data in ({"kind": "good", "points_centi": "10000", "reason": "北区表扬", "occurred_on": "2026-07-02"},
                 {"kind": "blacklist", "points_centi": "0", "reason": "北区黑榜", "occurred_on": "2026-07-03"}):
        assert client.post(url, headers=headers(north_official), data=data, content_type=MULTIPART).status_code == 201
    assert put_method(client, world, METHOD).status_code == 200
    first = start_round(client, app, world)
    b = lines(first)["安居物业"]
    assert (b["credit_centi"], b["composite_centi"], b["stars"], b["no_star_reason"]) == (0, 5000, 1, "")
    # 东区's own officials (the street below, the city above) do count.
    for user in (world.street_official, world.city_official):
        assert client.post(url, headers=headers(user), content_type=MULTIPART, data={
            "kind": "bad", "points_centi": "-500", "reason": "投诉", "occurred_on": "2026-08-01"}).status_code == 201
    from backend.jobs.rating import compute_round
    assert compute_round(first["id"]) is True
    b = lines(get_round(client, first["id"], world.district_official))["安居物业"]
    assert (b["credit_centi"], b["composite_centi"], b["stars"]) == (-1000, 4000, 0)


# ---- dates far away ------------------------------------------------------------------------------------------------


def tomorrow() -> str:
    """The day after the run's clock, in Beijing (the suite runs at more than one moment)."""
    return (beijing_date(utcnow()) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("occurred_on", ["9999-12-31", "tomorrow"])
def test_a_credit_record_from_the_future_is_refused(client, world, occurred_on):
    occurred_on = tomorrow() if occurred_on == "tomorrow" else occurred_on
    response = client.post(f"/api/v1/companies/{world.a.id}/credit-records", headers=headers(world.district_official),
                           data={"kind": "bad", "points_centi": "-100", "reason": "测试", "occurred_on": occurred_on},
                           content_type=MULTIPART)
    assert_error_shape(response, 422)
    assert response.json["message"] == "发生日期不能晚于今天"


def test_the_last_expiry_there_is_is_kept(client, world):
    response = client.post(f"/api/v1/companies/{world.a.id}/credit-records", headers=headers(world.district_official),
                           data={"kind": "bad", "points_centi": "-100", "reason": "测试", "occurred_on": "2026-11-25",
                                 "expires_on": "9999-12-31"}, content_type=MULTIPART)
    assert response.status_code == 201 and response.json["expires_on"] == "9999-12-31"
    assert_error_shape(client.post(f"/api/v1/companies/{world.a.id}/credit-records",
                                   headers=headers(world.district_official), content_type=MULTIPART,
                                   data={"kind": "bad", "points_centi": "-100", "reason": "测试",
                                         "occurred_on": "2026-11-25", "expires_on": "10000-01-01"}), 422)


@pytest.mark.parametrize("inspected_on", ["9999-12-31", "tomorrow"])
def test_an_inspection_from_the_future_is_refused(client, world, inspected_on):
    inspected_on = tomorrow() if inspected_on == "tomorrow" else inspected_on
    response = client.post(f"/api/v1/compounds/{world.a1.id}/inspections", headers=headers(world.district_official),
                           json={"inspected_on": inspected_on, "items": [{"name": "保洁", "max_points": 10, "points": 8}]})
    assert_error_shape(response, 422)
    assert response.json["message"] == "检查日期不能晚于今天"


@pytest.mark.parametrize(("kind", "start"), [("quarter", "9999-10-01"), ("year", "9999-01-01"), ("year", "2027-01-01"),
                                             ("year", "0001-01-01"), ("quarter", "1999-10-01")])
def test_a_round_for_a_period_far_away_is_refused(client, world, kind, start):
    put_method(client, world, METHOD)
    response = client.post("/api/v1/rating-rounds", headers=headers(world.district_official),
                           json={"area_id": world.district.id, "period_kind": kind, "period_start": start})
    assert_error_shape(response, 422)


# ---- who reads a round, who takes its steps ------------------------------------------------------------------------


def test_before_publicity_a_round_is_for_those_who_decide_it(client, app, world):
    put_method(client, world, METHOD)
    surveys(world)
    round_id = start_round(client, app, world)["id"]
    url = f"/api/v1/rating-rounds/{round_id}"
    # The community official under 第一街道 would see 宏达物业 of another street's 丁小区 and the draft stars.
    for path in (url, f"{url}.xlsx"):
        assert_error_shape(client.get(path, headers=headers(world.community_official)), 404)
    listed = client.get("/api/v1/rating-rounds", headers=headers(world.community_official)).json["items"]
    assert round_id not in [item["id"] for item in listed]
    street = client.get(url, headers=headers(world.street_official))
    assert street.status_code == 200 and "丁小区" in lines(street.json)["宏达物业"]["compounds"]
    assert client.get(f"{url}.xlsx", headers=headers(world.street_official)).status_code == 200

    assert step(client, round_id, "review", world.street_official).status_code == 200
    assert_error_shape(client.get(url, headers=headers(world.community_official)), 404)
    assert step(client, round_id, "confirm", world.district_official).status_code == 200
    public = get_round(client, round_id, world.community_official)
    assert public["actions"] == [] and len(public["lines"]) == 3
    assert round_id in [item["id"] for item in
                        client.get("/api/v1/rating-rounds", headers=headers(world.community_official)).json["items"]]
    assert_error_shape(client.get(f"{url}.xlsx", headers=headers(world.community_official)), 403)


def test_review_and_confirm_are_four_eyes(client, app, world, make_user):
    put_method(client, world, METHOD)
    round_id = start_round(client, app, world, user=world.street_official, area=world.street)["id"]
    assert set(get_round(client, round_id, world.street_official)["actions"]) == {"review", "export"}
    assert_error_shape(step(client, round_id, "review", world.district_official), 403)
    assert step(client, round_id, "review", world.street_official).status_code == 200
    # The street's official reviewed: the same person may not confirm, though of the area itself.
    assert get_round(client, round_id, world.street_official)["actions"] == ["export"]
    refused = step(client, round_id, "confirm", world.street_official)
    assert_error_shape(refused, 403)
    assert refused.json["message"] == "初审和复核须由不同人员进行"
    colleague = make_user(Role.OFFICIAL, area=world.street)
    assert "confirm" in get_round(client, round_id, colleague)["actions"]
    assert step(client, round_id, "confirm", colleague).status_code == 200


def test_by_rank_a_barred_company_leaves_its_star_slot_to_the_next(client, app, world):
    put_method(client, world, METHOD | {"method": "rank", "cutoffs_bp": [3300, 5000]})
    surveys(world)  # 宏达 100, 阳光 87.5, 安居 50
    assert client.post(f"/api/v1/companies/{world.c.id}/credit-records", headers=headers(world.district_official),
                       data={"kind": "major_accident", "points_centi": "0", "reason": "电梯事故",
                             "occurred_on": "2026-09-01"}, content_type=MULTIPART).status_code == 201
    rows = lines(start_round(client, app, world))
    # The cut-offs count 阳光 and 安居 only: the one ★5 place is 阳光's (counting 宏达, ★5 would go to nobody).
    assert {name: (row["composite_centi"], row["rank"], row["stars"]) for name, row in rows.items()} == {
        "宏达物业": (10000, 1, 0), "阳光物业": (8750, 2, 5), "安居物业": (5000, 3, 0)}


def test_only_the_district_or_above_or_an_evaluator_inspects(client, world):
    url = f"/api/v1/compounds/{world.a1.id}/inspections"
    body = {"inspected_on": "2026-08-01", "items": [{"name": "保洁", "max_points": 10, "points": 8}]}
    for user in (world.street_official, world.community_official):
        refused = client.post(url, headers=headers(user), json=body)
        assert_error_shape(refused, 403)
        assert refused.json["message"] == "只有区县住建部门或受委派的第三方评价人员可以录入和查看现场检查"
    for user in (world.district_official, world.city_official):
        assert client.post(url, headers=headers(user), json=body).status_code == 201
