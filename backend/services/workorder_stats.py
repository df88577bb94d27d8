"""Work-order figures per compound and property company and month, computed in SQL; the monthly tally."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import cache

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, delete, func, or_, select

from backend.domain.workorders import CONFIRM_WINDOW, Status
from backend.extensions import db, dialect_insert
from backend.models import Compound, ScoreSnapshot, WorkOrder
from backend.shared.clock import SHANGHAI, utcnow

COMPOUND = "compound"
COMPANY = "company"
# Up to this many compounds are computed one by one; more, in one statement over every compound.
FEW_SUBJECTS = 20


@dataclass(frozen=True)
class Figures:
    """One month's cohort: the orders submitted in it (Asia/Shanghai), each counted as it stands now."""

    month: date
    orders: int
    accepted: int
    closed: int
    closed_within_sla: int
    confirmed: int
    closed_unconfirmed: int
    disputed: int
    rating_count: int
    rating_sum: int
    median_accept_seconds: int | None
    median_close_seconds: int | None

    @property
    def share_closed_within_sla(self) -> float | None:
        return self.closed_within_sla / self.closed if self.closed else None

    @property
    def share_confirmed(self) -> float | None:
        return self.confirmed / self.closed if self.closed else None

    @property
    def average_rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


_COUNTED = tuple(f.name for f in fields(Figures) if f.name != "month")


def month_of(moment: datetime) -> date:
    local = moment.astimezone(SHANGHAI)
    return date(local.year, local.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC instants a Beijing calendar month starts and ends at (end exclusive)."""
    start, end = month, _next_month(month)
    return (datetime(start.year, start.month, 1, tzinfo=SHANGHAI).astimezone(UTC),
            datetime(end.year, end.month, 1, tzinfo=SHANGHAI).astimezone(UTC))


def _empty(month: date) -> Figures:
    return Figures(month, *(None if name.startswith("median") else 0 for name in _COUNTED))


# ---- the SQL ------------------------------------------------------------------------------------------


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _median(cohort, column: str) -> Select:
    """The median per subject in the portable window form: the mean of rows (n+1)/2 and (n+2)/2 (the same
    row when n is odd), rounded half up to whole seconds in integer arithmetic."""
    value = cohort.c[column]
    ranked = (
        select(
            cohort.c.subject_id,
            value.label("value"),
            func.row_number().over(partition_by=cohort.c.subject_id, order_by=value).label("position"),
            func.count().over(partition_by=cohort.c.subject_id).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    middle = ranked.c.position.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    return (
        select(ranked.c.subject_id, ((2 * func.sum(ranked.c.value) + func.count()) // (2 * func.count())).label("median"))
        .where(middle)
        .group_by(ranked.c.subject_id)
    )


def _subject(scope: str) -> ColumnElement[int]:
    return WorkOrder.compound_id if scope == COMPOUND else Compound.property_company_id


def _percentile_median(value: ColumnElement[int]) -> ColumnElement[int]:
    """PostgreSQL's ordered-set aggregate: the mean of the two middle values, rounded half up (the same
    figure as _median, in one sort inside the aggregate instead of two window passes and a join)."""
    return func.floor(func.percentile_cont(0.5).within_group(value) + 0.5)


@cache
def _statement(scope: str, one_subject: bool, dialect: str) -> Select:
    """Every figure of a month for each subject (a compound, or a company over its compounds) in one
    statement; built once per shape, because building it costs more than running it for one compound.
    Parameters: start, end (the month in UTC), unconfirmed_before (now - 7 days), subject_id if one_subject."""
    subject = _subject(scope)
    query = select(
        subject.label("subject_id"), WorkOrder.status, WorkOrder.accepted_at, WorkOrder.closed_at,
        WorkOrder.confirmed_at, WorkOrder.closed_within_sla, WorkOrder.dispute_count, WorkOrder.seconds_to_accept,
        WorkOrder.seconds_to_close, WorkOrder.rating_stars.label("stars"),
    ).where(WorkOrder.created_at >= bindparam("start"), WorkOrder.created_at < bindparam("end"))
    if scope == COMPANY:
        query = query.join(Compound, Compound.id == WorkOrder.compound_id).where(subject.is_not(None))
    if one_subject:
        query = query.where(subject == bindparam("subject_id"))
    cohort = query.cte("cohort") if dialect != "postgresql" else query.subquery("cohort")

    closed = cohort.c.status == Status.CLOSED
    medians = ()
    if dialect == "postgresql":
        medians = (_percentile_median(cohort.c.seconds_to_accept).label("median_accept_seconds"),
                   _percentile_median(cohort.c.seconds_to_close).label("median_close_seconds"))
    counts = (
        select(
            cohort.c.subject_id,
            func.count().label("orders"),
            func.count(cohort.c.accepted_at).label("accepted"),
            _count_if(closed).label("closed"),
            _count_if(and_(closed, cohort.c.closed_within_sla.is_(True))).label("closed_within_sla"),
            _count_if(and_(closed, cohort.c.confirmed_at.is_not(None))).label("confirmed"),
            # Nobody answered within the 7 days: counted apart, neither 已解决 nor 未解决.
            _count_if(
                and_(closed, cohort.c.confirmed_at.is_(None), cohort.c.closed_at <= bindparam("unconfirmed_before"))
            ).label("closed_unconfirmed"),
            _count_if(cohort.c.dispute_count > 0).label("disputed"),
            func.count(cohort.c.stars).label("rating_count"),
            func.coalesce(func.sum(cohort.c.stars), 0).label("rating_sum"),
            *medians,
        )
        .group_by(cohort.c.subject_id)
    )
    if medians:
        return counts
    counts = counts.subquery()
    accept = _median(cohort, "seconds_to_accept").subquery()
    close = _median(cohort, "seconds_to_close").subquery()
    return (
        select(counts, accept.c.median.label("median_accept_seconds"), close.c.median.label("median_close_seconds"))
        .outerjoin(accept, accept.c.subject_id == counts.c.subject_id)
        .outerjoin(close, close.c.subject_id == counts.c.subject_id)
    )


def _figures_by(month: date, scope: str, now: datetime, subject_id: int | None = None) -> dict[int, Figures]:
    start, end = month_bounds(month)
    parameters = {"start": start, "end": end, "unconfirmed_before": now - CONFIRM_WINDOW}
    if subject_id is not None:
        parameters["subject_id"] = subject_id
    dialect = db.session.get_bind().dialect.name
    rows = db.session.execute(_statement(scope, subject_id is not None, dialect), parameters).mappings()
    return {
        row["subject_id"]: Figures(month, *(None if row[name] is None else int(row[name]) for name in _COUNTED))
        for row in rows
    }


# ---- reading ------------------------------------------------------------------------------------------


def compound_figures(compound_id: int, month: date | None = None, now: datetime | None = None) -> Figures:
    """The current month live; a closed month from its snapshot (computed live if it was never tallied)."""
    return _figures(COMPOUND, compound_id, month, now)


def company_figures(company_id: int, month: date | None = None, now: datetime | None = None) -> Figures:
    """The same figures over every compound the property company serves."""
    return _figures(COMPANY, company_id, month, now)


def _figures(scope: str, subject_id: int, month: date | None, now: datetime | None) -> Figures:
    now = now or utcnow()
    current = month_of(now)
    month = (month or current).replace(day=1)
    if month < current:
        snapshot = db.session.scalar(
            select(ScoreSnapshot).where(
                ScoreSnapshot.month == month, ScoreSnapshot.scope == scope, ScoreSnapshot.subject_id == subject_id
            )
        )
        if snapshot is not None:
            return Figures(month, *(getattr(snapshot, name) for name in _COUNTED))
    live = _figures_by(month, scope, now, subject_id)
    return live.get(subject_id) or _empty(month)


def compounds_figures(compound_ids: Sequence[int], month: date, now: datetime | None = None) -> dict[int, Figures]:
    """compound_figures for many compounds at once (the dashboard's refresh): a closed month from its snapshots,
    the current month (and a closed month never tallied) live, in one statement per kind."""
    now = now or utcnow()
    month = month.replace(day=1)
    found: dict[int, Figures] = {}
    if month < month_of(now):
        for snapshot in db.session.scalars(select(ScoreSnapshot).where(
            ScoreSnapshot.month == month, ScoreSnapshot.scope == COMPOUND, ScoreSnapshot.subject_id.in_(compound_ids)
        )):
            found[snapshot.subject_id] = Figures(month, *(getattr(snapshot, name) for name in _COUNTED))
    missing = [compound_id for compound_id in compound_ids if compound_id not in found]
    if len(missing) > FEW_SUBJECTS:
        live = _figures_by(month, COMPOUND, now)
    else:
        # A few compounds (a refresh after a commit): each by its own index range, not the whole city's month.
        live = {}
        for compound_id in missing:
            live.update(_figures_by(month, COMPOUND, now, compound_id))
    found.update({compound_id: live.get(compound_id) or _empty(month) for compound_id in missing})
    return found


# ---- the tally ----------------------------------------------------------------------------------------


def tally_month(month: date, now: datetime | None = None) -> int:
    """Write the month's snapshots: one per compound and one per property company with orders in it.

    Rows are upserted on (month, scope, subject) and rows of subjects without orders any more removed, in
    one transaction, so a second run leaves the same rows (only computed_at moves)."""
    now = now or utcnow()
    month = month.replace(day=1)
    by_scope = {
        COMPOUND: _figures_by(month, COMPOUND, now),
        COMPANY: _figures_by(month, COMPANY, now),
    }
    db.session.execute(
        delete(ScoreSnapshot).where(
            ScoreSnapshot.month == month,
            or_(*(and_(ScoreSnapshot.scope == scope, ScoreSnapshot.subject_id.not_in(list(figures)))
                  for scope, figures in by_scope.items())),
        )
    )
    rows = [
        {"month": month, "scope": scope, "subject_id": subject_id, "computed_at": now,
         **{name: getattr(item, name) for name in _COUNTED}}
        for scope, figures in by_scope.items()
        for subject_id, item in sorted(figures.items())
    ]
    if rows:
        statement = dialect_insert(ScoreSnapshot)
        statement = statement.on_conflict_do_update(
            index_elements=["month", "scope", "subject_id"],
            set_={name: statement.excluded[name] for name in (*_COUNTED, "computed_at")},
        )
        db.session.execute(statement, rows)
    db.session.commit()
    return len(rows)
