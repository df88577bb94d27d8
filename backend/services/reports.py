"""Periodic reports (定期通报): asking for an area's report of a period (the cron's monthly and quarterly ones,
an official's on demand), building it in a job from every compound below the area in a fixed number of statements,
freezing its figures, workbook and PDF when published, and telling the area's officials."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, literal, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from backend.domain import reports as rules
from backend.domain.compounds import AreaLevel
from backend.domain.flags import FLAG_RULE_LABELS
from backend.domain.notifications import REPORT_READY
from backend.domain.rating import RoundStatus
from backend.domain.rating import period_label as rating_period_label
from backend.domain.rectifications import (
    RECTIFICATION_STATUS_LABELS,
    RESPONSIBLE_PARTY_LABELS,
    UNFINISHED_RECTIFICATION_STATUSES,
)
from backend.domain.refusals import Kind, Refused
from backend.domain.reports import Headline, Period, ReportKind, ReportStatus
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    BallotResult,
    CompanyRating,
    Compound,
    DisputeCase,
    Inspection,
    Membership,
    ProblemFlag,
    PropertyCompany,
    RatingRound,
    Rectification,
    Report,
    Survey,
    SurveyTally,
    Topic,
)
from backend.policy import ancestor_area_ids, authorize_area
from backend.services import first_secretaries as first_secretary_service
from backend.services import report_files
from backend.services.fees import collections_between
from backend.services.notifications import notify
from backend.services.photos import photo_storage
from backend.services.queueing import enqueue_after_commit
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from backend.shared.pagination import Page, paginate

log = logging.getLogger("linli.reports")

BUILD_JOB = "backend.jobs.reports.build"
NOT_FOUND = "通报不存在"
NOT_READY = "通报还在生成中"
AREA_LEVEL_LABELS = {AreaLevel.CITY: "市", AreaLevel.DISTRICT: "县区", AreaLevel.STREET: "街道", AreaLevel.COMMUNITY: "社区"}
OVERALL = "overall"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ReportRefused(Refused):
    default_kind = Kind.NOT_FOUND


# ---- asking for reports ------------------------------------------------------------------------------------------


def _queue_build(report_id: int, today: date) -> None:
    """One build per report and day, by the outbox's unique job id: a second ask the same day queues nothing; a
    failed build is tried again by the next day's ask."""
    try:
        with db.session.begin_nested():
            enqueue_after_commit(BUILD_JOB, report_id, queue="low", job_id=f"report-{report_id}-{today:%Y%m%d}")
    except IntegrityError:
        log.info("report %d: build already queued today", report_id)


def _insert_periodic(kind: ReportKind, period: Period, areas: Select) -> None:
    """A report row for each area `areas` selects (its ids) that has none for the period, by the unique key."""
    db.session.execute(
        dialect_insert(Report)
        .from_select(
            ["area_id", "kind", "period_start", "period_end", "status", "figures", "failure", "requested_at",
             "xlsx_key", "pdf_key"],
            # WHERE true: SQLite would read the ON of ON CONFLICT as a join's without it.
            select(Area.id, literal(kind.value), literal(period.start), literal(period.end),
                   literal(ReportStatus.BUILDING.value), literal({}, Report.figures.type), literal(""),
                   literal(utcnow(), Report.requested_at.type), literal(""), literal(""))
            .where(true(), Area.id.in_(areas)),
        )
        .on_conflict_do_nothing(index_elements=["area_id", "kind", "period_start"],
                                index_where=text("kind <> 'custom'"))
    )


def ask_periodic(today: date | None = None) -> list[int]:
    """Make sure every area has its report of the last complete month and quarter, and queue the builds of those
    not yet published (the cron, daily: on the 1st it is last month's, on a quarter's first day last quarter's).
    Rows are inserted by the unique key, so any number of runs makes one report per area and period."""
    today = today or beijing_date(utcnow())
    queued: list[int] = []
    for kind in rules.PERIODIC_KINDS:
        period = rules.last_complete_period(kind, today)
        _insert_periodic(kind, period, select(Area.id))
        pending = db.session.scalars(
            select(Report.id).where(Report.kind == kind, Report.period_start == period.start,
                                    Report.status.in_(rules.REBUILDABLE_STATUSES)).order_by(Report.id)
        ).all()
        for report_id in pending:
            _queue_build(report_id, today)
        queued.extend(pending)
    db.session.commit()
    return queued


def periodic_report_now(area_id: int, kind: ReportKind, today: date) -> int:
    """The area's report of the last complete period, built now rather than by a job (the demo's); its id."""
    period = rules.last_complete_period(kind, today)
    _insert_periodic(kind, period, select(Area.id).where(Area.id == area_id))
    report_id = db.session.scalar(select(Report.id).where(Report.area_id == area_id, Report.kind == kind,
                                                          Report.period_start == period.start))
    db.session.commit()
    build(report_id)
    return report_id


def ask_custom(area_id: int, user_id: int | None, start: date, end: date) -> Report:
    """An official's report of any range up to a year that is over (built by a job; the page shows 生成中)."""
    area = authorize_area(Action.VIEW_REPORTS, area_id, user_id)
    today = beijing_date(utcnow())
    problem = rules.custom_range_problem(start, end, today)
    if problem:
        raise ReportRefused(problem, Kind.INVALID, errors={"end": [problem]})
    report = Report(area_id=area.id, kind=ReportKind.CUSTOM, period_start=start, period_end=end,
                    status=ReportStatus.BUILDING, figures={}, built_by_id=user_id)
    db.session.add(report)
    db.session.flush()
    _queue_build(report.id, today)
    db.session.commit()
    return report


# ---- reading -----------------------------------------------------------------------------------------------------


def report_for(report_id: int, user_id: int | None) -> Report:
    """The report, for officials of its area and above (404 for anyone it is hidden from)."""
    report = db.session.get(Report, report_id)
    if report is None:
        raise ReportRefused(NOT_FOUND)
    authorize_area(Action.VIEW_REPORTS, report.area_id, user_id)
    return report


def official_areas(user_id: int | None) -> list[Area]:
    """The areas whose reports the person reads from the start page: those they are an official of."""
    if user_id is None:
        return []
    return list(db.session.scalars(
        select(Area).join(Membership, Membership.area_id == Area.id)
        .where(Membership.user_id == user_id, Membership.role == Role.OFFICIAL).order_by(Area.path)
    ))


def area_reports(area_id: int, user_id: int | None, page: int, page_size: int) -> tuple[Area, Page]:
    area = authorize_area(Action.VIEW_REPORTS, area_id, user_id)
    query = (select(Report).where(Report.area_id == area.id)
             .order_by(Report.period_start.desc(), Report.kind, Report.id.desc()))
    result = paginate(query, page, page_size)
    return area, Page(items=[row[0] for row in result.items], total=result.total, page=page, page_size=page_size)


def report_file(report_id: int, user_id: int | None, kind: str) -> tuple[str, bytes]:
    """The frozen workbook or PDF as published: (download name, bytes)."""
    report = report_for(report_id, user_id)
    if report.status is not ReportStatus.PUBLISHED:
        raise ReportRefused(NOT_READY, Kind.CONFLICT)
    key = report.xlsx_key if kind == "xlsx" else report.pdf_key
    return f"{report.figures['title']}.{kind}", photo_storage().read(key)


# ---- building ----------------------------------------------------------------------------------------------------


def build(report_id: int) -> bool:
    """Build and publish the report (the job). A published report is never touched again; a report still building
    or failed is built afresh. True when this call published it."""
    report = db.session.get(Report, report_id, with_for_update=True)
    if report is None or report.status is ReportStatus.PUBLISHED:
        db.session.rollback()
        return False
    area = db.session.get(Area, report.area_id)
    try:
        figures = compute(area, report.kind, Period(report.period_start, report.period_end))
        workbook = report_files.workbook(figures)
        pdf = report_files.pdf(figures)
    except Exception as error:
        db.session.rollback()
        _mark_failed(report_id, error)
        raise
    digest = hashlib.sha256(workbook + pdf).hexdigest()[:16]
    storage = photo_storage()
    report.xlsx_key = f"reports/{report.area_id}/{report.id}-{digest}.xlsx"
    report.pdf_key = f"reports/{report.area_id}/{report.id}-{digest}.pdf"
    storage.save(report.xlsx_key, workbook, XLSX_TYPE)
    storage.save(report.pdf_key, pdf, "application/pdf")
    report.figures = figures
    report.status = ReportStatus.PUBLISHED
    report.failure = ""
    report.built_at = utcnow()
    _tell_officials(report, figures["title"])
    db.session.commit()
    return True


def _mark_failed(report_id: int, error: Exception) -> None:
    report = db.session.get(Report, report_id, with_for_update=True)
    if report is not None and report.status is not ReportStatus.PUBLISHED:
        report.status = ReportStatus.FAILED
        report.failure = f"{type(error).__name__}: {error}"[:300]
        db.session.commit()


def _tell_officials(report: Report, title: str) -> None:
    officials = db.session.scalars(
        select(Membership.user_id).where(Membership.area_id == report.area_id, Membership.role == Role.OFFICIAL)
        .distinct().order_by(Membership.user_id)
    ).all()
    if officials:
        notify(officials, REPORT_READY, f"{title}已生成", body="请查看本期通报的三升一降、红黑榜与问题小区。",
               link=f"/h5/reports/{report.id}", dedupe_key=f"report-ready-{report.id}")


# ---- the figures -------------------------------------------------------------------------------------------------


def _utc_bounds(period: Period) -> tuple[datetime, datetime]:
    """The period's first moment and the moment after its last, Beijing days, in UTC."""
    start = datetime.combine(period.start, time(), SHANGHAI).astimezone(UTC)
    after = datetime.combine(period.end + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
    return start, after


def _compounds_below(area: Area) -> Select:
    return select(Compound.id).where(
        Compound.area_id.in_(select(Area.id).where(Area.path.startswith(area.path)))
    ).scalar_subquery()


def _period_figures(compound_ids, period: Period) -> dict[str, dict[int, tuple]]:
    """Per compound: ballot turnout, collection, the newest sufficient survey tally and disputes opened, four
    statements whatever the number of compounds."""
    start, after = _utc_bounds(period)
    participation = {
        row[0]: (int(row[1]), int(row[2])) for row in db.session.execute(
            select(Topic.compound_id, func.sum(BallotResult.participating_households),
                   func.sum(BallotResult.eligible_households))
            .join(BallotResult, BallotResult.topic_id == Topic.id)
            .where(Topic.compound_id.in_(compound_ids), Topic.ballot_closed_at >= start,
                   Topic.ballot_closed_at < after)
            .group_by(Topic.compound_id)
        )
    }
    collection = {
        compound_id: (figures.paid_households, figures.billed_households, figures.paid_fen, figures.billed_fen)
        for compound_id, figures in collections_between(compound_ids, period.start, period.end).items()
    }
    newest = (
        select(SurveyTally.compound_id, SurveyTally.satisfied, SurveyTally.valid,
               func.row_number().over(partition_by=SurveyTally.compound_id,
                                      order_by=(Survey.closed_at.desc(), Survey.id.desc())).label("position"))
        .join(Survey, Survey.id == SurveyTally.survey_id)
        .where(SurveyTally.compound_id.in_(compound_ids), SurveyTally.subject == OVERALL,
               SurveyTally.sufficient.is_(True), Survey.closed_at >= start, Survey.closed_at < after)
        .subquery()
    )
    satisfaction = {
        row.compound_id: (row.satisfied, row.valid)
        for row in db.session.execute(select(newest).where(newest.c.position == 1))
    }
    disputes = dict(db.session.execute(
        select(DisputeCase.compound_id, func.count())
        .where(DisputeCase.compound_id.in_(compound_ids), DisputeCase.opened_at >= start, DisputeCase.opened_at < after)
        .group_by(DisputeCase.compound_id)
    ).all())
    return {"participation": participation, "collection": collection, "satisfaction": satisfaction,
            "disputes": disputes}


def _sums(figures: dict[int, tuple]) -> tuple[int, ...]:
    return tuple(sum(values) for values in zip(*figures.values(), strict=True)) if figures else ()


def _headline_values(figures: dict[str, dict]) -> dict[Headline, int | None]:
    participation = _sums(figures["participation"])
    collection = _sums(figures["collection"])
    satisfaction = _sums(figures["satisfaction"])
    return {
        Headline.PARTICIPATION: rules.rate_bp(*participation) if participation else None,
        # Fen paid / fen billed: what the company is owed nothing more of (the households' rate is beside it).
        Headline.COLLECTION: rules.rate_bp(collection[2], collection[3]) if collection else None,
        Headline.SATISFACTION: rules.rate_bp(*satisfaction) if satisfaction else None,
        Headline.DISPUTES: sum(figures["disputes"].values()),
    }


def percent(bp: int | None) -> str:
    return "—" if bp is None else f"{bp // 100}.{bp % 100:02d}%"


def _display(headline: Headline, value: int | None) -> str:
    return f"{value}件" if headline is Headline.DISPUTES else percent(value)


def _delta_display(headline: Headline, delta: int | None) -> str:
    if delta is None:
        return "—"
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    if headline is Headline.DISPUTES:
        return f"{sign}{abs(delta)}件"
    return f"{sign}{abs(delta) // 100}.{abs(delta) % 100:02d}个百分点"


def _headlines(current: dict[str, dict], previous: dict[str, dict]) -> list[dict]:
    now, before = _headline_values(current), _headline_values(previous)
    collection = _sums(current["collection"])
    details = {
        Headline.PARTICIPATION: "参与户数 {} / 应参与户数 {}".format(*_sums(current["participation"]))
        if current["participation"] else "本期无表决",
        Headline.COLLECTION: (f"按金额 {collection[2]}分 / {collection[3]}分；按户 {collection[0]} / {collection[1]}户"
                              f"（{percent(rules.rate_bp(collection[0], collection[1]))}）")
        if collection else "本期无账单",
        Headline.SATISFACTION: "满意 {} / 有效答卷 {}".format(*_sums(current["satisfaction"]))
        if current["satisfaction"] else "本期无有效测评",
        Headline.DISPUTES: f"涉及小区 {len(current['disputes'])} 个",
    }
    lines = []
    for headline in Headline:
        moved = rules.change(headline, now[headline], before[headline])
        lines.append({
            "key": headline.value, "label": rules.HEADLINE_LABELS[headline],
            "value": now[headline], "display": _display(headline, now[headline]),
            "previous": before[headline], "previous_display": _display(headline, before[headline]),
            "direction": moved.direction.value, "direction_label": rules.DIRECTION_LABELS[moved.direction],
            "delta": moved.delta, "delta_display": _delta_display(headline, moved.delta), "good": moved.good,
            "aim": "升" if rules.RISING_IS_GOOD[headline] else "降", "detail": details[headline],
        })
    return lines


def _compound_ranking(compounds: Sequence, current: dict[str, dict]) -> dict:
    names = {row.id: row for row in compounds}
    rates: dict[int, dict[Headline, int | None]] = {}
    for compound_id in names:
        participation = current["participation"].get(compound_id)
        collection = current["collection"].get(compound_id)
        satisfaction = current["satisfaction"].get(compound_id)
        rates[compound_id] = {
            Headline.PARTICIPATION: rules.rate_bp(*participation) if participation else None,
            Headline.COLLECTION: rules.rate_bp(collection[2], collection[3]) if collection else None,
            Headline.SATISFACTION: rules.rate_bp(*satisfaction) if satisfaction else None,
        }
    scores = {}
    for compound_id, compound_rates in rates.items():
        score = rules.composite_bp(compound_rates, current["disputes"].get(compound_id, 0))
        if score is not None:
            scores[compound_id] = score
    ranked = rules.rank(scores)
    red, black = rules.red_and_black(ranked)

    def line(entry: rules.Ranked) -> dict:
        row, compound_rates = names[entry.key], rates[entry.key]
        return {
            "rank": entry.rank, "compound_id": entry.key, "name": row.name, "community": row.community,
            "company": row.company or "", "composite_bp": entry.score, "composite": percent(entry.score),
            "collection": percent(compound_rates[Headline.COLLECTION]),
            "satisfaction": percent(compound_rates[Headline.SATISFACTION]),
            "participation": percent(compound_rates[Headline.PARTICIPATION]),
            "disputes": current["disputes"].get(entry.key, 0),
        }

    return {"ranked": len(ranked), "unranked": len(names) - len(ranked), "red": [line(e) for e in red],
            "black": [line(e) for e in black]}


def _company_ranking(area: Area, compound_ids, period_end: date) -> dict:
    """Each company serving a compound below the area, by its newest rating published by the period's end in a
    round of this area, one above it or one below it."""
    _, after = _utc_bounds(Period(period_end, period_end))
    rounds_area = aliased(Area)
    newest = (
        select(CompanyRating.company_id, CompanyRating.composite_centi, CompanyRating.stars,
               CompanyRating.no_star_reason, RatingRound.period_kind, RatingRound.period_start,
               rounds_area.name.label("round_area"),
               func.row_number().over(partition_by=CompanyRating.company_id,
                                      order_by=(RatingRound.published_at.desc(), RatingRound.id.desc()))
               .label("position"))
        .join(RatingRound, RatingRound.id == CompanyRating.round_id)
        .join(rounds_area, rounds_area.id == RatingRound.area_id)
        .where(RatingRound.status == RoundStatus.PUBLISHED, RatingRound.published_at < after,
               (rounds_area.id.in_(ancestor_area_ids(area.path))) | rounds_area.path.startswith(area.path),
               CompanyRating.company_id.in_(
                   select(Compound.property_company_id).where(Compound.id.in_(compound_ids))))
        .subquery()
    )
    rows = db.session.execute(
        select(newest, PropertyCompany.name).join(PropertyCompany, PropertyCompany.id == newest.c.company_id)
        .where(newest.c.position == 1)
    ).all()
    by_company = {row.company_id: row for row in rows}
    ranked = rules.rank({row.company_id: row.composite_centi for row in rows})
    red, black = rules.red_and_black(ranked)

    def line(entry: rules.Ranked) -> dict:
        row = by_company[entry.key]
        return {
            "rank": entry.rank, "company_id": entry.key, "name": row.name,
            "composite": f"{row.composite_centi // 100}.{row.composite_centi % 100:02d}",
            "stars": row.stars, "stars_display": "★" * row.stars if row.stars else (row.no_star_reason or "不评星"),
            "round": f"{row.round_area} {rating_period_label(row.period_kind, row.period_start)}",
        }

    return {"ranked": len(ranked), "red": [line(e) for e in red], "black": [line(e) for e in black]}


def _problem_compounds(compound_ids) -> list[dict]:
    rows = db.session.execute(
        select(ProblemFlag.compound_id, ProblemFlag.rule, ProblemFlag.reason, ProblemFlag.raised_at, Compound.name)
        .join(Compound, Compound.id == ProblemFlag.compound_id)
        .where(ProblemFlag.compound_id.in_(compound_ids), ProblemFlag.cleared_at.is_(None))
        .order_by(Compound.name, ProblemFlag.compound_id, ProblemFlag.rule)
    ).all()
    return [{"compound_id": row.compound_id, "name": row.name, "rule": FLAG_RULE_LABELS[row.rule],
             "reason": row.reason, "raised_on": beijing_date(row.raised_at).isoformat()} for row in rows]


def _overdue_rectifications(compound_ids, period_end: date) -> list[dict]:
    rows = db.session.execute(
        select(Rectification.id, Rectification.compound_id, Rectification.responsible_party, Rectification.deadline,
               Compound.name)
        .join(Compound, Compound.id == Rectification.compound_id)
        .where(Rectification.compound_id.in_(compound_ids),
               Rectification.status.in_(UNFINISHED_RECTIFICATION_STATUSES), Rectification.deadline < period_end)
        .order_by(Rectification.deadline, Rectification.id)
    ).all()
    return [{"id": row.id, "compound_id": row.compound_id, "name": row.name,
             "party": RESPONSIBLE_PARTY_LABELS[row.responsible_party], "deadline": row.deadline.isoformat(),
             "days_overdue": (period_end - row.deadline).days} for row in rows]


def _rectifications_raised(compound_ids, period: Period) -> list[dict]:
    """整改台账 of the period: every item found by an inspection dated in it, with where it stood when the report
    was built (the report is frozen then)."""
    rows = db.session.execute(
        select(Rectification.id, Rectification.compound_id, Rectification.item, Rectification.finding,
               Rectification.responsible_party, Rectification.deadline, Rectification.status, Compound.name)
        .join(Compound, Compound.id == Rectification.compound_id)
        .join(Inspection, Inspection.id == Rectification.inspection_id)
        .where(Rectification.compound_id.in_(compound_ids), Inspection.inspected_on >= period.start,
               Inspection.inspected_on <= period.end)
        .order_by(Inspection.inspected_on, Rectification.id)
    ).all()
    return [{"id": row.id, "compound_id": row.compound_id, "name": row.name, "item": row.item,
             "finding": row.finding, "party": RESPONSIBLE_PARTY_LABELS[row.responsible_party],
             "deadline": row.deadline.isoformat(), "status": RECTIFICATION_STATUS_LABELS[row.status]}
            for row in rows]


def first_secretary_logs(area: Area, period: Period) -> list[dict]:
    """第一书记工作日志 of the period: every assignment under the area that ran in each month of it, with that month's
    log (未填写 when the secretary wrote none), as the first-secretary feature's own reader gives them."""
    lines = []
    month = period.start.replace(day=1)
    while month <= period.end:
        for entry in first_secretary_service.first_secretary_logs(area.id, month):
            lines.append({"compound_id": entry["compound_id"], "name": entry["compound_name"],
                          "secretary": entry["secretary_name"], "month": f"{month.year}年{month.month}月",
                          "text": entry["log"] or "未填写"})
        month = rules.month_of(month).end + timedelta(days=1)
    return lines


def compute(area: Area, kind: ReportKind, period: Period) -> dict:
    """Everything the report shows, as plain JSON values: built once, then frozen on the row."""
    compound_ids = _compounds_below(area)
    community = aliased(Area)
    compounds = db.session.execute(
        select(Compound.id, Compound.name, community.name.label("community"), PropertyCompany.name.label("company"))
        .join(community, community.id == Compound.area_id)
        .outerjoin(PropertyCompany, PropertyCompany.id == Compound.property_company_id)
        .where(Compound.id.in_(compound_ids)).order_by(Compound.id)
    ).all()
    previous = rules.previous_period(kind, period)
    current_figures = _period_figures(compound_ids, period)
    previous_figures = _period_figures(compound_ids, previous)
    label = rules.period_label(kind, period)
    return {
        "title": f"{area.name}{label}{rules.REPORT_KIND_LABELS[kind]}",
        "area": {"id": area.id, "name": area.name, "level": area.level.value,
                 "level_label": AREA_LEVEL_LABELS[area.level]},
        "kind": kind.value, "kind_label": rules.REPORT_KIND_LABELS[kind],
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "label": label},
        "previous": {"start": previous.start.isoformat(), "end": previous.end.isoformat(),
                     "label": rules.period_label(kind, previous)},
        "compounds": len(compounds),
        "headlines": _headlines(current_figures, previous_figures),
        "compound_ranking": _compound_ranking(compounds, current_figures),
        "company_ranking": _company_ranking(area, compound_ids, period.end),
        "problem_compounds": _problem_compounds(compound_ids),
        "overdue_rectifications": _overdue_rectifications(compound_ids, period.end),
        "rectifications_raised": _rectifications_raised(compound_ids, period),
        "first_secretary_logs": first_secretary_logs(area, period),
        "ranking_rule": rules.COMPOSITE_RULE,
    }
