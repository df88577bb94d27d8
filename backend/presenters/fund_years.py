"""What the year's page (年度收支与结余) shows, built once for the API to dump and the page to render: the year's
figures by category, the months still to close, the owners' decision, the caller's own refund, the refunds list and
the actions open to this person; and the officials' account coverage of an area."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain.compounds import MANAGEMENT_MODEL_LABELS
from backend.domain.funds import (
    ACCOUNT_KIND_LABELS,
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    SURPLUS_USE_LABELS,
    AccountKind,
    FundRefused,
    SurplusUse,
    direction_of,
)
from backend.domain.refusals import Kind
from backend.extensions import db
from backend.models import Area, User
from backend.services import fund_years as service
from backend.services.fund_access import fund_access, require

NO_REFUNDS = "本年度没有按面积退还的结余"


@dataclass(frozen=True)
class CategoryLine:
    category: str
    label: str
    direction: str
    direction_label: str
    amount_fen: int


@dataclass(frozen=True)
class DecisionView:
    use: str
    use_label: str
    note: str
    topic_id: int | None
    topic_url: str | None
    income_fen: int
    expense_fen: int
    remuneration_fen: int
    surplus_fen: int
    recorded_by_name: str
    recorded_at: datetime


@dataclass(frozen=True)
class RefundView:
    household_id: int
    place: str
    area_centi_m2: int
    amount_fen: int
    mine: bool


@dataclass(frozen=True)
class YearView:
    compound_id: int
    year: int
    management_model: str
    income_fen: int
    expense_fen: int
    remuneration_fen: int
    surplus_fen: int
    by_category: list[CategoryLine]
    closed: bool
    months_open: list[str]
    blocked_reason: str | None
    decision: DecisionView | None
    my_refunds: list[RefundView]
    actions: set[str]
    uses: list[tuple[str, str]]


def _place(line: service.RefundLine) -> str:
    return f"{line.building}{line.unit}单元{line.room}室"


def year(compound_id: int, year_number: int, user_id: int | None, entry_compound_id: int | None = None) -> YearView:
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_statements")
    figures = service.figures(compound_id, year_number)
    decided = service.decision_of(compound_id, year_number)
    refusal = service.refusal_to_decide(access, figures)
    actions: set[str] = set()
    if decided is None and refusal is None and access.rights.keep_books:
        actions.add("record_decision")
    decision = my_refunds = None
    if decided is not None:
        recorder = db.session.get(User, decided.recorded_by_id) if decided.recorded_by_id else None
        decision = DecisionView(
            use=decided.use.value, use_label=SURPLUS_USE_LABELS[decided.use], note=decided.note,
            topic_id=decided.topic_id, topic_url=f"/h5/topics/{decided.topic_id}" if decided.topic_id else None,
            income_fen=decided.income_fen, expense_fen=decided.expense_fen,
            remuneration_fen=decided.remuneration_fen, surplus_fen=decided.surplus_fen,
            recorded_by_name=recorder.display_name if recorder else "", recorded_at=decided.recorded_at)
        if decided.use is SurplusUse.REFUND:
            mine = service.households_of(user_id, compound_id)
            my_refunds = [RefundView(line.household_id, _place(line), line.area_centi_m2, line.amount_fen, True)
                          for line in service.refunds(decided.id, mine)]
            if access.rights.see_entries:
                actions.add("see_refunds")
    # Once decided, the frozen figures are the year's: a later reversal lands in an open month of another year.
    result = figures.result
    return YearView(
        compound_id=compound_id, year=year_number, management_model=access.model.value,
        income_fen=decided.income_fen if decided else result.income_fen,
        expense_fen=decided.expense_fen if decided else result.expense_fen,
        remuneration_fen=decided.remuneration_fen if decided else result.remuneration_fen,
        surplus_fen=decided.surplus_fen if decided else result.surplus_fen,
        by_category=[CategoryLine(category.value, CATEGORY_LABELS[category], direction_of(category).value,
                                  DIRECTION_LABELS[direction_of(category)], fen)
                     for category, fen in sorted(figures.by_category.items(),
                                                 key=lambda item: list(CATEGORY_LABELS).index(item[0]))],
        closed=figures.closed,
        months_open=sorted({month.strftime("%Y-%m") for months in figures.months_open.values() for month in months}),
        blocked_reason=refusal.message if refusal is not None and decided is None else None,
        decision=decision, my_refunds=my_refunds or [], actions=actions,
        uses=[(use.value, label) for use, label in SURPLUS_USE_LABELS.items()],
    )


def refunds(compound_id: int, year_number: int, user_id: int | None, entry_compound_id: int | None = None) -> dict:
    """Every household's share: for those who see the entries; 404 when the year's surplus was not refunded."""
    access = fund_access(compound_id, user_id, entry_compound_id)
    require(access, "see_entries")
    decided = service.decision_of(compound_id, year_number)
    if decided is None or decided.use is not SurplusUse.REFUND:
        raise FundRefused(NO_REFUNDS, Kind.NOT_FOUND)
    mine = service.households_of(user_id, compound_id)
    items = [RefundView(line.household_id, _place(line), line.area_centi_m2, line.amount_fen,
                        line.household_id in mine) for line in service.refunds(decided.id)]
    return {"year": year_number, "surplus_fen": decided.surplus_fen, "total": len(items),
            "total_fen": sum(item.amount_fen for item in items), "items": items}


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class CoverageRow:
    compound_id: int
    compound_name: str
    management_model: str
    management_model_label: str
    accounts: list[KindCount]
    has_account: bool


def coverage(area_id: int, user_id: int | None) -> dict:
    area, lines = service.coverage(area_id, user_id)
    return _coverage(area, lines)


def coverage_of(area: Area) -> dict:
    """The coverage as the area's dashboard shows it (the dashboard has authorized)."""
    return _coverage(area, service.coverage_lines(area))


def _coverage(area: Area, lines: list[service.CoverageLine]) -> dict:
    rows = [CoverageRow(
        compound_id=line.compound_id, compound_name=line.compound_name, management_model=line.management_model.value,
        management_model_label=MANAGEMENT_MODEL_LABELS[line.management_model],
        accounts=[KindCount(kind.value, ACCOUNT_KIND_LABELS[kind], line.accounts[kind])
                  for kind in AccountKind if kind in line.accounts],
        has_account=bool(line.accounts)) for line in lines]
    by_kind = [KindCount(kind.value, ACCOUNT_KIND_LABELS[kind],
                         sum(1 for line in lines if kind in line.accounts)) for kind in AccountKind]
    return {"area_id": area.id, "area_name": area.name, "compounds": len(rows),
            "with_account": sum(1 for row in rows if row.has_account), "by_kind": by_kind, "items": rows}
