"""The officials' dashboard: per-compound figures kept in compound_figures by a refresh that asks each feature's
own service (one query path), the hook that queues a compound's refresh after a commit touching its data, and the
readers for an area (totals, child areas, charts, the compound table) over those rows."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain

import redis
from flask import current_app
from rq import Queue
from rq.exceptions import DuplicateJobError
from sqlalchemy import Select, and_, case, delete, event, exists, func, literal, select
from sqlalchemy.orm import Session

from backend.domain import dashboard as rules
from backend.domain.compounds import ManagementModel
from backend.domain.disputes import OPEN_DISPUTE_STATUSES
from backend.domain.flags import FlagRule
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    Bill,
    Compound,
    CompoundFigures,
    CompoundMonthFigures,
    DisputeCase,
    Household,
    Membership,
    Payment,
    ProblemFlag,
    PropertyCompany,
    SurveyTally,
    Topic,
    WorkOrder,
)
from backend.policy import authorize_area
from backend.services import consultations as consultation_service
from backend.services import fees as fee_service
from backend.services import overview as overview_service
from backend.services import rating as rating_service
from backend.services import surveys as survey_service
from backend.services import workorder_stats
from backend.services.queueing import JOB_CALLBACKS, RESULT_TTL
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from backend.shared.pagination import Page

log = logging.getLogger("linli.dashboard")

REFRESH_JOB = "backend.jobs.dashboard.refresh_compound"
# Compounds per batch of the refresh: each feature's batched call takes a list of ids (an IN list).
CHUNK = 500

# ---- the refresh --------------------------------------------------------------------------------------------------


def refresh(compound_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Rewrite the figures of the compounds (all when None) from each feature's own services, in batches, and
    commit. An upsert on the compound (and month) key: a rerun, or two refreshes at once, leave one row each."""
    now = now or utcnow()
    ids = sorted(set(compound_ids)) if compound_ids is not None else list(
        db.session.scalars(select(Compound.id).order_by(Compound.id)))
    for start in range(0, len(ids), CHUNK):
        _refresh_batch(ids[start:start + CHUNK], now)
        db.session.commit()
    return len(ids)


def _counts(model, condition, compound_ids: Sequence[int]) -> dict[int, int]:
    return dict(db.session.execute(
        select(model.compound_id, func.count()).where(model.compound_id.in_(compound_ids), condition)
        .group_by(model.compound_id)
    ).all())


def _refresh_batch(compound_ids: list[int], now: datetime) -> None:
    today = beijing_date(now)
    month = rules.month_start(today)
    months = rules.months_back(month)
    year = rules.year_start(today)
    year_utc = datetime(year.year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)
    companies = dict(db.session.execute(
        select(Compound.id, Compound.property_company_id).where(Compound.id.in_(compound_ids))
    ).all())
    compound_ids = [compound_id for compound_id in compound_ids if compound_id in companies]
    if not compound_ids:
        return
    households = dict(db.session.execute(
        select(Household.compound_id, func.count()).where(Household.compound_id.in_(compound_ids))
        .group_by(Household.compound_id)
    ).all())
    newest = fee_service.newest_collections(compound_ids)
    periods = fee_service.collections_by_period(compound_ids, min(year, months[0]))
    orders = overview_service.open_orders(compound_ids, now)
    trend = {m: workorder_stats.compounds_figures(compound_ids, m, now) for m in months}
    surveys = survey_service.latest_overall(compound_ids)
    stars = rating_service.companies_stars(sorted({c for c in companies.values() if c is not None}))
    ballots = consultation_service.held_ballots(compound_ids, year_utc)
    disputes = _counts(DisputeCase, DisputeCase.status.in_(OPEN_DISPUTE_STATUSES), compound_ids)
    flags = _counts(ProblemFlag, ProblemFlag.cleared_at.is_(None), compound_ids)

    rows, month_rows = [], []
    for compound_id in compound_ids:
        period_start, period = newest.get(compound_id, (None, None))
        year_periods = [c for start, c in periods.get(compound_id, {}).items() if start >= year]
        this_month = trend[month][compound_id]
        tally = surveys.get(compound_id)
        held = ballots.get(compound_id, consultation_service.HeldBallots())
        company_id = companies[compound_id]
        rows.append({
            "compound_id": compound_id, "households": households.get(compound_id, 0),
            "period_start": period_start,
            "period_billed_households": period.billed_households if period else 0,
            "period_paid_households": period.paid_households if period else 0,
            "period_billed_fen": period.billed_fen if period else 0,
            "period_paid_fen": period.paid_fen if period else 0,
            "year_billed_households": sum(c.billed_households for c in year_periods),
            "year_paid_households": sum(c.paid_households for c in year_periods),
            "year_billed_fen": sum(c.billed_fen for c in year_periods),
            "year_paid_fen": sum(c.paid_fen for c in year_periods),
            "orders_open": orders[compound_id].open, "orders_overdue": orders[compound_id].overdue,
            "orders_month": this_month.orders, "orders_closed": this_month.closed,
            "orders_closed_within_sla": this_month.closed_within_sla,
            "median_close_seconds": this_month.median_close_seconds,
            "satisfaction_rate_bp": tally.rate_bp if tally else None,
            "satisfaction_sufficient": bool(tally and tally.sufficient),
            "stars": stars.get(company_id) if company_id is not None else None,
            "deliberations_held": held.held, "turnout_households": held.participating_households,
            "turnout_eligible": held.eligible_households,
            "disputes_open": disputes.get(compound_id, 0), "flags_active": flags.get(compound_id, 0),
            "refreshed_at": now,
        })
        by_month: dict[date, list] = {}
        for start, collection in periods.get(compound_id, {}).items():
            by_month.setdefault(rules.month_start(start), []).append(collection)
        for m in months:
            counted = by_month.get(m, [])
            figures = trend[m][compound_id]
            month_rows.append({
                "compound_id": compound_id, "month": m,
                "billed_households": sum(c.billed_households for c in counted),
                "paid_households": sum(c.paid_households for c in counted),
                "billed_fen": sum(c.billed_fen for c in counted), "paid_fen": sum(c.paid_fen for c in counted),
                "orders": figures.orders, "orders_closed": figures.closed,
            })
    _upsert(CompoundFigures, rows, ["compound_id"])
    _upsert(CompoundMonthFigures, month_rows, ["compound_id", "month"])
    db.session.execute(delete(CompoundMonthFigures).where(
        CompoundMonthFigures.compound_id.in_(compound_ids), CompoundMonthFigures.month < months[0]))


def _upsert(model, rows: list[dict], keys: list[str]) -> None:
    if not rows:
        return
    statement = dialect_insert(model.__table__)
    columns = [name for name in rows[0] if name not in keys]
    db.session.execute(statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in columns}), rows)


# ---- keeping it fresh ---------------------------------------------------------------------------------------------

# Rows whose change moves a compound's figures. Changes by bulk statements (bill issuing, tallies) and ledger edits
# (households) are not seen here: the sweep (cron) picks them up.
_WATCHED = (Bill, Payment, WorkOrder, Topic, DisputeCase, ProblemFlag, SurveyTally)
_TOUCHED = "linli_dashboard_touched"


@event.listens_for(Session, "after_flush")
def _note_touched(session: Session, _context) -> None:
    touched = {
        obj.compound_id for obj in chain(session.new, session.dirty, session.deleted)
        if isinstance(obj, _WATCHED) and obj.compound_id is not None
    }
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


@event.listens_for(Session, "after_soft_rollback")
def _forget_touched(session: Session, _previous) -> None:
    session.info.pop(_TOUCHED, None)


_PAUSED = "linli_dashboard_paused"


@event.listens_for(Session, "after_commit")
def _queue_refreshes(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched and not session.info.get(_PAUSED):
        queue_refresh(touched, utcnow())


@contextmanager
def refreshed_after() -> Iterator[None]:
    """For a bulk load (the demo): no refresh job per commit, one refresh of every compound at the end."""
    db.session.info[_PAUSED] = True
    try:
        yield
    finally:
        db.session.info.pop(_PAUSED, None)
    refresh()


def refresh_slot(now: datetime) -> datetime:
    """The next whole minute: every commit within a minute shares one refresh job per compound, run after it."""
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def queue_refresh(compound_ids: Iterable[int], now: datetime) -> None:
    """Straight to Redis after the commit, not through the outbox: a refresh lost with Redis costs nothing but
    freshness, which the sweep restores within minutes, and a fixed id per compound and minute (unique) lets any
    number of commits ask without a row, a lock or a duplicate between them."""
    slot = refresh_slot(now)
    try:
        queue = Queue("low", connection=current_app.extensions["linli_redis"])
        for compound_id in sorted(compound_ids):
            # Already asked for by an earlier commit of this minute.
            with suppress(DuplicateJobError):
                queue.enqueue_at(slot, REFRESH_JOB, compound_id, job_id=refresh_job_id(compound_id, slot),
                                 unique=True, result_ttl=RESULT_TTL, **JOB_CALLBACKS)
    except redis.RedisError as exc:
        log.warning("dashboard refresh not queued (the sweep will do it): %s", exc)


def refresh_job_id(compound_id: int, slot: datetime) -> str:
    return f"compound_figures-{compound_id}-{slot:%Y%m%d%H%M}"


# ---- reading ------------------------------------------------------------------------------------------------------

SUMMED = (
    "households", "period_billed_households", "period_paid_households", "period_billed_fen", "period_paid_fen",
    "year_billed_households", "year_paid_households", "year_billed_fen", "year_paid_fen", "orders_open",
    "orders_overdue", "orders_month", "orders_closed", "orders_closed_within_sla", "deliberations_held",
    "turnout_households", "turnout_eligible", "disputes_open", "flags_active",
)


@dataclass
class Totals:
    """Figures added up over compounds (sums only, so a parent's totals are its children's added up)."""

    compounds: int = 0
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUMMED, 0))

    def add(self, compounds: int, figures: dict[str, int]) -> None:
        self.compounds += compounds
        for name in SUMMED:
            self.figures[name] += int(figures[name] or 0)


@dataclass(frozen=True)
class AreaFigures:
    area: Area
    totals: Totals
    children: list[tuple[Area, Totals]]
    models: dict[str, int]
    months: list[dict]
    worst: list[dict]
    refreshed_at: datetime | None


def _below(area: Area):
    return Area.path.startswith(area.path)


def area_figures(area: Area) -> AreaFigures:
    """The area's totals, each child area's subtotals, and the chart series, from the refreshed rows."""
    summed = [func.coalesce(func.sum(getattr(CompoundFigures, name)), 0).label(name) for name in SUMMED]
    rows = db.session.execute(
        select(Area.path, func.count(Compound.id).label("compounds"), *summed,
               func.min(CompoundFigures.refreshed_at).label("refreshed_at"))
        .select_from(Compound).join(Area, Area.id == Compound.area_id)
        .outerjoin(CompoundFigures, CompoundFigures.compound_id == Compound.id)
        .where(_below(area)).group_by(Area.path)
    ).mappings().all()
    children = list(db.session.scalars(select(Area).where(Area.parent_id == area.id).order_by(Area.name, Area.id)))
    totals, subtotals = Totals(), {child.id: Totals() for child in children}
    refreshed = [row["refreshed_at"] for row in rows if row["refreshed_at"] is not None]
    for row in rows:
        totals.add(row["compounds"], row)
        for child in children:
            if row["path"].startswith(child.path):
                subtotals[child.id].add(row["compounds"], row)
    models = dict(db.session.execute(
        select(Compound.management_model, func.count()).join(Area, Area.id == Compound.area_id)
        .where(_below(area)).group_by(Compound.management_model)
    ).all())
    month_columns = ("billed_households", "paid_households", "billed_fen", "paid_fen", "orders", "orders_closed")
    months = db.session.execute(
        select(CompoundMonthFigures.month,
               *[func.sum(getattr(CompoundMonthFigures, name)).label(name) for name in month_columns])
        .join(Compound, Compound.id == CompoundMonthFigures.compound_id).join(Area, Area.id == Compound.area_id)
        .where(_below(area)).group_by(CompoundMonthFigures.month).order_by(CompoundMonthFigures.month)
    ).mappings().all()
    return AreaFigures(
        area=area, totals=totals, children=[(child, subtotals[child.id]) for child in children],
        models={model.value: models.get(model, 0) for model in ManagementModel},
        months=[{"month": row["month"], **{name: int(row[name] or 0) for name in month_columns}} for row in months],
        worst=[line for line in compound_lines(area, sort=rules.Sort.WORST, page=1, page_size=rules.WORST_COUNT)
               .items],
        refreshed_at=min(refreshed) if refreshed else None,
    )


@dataclass(frozen=True)
class CompoundFilter:
    model: ManagementModel | None = None
    child_area_id: int | None = None  # a street, community (any area below the one shown)
    flag: FlagRule | str | None = None  # a rule, or "any" for any active flag


def _household_rate(paid, billed):
    return case((billed > 0, paid * 10_000 / billed), else_=None)


def _order(sort: rules.Sort) -> tuple:
    f = CompoundFigures
    sla_share = case((f.orders_closed > 0, f.orders_closed_within_sla * 10_000 / f.orders_closed), else_=None)
    orders = {
        rules.Sort.NAME: (Compound.name,),
        rules.Sort.COLLECTION: (_household_rate(f.period_paid_households, f.period_billed_households).asc().nulls_last(),),
        rules.Sort.COLLECTION_YEAR: (_household_rate(f.year_paid_households, f.year_billed_households)
                                     .asc().nulls_last(),),
        rules.Sort.OVERDUE: (func.coalesce(f.orders_overdue, 0).desc(),),
        rules.Sort.OPEN: (func.coalesce(f.orders_open, 0).desc(),),
        rules.Sort.SLA: (sla_share.asc().nulls_last(),),
        rules.Sort.SATISFACTION: (f.satisfaction_rate_bp.asc().nulls_last(),),
        rules.Sort.DISPUTES: (func.coalesce(f.disputes_open, 0).desc(),),
        rules.Sort.BUILT_YEAR: (Compound.built_year.asc().nulls_last(),),
        rules.Sort.HOUSEHOLDS: (func.coalesce(f.households, 0).desc(),),
        rules.Sort.WORST: (func.coalesce(f.flags_active, 0).desc(), func.coalesce(f.orders_overdue, 0).desc(),
                           func.coalesce(f.disputes_open, 0).desc(),
                           _household_rate(f.period_paid_households, f.period_billed_households).asc().nulls_last()),
    }
    return (*orders[sort], Compound.id)


def _lines_query(area: Area, filters: CompoundFilter) -> Select:
    query = (
        select(Compound, CompoundFigures, PropertyCompany.name.label("company_name"), Area.name.label("area_name"))
        .join(Area, Area.id == Compound.area_id)
        .outerjoin(CompoundFigures, CompoundFigures.compound_id == Compound.id)
        .outerjoin(PropertyCompany, PropertyCompany.id == Compound.property_company_id)
        .where(_below(area))
    )
    if filters.model is not None:
        query = query.where(Compound.management_model == filters.model)
    if filters.child_area_id is not None:
        child_path = db.session.scalar(select(Area.path).where(Area.id == filters.child_area_id))
        query = query.where(Area.path.startswith(child_path) if child_path and child_path.startswith(area.path)
                            else literal(False))
    if filters.flag is not None:
        active = and_(ProblemFlag.compound_id == Compound.id, ProblemFlag.cleared_at.is_(None))
        if filters.flag != "any":
            active = and_(active, ProblemFlag.rule == filters.flag)
        query = query.where(exists().where(active))
    return query


@dataclass(frozen=True)
class CompoundLine:
    compound: Compound
    figures: CompoundFigures | None
    company_name: str | None
    area_name: str


def compound_lines(area: Area, filters: CompoundFilter | None = None, sort: rules.Sort = rules.Sort.NAME,
                   page: int = 1, page_size: int = 20) -> Page:
    query = _lines_query(area, filters or CompoundFilter())
    total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(Compound.id).subquery()))
    rows = db.session.execute(query.order_by(*_order(sort)).limit(page_size).offset((page - 1) * page_size)).all()
    return Page(items=[CompoundLine(row[0], row[1], row[2], row[3]) for row in rows], total=total, page=page,
                page_size=page_size)


def child_areas(area: Area) -> list[Area]:
    """Every area below (for the table's area filter), by path."""
    return list(db.session.scalars(select(Area).where(_below(area), Area.id != area.id).order_by(Area.path)))


def seen_area(area_id: int, user_id: int | None) -> Area:
    """The area, for officials of it or above and admins; 404 for other areas' officials, 403/404 for others."""
    return authorize_area(Action.VIEW_DASHBOARD, area_id, user_id)


def home_areas(user_id: int | None) -> list[Area]:
    """Where an official lands: the areas they hold a role over (admins: the top areas)."""
    if user_id is None:
        return []
    roles = db.session.execute(
        select(Membership.role, Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    if any(row.role == Role.ADMIN for row in roles):
        return list(db.session.scalars(select(Area).where(Area.parent_id.is_(None)).order_by(Area.id)))
    area_ids = sorted({row.area_id for row in roles if row.role == Role.OFFICIAL and row.area_id is not None})
    return list(db.session.scalars(select(Area).where(Area.id.in_(area_ids)).order_by(Area.path))) if area_ids else []


def ancestors(area: Area) -> list[Area]:
    """The areas above, top first (the breadcrumbs), cut at the ones the caller may open by the view."""
    ids = [int(part) for part in area.path.strip("/").split("/") if part and int(part) != area.id]
    found = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]
