"""The statement arithmetic, the order of closing and the remuneration, as pure rules."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import fund_statements as rules
from backend.domain.fund_statements import MonthStatus
from backend.domain.funds import EXPENSE_CATEGORIES, INCOME_CATEGORIES, Category, FundRefused
from backend.domain.refusals import Kind

CATEGORIES = st.sampled_from(list(Category))
ENTRY = st.tuples(CATEGORIES, st.integers(min_value=1, max_value=10**9))


@st.composite
def journals(draw):
    """Months of entries; a reversal negates an earlier entry (of any month) in the month it is made, once."""
    months: list[list[tuple[Category, int]]] = []
    made: list[tuple[Category, int]] = []
    reversed_already: set[int] = set()
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        month = draw(st.lists(ENTRY, max_size=12))
        made_before = len(made)
        made.extend(month)
        for index in draw(st.lists(st.integers(min_value=0, max_value=max(made_before - 1, 0)), max_size=3)):
            if made_before and index not in reversed_already:
                reversed_already.add(index)
                category, amount = made[index]
                month.append((category, -amount))
        months.append(month)
    return months


def _net(entries) -> dict[Category, int]:
    amounts: dict[Category, int] = {}
    for category, amount in entries:
        amounts[category] = amounts.get(category, 0) + amount
    return amounts


@given(opening=st.integers(min_value=-10**9, max_value=10**12), months=journals())
def test_each_month_closes_at_opening_plus_income_minus_expense_and_the_next_opens_there(opening, months):
    balance = opening
    for entries in months:
        statement = rules.month_statement(balance, _net(entries))
        income = sum(a for c, a in entries if c in INCOME_CATEGORIES)
        expense = sum(a for c, a in entries if c in EXPENSE_CATEGORIES)
        assert (statement.income_fen, statement.expense_fen) == (income, expense)
        assert statement.closing_fen == statement.opening_fen + income - expense
        assert sum(statement.by_category.values()) == income + expense
        assert statement.opening_fen == balance
        balance = statement.closing_fen
    every = [entry for entries in months for entry in entries]
    assert balance == opening + sum(rules.signed(c, a) for c, a in every)


@given(months=journals())
def test_a_reversed_entry_nets_to_nothing_in_its_category(months):
    every = [entry for entries in months for entry in entries]
    for category, amount in every:
        if amount < 0:
            assert (category, -amount) in every
    statement = rules.month_statement(0, _net(every))
    positives = _net([(c, a) for c, a in every if a > 0])
    reversals = _net([(c, -a) for c, a in every if a < 0])
    for category, amount in statement.by_category.items():
        assert amount == positives.get(Category(category), 0) - reversals.get(Category(category), 0)


@given(fee=st.integers(min_value=-10**10, max_value=10**11), rate=st.integers(min_value=0, max_value=10_000))
def test_remuneration_is_the_rate_of_fee_income_rounded_half_up(fee, rate):
    exact = (Decimal(fee) * rate / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert rules.remuneration_fen(fee, rate, None) == (int(exact) if fee > 0 else 0)


def test_remuneration_half_a_fen_rounds_up_and_a_fixed_amount_wins():
    assert rules.remuneration_fen(50, 1_000, None) == 5
    assert rules.remuneration_fen(5, 1_000, None) == 1  # 0.5 fen
    assert rules.remuneration_fen(4, 1_000, None) == 0
    assert rules.remuneration_fen(0, 1_000, 30_000) == 30_000
    assert rules.remuneration_fen(123_456, None, None) == 0


def test_months_close_in_order_and_only_after_they_end():
    opened, today = date(2026, 3, 17), date(2026, 6, 2)
    assert rules.month_status(date(2026, 3, 1), opened, None, today) == MonthStatus.CLOSABLE
    assert rules.month_status(date(2026, 4, 1), opened, None, today) == MonthStatus.WAITING
    assert rules.month_status(date(2026, 6, 1), opened, None, today) == MonthStatus.OPEN
    assert rules.month_status(date(2026, 3, 1), opened, date(2026, 3, 1), today) == MonthStatus.CLOSED
    assert rules.month_status(date(2026, 4, 1), opened, date(2026, 3, 1), today) == MonthStatus.CLOSABLE
    for month, last, kind in ((date(2026, 3, 1), date(2026, 3, 1), Kind.CONFLICT),
                              (date(2026, 5, 1), None, Kind.CONFLICT), (date(2026, 6, 1), date(2026, 5, 1), Kind.CONFLICT)):
        with pytest.raises(FundRefused) as refused:
            rules.check_closable(month, opened, last, today)
        assert refused.value.kind == kind


def test_a_compound_month_is_closed_once_every_account_closed_it():
    closed, closable, waiting = MonthStatus.CLOSED, MonthStatus.CLOSABLE, MonthStatus.WAITING
    assert rules.compound_month_status([closed, closed]) == closed
    assert rules.compound_month_status([closed, closable]) == closable
    assert rules.compound_month_status([closable, waiting]) == waiting


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_month_steps(day):
    month = rules.month_of(day)
    assert rules.previous_month(rules.next_month(month)) == month
    assert rules.last_day(month).month == month.month and rules.next_month(month) == date.fromordinal(
        rules.last_day(month).toordinal() + 1)


def test_a_difference_stays_red_until_explained():
    assert rules.bank_difference(1_000, 1_200) == 200
    assert rules.bank_difference(1_000, None) is None
    assert rules.needs_explanation(200, "")
    assert not rules.needs_explanation(200, "利息未入账")
    assert not rules.needs_explanation(0, "")
