"""Problem compounds (问题小区): each compound's facts gathered in a fixed number of statements per batch, the
per-area thresholds, the sweep that raises, rewords and clears flags (history kept), and who may read them.

A flag is raised once by the database: the insert is an upsert on the partial unique index "one active flag per
compound and rule" (uq_problem_flags_active), so sweeps running together raise it once and only the one whose
insert landed tells the officials."""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from backend.domain.compounds import AreaLevel
from backend.domain.disputes import OPEN_DISPUTE_STATUSES
from backend.domain.flags import (
    COLLECTION_MONTHS,
    DEFAULT_THRESHOLDS,
    FAILED_VOTES_IN_A_ROW,
    FLAG_RULE_LABELS,
    THRESHOLD_FIELDS,
    CompoundFacts,
    DecidedBallot,
    FlagRule,
    FlagThresholds,
    MonthCollection,
    changes,
    firing,
)
from backend.domain.notifications import PROBLEM_FLAG
from backend.domain.rating import RoundStatus
from backend.domain.rectifications import UNFINISHED_RECTIFICATION_STATUSES
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.domain.voting import VoteKind
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    BallotResult,
    CompanyRating,
    Compound,
    DisputeCase,
    FlagThreshold,
    Membership,
    ProblemFlag,
    RatingRound,
    Rectification,
    Survey,
    SurveyTally,
    Topic,
)
from backend.policy import ancestor_area_ids, authorize, authorize_area
from backend.services.audit import record_audit
from backend.services.fees import recent_collections
from backend.services.notifications import notify
from backend.services.overview import open_orders
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page, paginate

log = logging.getLogger("linli.flags")

# Compounds per sweep transaction: every statement takes the batch's ids at once.
SWEEP_BATCH = 500
# Officials of these levels above a compound hear of it being flagged (the street follows up, the district assigns
# a first secretary).
TOLD_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET)
# Who sets thresholds: an official of a district or the city (or an admin).
SETTING_LEVELS = frozenset({AreaLevel.CITY, AreaLevel.DISTRICT})
DISTRICT_AND_UP = "只有区县及以上的住建部门可以设置问题小区标准"


# ---- thresholds -------------------------------------------------------------------------------------------------


def _as_thresholds(row: FlagThreshold) -> FlagThresholds:
    return FlagThresholds(**{name: getattr(row, name) for name in THRESHOLD_FIELDS})


def _nearest(path: str, rows: dict[int, FlagThreshold]) -> FlagThreshold | None:
    return next((rows[area_id] for area_id in reversed(ancestor_area_ids(path)) if area_id in rows), None)


def thresholds_row_for(area: Area) -> FlagThreshold | None:
    """The row of the nearest area at or above `area` that has one (like the rating method's)."""
    ids = ancestor_area_ids(area.path)
    rows = {row.area_id: row for row in db.session.scalars(select(FlagThreshold).where(FlagThreshold.area_id.in_(ids)))}
    return _nearest(area.path, rows)


def read_thresholds(area_id: int, user_id: int | None) -> tuple[Area, FlagThreshold | None]:
    area = authorize_area(Action.VIEW_FLAGS, area_id, user_id)
    return area, thresholds_row_for(area)


def may_set_thresholds(area: Area, user_id: int | None) -> bool:
    """An admin, or an official of a district or the city at or above the area."""
    if user_id is None:
        return False
    rows = db.session.execute(
        select(Membership.role, Area.level).outerjoin(Area, Area.id == Membership.area_id)
        .where(Membership.user_id == user_id,
               (Membership.role == Role.ADMIN)
               | (Membership.area_id.in_(ancestor_area_ids(area.path)) & (Membership.role == Role.OFFICIAL)))
    ).all()
    return any(row.role == Role.ADMIN or row.level in SETTING_LEVELS for row in rows)


def put_thresholds(area_id: int, user_id: int, given: FlagThresholds, ip: str | None = None) -> FlagThreshold:
    """Set the area's own thresholds (they then win for every compound below over any area above); audited."""
    area = authorize_area(Action.SET_FLAG_THRESHOLDS, area_id, user_id)
    if not may_set_thresholds(area, user_id):
        raise Refused(DISTRICT_AND_UP, Kind.FORBIDDEN)
    values = {**asdict(given), "updated_by_id": user_id, "updated_at": utcnow()}
    db.session.execute(
        dialect_insert(FlagThreshold).values(area_id=area.id, **values)
        .on_conflict_do_update(index_elements=[FlagThreshold.area_id], set_=values)
    )
    record_audit(actor_id=user_id, action="flags.thresholds", target_type="area", target_id=area.id,
                 compound_id=None, after=asdict(given), ip=ip)
    db.session.commit()
    return db.session.scalar(select(FlagThreshold).where(FlagThreshold.area_id == area.id))


# ---- facts ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """One compound as the rules saw it."""

    compound_id: int
    name: str
    area_path: str
    facts: CompoundFacts
    thresholds: FlagThresholds


def gather(compound_ids: Sequence[int], now: datetime) -> list[Judged]:
    """Every compound's facts and thresholds, in nine statements whatever the batch's size (a test counts them).

    Disputes and rectifications are counted on the skeleton tables' own columns (status, deadline)."""
    if not compound_ids:
        return []
    ids = list(compound_ids)
    today = beijing_date(now)
    compounds = db.session.execute(
        select(Compound.id, Compound.name, Compound.governance_body, Compound.property_company_id, Area.path)
        .join(Area, Area.id == Compound.area_id).where(Compound.id.in_(ids)).order_by(Compound.id)
    ).all()
    above = {area_id for row in compounds for area_id in ancestor_area_ids(row.path)}
    threshold_rows = {row.area_id: row for row in db.session.scalars(
        select(FlagThreshold).where(FlagThreshold.area_id.in_(above)))}
    collections = recent_collections(ids, COLLECTION_MONTHS, beijing_date(now))
    orders = open_orders(ids, now)

    tally = (select(SurveyTally.compound_id, SurveyTally.rate_bp,
                    func.row_number().over(partition_by=SurveyTally.compound_id,
                                           order_by=(Survey.closed_at.desc(), Survey.id.desc())).label("n"))
             .join(Survey, Survey.id == SurveyTally.survey_id)
             .where(SurveyTally.compound_id.in_(ids), SurveyTally.subject == "overall",
                    SurveyTally.sufficient.is_(True), Survey.closed_at.is_not(None))
             .subquery())
    satisfaction = dict(db.session.execute(select(tally.c.compound_id, tally.c.rate_bp).where(tally.c.n == 1)).all())

    company_ids = {row.property_company_id for row in compounds if row.property_company_id is not None}
    rated = (select(CompanyRating.company_id, CompanyRating.stars,
                    func.row_number().over(partition_by=CompanyRating.company_id,
                                           order_by=(RatingRound.published_at.desc(), RatingRound.id.desc())).label("n"))
             .join(RatingRound, RatingRound.id == CompanyRating.round_id)
             .where(CompanyRating.company_id.in_(company_ids), RatingRound.status == RoundStatus.PUBLISHED)
             .subquery())
    stars = dict(db.session.execute(select(rated.c.company_id, rated.c.stars).where(rated.c.n == 1)).all())

    disputes = dict(db.session.execute(
        select(DisputeCase.compound_id, func.count())
        .where(DisputeCase.compound_id.in_(ids), DisputeCase.status.in_(OPEN_DISPUTE_STATUSES))
        .group_by(DisputeCase.compound_id)
    ).all())
    rectifications = dict(db.session.execute(
        select(Rectification.compound_id, func.count())
        .where(Rectification.compound_id.in_(ids), Rectification.status.in_(UNFINISHED_RECTIFICATION_STATUSES),
               Rectification.deadline < today)
        .group_by(Rectification.compound_id)
    ).all())

    ballots_ranked = (
        select(Topic.compound_id, BallotResult.topic_id, BallotResult.participating_area_centi_m2,
               BallotResult.total_area_centi_m2, BallotResult.participating_headcount, BallotResult.total_headcount,
               func.row_number().over(partition_by=Topic.compound_id,
                                      order_by=(BallotResult.computed_at.desc(), BallotResult.topic_id.desc()))
               .label("n"))
        .join(Topic, Topic.id == BallotResult.topic_id)
        .where(Topic.compound_id.in_(ids), BallotResult.vote_kind == VoteKind.OWNERS_JOINT)
        .subquery()
    )
    ballots: dict[int, list[DecidedBallot]] = {}
    for row in db.session.execute(
        select(ballots_ranked).where(ballots_ranked.c.n <= FAILED_VOTES_IN_A_ROW)
        .order_by(ballots_ranked.c.compound_id, ballots_ranked.c.n)
    ).all():
        ballots.setdefault(row.compound_id, []).append(DecidedBallot(
            topic_id=row.topic_id, participating_area_centi_m2=row.participating_area_centi_m2,
            total_area_centi_m2=row.total_area_centi_m2, participating_headcount=row.participating_headcount,
            total_headcount=row.total_headcount))

    judged = []
    for row in compounds:
        nearest = _nearest(row.path, threshold_rows)
        facts = CompoundFacts(
            governance_body=row.governance_body,
            collections=[MonthCollection(f"{period:%Y-%m}", figures.fen_rate_bp)
                         for period, figures in collections.get(row.id, [])],
            overdue_orders=orders[row.id].overdue,
            satisfaction_bp=satisfaction.get(row.id),
            stars=stars.get(row.property_company_id),
            open_disputes=disputes.get(row.id, 0),
            decided_ballots=ballots.get(row.id, []),
            overdue_rectifications=rectifications.get(row.id, 0),
        )
        judged.append(Judged(row.id, row.name, row.path, facts,
                             _as_thresholds(nearest) if nearest else DEFAULT_THRESHOLDS))
    return judged


# ---- the sweep --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepCount:
    raised: int = 0
    reworded: int = 0
    cleared: int = 0

    def __add__(self, other: SweepCount) -> SweepCount:
        return SweepCount(self.raised + other.raised, self.reworded + other.reworded, self.cleared + other.cleared)


def all_compound_ids() -> list[int]:
    return list(db.session.scalars(select(Compound.id).order_by(Compound.id)))


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), SWEEP_BATCH):
        yield list(ids[start:start + SWEEP_BATCH])


def sweep(compound_ids: Sequence[int], now: datetime | None = None) -> SweepCount:
    """Judge the compounds again, a batch per transaction: raise the flags of rules newly firing, reword those still
    firing whose figures moved, clear those whose rule stopped (cleared_at; the row stays). Idempotent: a second
    sweep over unchanged data changes nothing, and sweeps running together raise each flag once."""
    now = now or utcnow()
    total = SweepCount()
    for batch in _batches(compound_ids):
        total += _sweep_batch(batch, now)
        db.session.commit()
    return total


def _sweep_batch(compound_ids: list[int], now: datetime) -> SweepCount:
    judged = gather(compound_ids, now)
    active: dict[int, dict[FlagRule, tuple[int, str]]] = {}
    for flag_id, compound_id, rule, reason in db.session.execute(
        select(ProblemFlag.id, ProblemFlag.compound_id, ProblemFlag.rule, ProblemFlag.reason)
        .where(ProblemFlag.compound_id.in_(compound_ids), ProblemFlag.cleared_at.is_(None))
    ).all():
        active.setdefault(compound_id, {})[rule] = (flag_id, reason)
    to_raise, to_reword, to_clear = [], [], []
    for compound in judged:
        mine = active.get(compound.compound_id, {})
        planned = changes({rule: reason for rule, (_, reason) in mine.items()}, firing(compound.facts,
                                                                                       compound.thresholds))
        to_raise += [{"compound_id": compound.compound_id, "rule": rule, "reason": reason, "raised_at": now}
                     for rule, reason in planned.raise_.items()]
        to_reword += [{"flag_id": mine[rule][0], "new_reason": reason} for rule, reason in planned.reword.items()]
        to_clear += [mine[rule][0] for rule in planned.clear]
    raised = []
    if to_raise:
        # The upsert on the partial unique index, never check-then-insert: a flag raised meanwhile by another sweep
        # makes this row nothing, and RETURNING names only the rows this sweep raised.
        raised = db.session.execute(
            dialect_insert(ProblemFlag).values(to_raise)
            .on_conflict_do_nothing(index_elements=[ProblemFlag.compound_id, ProblemFlag.rule],
                                    index_where=ProblemFlag.cleared_at.is_(None))
            .returning(ProblemFlag.id, ProblemFlag.compound_id, ProblemFlag.rule)
        ).all()
    if to_reword:
        db.session.execute(
            update(ProblemFlag.__table__)
            .where(ProblemFlag.__table__.c.id == bindparam("flag_id"), ProblemFlag.__table__.c.cleared_at.is_(None))
            .values(reason=bindparam("new_reason")),
            to_reword,
        )
    if to_clear:
        db.session.execute(
            update(ProblemFlag).where(ProblemFlag.id.in_(to_clear), ProblemFlag.cleared_at.is_(None))
            .values(cleared_at=now)
        )
    _tell_officials(raised, {compound.compound_id: compound for compound in judged})
    return SweepCount(raised=len(raised), reworded=len(to_reword), cleared=len(to_clear))


def _tell_officials(raised, judged: dict[int, Judged]) -> None:
    """One notice per compound and sweep to the district's and the street's officials above it, keyed by the flags
    this sweep raised (only the sweep whose insert landed has them, so nobody is told twice)."""
    new_rules: dict[int, list[tuple[int, FlagRule]]] = {}
    for flag_id, compound_id, rule in raised:
        new_rules.setdefault(compound_id, []).append((flag_id, FlagRule(rule)))
    if not new_rules:
        return
    area_ids = {area_id for compound_id in new_rules for area_id in ancestor_area_ids(judged[compound_id].area_path)}
    officials: dict[int, list[int]] = {}
    for user_id, area_id in db.session.execute(
        select(Membership.user_id, Membership.area_id).join(Area, Area.id == Membership.area_id)
        .where(Membership.role == Role.OFFICIAL, Membership.area_id.in_(area_ids), Area.level.in_(TOLD_LEVELS))
    ).all():
        officials.setdefault(area_id, []).append(user_id)
    for compound_id, flags in new_rules.items():
        compound = judged[compound_id]
        people = [user_id for area_id in ancestor_area_ids(compound.area_path) for user_id in officials.get(area_id, [])]
        if not people:
            continue
        labels = "、".join(FLAG_RULE_LABELS[rule] for _, rule in sorted(flags, key=lambda item: item[1]))
        notify(people, PROBLEM_FLAG, f"{compound.name}被标记为问题小区", f"{labels}。",
               link=f"/h5/flags/compounds/{compound_id}",
               dedupe_key=f"problem-flag-{compound_id}-{min(flag_id for flag_id, _ in flags)}")


def sweep_compound(compound_id: int, user_id: int | None = None) -> SweepCount:
    """On demand for one compound (an official over it, or a job with no user)."""
    if user_id is not None:
        authorize(Action.VIEW_FLAGS, compound_id, user_id)
    elif db.session.get(Compound, compound_id) is None:
        return SweepCount()
    return sweep([compound_id])


# ---- reading ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagLine:
    id: int
    compound_id: int
    compound_name: str
    rule: FlagRule
    reason: str
    raised_at: datetime
    cleared_at: datetime | None


def _line(flag: ProblemFlag, name: str) -> FlagLine:
    return FlagLine(flag.id, flag.compound_id, name, FlagRule(flag.rule), flag.reason, flag.raised_at,
                    flag.cleared_at)


def active_flags(compound_ids: Sequence[int]) -> dict[int, list[FlagLine]]:
    """The active flags of each compound (every id is a key; [] when none), in one statement: for the dashboard
    and the reports."""
    found: dict[int, list[FlagLine]] = {compound_id: [] for compound_id in compound_ids}
    if not found:
        return found
    for flag, name in db.session.execute(
        select(ProblemFlag, Compound.name).join(Compound, Compound.id == ProblemFlag.compound_id)
        .where(ProblemFlag.compound_id.in_(list(found)), ProblemFlag.cleared_at.is_(None))
        .order_by(ProblemFlag.compound_id, ProblemFlag.rule)
    ).all():
        found[flag.compound_id].append(_line(flag, name))
    return found


def area_flags(area_id: int, user_id: int | None, rule: FlagRule | None, active: bool, page: int,
               page_size: int) -> tuple[Area, Page]:
    """The flags of the compounds below the area: active ones (oldest first within a compound), or with
    active=False the cleared ones (the history, newest cleared first)."""
    area = authorize_area(Action.VIEW_FLAGS, area_id, user_id)
    below = select(Area.id).where(Area.path.startswith(area.path))
    query = (
        select(ProblemFlag, Compound.name).join(Compound, Compound.id == ProblemFlag.compound_id)
        .where(Compound.area_id.in_(below),
               ProblemFlag.cleared_at.is_(None) if active else ProblemFlag.cleared_at.is_not(None))
    )
    if rule is not None:
        query = query.where(ProblemFlag.rule == rule)
    query = query.order_by(Compound.name, Compound.id, ProblemFlag.raised_at, ProblemFlag.id) if active else \
        query.order_by(ProblemFlag.cleared_at.desc(), ProblemFlag.id.desc())
    result = paginate(query, page, page_size)
    return area, Page(items=[_line(flag, name) for flag, name in result.items], total=result.total, page=page,
                      page_size=page_size)


def compound_flags(compound_id: int, user_id: int | None) -> tuple[Compound, list[FlagLine]]:
    """Every flag of the compound, active first, then the history newest first (officials over it only)."""
    authorize(Action.VIEW_FLAGS, compound_id, user_id)
    compound = db.session.get(Compound, compound_id)
    flags = db.session.scalars(
        select(ProblemFlag).where(ProblemFlag.compound_id == compound_id)
        .order_by(ProblemFlag.cleared_at.is_not(None), ProblemFlag.raised_at.desc(), ProblemFlag.id.desc())
    ).all()
    return compound, [_line(flag, compound.name) for flag in flags]


def area_name(area_id: int) -> str:
    area = db.session.get(Area, area_id)
    return area.name if area else ""
