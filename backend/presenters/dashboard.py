"""What the officials' dashboard shows, for the API and the page alike: an area's totals and child areas, the
charts' series, and the compound table with the ledger fields and the refreshed figures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain import dashboard as rules
from backend.domain.compounds import MANAGEMENT_MODEL_LABELS, ManagementModel
from backend.domain.flags import FLAG_RULE_LABELS, FlagRule
from backend.presenters import backbones as backbones_presenter
from backend.presenters import fund_years as fund_years_presenter
from backend.presenters import governance as governance_presenter
from backend.services import dashboard as service
from backend.shared.clock import SHANGHAI


def _collection(billed_households: int, paid_households: int, billed_fen: int, paid_fen: int) -> dict:
    return {
        "billed_households": billed_households, "paid_households": paid_households,
        "billed_fen": billed_fen, "paid_fen": paid_fen,
        "household_rate_bp": rules.rate_bp(paid_households, billed_households),
        "fen_rate_bp": rules.rate_bp(paid_fen, billed_fen),
    }


def _figures(values: dict) -> dict:
    """The figures of a compound or a sum of compounds: counts and fen, and the rates computed from them."""
    return {
        "households": values["households"],
        "period": _collection(values["period_billed_households"], values["period_paid_households"],
                              values["period_billed_fen"], values["period_paid_fen"]),
        "year": _collection(values["year_billed_households"], values["year_paid_households"],
                            values["year_billed_fen"], values["year_paid_fen"]),
        "orders_open": values["orders_open"], "orders_overdue": values["orders_overdue"],
        "orders_month": values["orders_month"], "orders_closed": values["orders_closed"],
        "orders_closed_within_sla": values["orders_closed_within_sla"],
        "sla_share_bp": rules.rate_bp(values["orders_closed_within_sla"], values["orders_closed"]),
        "deliberations_held": values["deliberations_held"], "turnout_households": values["turnout_households"],
        "turnout_eligible": values["turnout_eligible"],
        "turnout_bp": rules.rate_bp(values["turnout_households"], values["turnout_eligible"]),
        "disputes_open": values["disputes_open"], "flags_active": values["flags_active"],
    }


def _refreshed_label(moment: datetime | None) -> str:
    return f"更新于 {moment.astimezone(SHANGHAI):%m-%d %H:%M}" if moment else "尚未统计"


def _area(area) -> dict:
    return {"id": area.id, "name": area.name, "level": area.level.value,
            "level_label": rules.AREA_LEVEL_LABELS[area.level.value]}


def compound_line(line: service.CompoundLine) -> dict:
    compound, figures = line.compound, line.figures
    values = {name: getattr(figures, name) for name in service.SUMMED} if figures else None
    return {
        "id": compound.id, "code": compound.code, "name": compound.name, "area_name": line.area_name,
        "built_year": compound.built_year, "management_model": compound.management_model.value,
        "management_model_label": MANAGEMENT_MODEL_LABELS[compound.management_model],
        "governance_body": compound.governance_body.value,
        "governance_body_label": rules.GOVERNANCE_BODY_LABELS[compound.governance_body.value],
        "party_org_form": compound.party_org_form.value,
        "party_org_form_label": rules.PARTY_ORG_LABELS[compound.party_org_form.value],
        "property_company": line.company_name or "", "fee_standard_fen_per_m2": compound.fee_standard_fen_per_m2,
        "figures": None if figures is None else {
            **_figures(values), "period_start": figures.period_start,
            "median_close_seconds": figures.median_close_seconds,
            "satisfaction_rate_bp": figures.satisfaction_rate_bp,
            "satisfaction_sufficient": figures.satisfaction_sufficient, "stars": figures.stars,
            "refreshed_at": figures.refreshed_at,
        },
    }


def area_dashboard(area_id: int, user_id: int | None) -> dict:
    area = service.seen_area(area_id, user_id)
    found = service.area_figures(area)
    return {
        "area": _area(area),
        "breadcrumbs": [_area(above) for above in service.ancestors(area)],
        "compounds": found.totals.compounds,
        "totals": _figures(found.totals.figures),
        "children": [{**_area(child), "compounds": totals.compounds, "totals": _figures(totals.figures)}
                     for child, totals in found.children],
        "charts": {
            "models": [{"model": model, "label": MANAGEMENT_MODEL_LABELS[ManagementModel(model)], "compounds": count}
                       for model, count in found.models.items()],
            "collection_by_month": [
                {"month": row["month"], **_collection(row["billed_households"], row["paid_households"],
                                                      row["billed_fen"], row["paid_fen"])}
                for row in found.months
            ],
            "order_trend": [{"month": row["month"], "orders": row["orders"], "closed": row["orders_closed"]}
                            for row in found.months],
            "worst": [compound_line(line) for line in found.worst],
        },
        "coverage": governance_presenter.coverage_of(area),
        "fund_coverage": fund_years_presenter.coverage_of(area),
        # Issue 19: 治理骨干 by kind below the area.
        "backbones": backbones_presenter.area_block(area),
        "refreshed_at": found.refreshed_at,
        "refreshed_label": _refreshed_label(found.refreshed_at),
    }


@dataclass(frozen=True)
class TableQuery:
    model: ManagementModel | None = None
    area_id: int | None = None
    flag: str | None = None
    sort: rules.Sort = rules.Sort.NAME
    page: int = 1
    page_size: int = 20


def table_query(args: dict) -> TableQuery:
    """The table's query as CompoundTableQuery loaded it (API query string or the page's)."""
    return TableQuery(
        model=ManagementModel(args["model"]) if args.get("model") else None,
        area_id=args.get("area_id") or args.get("street"), flag=args.get("flag"), sort=rules.Sort(args["sort"]),
        page=args["page"], page_size=args["page_size"],
    )


def compound_table(area_id: int, user_id: int | None, query: TableQuery) -> dict:
    area = service.seen_area(area_id, user_id)
    found = service.compound_lines(
        area, service.CompoundFilter(model=query.model, child_area_id=query.area_id, flag=query.flag),
        sort=query.sort, page=query.page, page_size=query.page_size,
    )
    # Issue 19: each line of the page with its 治理骨干 by kind (one GROUP BY over the page's compounds).
    backbones = backbones_presenter.compound_counts([line.compound.id for line in found.items])
    return {
        "area": _area(area),
        "items": [compound_line(line) | {"backbones": backbones[line.compound.id]} for line in found.items],
        "total": found.total, "page": found.page, "page_size": found.page_size,
        "areas": [_area(child) for child in service.child_areas(area)],
        "flags": [{"rule": "any", "label": "任一问题"}] + [
            {"rule": rule.value, "label": FLAG_RULE_LABELS[rule]} for rule in FlagRule],
        "sorts": [{"sort": sort.value, "label": label} for sort, label in rules.SORT_LABELS.items()],
    }


def landing_areas(user_id: int | None) -> list[dict]:
    return [_area(area) for area in service.home_areas(user_id)]


def _percent(rate: int | None) -> float | None:
    return None if rate is None else rate / 100


def chart_data(board: dict) -> dict:
    """The charts' series as the page's ECharts reads them (months as 2026-11, rates in percent)."""
    charts = board["charts"]
    return {
        "models": [{"name": row["label"], "value": row["compounds"]} for row in charts["models"] if row["compounds"]],
        "months": [f"{row['month']:%Y-%m}" for row in charts["collection_by_month"]],
        "collection": [_percent(row["household_rate_bp"]) for row in charts["collection_by_month"]],
        "collection_fen": [_percent(row["fen_rate_bp"]) for row in charts["collection_by_month"]],
        "orders": [row["orders"] for row in charts["order_trend"]],
        "closed": [row["closed"] for row in charts["order_trend"]],
        "worst": [{"name": line["name"], "overdue": line["figures"]["orders_overdue"] if line["figures"] else 0,
                   "flags": line["figures"]["flags_active"] if line["figures"] else 0}
                  for line in charts["worst"]],
    }


MODEL_CHOICES = [(model.value, MANAGEMENT_MODEL_LABELS[model]) for model in ManagementModel]
