"""Fee schedules, bills (issued by the cron job, idempotently, in batches), adjustments and waivers, the
household's and the compound's bills, arrears and the collection rate."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, Select, and_, case, cast, exists, func, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from backend.domain.compounds import HouseholdKind, household_label
from backend.domain.consultations import MeetingKind
from backend.domain.fees import (
    CYCLE_MONTHS,
    EARLIEST_SCHEDULE,
    LATEST_SCHEDULE,
    MAX_BILL_FEN,
    MAX_STANDARD_FEN_PER_M2,
    BillingCycle,
    BillStatus,
    Collection,
    FeeRefused,
    bill_amount_fen,
    charges_fees_by_default,
    due_date,
    period_start_for,
    starts_a_period,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role, allows
from backend.domain.subsidy import add_months
from backend.extensions import db, dialect_insert
from backend.models import Bill, Building, Compound, FeeSchedule, Household, Meeting, Membership
from backend.policy import fee_reader
from backend.services.audit import record_audit
from backend.services.payment_orders import withdraw_due_reminders, without_live_order
from backend.services.subsidies import release_subsidy
from backend.shared.clock import utcnow
from backend.shared.pagination import Page, paginate

log = logging.getLogger("linli.fees")

# Households per INSERT … SELECT while issuing bills: large enough to be fast, small enough that a compound's
# issuing never holds its locks for long.
ISSUE_BATCH = 5_000


# ---- schedules -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleDraft:
    household_kind: HouseholdKind
    standard_fen_per_m2: int
    effective_from: date
    cycle: BillingCycle
    due_day: int
    charges_fees: bool | None
    hearing_meeting_id: int | None
    note: str


def schedules_of(compound_id: int) -> list[FeeSchedule]:
    return list(db.session.scalars(
        select(FeeSchedule).where(FeeSchedule.compound_id == compound_id)
        .order_by(FeeSchedule.household_kind, FeeSchedule.effective_from.desc())
    ))


def schedule_in_force(compound_id: int, kind: HouseholdKind, day: date) -> FeeSchedule | None:
    return db.session.scalar(
        select(FeeSchedule)
        .where(FeeSchedule.compound_id == compound_id, FeeSchedule.household_kind == kind,
               FeeSchedule.effective_from <= day)
        .order_by(FeeSchedule.effective_from.desc()).limit(1)
    )


def create_schedule(compound: Compound, draft: ScheduleDraft, actor_id: int, ip: str | None) -> FeeSchedule:
    if not 1 <= draft.standard_fen_per_m2 <= MAX_STANDARD_FEN_PER_M2:
        raise FeeRefused("收费标准须在0.01至1000元/平方米/月之间", Kind.INVALID)
    if not EARLIEST_SCHEDULE <= draft.effective_from <= LATEST_SCHEDULE:
        raise FeeRefused("生效日期须在2000年至2099年之间", Kind.INVALID)
    if not starts_a_period(draft.effective_from, draft.cycle):
        raise FeeRefused("生效日期须是一个计费周期的第一天（按月：每月1日；按季：1、4、7、10月1日；按年：1月1日）", Kind.INVALID)
    if draft.hearing_meeting_id is not None:
        meeting = db.session.get(Meeting, draft.hearing_meeting_id)
        if meeting is None or meeting.compound_id != compound.id or meeting.kind is not MeetingKind.HEARING:
            raise FeeRefused("关联的会议须是本小区的听证会", Kind.INVALID)
    taken = db.session.scalar(select(exists().where(
        FeeSchedule.compound_id == compound.id, FeeSchedule.household_kind == draft.household_kind,
        FeeSchedule.effective_from == draft.effective_from,
    )))
    if taken:
        raise FeeRefused("该类房屋在这一天生效的收费标准已存在", Kind.CONFLICT)
    before = schedule_in_force(compound.id, draft.household_kind, draft.effective_from)
    # Issued bills are never rewritten, so a backdated standard applies from the next period issued. A new
    # cycle cannot start inside issued periods: its first period would overlap them, leaving months unbilled.
    issued_until = db.session.scalar(
        select(func.max(Bill.period_end)).join(Household, Household.id == Bill.household_id)
        .where(Bill.compound_id == compound.id, Household.kind == draft.household_kind)
    )
    if issued_until is not None and draft.effective_from < issued_until and (
            before is None or before.cycle is not draft.cycle):
        raise FeeRefused(
            f"{issued_until.year}年{issued_until.month}月之前的账单已按原周期开具，更改计费周期须从此后生效", Kind.CONFLICT)
    largest_area = db.session.scalar(
        select(func.max(Household.floor_area_centi_m2))
        .where(Household.compound_id == compound.id, Household.kind == draft.household_kind)
    ) or 0
    if bill_amount_fen(largest_area, draft.standard_fen_per_m2, CYCLE_MONTHS[draft.cycle]) > MAX_BILL_FEN:
        raise FeeRefused("按此标准，面积最大的房屋一期账单超出上限，请核对收费标准", Kind.INVALID)
    charges = (charges_fees_by_default(compound.management_model.value) if draft.charges_fees is None
               else draft.charges_fees)
    schedule = FeeSchedule(
        compound_id=compound.id, household_kind=draft.household_kind,
        standard_fen_per_m2=draft.standard_fen_per_m2, effective_from=draft.effective_from, cycle=draft.cycle,
        due_day=draft.due_day, charges_fees=charges, hearing_meeting_id=draft.hearing_meeting_id,
        note=draft.note, created_by_id=actor_id,
    )
    db.session.add(schedule)
    db.session.flush()
    record_audit(actor_id=actor_id, action="fee_schedule.create", target_type="fee_schedule",
                 target_id=schedule.id, compound_id=compound.id,
                 before=_schedule_summary(before) if before else None, after=_schedule_summary(schedule), ip=ip)
    db.session.commit()
    return schedule


def _schedule_summary(schedule: FeeSchedule) -> dict:
    return {
        "household_kind": schedule.household_kind.value, "standard_fen_per_m2": schedule.standard_fen_per_m2,
        "effective_from": schedule.effective_from.isoformat(), "cycle": schedule.cycle.value,
        "due_day": schedule.due_day, "charges_fees": schedule.charges_fees,
        "hearing_meeting_id": schedule.hearing_meeting_id,
    }


# ---- issuing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedPeriod:
    compound_id: int
    period_start: date
    issued: int


def issue_bills(today: date) -> list[IssuedPeriod]:
    """Issue the current period's bill to every household of every billing compound that has none covering
    it. Rerunning issues nothing new: households already covered are skipped and (household, period) is
    unique. Each compound commits on its own."""
    issued = []
    pairs = db.session.execute(
        select(FeeSchedule.compound_id, FeeSchedule.household_kind).distinct()
        .where(FeeSchedule.effective_from <= today).order_by(FeeSchedule.compound_id)
    ).all()
    for compound_id, kind in pairs:
        schedule = schedule_in_force(compound_id, kind, today)
        if not schedule.charges_fees:
            continue
        period_start = period_start_for(today, schedule.cycle)
        try:
            count = issue_period(schedule, period_start)
        except SQLAlchemyError:
            # One compound's bad data must not leave every compound after it unbilled.
            db.session.rollback()
            log.exception("bills: compound %s %s %s not issued", compound_id, kind.value, period_start)
            continue
        if count:
            issued.append(IssuedPeriod(compound_id=compound_id, period_start=period_start, issued=count))
    return issued


def issue_period(schedule: FeeSchedule, period_start: date, now: datetime | None = None) -> int:
    """One schedule's bills for one period, by INSERT … SELECT over batches of household ids."""
    now = now or utcnow()
    months = CYCLE_MONTHS[schedule.cycle]
    period_end = add_months(period_start, months)
    ids = db.session.scalars(
        select(Household.id).where(Household.compound_id == schedule.compound_id,
                                   Household.kind == schedule.household_kind)
        .order_by(Household.id)
    ).all()
    total = 0
    for start in range(0, len(ids), ISSUE_BATCH):
        chunk = ids[start:start + ISSUE_BATCH]
        total += _issue_batch(schedule, period_start, months, period_end, chunk[0], chunk[-1], now)
        db.session.commit()
        log.info("bills: compound %s %s %s: %d/%d households done, %d issued",
                 schedule.compound_id, schedule.household_kind.value, period_start, start + len(chunk),
                 len(ids), total)
    return total


def _issue_batch(schedule: FeeSchedule, period_start: date, months: int, period_end: date,
                 first_id: int, last_id: int, now: datetime) -> int:
    # The product passes 2^31 before the division for large households: computed as BIGINT.
    amount = (cast(Household.floor_area_centi_m2, BigInteger) * schedule.standard_fen_per_m2 * months + 50) // 100
    covered = exists().where(Bill.household_id == Household.id, Bill.period_start < period_end,
                             Bill.period_end > period_start)
    rows = select(
        Household.compound_id, Household.id, literal(schedule.id), literal(period_start), literal(months),
        literal(period_end), Household.floor_area_centi_m2, literal(schedule.standard_fen_per_m2), amount,
        amount, literal(due_date(period_start, schedule.due_day)), literal(BillStatus.UNPAID.value), literal(0),
        literal(0), literal(now, Bill.issued_at.type), literal(""),
    ).where(
        Household.compound_id == schedule.compound_id, Household.kind == schedule.household_kind,
        Household.id.between(first_id, last_id), ~covered,
    # Bills numbered in the households' order, whatever order the table's rows lie in on disk.
    ).order_by(Household.id)
    statement = dialect_insert(Bill).from_select(
        ["compound_id", "household_id", "schedule_id", "period_start", "months", "period_end",
         "floor_area_centi_m2", "standard_fen_per_m2", "original_amount_fen", "amount_fen", "due_date", "status",
         "subsidy_fen", "paid_fen", "issued_at", "adjust_reason"],
        rows,
    ).on_conflict_do_nothing()
    # psycopg reports -1 for an INSERT … SELECT unless SQLAlchemy is asked to keep the count.
    return db.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


# ---- who reaches a bill ---------------------------------------------------------------------------------

NO_BILL = "没有找到该账单"
NO_HOUSEHOLD = "找不到该房屋"


@dataclass(frozen=True)
class BillAccess:
    """A bill and who asks: a verified person of its household (`member`), and their roles in its compound."""

    bill: Bill
    roles: frozenset[Role]
    member: bool


def bill_for(user_id: int | None, bill_id: int, action: Action | None = None,
             compound_id: int | None = None) -> BillAccess:
    """The bill, for its household's verified people and whoever sees the compound's bills. Refused NOT_FOUND for
    anyone else, a neighbour of the same compound too (its existence stays hidden), and for a bill of another
    compound than `compound_id` (a page's); FORBIDDEN when their roles here do not allow `action`."""
    bill = db.session.get(Bill, bill_id)
    if bill is None or compound_id not in (None, bill.compound_id):
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    reader = fee_reader(user_id, bill.compound_id, bill.household_id)
    if reader is None:
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    if action is not None and not allows(reader.roles, action):
        raise FeeRefused("没有权限进行此操作", Kind.FORBIDDEN)
    return BillAccess(bill=bill, roles=reader.roles, member=reader.member)


def payable_bill(user_id: int | None, bill_id: int, compound_id: int | None = None) -> Bill:
    """The bill, when the caller is a verified person of its household: they pay it. Whoever else sees it (the
    desk, the committee) is refused FORBIDDEN, anyone else NOT_FOUND."""
    access = bill_for(user_id, bill_id, compound_id=compound_id)
    if not access.member:
        raise FeeRefused("只有本户已认证的业主或住户可以缴费", Kind.FORBIDDEN)
    return access.bill


def household_for(user_id: int | None, household_id: int) -> Household:
    """The household, for its verified people and whoever sees its compound's bills; NOT_FOUND for anyone else."""
    return household_access(user_id, household_id).household


@dataclass(frozen=True)
class HouseholdAccess:
    """A household and who asks: one of its verified people (`member`), and their roles in its compound."""

    household: Household
    roles: frozenset[Role]
    member: bool


def household_access(user_id: int | None, household_id: int, action: Action | None = None,
                     compound_id: int | None = None) -> HouseholdAccess:
    """The household, for its verified people and whoever sees its compound's bills; NOT_FOUND for anyone else
    and for a household of another compound than `compound_id` (a page's); FORBIDDEN when their roles here do
    not allow `action`."""
    household = db.session.get(Household, household_id)
    if household is None or compound_id not in (None, household.compound_id):
        raise FeeRefused(NO_HOUSEHOLD, Kind.NOT_FOUND)
    reader = fee_reader(user_id, household.compound_id, household.id)
    if reader is None:
        raise FeeRefused(NO_HOUSEHOLD, Kind.NOT_FOUND)
    if action is not None and not allows(reader.roles, action):
        raise FeeRefused("没有权限进行此操作", Kind.FORBIDDEN)
    return HouseholdAccess(household=household, roles=reader.roles, member=reader.member)


def paying_household(user_id: int | None, household_id: int, compound_id: int | None = None) -> Household:
    """The household, when the caller is one of its verified people: they pay its bills. Whoever else sees it
    is refused FORBIDDEN, anyone else NOT_FOUND."""
    access = household_access(user_id, household_id, compound_id=compound_id)
    if not access.member:
        raise FeeRefused("只有本户已认证的业主或住户可以缴费", Kind.FORBIDDEN)
    return access.household


def household_in(compound_id: int, household_id: int) -> Household | None:
    household = db.session.get(Household, household_id)
    return household if household is not None and household.compound_id == compound_id else None


def household_at(compound_id: int, building_id: int, unit: str, room: str) -> Household | None:
    return db.session.scalar(select(Household).where(
        Household.compound_id == compound_id, Household.building_id == building_id, Household.unit == unit,
        Household.room == room,
    ))


# ---- reading -------------------------------------------------------------------------------------------


def lock_bill(bill_id: int) -> Bill | None:
    return db.session.scalar(
        select(Bill).where(Bill.id == bill_id).with_for_update().execution_options(populate_existing=True)
    )


def lock_bills(bill_ids: list[int]) -> list[Bill]:
    """The bills that exist among `bill_ids`, locked in id order: every request locking several bills takes them
    in the same order, so two of them over overlapping bills wait for each other instead of deadlocking."""
    return list(db.session.scalars(
        select(Bill).where(Bill.id.in_(bill_ids)).order_by(Bill.id).with_for_update()
        .execution_options(populate_existing=True)
    ))


def household_bills(household_id: int) -> list[Bill]:
    return list(db.session.scalars(
        select(Bill).where(Bill.household_id == household_id).order_by(Bill.period_start.desc())
    ))


def compound_bills(compound_id: int, period_start: date | None, status: BillStatus | None, page: int,
                   page_size: int) -> Page:
    query = (
        select(Bill).join(Household, Household.id == Bill.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(Bill.compound_id == compound_id)
        .order_by(Bill.period_start.desc(), Building.name, Household.unit, Household.room)
    )
    if period_start is not None:
        query = query.where(Bill.period_start == period_start)
    if status is not None:
        query = query.where(Bill.status == status)
    result = paginate(query, page, page_size)
    bills = [row.Bill for row in result.items]
    # The bills' households and buildings in one statement, so their labels cost no query per bill (a
    # many-to-one lazy load finds them in the session).
    household_ids = {bill.household_id for bill in bills}
    if household_ids:
        db.session.scalars(
            select(Household).options(joinedload(Household.building)).where(Household.id.in_(household_ids))
        ).all()
    return Page(items=bills, total=result.total, page=page, page_size=page_size)


def my_households(user_id: int, compound_id: int) -> list[Household]:
    return list(db.session.scalars(
        select(Household).join(Membership, Membership.household_id == Household.id)
        .where(Membership.user_id == user_id, Membership.compound_id == compound_id,
               Membership.role.in_((Role.OWNER, Role.RESIDENT)), Membership.verified_at.is_not(None))
        .distinct().order_by(Household.id)
    ))


# ---- adjusting -----------------------------------------------------------------------------------------


def _unpaid(bill: Bill | None) -> Bill:
    if bill is None:
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    if bill.status is not BillStatus.UNPAID or bill.paid_fen:
        raise FeeRefused("已缴或已减免的账单不能再调整；多缴的部分请退款")
    return bill


def _changeable(bill_id: int, now: datetime) -> Bill:
    """The bill, locked, unpaid, and with no online order that can still be paid: its amount and subsidy are
    what that order charges."""
    return without_live_order(lambda: _unpaid(lock_bill(bill_id)), now,
                              in_progress="该账单有正在进行的支付，请{until}后再调整",
                              paid_online="住户已在线上缴清该账单，不能再调整")


def adjust_bill(bill_id: int, amount_fen: int, reason: str, actor_id: int, ip: str | None,
                now: datetime | None = None) -> Bill:
    bill = _changeable(bill_id, now or utcnow())
    before = {"amount_fen": bill.amount_fen, "subsidy_fen": bill.subsidy_fen}
    release_subsidy(bill)
    bill.amount_fen = amount_fen
    bill.adjust_reason = reason
    if amount_fen == 0:
        bill.status = BillStatus.WAIVED
        withdraw_due_reminders(bill, now or utcnow())
    record_audit(actor_id=actor_id, action="bill.adjust", target_type="bill", target_id=bill.id,
                 compound_id=bill.compound_id, before=before,
                 after={"amount_fen": amount_fen, "reason": reason}, ip=ip)
    db.session.commit()
    return bill


def waive_bill(bill_id: int, reason: str, actor_id: int, ip: str | None, now: datetime | None = None) -> Bill:
    bill = _changeable(bill_id, now or utcnow())
    release_subsidy(bill)
    bill.status = BillStatus.WAIVED
    bill.adjust_reason = reason
    withdraw_due_reminders(bill, now or utcnow())
    record_audit(actor_id=actor_id, action="bill.waive", target_type="bill", target_id=bill.id,
                 compound_id=bill.compound_id, before={"status": BillStatus.UNPAID.value, "amount_fen": bill.amount_fen},
                 after={"status": BillStatus.WAIVED.value, "reason": reason}, ip=ip)
    db.session.commit()
    return bill


# ---- arrears and collection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrears:
    household_id: int
    label: str
    bills: int
    outstanding_fen: int
    oldest_due: date


def arrears(compound_id: int, today: date, page: int, page_size: int) -> Page:
    """Households with unpaid bills past their due date, the most owed first."""
    owed = func.sum(Bill.amount_fen - Bill.subsidy_fen - Bill.paid_fen)
    query = (
        select(Bill.household_id, Building.name, Household.unit, Household.room, func.count().label("bills"),
               owed.label("owed"), func.min(Bill.due_date).label("oldest"))
        .join(Household, Household.id == Bill.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(Bill.compound_id == compound_id, Bill.status == BillStatus.UNPAID, Bill.due_date < today)
        .group_by(Bill.household_id, Building.name, Household.unit, Household.room)
        .order_by(owed.desc(), Bill.household_id)
    )
    result = paginate(query, page, page_size)
    return Page(
        items=[Arrears(household_id=row.household_id, label=household_label(row.name, row.unit, row.room),
                       bills=row.bills, outstanding_fen=int(row.owed), oldest_due=row.oldest)
               for row in result.items],
        total=result.total, page=page, page_size=page_size,
    )


def _collection_columns() -> tuple:
    """Billed households, paid households, billed fen, paid fen of the bills selected (waived bills are out)."""
    billed, paid = Bill.status != BillStatus.WAIVED, Bill.status == BillStatus.PAID
    return (
        func.count(case((billed, 1))),
        func.count(case((paid, 1))),
        func.coalesce(func.sum(case((billed, Bill.amount_fen), else_=0)), 0),
        func.coalesce(func.sum(case((paid, Bill.amount_fen), else_=0)), 0),
    )


def _as_collection(billed_households: int, paid_households: int, billed_fen: int, paid_fen: int) -> Collection:
    return Collection(billed_households=billed_households, paid_households=paid_households,
                      billed_fen=int(billed_fen), paid_fen=int(paid_fen))


def collection(compound_id: int, period_start: date) -> Collection:
    """Paid households / billed households and paid fen / billed fen of one period (waived bills are out)."""
    row = db.session.execute(
        select(*_collection_columns()).where(Bill.compound_id == compound_id, Bill.period_start == period_start)
    ).one()
    return _as_collection(*row)


def newest_collections(compound_ids: Sequence[int]) -> dict[int, tuple[date, Collection]]:
    """Each compound's newest billed period and its collection, as `collection` counts it, in one statement for
    every compound (an area's landing); a compound without bills is left out."""
    if not compound_ids:
        return {}
    newest = (
        select(Bill.compound_id, func.max(Bill.period_start).label("period_start"))
        .where(Bill.compound_id.in_(compound_ids)).group_by(Bill.compound_id).subquery()
    )
    rows = db.session.execute(
        select(Bill.compound_id, Bill.period_start, *_collection_columns())
        .join(newest, and_(Bill.compound_id == newest.c.compound_id, Bill.period_start == newest.c.period_start))
        # Repeated on the outer rows so the planner reads these compounds' bills by index, not every bill.
        .where(Bill.compound_id.in_(compound_ids))
        .group_by(Bill.compound_id, Bill.period_start)
    ).all()
    return {compound_id: (period, _as_collection(*figures)) for compound_id, period, *figures in rows}


def recent_collections(compound_ids: Sequence[int], periods: int, due_before: date) -> dict[int, list[tuple[date, Collection]]]:
    """Each compound's `periods` newest billed periods already due (a bill due on or after `due_before` may still be
    paid on time, so its period is not judged yet), newest first, each as `collection` counts it, in one statement
    for a batch of compounds (the problem-compound sweep); a compound without such bills is left out."""
    if not compound_ids:
        return {}
    billed = (
        select(Bill.compound_id, Bill.period_start)
        .where(Bill.compound_id.in_(compound_ids), Bill.due_date < due_before)
        .group_by(Bill.compound_id, Bill.period_start).subquery()
    )
    ranked = select(
        billed.c.compound_id, billed.c.period_start,
        func.row_number().over(partition_by=billed.c.compound_id, order_by=billed.c.period_start.desc()).label("n"),
    ).subquery()
    newest = select(ranked.c.compound_id, ranked.c.period_start).where(ranked.c.n <= periods).subquery()
    rows = db.session.execute(
        select(Bill.compound_id, Bill.period_start, *_collection_columns())
        .join(newest, and_(Bill.compound_id == newest.c.compound_id, Bill.period_start == newest.c.period_start))
        .group_by(Bill.compound_id, Bill.period_start)
        .order_by(Bill.compound_id, Bill.period_start.desc())
    ).all()
    found: dict[int, list[tuple[date, Collection]]] = {}
    for compound_id, period, *figures in rows:
        found.setdefault(compound_id, []).append((period, _as_collection(*figures)))
    return found
def collections_between(compound_ids: Select, first: date, last: date) -> dict[int, Collection]:
    """Each compound's collection, as `collection` counts it, of the bills whose period starts from `first` to
    `last` (Beijing dates, both included), for every compound `compound_ids` selects, in one statement (a
    report's collection rate); a compound without such bills is left out."""
    rows = db.session.execute(
        select(Bill.compound_id, *_collection_columns())
        .where(Bill.compound_id.in_(compound_ids), Bill.period_start >= first, Bill.period_start <= last)
        .group_by(Bill.compound_id)
    ).all()
    return {compound_id: _as_collection(*figures) for compound_id, *figures in rows}


def collections_by_period(compound_ids: Sequence[int], since: date) -> dict[int, dict[date, Collection]]:
    """Each compound's collection of every billed period starting on or after `since`, as `collection` counts
    it, in one statement (the dashboard's year and its monthly chart)."""
    if not compound_ids:
        return {}
    rows = db.session.execute(
        select(Bill.compound_id, Bill.period_start, *_collection_columns())
        .where(Bill.compound_id.in_(compound_ids), Bill.period_start >= since)
        .group_by(Bill.compound_id, Bill.period_start)
    ).all()
    found: dict[int, dict[date, Collection]] = {}
    for compound_id, period, *figures in rows:
        found.setdefault(compound_id, {})[period] = _as_collection(*figures)
    return found


def billed_periods(compound_id: int) -> list[date]:
    return list(db.session.scalars(
        select(Bill.period_start).where(Bill.compound_id == compound_id).distinct()
        .order_by(Bill.period_start.desc())
    ))


def people_owing(compound_id: int, period_start: date) -> list[int]:
    """The verified people of every household with an unpaid bill for the period, each once."""
    return list(db.session.scalars(
        select(Membership.user_id).distinct()
        .join(Bill, Bill.household_id == Membership.household_id)
        .where(Bill.compound_id == compound_id, Bill.period_start == period_start,
               Bill.status == BillStatus.UNPAID, Membership.role.in_((Role.OWNER, Role.RESIDENT)),
               Membership.verified_at.is_not(None))
    ))
