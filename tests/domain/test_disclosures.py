"""The notice board's rules without a database: quarters and their due dates (the 15th of the next quarter's first
month), late from the day after until posted, which period each kind takes, what each kind must carry, and the
public-income statement's arithmetic (every line from the journal's net amounts, totals that add up)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import disclosures as rules
from backend.domain.compounds import ManagementModel
from backend.domain.disclosures import DisclosureRefused, Quarter
from backend.domain.funds import DisclosureKind, categories_kept

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 12, 31))


@given(days)
def test_a_day_lies_in_its_quarter_and_the_quarters_tile_the_year(day):
    quarter = rules.quarter_of(day)
    assert quarter.first_day <= day <= quarter.last_day
    assert quarter.next().first_day == quarter.last_day + timedelta(days=1)
    assert quarter.next().previous() == quarter
    assert quarter.months[0] == quarter.first_day and quarter.months[2] == quarter.last_day.replace(day=1)
    assert rules.parse_quarter(str(quarter)) == quarter


@given(days)
def test_the_statement_owed_is_the_last_quarters_due_the_15th_of_this_quarters_first_month(day):
    owed = rules.quarter_due(day)
    assert owed.next() == rules.quarter_of(day)
    due = rules.due_on(owed)
    assert due == rules.quarter_of(day).first_day.replace(day=15)
    assert rules.is_overdue(owed, day, posted=False) is (day > due)
    assert not rules.is_overdue(owed, day, posted=True)


def test_due_dates_and_labels():
    assert rules.due_on(Quarter(2026, 4)) == date(2027, 1, 15)
    assert rules.due_on(Quarter(2026, 3)) == date(2026, 10, 15)
    assert rules.period_label("2026Q3") == "2026年第3季度"
    assert rules.period_label("2025") == "2025年度"
    assert rules.period_label("") == ""
    assert rules.default_title(DisclosureKind.PUBLIC_INCOME, "2026Q3") == "2026年第3季度公共收益季度收支公示"
    assert sorted(["2026Q1", "2025", "", "2025Q4", "2026"], key=rules.period_order) == [
        "", "2025Q4", "2025", "2026Q1", "2026"]


@pytest.mark.parametrize(("kind", "period", "kept"), [
    (DisclosureKind.PUBLIC_INCOME, "2026q3", "2026Q3"),
    (DisclosureKind.ANNUAL_AUDIT, "2025", "2025"),
    (DisclosureKind.MAINTENANCE_FUND, "", ""),
    (DisclosureKind.MAINTENANCE_FUND, "2026Q2", "2026Q2"),
    (DisclosureKind.MAINTENANCE_FUND, "2025", "2025"),
    (DisclosureKind.SERVICE_STANDARDS, " ", ""),
])
def test_periods_each_kind_takes(kind, period, kept):
    assert rules.check_period(kind, period, date(2026, 11, 25)) == kept


@pytest.mark.parametrize(("kind", "period"), [
    (DisclosureKind.PUBLIC_INCOME, "2026Q4"),  # not ended
    (DisclosureKind.PUBLIC_INCOME, "2026Q5"),
    (DisclosureKind.PUBLIC_INCOME, "2025"),
    (DisclosureKind.ANNUAL_AUDIT, "2026"),  # not ended
    (DisclosureKind.ANNUAL_AUDIT, "2025Q1"),
    (DisclosureKind.MAINTENANCE_FUND, "Q1"),
    (DisclosureKind.FEE_ITEMS, "2026Q1"),
    (DisclosureKind.STAFF_ON_DUTY, "2026"),
    # Outside the calendar a board can be about (a quarter of 9999 has no quarter after it to be due in).
    (DisclosureKind.PUBLIC_INCOME, "9999Q4"),
    (DisclosureKind.PUBLIC_INCOME, "0000Q1"),
    (DisclosureKind.ANNUAL_AUDIT, "0000"),
    (DisclosureKind.MAINTENANCE_FUND, "9999Q4"),
    (DisclosureKind.MAINTENANCE_FUND, "0000"),
])
def test_periods_refused(kind, period):
    with pytest.raises(DisclosureRefused) as refused:
        rules.check_period(kind, period, date(2026, 11, 25))
    assert list(refused.value.errors) == ["period"] and refused.value.status == 422


def test_what_each_kind_must_carry():
    rules.check_posting(DisclosureKind.ANNUAL_AUDIT, "", [], has_file=True)
    rules.check_posting(DisclosureKind.STAFF_ON_DUTY, "", ["张三"], has_file=False)
    rules.check_posting(DisclosureKind.PUBLIC_INCOME, "", [], has_file=False)
    for kind, body, staff, has_file, field in (
        (DisclosureKind.ANNUAL_AUDIT, "", [], False, "file"),
        (DisclosureKind.SERVICE_STANDARDS, "", [], False, "body"),
        (DisclosureKind.MAINTENANCE_FUND, "", [], True, "body"),
        (DisclosureKind.STAFF_ON_DUTY, "", [], False, "staff"),
        (DisclosureKind.FEE_ITEMS, "", ["张三"], False, "staff"),
        (DisclosureKind.FEE_ITEMS, "", [], True, "file"),
    ):
        with pytest.raises(DisclosureRefused) as refused:
            rules.check_posting(kind, body, staff, has_file)
        assert field in refused.value.errors
    assert rules.staff_lines([" 张三 ", "", "李四"]) == ["张三", "李四"]
    with pytest.raises(DisclosureRefused):
        rules.staff_lines(["人"] * (rules.STAFF_LIMIT + 1))


@given(st.sampled_from(list(ManagementModel)),
       st.dictionaries(st.sampled_from([category.value for category in categories_kept(ManagementModel.TRUST)]),
                       st.integers(min_value=-10**9, max_value=10**9)))
def test_the_statement_lists_every_kept_category_with_its_journal_amount_and_adds_up(model, amounts):
    kept = categories_kept(model)
    amounts = {category: fen for category, fen in amounts.items() if category in {c.value for c in kept}}
    figures = rules.public_income_figures(Quarter(2026, 3), kept, amounts, 7)
    lines = [line for section in ("public_income", "other_income", "costs") for line in figures[section]]
    assert sorted(line["category"] for line in lines) == sorted(category.value for category in kept)
    assert all(line["amount_fen"] == amounts.get(line["category"], 0) for line in lines)
    for section, total in (("public_income", "public_income_fen"), ("other_income", "other_income_fen"),
                           ("costs", "cost_fen")):
        assert figures[total] == sum(line["amount_fen"] for line in figures[section])
    assert figures["net_fen"] == figures["public_income_fen"] + figures["other_income_fen"] - figures["cost_fen"]
    if model in (ManagementModel.MARKET, ManagementModel.UNIT_SELF):
        assert figures["other_income"] == []
