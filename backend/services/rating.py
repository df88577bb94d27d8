"""Company scores and stars (评星定级): the per-area rating method, credit records, on-site inspections, and the
rating round (compute → 初审 → 复核 and 公示 → 授牌) with its objections, the public company page and the 红黑榜.

Each step of a round happens once: an UPDATE … WHERE status = the expected one, and 409 when no row changed."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, delete, exists, func, or_, select, true, update

from backend.domain.compounds import AreaLevel
from backend.domain.rating import (
    DEFAULT_PUBLICITY_DAYS,
    CompanyParts,
    CreditKind,
    PeriodKind,
    RoundStatus,
    Standing,
    StarMethod,
    Weights,
    figures_from_counts,
    inspection_score,
    method_problems,
    period_end,
    rate_companies,
    round_readable,
    service_score,
)
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    CompanyRating,
    Compound,
    CreditRecord,
    Inspection,
    InspectionItem,
    Membership,
    PropertyCompany,
    RatingMethod,
    RatingObjection,
    RatingRound,
    ScoreSnapshot,
    Survey,
    SurveyCompound,
    SurveyEvaluator,
    SurveyTally,
    User,
)
from backend.policy import ancestor_area_ids, authorize_area, roles_in_compound
from backend.services.audit import record_audit
from backend.services.photos import PreparedPhoto, kept_only_on_commit, store_photo
from backend.services.queueing import enqueue_after_commit
from backend.shared.clock import SHANGHAI, beijing_date, utcnow

NO_METHOD = "本区域及上级区域尚未设置评星办法，请先设置评星办法（权重与星级标准）"
COMPUTE_JOB = "backend.jobs.rating.compute_round"
EARLIEST_PERIOD = date(2000, 1, 1)
SAME_REVIEWER = "初审和复核须由不同人员进行"
INSPECTORS_ONLY = "只有区县住建部门或受委派的第三方评价人员可以录入和查看现场检查"


class RatingRefused(Refused):
    """A request the rating rules refuse."""


def _hidden() -> RatingRefused:
    return RatingRefused("没有找到", Kind.NOT_FOUND)


def _forbidden(message: str = "没有权限进行此操作") -> RatingRefused:
    return RatingRefused(message, Kind.FORBIDDEN)


# ---- where a person stands ---------------------------------------------------------------------------------------


def standing(user_id: int | None, area: Area) -> Standing:
    """The person's standing towards `area` (see domain Standing), from their memberships in one query."""
    if user_id is None:
        return Standing()
    rows = db.session.execute(
        select(Membership.role, Area.id, Area.path, Area.level, Compound.id.label("compound_id"), Membership.area_id)
        .select_from(Membership)
        .outerjoin(Compound, Compound.id == Membership.compound_id)
        .outerjoin(Area, Area.id == func.coalesce(Membership.area_id, Compound.area_id))
        .where(Membership.user_id == user_id)
    ).all()
    above_ids = set(ancestor_area_ids(area.path))
    at = above = below = street_below = member = reviews = False
    for row in rows:
        if row.role == Role.ADMIN:
            at = above = True
        elif row.role == Role.OFFICIAL and row.area_id is not None:
            if row.id == area.id:
                at = True
                reviews = reviews or area.level == AreaLevel.STREET
            if row.id in above_ids:
                above = True
            elif row.path.startswith(area.path):
                below = True
                street_below = street_below or row.level == AreaLevel.STREET
        elif row.compound_id is not None and row.path is not None and row.path.startswith(area.path):
            member = True
    return Standing(at=at, above=above, below=below, street_below=street_below, member=member,
                    reviews=reviews or street_below)


def _compounds_below(area: Area):
    return select(Area.id).where(Area.path.startswith(area.path))


# ---- the rating method -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodInput:
    survey_weight: int
    service_weight: int
    inspection_weight: int
    method: StarMethod
    bands: list[tuple[int, int]]
    cutoffs_bp: list[int]
    min_stars: int
    publicity_days: int


def method_for(area: Area) -> RatingMethod | None:
    """The method of the nearest area at or above `area` that has one."""
    ids = ancestor_area_ids(area.path)
    rows = {row.area_id: row for row in db.session.scalars(select(RatingMethod).where(RatingMethod.area_id.in_(ids)))}
    return next((rows[area_id] for area_id in reversed(ids) if area_id in rows), None)


def read_method(area_id: int, user_id: int | None) -> tuple[Area, RatingMethod | None]:
    area = authorize_area(Action.RATE_COMPANIES, area_id, user_id)
    return area, method_for(area)


def put_method(area_id: int, user_id: int, given: MethodInput, ip: str | None = None) -> RatingMethod:
    """Set the area's own method (it then wins over any area above for every compound below)."""
    area = authorize_area(Action.RATE_COMPANIES, area_id, user_id)
    weights = Weights(given.survey_weight, given.service_weight, given.inspection_weight)
    problems = method_problems(weights, given.method, given.bands, given.cutoffs_bp)
    if problems:
        raise RatingRefused(next(iter(problems.values())), Kind.INVALID, errors={k: [v] for k, v in problems.items()})
    values = {
        "survey_weight": given.survey_weight,
        "service_weight": given.service_weight,
        "inspection_weight": given.inspection_weight,
        "method": given.method,
        "bands": [list(band) for band in sorted(given.bands)] if given.method is StarMethod.BANDS else [],
        "cutoffs_bp": list(given.cutoffs_bp) if given.method is StarMethod.RANK else [],
        "min_stars": given.min_stars,
        "publicity_days": given.publicity_days,
        "updated_at": utcnow(),
    }
    db.session.execute(
        dialect_insert(RatingMethod).values(area_id=area.id, **values)
        .on_conflict_do_update(index_elements=[RatingMethod.area_id], set_=values)
    )
    record_audit(actor_id=user_id, action="rating.method", target_type="area", target_id=area.id, compound_id=None,
                 after={key: str(value) for key, value in values.items()}, ip=ip)
    db.session.commit()
    return db.session.scalar(select(RatingMethod).where(RatingMethod.area_id == area.id))


def method_snapshot(method: RatingMethod) -> dict:
    return {
        "area_id": method.area_id,
        "survey_weight": method.survey_weight,
        "service_weight": method.service_weight,
        "inspection_weight": method.inspection_weight,
        "method": str(method.method),
        "bands": [list(band) for band in method.bands],
        "cutoffs_bp": list(method.cutoffs_bp),
        "min_stars": method.min_stars,
        "publicity_days": method.publicity_days or DEFAULT_PUBLICITY_DAYS,
    }


# ---- credit records ----------------------------------------------------------------------------------------------


def _official_area_over_company(user_id: int | None, company_id: int) -> Area:
    """The highest of the official's areas that has a compound of the company below it; 404 otherwise."""
    if user_id is None or db.session.get(PropertyCompany, company_id) is None:
        raise _hidden()
    rows = db.session.execute(
        select(Membership.role, Area).outerjoin(Area, Area.id == Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    admin = any(row.role == Role.ADMIN for row in rows)
    compound_paths = db.session.scalars(
        select(Area.path).join(Compound, Compound.area_id == Area.id).where(Compound.property_company_id == company_id)
    ).all()
    areas = sorted(
        (row.Area for row in rows if row.role == Role.OFFICIAL and row.Area is not None
         and any(path.startswith(row.Area.path) for path in compound_paths)),
        key=lambda area: len(area.path),
    )
    if areas:
        return areas[0]
    if admin:
        root = db.session.scalar(select(Area).where(Area.parent_id.is_(None)).order_by(Area.id))
        if root is not None:
            return root
    raise _hidden()


def _not_after_today(day: date, field: str, message: str) -> None:
    if day > beijing_date(utcnow()):
        raise RatingRefused(message, Kind.INVALID, errors={field: [message]})


def one_year_after(day: date) -> date:
    """The default expiry: the same day a year on (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def add_credit_record(
    company_id: int, user_id: int, kind: CreditKind, points_centi: int, reason: str, occurred_on: date,
    expires_on: date | None, evidence: PreparedPhoto | None, ip: str | None = None,
) -> CreditRecord:
    area = _official_area_over_company(user_id, company_id)
    _not_after_today(occurred_on, "occurred_on", "发生日期不能晚于今天")
    # occurred_on is at most today, so its default expiry a year on is always a date.
    expires_on = expires_on or one_year_after(occurred_on)
    if expires_on <= occurred_on:
        raise RatingRefused("失效日期须晚于发生日期", Kind.INVALID, errors={"expires_on": ["失效日期须晚于发生日期"]})
    if (kind is CreditKind.GOOD) != (points_centi > 0):
        message = "良好记录须加分（大于0）" if kind is CreditKind.GOOD else "不良记录、重大事故和黑榜须减分或为0"
        raise RatingRefused(message, Kind.INVALID, errors={"points_centi": [message]})
    with kept_only_on_commit() as stored:
        key = None
        if evidence is not None:
            key = store_photo(evidence)
            stored.append(key)
        record = CreditRecord(
            company_id=company_id, kind=kind, points_centi=points_centi, reason=reason, evidence_key=key,
            occurred_on=occurred_on, expires_on=expires_on, recorded_by_id=user_id, area_id=area.id,
        )
        db.session.add(record)
        db.session.flush()
        record_audit(actor_id=user_id, action="rating.credit_record", target_type="credit_record",
                     target_id=record.id, compound_id=None,
                     after={"company_id": company_id, "kind": str(kind), "points_centi": points_centi}, ip=ip)
        db.session.commit()
    return record


def credit_records(company_id: int, user_id: int | None) -> list[CreditRecord]:
    _official_area_over_company(user_id, company_id)
    return list(db.session.scalars(
        select(CreditRecord).where(CreditRecord.company_id == company_id)
        .order_by(CreditRecord.occurred_on.desc(), CreditRecord.id.desc())
    ))


def company(company_id: int) -> PropertyCompany | None:
    return db.session.get(PropertyCompany, company_id)


def compound(compound_id: int) -> Compound | None:
    return db.session.get(Compound, compound_id)


def area_name(area_id: int) -> str:
    return db.session.get(Area, area_id).name


# ---- inspections -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    name: str
    max_points: int
    points: int
    finding: str = ""
    photo: PreparedPhoto | None = None


@dataclass(frozen=True)
class StoredPhoto:
    """A stored photo's key, as photo_response reads it."""

    storage_key: str


def may_inspect(compound_id: int, user_id: int | None) -> bool:
    """The district's (or the city's) housing official over the compound, an admin, or an evaluator appointed to a
    campaign that covers it; not a street's or a community's official, whose area the company serves day to day.
    404 for anyone with nothing to do with the compound."""
    roles = roles_in_compound(user_id, compound_id)
    if Role.ADMIN in roles or (Role.OFFICIAL in roles and _housing_department_over(compound_id, user_id)):
        return True
    appointed = user_id is not None and db.session.scalar(select(exists().where(
        SurveyEvaluator.user_id == user_id, SurveyCompound.survey_id == SurveyEvaluator.survey_id,
        SurveyCompound.compound_id == compound_id,
    )))
    if appointed:
        return True
    if not roles:
        raise _hidden()
    return False


def _housing_department_over(compound_id: int, user_id: int) -> bool:
    path = db.session.scalar(select(Area.path).join(Compound, Compound.area_id == Area.id)
                             .where(Compound.id == compound_id))
    return _housing_department_over_path(path, user_id)


def _housing_department_over_path(path: str, user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Membership.user_id == user_id, Membership.role == Role.OFFICIAL, Membership.area_id == Area.id,
        Area.id.in_(ancestor_area_ids(path)), Area.level.in_((AreaLevel.CITY, AreaLevel.DISTRICT)),
    ))))


def inspects_area(area: Area, user_id: int | None) -> bool:
    """An admin, or the district's (or the city's) housing official over the whole area: they may inspect every
    compound below it, so a round's page links each compound's inspections for them."""
    if user_id is None:
        return False
    admin = db.session.scalar(select(exists().where(Membership.user_id == user_id, Membership.role == Role.ADMIN)))
    return bool(admin) or _housing_department_over_path(area.path, user_id)


def inspect(
    compound_id: int, user_id: int, inspected_on: date, note: str, items: Sequence[ItemInput], ip: str | None = None
) -> Inspection:
    if not may_inspect(compound_id, user_id):
        raise _forbidden(INSPECTORS_ONLY)
    _not_after_today(inspected_on, "inspected_on", "检查日期不能晚于今天")
    compound = db.session.get(Compound, compound_id)
    if compound.property_company_id is None:
        raise RatingRefused("该小区没有物业服务企业，无需检查评分", Kind.CONFLICT)
    bad = [index for index, item in enumerate(items) if item.points > item.max_points]
    if bad:
        message = f"第{bad[0] + 1}项得分不能高于满分"
        raise RatingRefused(message, Kind.INVALID, errors={f"items.{bad[0]}.points": [message]})
    with kept_only_on_commit() as stored:
        keys = []
        for item in items:
            keys.append(store_photo(item.photo) if item.photo is not None else None)
            if keys[-1]:
                stored.append(keys[-1])
        inspection = Inspection(
            compound_id=compound_id, company_id=compound.property_company_id, inspector_id=user_id,
            inspected_on=inspected_on, note=note, points=sum(item.points for item in items),
            max_points=sum(item.max_points for item in items),
            items=[InspectionItem(position=index + 1, name=item.name, max_points=item.max_points, points=item.points,
                                  finding=item.finding, photo_key=key)
                   for index, (item, key) in enumerate(zip(items, keys, strict=True))],
        )
        db.session.add(inspection)
        db.session.flush()
        record_audit(actor_id=user_id, action="rating.inspection", target_type="inspection",
                     target_id=inspection.id, compound_id=compound_id,
                     after={"points": inspection.points, "max": inspection.max_points}, ip=ip)
        db.session.commit()
    return inspection


def _item(inspection_id: int, position: int, user_id: int | None) -> InspectionItem:
    """A scored inspection's item, for those who may inspect its compound; 404 for anyone else (and for a
    supervision inspection's items, whose findings and photos are its rectification items')."""
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or not inspection.scored or not may_inspect(inspection.compound_id, user_id):
        raise _hidden()
    item = db.session.scalar(select(InspectionItem).where(InspectionItem.inspection_id == inspection_id,
                                                          InspectionItem.position == position))
    if item is None:
        raise _hidden()
    return item


def attach_finding_photo(inspection_id: int, position: int, user_id: int, prepared: PreparedPhoto) -> Inspection:
    """A photo of an item's finding, taken after the inspection was saved (it replaces an earlier one)."""
    item = _item(inspection_id, position, user_id)
    with kept_only_on_commit() as stored:
        item.photo_key = store_photo(prepared)
        stored.append(item.photo_key)
        db.session.commit()
    return db.session.get(Inspection, inspection_id)


def finding_photo(inspection_id: int, position: int, user_id: int | None) -> StoredPhoto | None:
    key = _item(inspection_id, position, user_id).photo_key
    return StoredPhoto(key) if key else None


def evidence_photo(record_id: int, user_id: int | None) -> StoredPhoto | None:
    record = db.session.get(CreditRecord, record_id)
    if record is None:
        raise _hidden()
    _official_area_over_company(user_id, record.company_id)
    return StoredPhoto(record.evidence_key) if record.evidence_key else None


def inspections_of(compound_id: int, user_id: int | None, limit: int = 50) -> list[Inspection]:
    if not may_inspect(compound_id, user_id):
        raise _forbidden(INSPECTORS_ONLY)
    return list(db.session.scalars(
        select(Inspection).where(Inspection.compound_id == compound_id, Inspection.points.is_not(None))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc()).limit(limit)
    ))


# ---- rating rounds -----------------------------------------------------------------------------------------------


def create_round(area_id: int, user_id: int, period_kind: PeriodKind, period_start: date,
                 ip: str | None = None) -> RatingRound:
    """Create the round with the method in force (snapshotted) and queue its compute."""
    area = authorize_area(Action.RATE_COMPANIES, area_id, user_id)
    method = method_for(area)
    if method is None:
        raise RatingRefused(NO_METHOD, Kind.CONFLICT)
    # A period not yet begun has nothing to rate; one before 2000 none of this platform's data either (and its
    # Beijing days would not all fit a UTC datetime at year 1).
    _not_after_today(period_start, "period_start", "评星期间尚未开始")
    if period_start < EARLIEST_PERIOD:
        raise RatingRefused("评星期间不能早于2000年", Kind.INVALID, errors={"period_start": ["评星期间不能早于2000年"]})
    try:
        end = period_end(period_kind, period_start)
    except ValueError as error:
        raise RatingRefused(str(error), Kind.INVALID, errors={"period_start": [str(error)]}) from None
    round_id = db.session.scalar(
        dialect_insert(RatingRound)
        .values(area_id=area.id, period_kind=period_kind, period_start=period_start, period_end=end,
                status=RoundStatus.COMPUTED, method_snapshot=method_snapshot(method), created_by_id=user_id,
                created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["area_id", "period_kind", "period_start"])
        .returning(RatingRound.id)
    )
    if round_id is None:
        db.session.rollback()
        raise RatingRefused("本区域该期评星已发起", Kind.CONFLICT)
    enqueue_after_commit(COMPUTE_JOB, round_id, queue="low", job_id=f"rating-compute-{round_id}")
    record_audit(actor_id=user_id, action="rating.round.create", target_type="rating_round", target_id=round_id,
                 compound_id=None, after={"area_id": area.id, "period": f"{period_kind}:{period_start}"}, ip=ip)
    db.session.commit()
    return db.session.get(RatingRound, round_id)


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's days in Beijing time, as UTC instants [from, to)."""
    return (datetime.combine(start, time(0), SHANGHAI).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC))


@dataclass
class _Gathered:
    counts: list[int]
    rated: set[int]
    insufficient: set[int]


def _credit_in_line(area: Area):
    """A credit record counts in a round only when recorded by an official of the round's area, of an area above
    it or of one below it: another district's official never decides this district's stars."""
    return or_(CreditRecord.area_id.in_(ancestor_area_ids(area.path)), CreditRecord.area_id.in_(_compounds_below(area)))


def gather_parts(rnd: RatingRound) -> tuple[list[CompanyParts], dict[int, tuple[int, int]]]:
    """Every company serving a compound below the round's area, with its parts of the period; and per company the
    number of compounds rated and left out for 样本不足. A handful of grouped queries, whatever the count."""
    area = db.session.get(Area, rnd.area_id)
    below = _compounds_below(area)
    company_ids = sorted(db.session.scalars(
        select(Compound.property_company_id).distinct()
        .where(Compound.area_id.in_(below), Compound.property_company_id.is_not(None))
    ))
    if not company_ids:
        return [], {}
    start, end = rnd.period_start, rnd.period_end
    opens, closes = _utc_bounds(start, end)
    in_companies = company_ids

    surveys: dict[int, _Gathered] = defaultdict(lambda: _Gathered([0] * 6, set(), set()))
    tallies = db.session.execute(
        select(SurveyCompound.property_company_id, SurveyTally.compound_id, SurveyTally.counts, SurveyTally.sufficient)
        .join(Survey, Survey.id == SurveyTally.survey_id)
        .join(SurveyCompound, and_(SurveyCompound.survey_id == SurveyTally.survey_id,
                                   SurveyCompound.compound_id == SurveyTally.compound_id))
        .join(Compound, Compound.id == SurveyTally.compound_id)
        # Only the housing departments' campaigns (run over an area) score a company: a committee's own campaign
        # could otherwise lift its company's stars with a single sheet.
        .where(SurveyTally.subject == "overall", Survey.area_id.is_not(None), Survey.closed_at.is_not(None),
               Survey.closed_at >= opens,
               Survey.closed_at < closes, Compound.area_id.in_(below),
               SurveyCompound.property_company_id.in_(in_companies))
    )
    for company_id, compound_id, counts, sufficient in tallies:
        gathered = surveys[company_id]
        if sufficient:
            gathered.rated.add(compound_id)
            gathered.counts = [a + b for a, b in zip(gathered.counts, counts, strict=False)]
        else:
            gathered.insufficient.add(compound_id)

    service = {
        row.subject_id: row for row in db.session.execute(
            select(ScoreSnapshot.subject_id, func.sum(ScoreSnapshot.orders).label("orders"),
                   func.sum(ScoreSnapshot.closed).label("closed"),
                   func.sum(ScoreSnapshot.closed_within_sla).label("within_sla"),
                   func.sum(ScoreSnapshot.confirmed).label("confirmed"),
                   func.sum(ScoreSnapshot.rating_count).label("rating_count"),
                   func.sum(ScoreSnapshot.rating_sum).label("rating_sum"))
            .where(ScoreSnapshot.scope == "company", ScoreSnapshot.subject_id.in_(in_companies),
                   ScoreSnapshot.month >= start, ScoreSnapshot.month <= end)
            .group_by(ScoreSnapshot.subject_id)
        )
    }
    inspections = {
        row.company_id: (int(row.points), int(row.max_points)) for row in db.session.execute(
            select(Inspection.company_id, func.sum(Inspection.points).label("points"),
                   func.sum(Inspection.max_points).label("max_points"))
            .where(Inspection.points.is_not(None), Inspection.company_id.in_(in_companies), Inspection.compound_id.in_(
                select(Compound.id).where(Compound.area_id.in_(below))),
                Inspection.inspected_on >= start, Inspection.inspected_on <= end)
            .group_by(Inspection.company_id)
        )
    }
    credit: dict[int, int] = defaultdict(int)
    barred: dict[int, CreditKind] = {}
    for company_id, kind, points, occurred_on in db.session.execute(
        select(CreditRecord.company_id, CreditRecord.kind, CreditRecord.points_centi, CreditRecord.occurred_on)
        .where(CreditRecord.company_id.in_(in_companies), CreditRecord.occurred_on <= end,
               CreditRecord.expires_on > start, _credit_in_line(area))
    ):
        if kind in (CreditKind.GOOD, CreditKind.BAD):
            credit[company_id] += points
        elif occurred_on >= start and (barred.get(company_id) is not CreditKind.MAJOR_ACCIDENT):
            barred[company_id] = kind

    parts, counts = [], {}
    for company_id in company_ids:
        gathered = surveys.get(company_id)
        survey = None
        if gathered is not None and gathered.rated:
            survey = figures_from_counts(dict(enumerate(gathered.counts))).score_centi
        snap = service.get(company_id)
        service_part = service_score(
            int(snap.closed), int(snap.within_sla), int(snap.orders), int(snap.confirmed), int(snap.rating_count),
            int(snap.rating_sum),
        ) if snap is not None else None
        inspected = inspections.get(company_id)
        parts.append(CompanyParts(
            company_id=company_id, survey=survey, service=service_part,
            inspection=inspection_score(*inspected) if inspected else None,
            credit=credit.get(company_id, 0), barred=barred.get(company_id),
        ))
        counts[company_id] = (len(gathered.rated), len(gathered.insufficient - gathered.rated)) if gathered else (0, 0)
    return parts, counts


def compute_round(round_id: int) -> bool:
    """(Re)compute every company's row of a round still awaiting review; a rerun writes identical rows. False when
    the round is gone or already past its compute."""
    # Locked until the rows are written: a review waits for the compute, so it never passes rows being rewritten.
    rnd = db.session.scalar(select(RatingRound).where(RatingRound.id == round_id).with_for_update())
    if rnd is None or rnd.status is not RoundStatus.COMPUTED:
        db.session.rollback()
        return False
    snap = rnd.method_snapshot
    parts, counts = gather_parts(rnd)
    rated = rate_companies(
        parts, Weights(snap["survey_weight"], snap["service_weight"], snap["inspection_weight"]),
        StarMethod(snap["method"]), [tuple(band) for band in snap["bands"]], snap["cutoffs_bp"], snap["min_stars"],
    )
    by_company = {part.company_id: part for part in parts}
    rows = [
        {
            "round_id": round_id, "company_id": line.company_id,
            "compounds_rated": counts[line.company_id][0], "compounds_insufficient": counts[line.company_id][1],
            "survey_score_centi": by_company[line.company_id].survey,
            "service_score_centi": by_company[line.company_id].service,
            "inspection_score_centi": by_company[line.company_id].inspection,
            "credit_centi": by_company[line.company_id].credit, "composite_centi": line.composite,
            "rank": line.rank, "stars": line.stars, "no_star_reason": line.no_star_reason,
        }
        for line in rated
    ]
    db.session.execute(delete(CompanyRating).where(
        CompanyRating.round_id == round_id, CompanyRating.company_id.not_in([row["company_id"] for row in rows])
    ))
    if rows:
        statement = dialect_insert(CompanyRating)
        changed = {column: statement.excluded[column] for column in rows[0] if column not in ("round_id", "company_id")}
        for start in range(0, len(rows), 500):
            db.session.execute(
                dialect_insert(CompanyRating).values(rows[start:start + 500])
                .on_conflict_do_update(index_elements=["round_id", "company_id"], set_=changed)
            )
    db.session.execute(update(RatingRound).where(RatingRound.id == round_id).values(computed_at=utcnow()))
    db.session.commit()
    return True


# ---- the steps ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenRound:
    round: RatingRound
    area: Area
    standing: Standing


def seen_round(round_id: int, user_id: int | None) -> SeenRound:
    """The round as this person may see it: officials of the area or above and of the streets under it (who review
    it) at every step; other officials under it and members of its compounds from publicity on; 404 for everyone
    else (a ranking not yet reviewed is not for the whole area)."""
    rnd = db.session.get(RatingRound, round_id)
    if rnd is None:
        raise _hidden()
    area = db.session.get(Area, rnd.area_id)
    where = standing(user_id, area)
    if not round_readable(rnd.status, where):
        raise _hidden()
    return SeenRound(rnd, area, where)


def unanswered_objections(round_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RatingObjection).where(
        RatingObjection.round_id == round_id, RatingObjection.answered_at.is_(None)))


def _advance(round_id: int, expected: RoundStatus, values: dict, *extra, refusal: str) -> None:
    changed = db.session.execute(
        update(RatingRound).where(RatingRound.id == round_id, RatingRound.status == expected, *extra).values(**values)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise RatingRefused(refusal, Kind.CONFLICT)


def _audit_step(user_id: int, step: str, round_id: int, ip: str | None) -> None:
    record_audit(actor_id=user_id, action=f"rating.round.{step}", target_type="rating_round", target_id=round_id,
                 compound_id=None, ip=ip)


def review(round_id: int, user_id: int, ip: str | None = None) -> None:
    """初审, by an official of a street under the round's area, or of the area itself when it is a street."""
    seen = seen_round(round_id, user_id)
    if not seen.standing.reviews:
        raise _forbidden("初审由街道住建部门进行")
    _advance(round_id, RoundStatus.COMPUTED, {"status": RoundStatus.REVIEWED, "reviewed_by_id": user_id,
                                              "reviewed_at": utcnow()},
             RatingRound.computed_at.is_not(None), refusal="该轮评星不在待初审状态，或评分尚在计算中")
    _audit_step(user_id, "review", round_id, ip)
    db.session.commit()


def confirm(round_id: int, user_id: int, ip: str | None = None) -> None:
    """复核, by an official of the round's area or above other than the one who reviewed (four eyes); the publicity
    (公示) starts at once for the method's number of days."""
    seen = seen_round(round_id, user_id)
    if not seen.standing.above:
        raise _forbidden("复核由本级或上级住建部门进行")
    if seen.round.reviewed_by_id == user_id:
        raise _forbidden(SAME_REVIEWER)
    now = utcnow()
    days = seen.round.method_snapshot.get("publicity_days") or DEFAULT_PUBLICITY_DAYS
    _advance(round_id, RoundStatus.REVIEWED, {"status": RoundStatus.PUBLICITY, "confirmed_by_id": user_id,
                                              "confirmed_at": now, "publicity_ends_at": now + timedelta(days=days)},
             RatingRound.reviewed_by_id != user_id, refusal="该轮评星不在待复核状态")
    _audit_step(user_id, "confirm", round_id, ip)
    db.session.commit()


def publish(round_id: int, user_id: int, ip: str | None = None) -> None:
    """授牌, by an official of the round's area or above, once the publicity is over and every objection answered."""
    seen = seen_round(round_id, user_id)
    if not seen.standing.above:
        raise _forbidden("授牌由本级或上级住建部门进行")
    now = utcnow()
    rnd = seen.round
    if rnd.status is RoundStatus.PUBLICITY and rnd.publicity_ends_at and now < rnd.publicity_ends_at:
        raise RatingRefused("公示期未满，不能授牌", Kind.CONFLICT)
    if rnd.status is RoundStatus.PUBLICITY and unanswered_objections(round_id):
        raise RatingRefused("尚有公示异议未答复，不能授牌", Kind.CONFLICT)
    unanswered = exists().where(RatingObjection.round_id == round_id, RatingObjection.answered_at.is_(None))
    _advance(round_id, RoundStatus.PUBLICITY, {"status": RoundStatus.PUBLISHED, "published_by_id": user_id,
                                               "published_at": now},
             RatingRound.publicity_ends_at <= now, ~unanswered, refusal="该轮评星不在公示状态，或不能授牌")
    _audit_step(user_id, "publish", round_id, ip)
    db.session.commit()


def object_to(round_id: int, user_id: int, company_id: int | None, reason: str) -> RatingObjection:
    """公示异议: anyone of a compound below the area, during publicity, with a reason."""
    seen = seen_round(round_id, user_id)
    if not seen.standing.member:
        raise _forbidden("只有本区域小区的居民可以提出公示异议")
    rnd = seen.round
    if rnd.status is not RoundStatus.PUBLICITY or utcnow() >= rnd.publicity_ends_at:
        raise RatingRefused("不在公示期内，不能提出异议", Kind.CONFLICT)
    if company_id is not None and not db.session.scalar(select(exists().where(
            CompanyRating.round_id == round_id, CompanyRating.company_id == company_id))):
        raise RatingRefused("请选择本轮评星中的物业企业", Kind.INVALID, errors={"company_id": ["请选择本轮评星中的物业企业"]})
    objection = RatingObjection(round_id=round_id, company_id=company_id, user_id=user_id, reason=reason)
    db.session.add(objection)
    db.session.commit()
    return objection


def answer_objection(objection_id: int, user_id: int, answer: str, ip: str | None = None) -> RatingObjection:
    """An official of the round's area or above answers, once; the answer is public."""
    objection = db.session.get(RatingObjection, objection_id)
    if objection is None:
        raise _hidden()
    seen = seen_round(objection.round_id, user_id)
    if not seen.standing.above:
        raise _forbidden("异议由本级或上级住建部门答复")
    changed = db.session.execute(
        update(RatingObjection).where(RatingObjection.id == objection_id, RatingObjection.answered_at.is_(None))
        .values(answer=answer, answered_by_id=user_id, answered_at=utcnow())
    ).rowcount
    if not changed:
        db.session.rollback()
        raise RatingRefused("该异议已答复", Kind.CONFLICT)
    record_audit(actor_id=user_id, action="rating.objection.answer", target_type="rating_objection",
                 target_id=objection_id, compound_id=None, ip=ip)
    db.session.commit()
    db.session.refresh(objection)
    return objection


# ---- reading -----------------------------------------------------------------------------------------------------


def round_rows(round_id: int) -> list[tuple[CompanyRating, PropertyCompany]]:
    return list(db.session.execute(
        select(CompanyRating, PropertyCompany).join(PropertyCompany, PropertyCompany.id == CompanyRating.company_id)
        .where(CompanyRating.round_id == round_id).order_by(CompanyRating.rank, PropertyCompany.name)
    ).all())


def compounds_by_company(area: Area) -> dict[int, list[tuple[str, str]]]:
    """The (code, name) of the compounds each company serves below the area."""
    names: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for company_id, code, name in db.session.execute(
        select(Compound.property_company_id, Compound.code, Compound.name)
        .where(Compound.area_id.in_(_compounds_below(area)), Compound.property_company_id.is_not(None))
        .order_by(Compound.name)
    ):
        names[company_id].append((code, name))
    return names


def objections_of(round_id: int) -> list[RatingObjection]:
    return list(db.session.scalars(
        select(RatingObjection).where(RatingObjection.round_id == round_id).order_by(RatingObjection.id)))


def user_names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())


def rounds_for(user_id: int | None) -> list[tuple[RatingRound, Area]]:
    """The rounds an official reads (see seen_round): those of their areas and below at every step, those above a
    street of theirs too, those above any other area of theirs from publicity on; latest period first."""
    if user_id is None:
        return []
    areas = db.session.execute(
        select(Area.path, Area.level).join(Membership, Membership.area_id == Area.id)
        .where(Membership.user_id == user_id, Membership.role == Role.OFFICIAL)
    ).all()
    admin = db.session.scalar(select(exists().where(Membership.user_id == user_id, Membership.role == Role.ADMIN)))
    if not areas and not admin:
        return []
    public = RatingRound.status.in_((RoundStatus.PUBLICITY, RoundStatus.PUBLISHED))
    query = select(RatingRound, Area).join(Area, Area.id == RatingRound.area_id)
    if not admin:
        query = query.where(or_(
            *[Area.path.startswith(path) for path, _ in areas],
            *[and_(func.substr(path, 1, func.length(Area.path)) == Area.path,
                   true() if level == AreaLevel.STREET else public) for path, level in areas],
        ))
    return list(db.session.execute(
        query.order_by(RatingRound.period_start.desc(), RatingRound.id.desc()).limit(100)).all())


def rates_companies(user_id: int | None) -> bool:
    """An official (or an admin): the start page links the rating pages."""
    return user_id is not None and bool(db.session.scalar(select(exists().where(
        Membership.user_id == user_id, Membership.role.in_((Role.OFFICIAL, Role.ADMIN))))))


def official_areas(user_id: int | None) -> list[Area]:
    if user_id is None:
        return []
    return list(db.session.scalars(
        select(Area).join(Membership, Membership.area_id == Area.id)
        .where(Membership.user_id == user_id, Membership.role == Role.OFFICIAL).order_by(Area.path)
    ))


def published_history(company_id: int) -> list[tuple[CompanyRating, RatingRound, Area]]:
    """The company's rows of published rounds, latest first."""
    return list(db.session.execute(
        select(CompanyRating, RatingRound, Area).join(RatingRound, RatingRound.id == CompanyRating.round_id)
        .join(Area, Area.id == RatingRound.area_id)
        .where(CompanyRating.company_id == company_id, RatingRound.status == RoundStatus.PUBLISHED)
        .order_by(RatingRound.published_at.desc(), RatingRound.id.desc())
    ).all())


def _latest_published_stars(company_id):
    """`company_id` a value or a correlated column (companies_stars)."""
    return (
        select(CompanyRating.stars).join(RatingRound, RatingRound.id == CompanyRating.round_id)
        .where(CompanyRating.company_id == company_id, RatingRound.status == RoundStatus.PUBLISHED)
        .order_by(RatingRound.published_at.desc(), RatingRound.id.desc()).limit(1)
    )


def companies_stars(company_ids: Sequence[int]) -> dict[int, int | None]:
    """company_with_stars's stars for many companies in one statement (the dashboard's refresh)."""
    if not company_ids:
        return {}
    return dict(db.session.execute(
        select(PropertyCompany.id, _latest_published_stars(PropertyCompany.id).scalar_subquery())
        .where(PropertyCompany.id.in_(company_ids))
    ).all())


def company_with_stars(company_id: int) -> tuple[PropertyCompany, int | None]:
    """The company and its current stars, in one statement (the compound home asks on every view)."""
    company, stars = db.session.execute(
        select(PropertyCompany, _latest_published_stars(company_id).scalar_subquery())
        .where(PropertyCompany.id == company_id)
    ).one()
    return company, stars


def publicity_round_for(compound: Compound) -> int | None:
    """A round in publicity over the compound's area (the latest), for its residents to read and object to."""
    path = compound.area.path
    return db.session.scalar(
        select(RatingRound.id).where(RatingRound.status == RoundStatus.PUBLICITY,
                                     RatingRound.area_id.in_(ancestor_area_ids(path or "")),
                                     RatingRound.publicity_ends_at > utcnow())
        .order_by(RatingRound.id.desc()).limit(1)
    )
