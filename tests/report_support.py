"""A street for the report tests, with figures known by heart for last month (P) and the month before (Q), dates
derived from the frozen clock: two compounds in one community of the street and one in another street.

P against Q: participation 75.00% (no vote in Q); collection 50.00% (Q 100.00%, 降); satisfaction 90.00% (Q none);
disputes 2 (Q 1, 升); compound A ranks first (红榜), B second (黑榜); one active flag, one overdue rectification, one
company rated in a published round of the district."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from backend.domain.compounds import AreaLevel
from backend.domain.consultations import Step
from backend.domain.disputes import DisputeKind
from backend.domain.fees import BillStatus
from backend.domain.flags import FlagRule
from backend.domain.rating import PeriodKind, RoundStatus
from backend.domain.reports import Period, ReportKind, last_complete_period, previous_period
from backend.domain.roles import Role
from backend.domain.voting import VoteKind
from backend.extensions import db
from backend.models import (
    BallotResult,
    CompanyRating,
    DisputeCase,
    ProblemFlag,
    RatingRound,
    Topic,
)
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests.fees_support import issue_bills_for, make_schedule
from tests.rating_support import closed_survey, make_company, serve, tally
from tests.support import first_household, unfinished_rectification

HEADLINES = {"participation": "75.00%", "collection": "50.00%", "satisfaction": "90.00%", "disputes": "2件"}


@dataclass
class Street:
    city_id: int
    district_id: int
    street_id: int
    street_name: str
    community_id: int
    other_street_id: int
    compound_a: int
    compound_b: int
    compound_c: int
    street_official: int
    district_official: int
    community_official: int
    other_official: int
    owner: int
    staff: int
    period: Period
    previous: Period


def moment_in(period: Period, day: int = 10) -> datetime:
    return datetime.combine(period.start + timedelta(days=day), time(12), SHANGHAI)


def _vote(compound, proposer_id: int, closed_at: datetime, eligible: int, participating: int) -> None:
    topic = Topic(compound_id=compound.id, proposer_id=proposer_id, title="更换单元门禁", body="是否更换单元门禁",
                  step=Step.DONE, vote_kind=VoteKind.CONSULTATION, ballot_closed_at=closed_at)
    db.session.add(topic)
    db.session.flush()
    db.session.add(BallotResult(
        topic_id=topic.id, vote_kind=VoteKind.CONSULTATION.value, civil_code_item=None,
        eligible_households=eligible, total_area_centi_m2=eligible * 8000, total_headcount=eligible,
        participating_households=participating, participating_area_centi_m2=participating * 8000,
        participating_headcount=participating, participation_met=True, passed=True, reason="", options={},
        thresholds={},
    ))


def _pay(bills) -> None:
    for bill in bills:
        bill.status = BillStatus.PAID
        bill.paid_fen = bill.amount_fen - bill.subsidy_fen
        bill.paid_at = utcnow()


def build_street(make_area, make_compound, make_user) -> Street:
    today = beijing_date(utcnow())
    period = last_complete_period(ReportKind.MONTHLY, today)
    previous = previous_period(ReportKind.MONTHLY, period)
    city = make_area("攀枝花市", AreaLevel.CITY)
    district = make_area("东区", AreaLevel.DISTRICT, city)
    street = make_area("炳草岗街道", AreaLevel.STREET, district)
    community = make_area("金沙社区", AreaLevel.COMMUNITY, street)
    other_street = make_area("大渡口街道", AreaLevel.STREET, district)
    a = make_compound("金沙苑", community)
    b = make_compound("清香坪", community)
    c = make_compound("大渡口小区", other_street)
    street_official = make_user(Role.OFFICIAL, area=street)
    owner = make_user(Role.OWNER, a, household=first_household(a))
    company = make_company("阳光物业")
    serve(a, company)
    serve(b, company)
    for compound in (a, b, c):
        make_schedule(compound, effective_from=date(2000, 1, 1))
    _pay(issue_bills_for(a, period.start))
    issue_bills_for(b, period.start)
    _pay(issue_bills_for(a, previous.start) + issue_bills_for(b, previous.start))
    _pay(issue_bills_for(c, period.start))
    _vote(a, owner.id, moment_in(period), eligible=8, participating=6)
    _vote(c, owner.id, moment_in(period), eligible=8, participating=1)
    survey = closed_survey(street_official, street.id, closed_at=moment_in(period, 20))
    tally(survey, a, [0, 0, 0, 0, 2, 18])
    tally(survey, b, [0, 1, 1, 2, 6, 10])
    for opened in (moment_in(period, 1), moment_in(period, 2), moment_in(previous)):
        db.session.add(DisputeCase(compound_id=b.id, kind=DisputeKind.FEES, opened_at=opened))
    db.session.add(ProblemFlag(compound_id=b.id, rule=FlagRule.OPEN_DISPUTES, reason="调解中的纠纷 3 件，超过 2 件",
                               raised_at=moment_in(period, 3)))
    unfinished_rectification(b.id, period.start + timedelta(days=5))
    rating_round = RatingRound(area_id=district.id, period_kind=PeriodKind.QUARTER, period_start=date(2025, 1, 1),
                               period_end=date(2025, 3, 31), status=RoundStatus.PUBLISHED,
                               created_by_id=street_official.id, published_at=moment_in(previous))
    db.session.add(rating_round)
    db.session.flush()
    db.session.add(CompanyRating(round_id=rating_round.id, company_id=company.id, compounds_rated=2,
                                 compounds_insufficient=0, survey_score_centi=8800, service_score_centi=9000,
                                 inspection_score_centi=None, credit_centi=0, composite_centi=8860, rank=1, stars=4))
    db.session.commit()
    return Street(
        city_id=city.id, district_id=district.id, street_id=street.id, street_name=street.name,
        community_id=community.id, other_street_id=other_street.id, compound_a=a.id, compound_b=b.id,
        compound_c=c.id, street_official=street_official.id,
        district_official=make_user(Role.OFFICIAL, area=district).id,
        community_official=make_user(Role.OFFICIAL, area=community).id,
        other_official=make_user(Role.OFFICIAL, area=other_street).id, owner=owner.id,
        staff=make_user(Role.STAFF, a).id, period=period, previous=previous,
    )
