"""A month of the public money in figures (月度收支表): the statement arithmetic of one account, which month closes
next, the trust model's remuneration (酬金) and the difference from the bank's own balance. Pure functions."""
from __future__ import annotations

import calendar
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from backend.domain.funds import Category, Direction, FundRefused, direction_of
from backend.domain.refusals import Kind


class MonthStatus(enum.StrEnum):
    OPEN = "open"  # the month has not ended (Beijing): entries still come in
    CLOSABLE = "closable"  # ended, and the next to close in order
    WAITING = "waiting"  # ended, but an earlier month is still open
    CLOSED = "closed"


MONTH_STATUS_LABELS = {
    MonthStatus.OPEN: "本月进行中",
    MonthStatus.CLOSABLE: "待结账",
    MonthStatus.WAITING: "待结账（请先结上月）",
    MonthStatus.CLOSED: "已结账",
}

ALREADY_CLOSED = "该月已结账"
NOT_ENDED = "该月尚未结束，月末之后才能结账"


@dataclass(frozen=True)
class Statement:
    """One account's month: closing = opening + income − expense; `by_category` net of reversals (a category
    whose entries cancel out stays, at 0, so the month shows the reversal happened)."""

    opening_fen: int
    income_fen: int
    expense_fen: int
    closing_fen: int
    by_category: dict[str, int] = field(default_factory=dict)


def month_statement(opening_fen: int, amounts_by_category: Mapping[Category | str, int]) -> Statement:
    """`amounts_by_category`: the month's net amount per category (positive entries plus negative reversals)."""
    income = expense = 0
    by_category: dict[str, int] = {}
    for category, amount in amounts_by_category.items():
        category = Category(category)
        by_category[category.value] = by_category.get(category.value, 0) + amount
        if direction_of(category) == Direction.INCOME:
            income += amount
        else:
            expense += amount
    return Statement(opening_fen, income, expense, opening_fen + income - expense, by_category)


def signed(category: Category | str, amount_fen: int) -> int:
    """An entry's effect on the balance: income adds, expense takes away (a reversal, negative, undoes either)."""
    return amount_fen if direction_of(Category(category)) == Direction.INCOME else -amount_fen


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def last_day(month: date) -> date:
    # From the calendar, not from the next month's first day: December of 9999 has no next month.
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def months_between(first: date, last: date) -> list[date]:
    """Every month from `first` to `last`, both included (empty when `last` is before `first`)."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def next_to_close(opened_on: date, last_closed: date | None) -> date:
    """Months close in order per account: the month it was opened in first, then each next one."""
    return month_of(opened_on) if last_closed is None else next_month(last_closed)


def month_status(month: date, opened_on: date, last_closed: date | None, today: date) -> MonthStatus:
    """Where one account stands on `month` on the Beijing day `today`."""
    if last_closed is not None and month <= last_closed:
        return MonthStatus.CLOSED
    if month_of(today) <= month:
        return MonthStatus.OPEN
    return MonthStatus.CLOSABLE if month == next_to_close(opened_on, last_closed) else MonthStatus.WAITING


def check_closable(month: date, opened_on: date, last_closed: date | None, today: date) -> None:
    """Refuse (409) closing `month` of an account unless it has ended and every earlier month is closed."""
    status = month_status(month, opened_on, last_closed, today)
    if status == MonthStatus.CLOSED:
        raise FundRefused(ALREADY_CLOSED, Kind.CONFLICT)
    if status == MonthStatus.OPEN:
        raise FundRefused(NOT_ENDED, Kind.CONFLICT)
    if status == MonthStatus.WAITING:
        earliest = next_to_close(opened_on, last_closed)
        raise FundRefused(f"请先结 {earliest:%Y-%m} 的账：月份按顺序结账", Kind.CONFLICT)


def compound_month_status(statuses: list[MonthStatus]) -> MonthStatus:
    """A compound's month from its accounts': closed once every account closed it; closable when none waits."""
    if not statuses or all(status == MonthStatus.CLOSED for status in statuses):
        return MonthStatus.CLOSED
    for status in (MonthStatus.OPEN, MonthStatus.WAITING):
        if status in statuses:
            return status
    return MonthStatus.CLOSABLE


def remuneration_fen(fee_income_fen: int, rate_bp: int | None, fixed_fen: int | None) -> int:
    """The trust model's remuneration for a month: the fixed amount, or the rate (basis points) of the month's fee
    income rounded half up to the fen; nothing on a month whose net fee income is not positive."""
    if fixed_fen is not None:
        return fixed_fen
    if not rate_bp or fee_income_fen <= 0:
        return 0
    return (fee_income_fen * rate_bp + 5_000) // 10_000


def bank_difference(closing_fen: int, bank_balance_fen: int | None) -> int | None:
    """The bank's balance minus the books' (None when no bank balance was entered: an account without one)."""
    return None if bank_balance_fen is None else bank_balance_fen - closing_fen


def needs_explanation(difference_fen: int | None, note: str) -> bool:
    """A difference stays red until someone explains it."""
    return bool(difference_fen) and not note
