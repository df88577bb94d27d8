"""What the screens of company scores and stars (评星定级) show, built once for the API to dump and the pages to
render: the rating method in force, credit records, inspections, the rounds of an official's areas, a round with its
steps, ranking, objections and the actions open to this person, the 红黑榜 workbook, and the public company page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook

from backend.domain.rating import (
    CREDIT_LABELS,
    DEFAULT_CHECKLIST,
    HONOUR_ROLL_SIZE,
    PERIOD_LABELS,
    STATUS_LABELS,
    RoundAction,
    RoundStatus,
    inspection_score,
    period_label,
    red_property,
    round_actions,
)
from backend.domain.refusals import Kind
from backend.models import Compound, Inspection, RatingRound
from backend.services import rating as service
from backend.services.rating import RatingRefused
from backend.services.spreadsheets import workbook_bytes, write_table
from backend.shared.clock import utcnow

# ---- the method ---------------------------------------------------------------------------------------------------


def rating_method(area_id: int, user_id: int | None) -> dict:
    area, method = service.read_method(area_id, user_id)
    if method is None:
        return {"area_id": area.id, "source_area_id": None, "source_area_name": None, "inherited": False,
                "bands": [], "cutoffs_bp": []}
    return {
        "area_id": area.id,
        "source_area_id": method.area_id,
        "source_area_name": service.area_name(method.area_id),
        "inherited": method.area_id != area.id,
        "survey_weight": method.survey_weight,
        "service_weight": method.service_weight,
        "inspection_weight": method.inspection_weight,
        "method": str(method.method),
        "bands": [{"min_score_centi": minimum, "stars": stars} for minimum, stars in method.bands],
        "cutoffs_bp": list(method.cutoffs_bp),
        "min_stars": method.min_stars,
        "publicity_days": method.publicity_days,
    }


# ---- credit records and inspections -------------------------------------------------------------------------------


def credit_line(record, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else service.user_names({record.recorded_by_id})
    return {
        "id": record.id, "company_id": record.company_id, "kind": str(record.kind),
        "kind_label": CREDIT_LABELS[record.kind], "points_centi": record.points_centi, "reason": record.reason,
        "has_evidence": record.evidence_key is not None, "occurred_on": record.occurred_on,
        "expires_on": record.expires_on, "area_id": record.area_id,
        "recorded_by": names.get(record.recorded_by_id, ""),
    }


def credit_records(company_id: int, user_id: int | None) -> dict:
    records = service.credit_records(company_id, user_id)
    names = service.user_names({record.recorded_by_id for record in records})
    return {"company_id": company_id, "company_name": service.company(company_id).name,
            "items": [credit_line(record, names) for record in records]}


def inspection_view(inspection: Inspection) -> dict:
    return {
        "id": inspection.id, "compound_id": inspection.compound_id, "company_id": inspection.company_id,
        "inspected_on": inspection.inspected_on, "points": inspection.points, "max_points": inspection.max_points,
        "score_centi": inspection_score(inspection.points, inspection.max_points), "note": inspection.note,
        "items": [{"position": item.position, "name": item.name, "max_points": item.max_points,
                   "points": item.points, "finding": item.finding, "has_photo": item.photo_key is not None}
                  for item in inspection.items],
    }


@dataclass(frozen=True)
class InspectionForm:
    compound: Compound
    company_name: str | None
    checklist: tuple[tuple[str, int], ...]
    recent: list[dict]


def inspection_form(compound_id: int, user_id: int | None) -> InspectionForm:
    recent = [inspection_view(row) for row in service.inspections_of(compound_id, user_id, limit=10)]
    compound = service.compound(compound_id)
    company = service.company(compound.property_company_id) if compound.property_company_id else None
    return InspectionForm(compound, company.name if company else None, DEFAULT_CHECKLIST, recent)


# ---- rounds -------------------------------------------------------------------------------------------------------


def rates_companies(user_id: int | None) -> bool:
    return service.rates_companies(user_id)


def _round_line(rnd: RatingRound, area_name: str) -> dict:
    return {"id": rnd.id, "area_id": rnd.area_id, "area_name": area_name,
            "period_label": period_label(rnd.period_kind, rnd.period_start), "status": str(rnd.status),
            "status_label": STATUS_LABELS[rnd.status]}


def round_list(user_id: int | None) -> dict:
    """The rounds of an official's areas, and the areas where they may start one."""
    return {
        "items": [_round_line(rnd, area.name) for rnd, area in service.rounds_for(user_id)],
        "areas": [{"id": area.id, "name": area.name} for area in service.official_areas(user_id)],
    }


def _steps(rnd: RatingRound, names: dict[int, str]) -> list[dict]:
    def step(key, label, done, by, at):
        return {"key": key, "label": label, "done": done, "by": names.get(by) if by else None, "at": at}

    order = list(RoundStatus)
    reached = order.index(rnd.status)
    return [
        step("computed", "计算得分", rnd.computed_at is not None, rnd.created_by_id, rnd.computed_at),
        step("reviewed", "街道初审", reached >= order.index(RoundStatus.REVIEWED), rnd.reviewed_by_id, rnd.reviewed_at),
        step("confirmed", "区县复核并公示", reached >= order.index(RoundStatus.CONFIRMED), rnd.confirmed_by_id,
             rnd.confirmed_at),
        step("published", "授牌公布", rnd.status is RoundStatus.PUBLISHED, rnd.published_by_id, rnd.published_at),
    ]


def round_detail(round_id: int, user_id: int | None) -> dict:
    seen = service.seen_round(round_id, user_id)
    rnd = seen.round
    now = utcnow()
    objections = service.objections_of(round_id)
    unanswered = sum(1 for objection in objections if objection.answered_at is None)
    publicity_over = rnd.publicity_ends_at is not None and now >= rnd.publicity_ends_at
    actions = round_actions(rnd.status, seen.standing, computed=rnd.computed_at is not None,
                            publicity_over=publicity_over, unanswered=unanswered,
                            reviewed_by_me=user_id is not None and rnd.reviewed_by_id == user_id)
    compounds = service.compounds_by_company(seen.area)
    rows = service.round_rows(round_id)
    company_names = {company.id: company.name for _, company in rows}
    names = service.user_names({rnd.created_by_id, rnd.reviewed_by_id, rnd.confirmed_by_id, rnd.published_by_id}
                               - {None})
    return {
        "id": rnd.id, "area_id": rnd.area_id, "area_name": seen.area.name, "period_kind": str(rnd.period_kind),
        "period_label": period_label(rnd.period_kind, rnd.period_start), "period_start": rnd.period_start,
        "period_end": rnd.period_end, "status": str(rnd.status), "status_label": STATUS_LABELS[rnd.status],
        "computed": rnd.computed_at is not None, "publicity_ends_at": rnd.publicity_ends_at,
        "method": rnd.method_snapshot, "steps": _steps(rnd, names),
        "lines": [
            {
                "company_id": row.company_id, "company_name": company.name,
                "compounds": [name for _, name in compounds.get(row.company_id, [])],
                "compound_codes": [code for code, _ in compounds.get(row.company_id, [])],
                "compounds_rated": row.compounds_rated,
                "compounds_insufficient": row.compounds_insufficient,
                "survey_score_centi": row.survey_score_centi, "service_score_centi": row.service_score_centi,
                "inspection_score_centi": row.inspection_score_centi, "credit_centi": row.credit_centi,
                "composite_centi": row.composite_centi, "rank": row.rank, "stars": row.stars,
                "no_star_reason": row.no_star_reason, "red_property": red_property(row.stars, company.has_party_org),
            }
            for row, company in rows
        ],
        # The objector is never named: the answer is public, the person is not.
        "objections": [
            {"id": objection.id, "company_id": objection.company_id,
             "company_name": company_names.get(objection.company_id), "reason": objection.reason,
             "answer": objection.answer, "answered_at": objection.answered_at, "created_at": objection.created_at,
             "mine": objection.user_id == user_id}
            for objection in objections
        ],
        "actions": actions,
        "inspects": service.inspects_area(seen.area, user_id),
    }


def round_workbook(round_id: int, user_id: int | None) -> tuple[str, bytes]:
    """The 红黑榜: the ranking with the top and the bottom marked (officials of the area or above, and of the
    streets that review it)."""
    detail = round_detail(round_id, user_id)
    if RoundAction.EXPORT not in detail["actions"]:
        raise RatingRefused("只有住建部门可以导出红黑榜", Kind.FORBIDDEN)
    lines = detail["lines"]
    marked = min(HONOUR_ROLL_SIZE, len(lines) // 2)

    def mark(index: int, line: dict) -> str:
        if line["no_star_reason"] and line["no_star_reason"] != "期内无评价数据":
            return "黑榜"
        if index < marked:
            return "红榜"
        return "黑榜" if index >= len(lines) - marked else ""

    def points(centi: int | None):
        return "" if centi is None else f"{centi / 100:.2f}"

    rows = [
        [line["rank"], line["company_name"], points(line["composite_centi"]), points(line["survey_score_centi"]),
         points(line["service_score_centi"]), points(line["inspection_score_centi"]), points(line["credit_centi"]),
         line["stars"], line["no_star_reason"], "是" if line["red_property"] else "", mark(index, line),
         "、".join(line["compounds"])]
        for index, line in enumerate(lines)
    ]
    book = Workbook()
    write_table(book.active, f"{detail['area_name']} {detail['period_label']} 物业服务评星（{detail['status_label']}）",
                ["名次", "物业企业", "综合得分", "满意度", "工单服务", "现场检查", "信用加减", "星级", "不评星原因",
                 "红色物业", "红黑榜", "服务小区"], rows, money_columns=[], widths=[6, 28, 10, 10, 10, 10, 10, 6, 16,
                                                                           8, 8, 40])
    return f"rating-round-{round_id}.xlsx", workbook_bytes(book)


# ---- the public company page ---------------------------------------------------------------------------------------


def company_page(company_id: int) -> dict:
    company = service.company(company_id)
    if company is None:
        raise RatingRefused("没有找到", Kind.NOT_FOUND)
    history = service.published_history(company_id)
    stars = history[0][0].stars if history else None
    return {
        "id": company.id, "name": company.name, "has_party_org": company.has_party_org, "stars": stars,
        "red_property": red_property(stars or 0, company.has_party_org),
        "history": [
            {"round_id": rnd.id, "area_name": area.name, "period_label": period_label(rnd.period_kind, rnd.period_start),
             "stars": row.stars, "composite_centi": row.composite_centi, "rank": row.rank,
             "no_star_reason": row.no_star_reason, "published_at": rnd.published_at}
            for row, rnd, area in history
        ],
    }


@dataclass(frozen=True)
class CompoundStars:
    """What the compound home shows of its company's published stars, and a round in publicity over it."""

    company_id: int | None
    company_name: str
    stars: int | None
    red_property: bool
    publicity_round_id: int | None


def compound_stars(compound: Compound) -> CompoundStars | None:
    publicity = service.publicity_round_for(compound)
    company, stars = (service.company_with_stars(compound.property_company_id) if compound.property_company_id
                      else (None, None))
    if stars is None and publicity is None:
        return None
    company = company if stars is not None else None
    return CompoundStars(company.id if company else None, company.name if company else "", stars,
                         red_property(stars or 0, company.has_party_org if company else False), publicity)


PERIOD_CHOICES = PERIOD_LABELS


def default_period_start(today: date) -> date:
    """The form's default: the quarter before the current one."""
    quarter_month = (today.month - 1) // 3 * 3 + 1
    return date(today.year - 1, 10, 1) if quarter_month == 1 else date(today.year, quarter_month - 3, 1)

