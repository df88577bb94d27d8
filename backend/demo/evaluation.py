"""The demo's service evaluation (服务评价): last quarter's satisfaction survey over the street, answered online at
阳光花园 and on paper at 五十四街坊 (too few sheets there: 样本不足), an on-site inspection and a good credit record,
the district's rating method and last quarter's rating round run to 授牌; and this quarter's survey, open now,
half answered, so a visitor can answer it. Through the services the app uses."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

from PIL import Image
from sqlalchemy import update

from backend.demo import factories
from backend.demo.people import People
from backend.demo.places import Places
from backend.domain.compounds import AreaLevel
from backend.domain.rating import (
    DEFAULT_CHECKLIST,
    CreditKind,
    PeriodKind,
    QuestionKind,
    StarMethod,
)
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import PropertyCompany, RatingRound, Survey
from backend.services import rating as rating_service
from backend.services import surveys as survey_service
from backend.services import workorder_stats
from backend.services.photos import PreparedPhoto, prepare_photo
from backend.services.surveys import AnswerInput, CampaignDraft
from backend.shared.clock import SHANGHAI, beijing_date

# How the owners of 阳光花园 answer each dimension: mostly 很满意 and 满意.
_ANSWER_WEIGHTS = {5: 58, 4: 30, 3: 8, 2: 2, 1: 1, 0: 1}
_COMMENTS = ("保洁很及时，楼道比以前干净多了", "希望晚上多巡逻几次", "维修师傅态度好", "")
# 五十四街坊: households without a phone, visited by the surveyor; fewer than the minimum of 10.
_PAPER_SHEETS = 8
_EVALUATOR_PHONE = "13900000099"


@dataclass(frozen=True)
class Evaluation:
    closed_survey: int
    open_survey: int
    round: int
    evaluator: int
    district_official: int


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _previous_quarter(day: date) -> date:
    start = _quarter_start(day)
    return _quarter_start(start - timedelta(days=1))


def _answers(survey: Survey, rng: random.Random) -> list[AnswerInput]:
    values, weights = zip(*_ANSWER_WEIGHTS.items(), strict=True)
    answers = []
    for question in survey.questions:
        if question.kind is QuestionKind.DIMENSION:
            answers.append(AnswerInput(question_id=question.id, value=rng.choices(values, weights)[0]))
        elif question.kind is QuestionKind.TEXT:
            answers.append(AnswerInput(question_id=question.id, text=rng.choice(_COMMENTS)))
    return answers


def _paper_photo() -> PreparedPhoto:
    """The paper sheet's photo: a plain page made here (the demo ships no files)."""
    buffer = BytesIO()
    Image.new("RGB", (96, 128), (245, 245, 240)).save(buffer, "JPEG")
    buffer.seek(0)
    return prepare_photo(buffer)


def make_evaluation(places: Places, people: People, now: datetime) -> Evaluation:
    rng = random.Random(20261205)
    first, second = places.first.id, places.second.id
    street, district = places.areas[AreaLevel.STREET].id, places.areas[AreaLevel.DISTRICT]
    official = people.accounts["official"]
    chief = factories.make_user("district", "东区住建局 周科长", people.password_hash)
    factories.grant_role(chief, Role.OFFICIAL, area=district)
    evaluator = factories.make_user("evaluator", "第三方测评员 何静", people.password_hash, _EVALUATOR_PHONE)
    chief_id, evaluator_id = chief.id, evaluator.id
    db.session.execute(update(PropertyCompany).values(has_party_org=True))
    db.session.commit()

    # Last quarter: the survey ran from its 20th to its 50th day.
    quarter = _previous_quarter(beijing_date(now))
    opened = datetime.combine(quarter, time(9), SHANGHAI).astimezone(UTC) + timedelta(days=20)
    closed = opened + timedelta(days=30)
    survey = survey_service.create_campaign(CampaignDraft(
        title=f"{quarter.year}年第{(quarter.month + 2) // 3}季度物业服务满意度测评", area_id=street,
        opens_at=opened, closes_at=now + timedelta(hours=1), publish_comments=True), official)
    past_id = survey.id
    survey_service.appoint_evaluator(past_id, official, _EVALUATOR_PHONE)
    survey = db.session.get(Survey, past_id)
    answered_by = [(user_id, people.homes[name]) for name, user_id in people.accounts.items()
                   if name.startswith("owner") and name != "owner2" and name in people.homes]
    for user_id, home in answered_by:
        moment = opened + timedelta(days=rng.randint(0, 28), minutes=rng.randint(0, 600))
        survey_service.submit_sheet(past_id, user_id, home, _answers(survey, rng), now=moment)
    survey = db.session.get(Survey, past_id)
    for household in places.homes[second][1:1 + _PAPER_SHEETS]:
        survey_service.enter_paper_sheet(past_id, evaluator_id, household.id, _answers(survey, rng), _paper_photo(),
                                         now=opened + timedelta(days=rng.randint(1, 25)))
    # The campaign ended in the past: its end moves back to where it was planned, then it closes there.
    db.session.execute(update(Survey).where(Survey.id == past_id).values(closes_at=closed))
    db.session.commit()
    survey_service.close(past_id, None, now=closed)

    # The months of last quarter that have work orders get their snapshots, as the nightly tally would.
    for month in (quarter, _quarter_start(quarter + timedelta(days=40)), _quarter_start(quarter + timedelta(days=70))):
        workorder_stats.tally_month(date(month.year, month.month, 1), now=now)
    company_id = places.first.property_company_id
    rating_service.inspect(first, chief_id, quarter + timedelta(days=35), "季度现场检查", [
        rating_service.ItemInput(name=name, max_points=points, points=points - (1 if index % 2 else 0),
                                 finding="消防通道有杂物堆放" if index == 3 else "")
        for index, (name, points) in enumerate(DEFAULT_CHECKLIST)
    ])
    rating_service.add_credit_record(company_id, chief_id, CreditKind.GOOD, 200,
                                     "疫情期间组织志愿服务，获街道通报表扬", quarter + timedelta(days=10), None, None)
    rating_service.put_method(district.id, chief_id, rating_service.MethodInput(
        survey_weight=50, service_weight=30, inspection_weight=20, method=StarMethod.BANDS,
        bands=[(8500, 5), (7500, 4), (6500, 3), (5500, 2), (4500, 1)], cutoffs_bp=[], min_stars=0,
        publicity_days=7))
    round_id = rating_service.create_round(district.id, chief_id, PeriodKind.QUARTER, quarter).id
    rating_service.compute_round(round_id)
    rating_service.review(round_id, official)
    rating_service.confirm(round_id, chief_id)
    # Its publicity ran its seven days in the past; then 授牌.
    db.session.execute(update(RatingRound).where(RatingRound.id == round_id).values(publicity_ends_at=now))
    db.session.commit()
    rating_service.publish(round_id, chief_id)

    # This quarter's survey: open three days ago, a week left, some owners have answered already.
    current = survey_service.create_campaign(CampaignDraft(
        title=f"{now.year}年冬季物业服务满意度测评", area_id=street, opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=7)), official)
    current_id = current.id
    current = db.session.get(Survey, current_id)
    for user_id, home in answered_by[1::2]:
        survey_service.submit_sheet(current_id, user_id, home, _answers(current, rng),
                                    now=now - timedelta(hours=rng.randint(1, 70)))
    return Evaluation(closed_survey=past_id, open_survey=current_id, round=round_id, evaluator=evaluator_id,
                      district_official=chief_id)
