"""The notice board (公示栏) the service provider keeps under Civil Code Art. 943: which period each kind of posting is
for, when the quarter's public-income statement is due (the 15th of the quarter's first month, for the quarter
before) and when it is overdue, the words of a posting, and the figures generated from the journal and the fee
schedules, as plain values."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from backend.domain.funds import (
    CATEGORY_LABELS,
    DISCLOSURE_KIND_LABELS,
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    PUBLIC_INCOME_CATEGORIES,
    Category,
    DisclosureKind,
    FundRefused,
)
from backend.domain.refusals import Kind

TITLE_LIMIT = 60
BODY_LIMIT = 5000
STAFF_LIMIT = 100
STAFF_LINE_LIMIT = 60
DUE_DAY = 15

# The public-income statement is for a quarter, the audit report for a year, the maintenance fund's use for either
# (or for no period); the standing items (services, staff, fees) are for no period: the newest one stands.
QUARTERLY = frozenset({DisclosureKind.PUBLIC_INCOME})
YEARLY = frozenset({DisclosureKind.ANNUAL_AUDIT})
ANY_PERIOD = frozenset({DisclosureKind.MAINTENANCE_FUND})
# A file is the posting itself (the audit report); it may go with the maintenance fund's use.
FILE_REQUIRED = frozenset({DisclosureKind.ANNUAL_AUDIT})
FILE_ALLOWED = frozenset({DisclosureKind.ANNUAL_AUDIT, DisclosureKind.MAINTENANCE_FUND})
# Made from the rows, never typed: the fee schedules, the journal.
GENERATED = frozenset({DisclosureKind.FEE_ITEMS, DisclosureKind.PUBLIC_INCOME})
BODY_REQUIRED = frozenset({DisclosureKind.SERVICE_STANDARDS, DisclosureKind.MAINTENANCE_FUND})

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
# Periods a notice board can be about: a year like 0000 or 9999 is a typing error (and has no quarter after it).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class DisclosureRefused(FundRefused):
    default_kind = Kind.INVALID


def _invalid(field: str, message: str) -> DisclosureRefused:
    return DisclosureRefused(message, errors={field: [message]})


# ---- periods ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next().first_day.toordinal() - 1)

    @property
    def months(self) -> tuple[date, date, date]:
        first = 3 * self.number - 2
        return tuple(date(self.year, month, 1) for month in range(first, first + 3))

    @property
    def label(self) -> str:
        return f"{self.year}年第{self.number}季度"

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def parse_quarter(text: str) -> Quarter | None:
    found = _QUARTER.match(text)
    if not found or not FIRST_YEAR <= int(found.group(1)) <= LAST_YEAR:
        return None
    return Quarter(int(found.group(1)), int(found.group(2)))


def _is_year(text: str) -> bool:
    return bool(_YEAR.match(text)) and FIRST_YEAR <= int(text) <= LAST_YEAR


def due_on(quarter: Quarter) -> date:
    """The statement of a quarter is due by the 15th of the next quarter's first month."""
    return quarter.next().first_day.replace(day=DUE_DAY)


def quarter_due(today: date) -> Quarter:
    """The quarter whose statement is the one owed now: the quarter before today's."""
    return quarter_of(today).previous()


def is_overdue(quarter: Quarter, today: date, posted: bool) -> bool:
    """Late from the day after the due date until it is posted."""
    return not posted and today > due_on(quarter)


def period_label(period: str) -> str:
    quarter = parse_quarter(period)
    if quarter is not None:
        return quarter.label
    return f"{period}年度" if _is_year(period) else ""


def period_order(period: str) -> tuple[int, int]:
    """Sorts periods in time: a year after no period, a quarter after its year's start, the year's report after
    its quarters (it is made after them)."""
    quarter = parse_quarter(period)
    if quarter is not None:
        return quarter.year, quarter.number
    return (int(period), 5) if _is_year(period) else (0, 0)


def check_period(kind: DisclosureKind, period: str, today: date) -> str:
    """The period as kept; refused (422 on `period`) when the kind needs another, or it has not ended yet."""
    period = period.strip().upper()
    quarter = parse_quarter(period)
    year = _is_year(period)
    if kind in QUARTERLY:
        if quarter is None:
            raise _invalid("period", "请选择季度，如 2026Q3")
        if quarter.last_day >= today:
            raise _invalid("period", "该季度尚未结束，季度结束后再公示")
    elif kind in YEARLY:
        if not year:
            raise _invalid("period", "请填写年度，如 2025")
        if int(period) >= today.year:
            raise _invalid("period", "该年度尚未结束，年度结束后再公示")
    elif kind in ANY_PERIOD:
        if period and quarter is None and not year:
            raise _invalid("period", "期间须为季度（如 2026Q3）或年度（如 2026），也可不填")
    elif period:
        raise _invalid("period", f"{DISCLOSURE_KIND_LABELS[kind]}不分期间，请留空")
    return period


def check_posting(kind: DisclosureKind, body: str, staff: list[str], has_file: bool) -> None:
    """What each kind must carry: its text, its staff list, its file; nothing it cannot carry."""
    if kind in BODY_REQUIRED and not body:
        raise _invalid("body", f"请填写{DISCLOSURE_KIND_LABELS[kind]}的内容")
    if kind is DisclosureKind.STAFF_ON_DUTY and not staff:
        raise _invalid("staff", "请填写在岗人员，每行一人")
    if kind is not DisclosureKind.STAFF_ON_DUTY and staff:
        raise _invalid("staff", "只有在岗人员公示填写人员名单")
    if kind in FILE_REQUIRED and not has_file:
        raise _invalid("file", "请上传审计报告（PDF或照片）")
    if has_file and kind not in FILE_ALLOWED:
        raise _invalid("file", f"{DISCLOSURE_KIND_LABELS[kind]}不附文件")


def default_title(kind: DisclosureKind, period: str) -> str:
    label = period_label(period)
    return f"{label}{DISCLOSURE_KIND_LABELS[kind]}公示" if label else f"{DISCLOSURE_KIND_LABELS[kind]}公示"


def overdue_dedupe_key(compound_id: int, quarter: Quarter) -> str:
    return f"disclosure-overdue-{compound_id}-{quarter}"


def posted_dedupe_key(disclosure_id: int) -> str:
    return f"disclosure-{disclosure_id}"


# ---- generated figures ------------------------------------------------------------------------------------------


def _lines(categories: Iterable[Category], amounts: Mapping[str, int]) -> list[dict]:
    return [{"category": category.value, "label": CATEGORY_LABELS[category],
             "amount_fen": int(amounts.get(category.value, 0))} for category in categories]


def public_income_figures(quarter: Quarter, kept: Iterable[Category], amounts: Mapping[str, int],
                          entry_count: int) -> dict:
    """The quarter's statement from the journal's net amounts by category (reversals included): the public income
    of the common parts (Art. 282), other income the journal holds (fees, subsidies: open-book compounds only),
    the costs, and the net. Every category the compound's journal keeps is listed, a zero too."""
    kept = tuple(kept)
    public = [category for category in INCOME_CATEGORIES if category in PUBLIC_INCOME_CATEGORIES and category in kept]
    other = [category for category in INCOME_CATEGORIES if category not in PUBLIC_INCOME_CATEGORIES
             and category in kept]
    costs = [category for category in EXPENSE_CATEGORIES if category in kept]
    public_lines, other_lines, cost_lines = _lines(public, amounts), _lines(other, amounts), _lines(costs, amounts)
    public_fen = sum(line["amount_fen"] for line in public_lines)
    other_fen = sum(line["amount_fen"] for line in other_lines)
    cost_fen = sum(line["amount_fen"] for line in cost_lines)
    return {
        "quarter": str(quarter), "first_day": quarter.first_day.isoformat(), "last_day": quarter.last_day.isoformat(),
        "public_income": public_lines, "public_income_fen": public_fen,
        "other_income": other_lines, "other_income_fen": other_fen,
        "costs": cost_lines, "cost_fen": cost_fen,
        "net_fen": public_fen + other_fen - cost_fen, "entry_count": entry_count,
    }


@dataclass(frozen=True)
class FeeItem:
    household_kind: str
    household_kind_label: str
    standard_fen_per_m2: int
    cycle_label: str
    effective_from: date
    charges_fees: bool
    note: str


def fee_item_figures(items: Iterable[FeeItem]) -> dict:
    """The fee standards in force, one line per kind of household."""
    return {"items": [{
        "household_kind": item.household_kind, "household_kind_label": item.household_kind_label,
        "standard_fen_per_m2": item.standard_fen_per_m2 if item.charges_fees else 0,
        "cycle_label": item.cycle_label, "effective_from": item.effective_from.isoformat(),
        "charges_fees": item.charges_fees, "note": item.note,
    } for item in items]}


def staff_lines(text_lines: Iterable[str]) -> list[str]:
    """The staff list as kept: one person per line, blank lines dropped."""
    lines = [line.strip() for line in text_lines if line.strip()]
    if len(lines) > STAFF_LIMIT:
        raise _invalid("staff", f"在岗人员最多{STAFF_LIMIT}行")
    if any(len(line) > STAFF_LINE_LIMIT for line in lines):
        raise _invalid("staff", f"每行不能超过{STAFF_LINE_LIMIT}个字")
    return lines
