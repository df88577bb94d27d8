"""Data for the problem-compound tests: overdue orders, billed months with a collection rate, open disputes and
overdue rectification items, written as their own features leave them."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from backend.domain.disputes import DisputeKind
from backend.domain.fees import BillStatus
from backend.domain.rectifications import ResponsibleParty
from backend.domain.subsidy import add_months
from backend.domain.workorders import Status, Urgency
from backend.extensions import db
from backend.models import Bill, Compound, DisputeCase, Rectification, User, WorkOrder
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
    items = [Rectification(compound_id=compound.id, responsible_party=ResponsibleParty.COMPANY,
                           deadline=today + timedelta(days=days)) for days in deadlines_from_today]
    db.session.add_all(items)
    db.session.commit()
    return items
