"""What the fee jobs tell people: a period's bills are out, a bill is due soon or overdue (7 days before, 1, 15
and 30 days after, each once), and a subsidy tier drops next month. Each notice has a fixed dedupe key, so a
rerun (or a second cron process) tells nobody twice; the callers commit one compound at a time."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from backend.domain.fees import DUE_SOON_DAYS, BillStatus, due_reminder, due_reminder_key, period_label
from backend.domain.notifications import FEE_BILL, FEE_REMINDER, SUBSIDY_CHANGE
from backend.domain.roles import Role
from backend.domain.subsidy import add_months, tier_drop_next_month
from backend.extensions import db
from backend.models import Area, Bill, Compound, Membership, Notice, SubsidyPolicy
from backend.services.fees import IssuedPeriod, people_owing
from backend.services.notifications import notify
from backend.services.subsidies import applicable_policy, policy_tiers

# Tier drops are announced from this day of the month before the drop (issue 6: "before a subsidy tier drops").
TIER_DROP_NOTICE_DAY = 20
HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)


@dataclass(frozen=True, order=True)
class BillPeriod:
    """A compound's bills of one period, due on one day (schedules of different household kinds may differ)."""

    compound_id: int
    period_start: date
    due_date: date


def bills_link(compound_code: str) -> str:
    return f"/h5/c/{compound_code}/bills"


def bill_notice_key(compound_id: int, period_start: date) -> str:
    return f"fee-bill-{compound_id}-{period_start.isoformat()}"


def reminder_key(stage: str, period: BillPeriod) -> str:
    return due_reminder_key(stage, period.compound_id, period.period_start, period.due_date)


def tier_drop_key(policy_id: int, compound_id: int, next_month: date) -> str:
    return f"subsidy-drop-{policy_id}-{compound_id}-{next_month.isoformat()}"


def _sent(keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    return set(db.session.scalars(select(Notice.dedupe_key).where(Notice.dedupe_key.in_(keys))))


# ---- a period's bills are out --------------------------------------------------------------------------


def periods_to_announce(today: date, issued: Iterable[IssuedPeriod]) -> list[tuple[int, date]]:
    """The (compound, period) pairs whose bill notice should go out now: every period that just got new bills
    (households added since the notice hear of theirs; the rest are not told twice), and every current period
    never announced (issuing committed but the run stopped before its notice did)."""
    pairs = {(period.compound_id, period.period_start) for period in issued if period.issued}
    current = db.session.execute(
        select(Bill.compound_id, Bill.period_start).distinct()
        .where(Bill.period_start <= today, Bill.period_end > today)
    ).all()
    sent = _sent(bill_notice_key(compound_id, start) for compound_id, start in current)
    pairs.update((compound_id, start) for compound_id, start in current
                 if bill_notice_key(compound_id, start) not in sent)
    return sorted(pairs)


def _label(compound_id: int, period_start: date) -> str:
    """"2026年12月", "2026年第4季度": the period's name; its first month where household kinds bill over
    different lengths from the same month."""
    months = db.session.scalars(
        select(Bill.months).distinct().where(Bill.compound_id == compound_id, Bill.period_start == period_start)
    ).all()
    return period_label(period_start, months[0] if len(months) == 1 else 1)


def announce_bills(compound_id: int, period_start: date) -> int:
    """Tell the verified people of every household owing the period that its bill is out; returns how many."""
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        return 0
    people = people_owing(compound_id, period_start)
    notify(people, FEE_BILL, f"您家{_label(compound_id, period_start)}的物业费账单已出",
           "账单里有明细、过渡期补贴和应缴金额，可以在线缴费。", link=bills_link(compound.code),
           dedupe_key=bill_notice_key(compound_id, period_start))
    return len(people)


# ---- due soon and overdue ------------------------------------------------------------------------------


def unpaid_periods(today: date) -> list[BillPeriod]:
    """Periods with unpaid bills falling due within the reminder window or already due, whose latest reminder
    stage has not gone out yet."""
    rows = db.session.execute(
        select(Bill.compound_id, Bill.period_start, Bill.due_date).distinct()
        .where(Bill.status == BillStatus.UNPAID, Bill.due_date <= today + timedelta(days=DUE_SOON_DAYS))
    ).all()
    due = {}
    for row in rows:
        period = BillPeriod(*row)
        reminder = due_reminder(today, period.due_date)
        if reminder is not None:
            due[period] = reminder_key(reminder.key, period)
    sent = _sent(due.values())
    return sorted(period for period, key in due.items() if key not in sent)


def remind_unpaid(period: BillPeriod, today: date) -> int:
    """Tell the people of the households still owing the period of its reminder stage today; returns how many.
    A household that paid (or whose bill was waived) hears nothing."""
    reminder = due_reminder(today, period.due_date)
    compound = db.session.get(Compound, period.compound_id)
    if reminder is None or compound is None:
        return 0
    # Share-locked: a payment in flight (it holds its bill) is waited for and its bill then reads paid; one that
    # comes after waits for this commit, then finds the reminder and withdraws it (payment_orders.settle_bill).
    owing = list(db.session.scalars(
        select(Bill.household_id)
        .where(Bill.compound_id == period.compound_id, Bill.period_start == period.period_start,
               Bill.due_date == period.due_date, Bill.status == BillStatus.UNPAID)
        .with_for_update(read=True)
    ))
    people = list(db.session.scalars(
        select(Membership.user_id).distinct()
        .where(Membership.household_id.in_(owing), Membership.role.in_(HOUSEHOLD_ROLES),
               Membership.verified_at.is_not(None))
    )) if owing else []
    label = _label(period.compound_id, period.period_start)
    body = ("还没有缴纳，请尽快缴费，可以在线缴纳。" if reminder.days_overdue
            else f"请在{period.due_date.month}月{period.due_date.day}日前缴纳，可以在线缴纳。")
    notify(people, FEE_REMINDER, f"您家{label}的{reminder.title}", body, link=bills_link(compound.code),
           dedupe_key=reminder_key(reminder.key, period))
    return len(people)


# ---- subsidy tier drops --------------------------------------------------------------------------------


def tier_drops(today: date) -> list[tuple[int, int]]:
    """(policy, compound) pairs to tell that the policy's rate falls next month, from the 20th of the month
    before on, each pair not told yet, where the policy is the one that applies to the compound."""
    if today.day < TIER_DROP_NOTICE_DAY:
        return []
    this_month = today.replace(day=1)
    next_month = add_months(this_month, 1)
    pairs = []
    for policy in db.session.scalars(select(SubsidyPolicy).where(SubsidyPolicy.is_active.is_(True))
                                     .order_by(SubsidyPolicy.id)):
        if tier_drop_next_month(this_month, policy.period_start, policy_tiers(policy)) is None:
            continue
        compound_ids = _compounds_under(policy)
        sent = _sent(tier_drop_key(policy.id, compound_id, next_month) for compound_id in compound_ids)
        pairs.extend((policy.id, compound_id) for compound_id in compound_ids
                     if tier_drop_key(policy.id, compound_id, next_month) not in sent
                     and _applies(policy.id, compound_id))
    return pairs


def _applies(policy_id: int, compound_id: int) -> bool:
    compound = db.session.get(Compound, compound_id)
    applicable = applicable_policy(compound) if compound is not None else None
    return applicable is not None and applicable.id == policy_id


def _compounds_under(policy: SubsidyPolicy) -> list[int]:
    if policy.compound_id is not None:
        return [policy.compound_id]
    path = db.session.scalar(select(Area.path).where(Area.id == policy.area_id))
    below = select(Area.id).where(Area.path.startswith(path))
    return list(db.session.scalars(select(Compound.id).where(Compound.area_id.in_(below)).order_by(Compound.id)))


def announce_tier_drop(policy_id: int, compound_id: int, today: date) -> int:
    """Tell the compound's verified owners and residents that the subsidy rate falls next month, when the
    policy is the one that applies to it; returns how many were told."""
    policy = db.session.get(SubsidyPolicy, policy_id)
    compound = db.session.get(Compound, compound_id)
    if policy is None or compound is None or not policy.is_active or not _applies(policy_id, compound_id):
        return 0
    drop = tier_drop_next_month(today.replace(day=1), policy.period_start, policy_tiers(policy))
    if drop is None:
        return 0
    people = list(db.session.scalars(
        select(Membership.user_id).distinct()
        .where(Membership.compound_id == compound_id, Membership.role.in_(HOUSEHOLD_ROLES),
               Membership.verified_at.is_not(None))
    ))
    notify(people, SUBSIDY_CHANGE, "下月起物业费补贴比例调整", f"{drop.message}，请留意账单金额的变化。",
           link=bills_link(compound.code),
           dedupe_key=tier_drop_key(policy.id, compound_id, drop.month))
    return len(people)
