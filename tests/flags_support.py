"""Data for the problem-compound tests: overdue orders, billed months with a collection rate, open disputes and
overdue rectification items, written as their own features leave them."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from backend.domain.consultations import Step
from backend.domain.disputes import DisputeKind
from backend.domain.fees import BillStatus
from backend.domain.flags import DecidedBallot
from backend.domain.rating import PeriodKind, RoundStatus
from backend.domain.rectifications import ResponsibleParty
from backend.domain.subsidy import add_months
from backend.domain.voting import VoteKind, VoteRule
from backend.domain.workorders import Status, Urgency
from backend.extensions import db
from backend.models import (
    BallotResult,
    Bill,
    CompanyRating,
    Compound,
    DisputeCase,
    Inspection,
    RatingRound,
    Rectification,
    Topic,
    User,
    WorkOrder,
)
from backend.shared.clock import beijing_date, utcnow
from tests.fees_support import issue_bills_for, make_schedule


def add_overdue_orders(compound: Compound, submitter: User, count: int) -> list[WorkOrder]:
    """Open orders whose SLA deadline passed an hour ago (the board's 超时)."""
    now = utcnow()
    orders = [WorkOrder(
        compound_id=compound.id, submitter_id=submitter.id, category="水电维修", description="漏水",
        urgency=Urgency.NORMAL, status=Status.SUBMITTED, created_at=now - timedelta(days=5),
        accept_due_at=now - timedelta(hours=1), close_due_at=now + timedelta(days=1), sla_due_at=now - timedelta(hours=1),
        escalation_level=0, urge_count=0,
    ) for _ in range(count)]
    db.session.add_all(orders)
    db.session.commit()
    return orders


def bill_months(compound: Compound, paid_shares: list[int]) -> list[date]:
    """One billed month per share (newest last): of each month's bills (one per household) the first
    `paid_share` are paid. Returns the months' starts."""
    this_month = beijing_date(utcnow()).replace(day=1)
    starts = [add_months(this_month, -(len(paid_shares) - 1 - index)) for index in range(len(paid_shares))]
    make_schedule(compound, effective_from=add_months(starts[0], -1))
    for start, paid in zip(starts, paid_shares, strict=True):
        bills = sorted(issue_bills_for(compound, start), key=lambda bill: bill.id)
        for bill in bills[:paid]:
            bill.status = BillStatus.PAID
    db.session.commit()
    return starts


def pay_all(compound: Compound, period_start: date) -> None:
    for bill in db.session.scalars(select(Bill).where(Bill.compound_id == compound.id, Bill.period_start == period_start)):
        bill.status = BillStatus.PAID
    db.session.commit()


def add_open_disputes(compound: Compound, count: int) -> list[DisputeCase]:
    cases = [DisputeCase(compound_id=compound.id, kind=DisputeKind.FEES) for _ in range(count)]
    db.session.add_all(cases)
    db.session.commit()
    return cases


def add_rectifications(compound: Compound, deadlines_from_today: list[int]) -> list[Rectification]:
    """Unfinished items due that many days from today (negative: overdue; 0: due today, not yet overdue)."""
    today = beijing_date(utcnow())
    # Rows as an inspection leaves them (an item needs its inspection and inspector), dated as the test needs.
    inspector = User(display_name="街道检查员")
    db.session.add(inspector)
    db.session.flush()
    inspection = Inspection(compound_id=compound.id, inspector_id=inspector.id, inspected_on=today)
    db.session.add(inspection)
    db.session.flush()
    items = [Rectification(compound_id=compound.id, responsible_party=ResponsibleParty.COMPANY,
                           deadline=today + timedelta(days=days), inspection_id=inspection.id,
                           inspector_id=inspector.id, item="飞线充电", finding="楼道飞线")
             for days in deadlines_from_today]
    db.session.add_all(items)
    db.session.commit()
    return items


def add_decided_ballot(compound: Compound, proposer: User, area: tuple[int, int], heads: tuple[int, int],
                       computed_at: datetime, vote_kind: VoteKind = VoteKind.OWNERS_JOINT) -> Topic:
    """A topic whose ballot closed at `computed_at` with (participating, total) area and headcount, frozen as the
    close freezes it."""
    topic = Topic(compound_id=compound.id, proposer_id=proposer.id, title="选聘物业服务企业", body="表决",
                  step=Step.PUBLICITY)
    db.session.add(topic)
    db.session.flush()
    rule = VoteRule(vote_kind, 4 if vote_kind is VoteKind.OWNERS_JOINT else None)
    met = DecidedBallot(topic.id, area[0], area[1], heads[0], heads[1]).participation_met
    db.session.add(BallotResult(
        topic_id=topic.id, vote_kind=rule.kind, civil_code_item=rule.item, eligible_households=heads[1],
        total_area_centi_m2=area[1], total_headcount=heads[1], participating_households=heads[0],
        participating_area_centi_m2=area[0], participating_headcount=heads[0], participation_met=met,
        passed=False, reason="未达到参与表决要求", options={}, thresholds={}, computed_at=computed_at,
    ))
    db.session.commit()
    return topic


def publish_stars(company_id: int, area_id: int, creator: User, stars: int, published_at: datetime,
                  period_start: date) -> None:
    """A published rating round of the area with the company's row at `stars`."""
    rnd = RatingRound(area_id=area_id, period_kind=PeriodKind.QUARTER, period_start=period_start,
                      period_end=period_start + timedelta(days=89), status=RoundStatus.PUBLISHED,
                      created_by_id=creator.id, published_at=published_at)
    db.session.add(rnd)
    db.session.flush()
    db.session.add(CompanyRating(round_id=rnd.id, company_id=company_id, compounds_rated=1, compounds_insufficient=0,
                                 credit_centi=0, composite_centi=5000, rank=1, stars=stars))
    db.session.commit()
