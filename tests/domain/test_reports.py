"""The report rules: month and quarter bounds, the period the cron reports on a given day, the period compared
with, the bounds of an on-demand range, the change of a headline (三升一降), the composite and the 红黑榜 split."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import reports as rules
from backend.domain.reports import Direction, Headline, Period, ReportKind
from backend.shared.clock import beijing_date, utcnow

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@pytest.mark.parametrize(("day", "month", "quarter"), [
    (date(2026, 1, 1), (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2026, 2, 28), (date(2026, 2, 1), date(2026, 2, 28)), (date(2026, 1, 1), date(2026, 3, 31))),
    (date(2028, 2, 29), (date(2028, 2, 1), date(2028, 2, 29)), (date(2028, 1, 1), date(2028, 3, 31))),
    (date(2026, 4, 1), (date(2026, 4, 1), date(2026, 4, 30)), (date(2026, 4, 1), date(2026, 6, 30))),
    (date(2026, 9, 30), (date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 7, 1), date(2026, 9, 30))),
    (date(2026, 12, 31), (date(2026, 12, 1), date(2026, 12, 31)), (date(2026, 10, 1), date(2026, 12, 31))),
])
def test_month_and_quarter_bounds(day, month, quarter):
    assert rules.month_of(day) == Period(*month)
    assert rules.quarter_of(day) == Period(*quarter)


@pytest.mark.parametrize(("kind", "today", "reported"), [
    # On the 1st, last month; any later day of the month still last month (a missed 1st is made up).
    (ReportKind.MONTHLY, date(2026, 12, 1), (date(2026, 11, 1), date(2026, 11, 30))),
    (ReportKind.MONTHLY, date(2026, 12, 2), (date(2026, 11, 1), date(2026, 11, 30))),
    (ReportKind.MONTHLY, date(2026, 11, 30), (date(2026, 10, 1), date(2026, 10, 31))),
    (ReportKind.MONTHLY, date(2027, 1, 1), (date(2026, 12, 1), date(2026, 12, 31))),
    (ReportKind.MONTHLY, date(2028, 3, 1), (date(2028, 2, 1), date(2028, 2, 29))),
    (ReportKind.QUARTERLY, date(2026, 10, 1), (date(2026, 7, 1), date(2026, 9, 30))),
    (ReportKind.QUARTERLY, date(2026, 12, 31), (date(2026, 7, 1), date(2026, 9, 30))),
    (ReportKind.QUARTERLY, date(2027, 1, 1), (date(2026, 10, 1), date(2026, 12, 31))),
])
def test_the_cron_reports_the_last_complete_period(kind, today, reported):
    assert rules.last_complete_period(kind, today) == Period(*reported)


@pytest.mark.parametrize(("kind", "period", "previous"), [
    (ReportKind.MONTHLY, (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 1), date(2026, 2, 28))),
    (ReportKind.MONTHLY, (date(2026, 1, 1), date(2026, 1, 31)), (date(2025, 12, 1), date(2025, 12, 31))),
    (ReportKind.QUARTERLY, (date(2026, 1, 1), date(2026, 3, 31)), (date(2025, 10, 1), date(2025, 12, 31))),
    # A custom range is compared with the as-long range just before it.
    (ReportKind.CUSTOM, (date(2026, 3, 10), date(2026, 3, 19)), (date(2026, 2, 28), date(2026, 3, 9))),
    (ReportKind.CUSTOM, (date(2026, 5, 5), date(2026, 5, 5)), (date(2026, 5, 4), date(2026, 5, 4))),
])
def test_the_period_compared_with(kind, period, previous):
    assert rules.previous_period(kind, Period(*period)) == Period(*previous)


@given(DAYS, st.sampled_from(rules.PERIODIC_KINDS))
def test_periods_tile_the_calendar(day, kind):
    period = rules.period_of(kind, day)
    assert period.start <= day <= period.end
    assert rules.period_of(kind, period.end + timedelta(days=1)).start == period.end + timedelta(days=1)
    assert rules.previous_period(kind, period).end == period.start - timedelta(days=1)
    reported = rules.last_complete_period(kind, day)
    assert reported.end < day and reported.end + timedelta(days=1) == period.start


@given(DAYS, st.integers(min_value=1, max_value=400))
def test_a_custom_range_and_the_range_before_it_are_as_long(start, days):
    period = Period(start, start + timedelta(days=days - 1))
    previous = rules.previous_period(ReportKind.CUSTOM, period)
    assert previous.days == period.days and previous.end + timedelta(days=1) == period.start


def test_custom_range_bounds():
    today = beijing_date(utcnow())
    day = timedelta(days=1)
    assert rules.custom_range_problem(today, today, today) is None
    assert rules.custom_range_problem(today - 40 * day, today - day, today) is None
    assert rules.custom_range_problem(today, today - day, today) == "结束日期不能早于开始日期"
    assert rules.custom_range_problem(today, today + day, today) == "结束日期不能晚于今天"
    assert rules.custom_range_problem(date(1999, 12, 31), date(2000, 1, 1), today) == "开始日期不能早于2000年"
    # At most a year: from a day to the day before its anniversary.
    start = today.replace(day=1) - 400 * day
    assert rules.custom_range_problem(start, rules.one_year_after(start) - day, today) is None
    assert rules.custom_range_problem(start, rules.one_year_after(start), today) == "时间范围不能超过一年"


@pytest.mark.parametrize(("day", "after"), [
    (date(2026, 3, 15), date(2027, 3, 15)),
    (date(2028, 2, 29), date(2029, 2, 28)),
])
def test_one_year_after(day, after):
    assert rules.one_year_after(day) == after


@pytest.mark.parametrize(("headline", "current", "previous", "direction", "delta", "good"), [
    (Headline.COLLECTION, 9000, 8000, Direction.UP, 1000, True),
    (Headline.COLLECTION, 8000, 9000, Direction.DOWN, -1000, False),
    (Headline.SATISFACTION, 9000, 9000, Direction.FLAT, 0, None),
    (Headline.PARTICIPATION, 5000, None, Direction.NONE, None, None),
    (Headline.PARTICIPATION, None, 5000, Direction.NONE, None, None),
    # 一降: fewer disputes is the good move.
    (Headline.DISPUTES, 3, 5, Direction.DOWN, -2, True),
    (Headline.DISPUTES, 5, 3, Direction.UP, 2, False),
    (Headline.DISPUTES, 0, 0, Direction.FLAT, 0, None),
])
def test_the_change_of_a_headline(headline, current, previous, direction, delta, good):
    assert rules.change(headline, current, previous) == rules.Change(direction, delta, good)


@pytest.mark.parametrize(("part", "whole", "bp"), [
    (0, 0, None), (0, 8, 0), (6, 8, 7500), (1, 3, 3333), (2, 3, 6667), (1, 20000, 1), (1, 20001, 0), (8, 8, 10000),
])
def test_rate_in_basis_points_rounds_half_up(part, whole, bp):
    assert rules.rate_bp(part, whole) == bp


@pytest.mark.parametrize(("rates", "disputes", "score"), [
    ({Headline.COLLECTION: 10000, Headline.SATISFACTION: 10000, Headline.PARTICIPATION: 7500}, 0, 9500),
    # A missing rate's weight is left out: (0 × 40 + 8000 × 40) / 80, less two disputes.
    ({Headline.COLLECTION: 0, Headline.SATISFACTION: 8000, Headline.PARTICIPATION: None}, 2, 3000),
    ({Headline.PARTICIPATION: 6000}, 0, 6000),
    ({Headline.COLLECTION: 1000}, 5, 0),
    ({}, 3, None),
    ({Headline.COLLECTION: None, Headline.SATISFACTION: None}, 0, None),
])
def test_the_composite(rates, disputes, score):
    assert rules.composite_bp(rates, disputes) == score


def test_equal_scores_share_the_better_rank():
    ranked = rules.rank({7: 80, 3: 90, 5: 80, 9: 70})
    assert [(entry.key, entry.rank) for entry in ranked] == [(3, 1), (5, 2), (7, 2), (9, 4)]


@given(st.dictionaries(st.integers(1, 10_000), st.integers(0, 10_000), max_size=60))
def test_the_red_and_black_lists_never_share_a_compound(scores):
    red, black = rules.red_and_black(rules.rank(scores))
    assert len(red) <= rules.LIST_SIZE and len(black) <= rules.LIST_SIZE
    assert not {entry.key for entry in red} & {entry.key for entry in black}
    assert len(red) + len(black) == min(len(scores), 2 * rules.LIST_SIZE)
    if black:
        assert black[0].score == min(scores.values()) and red[0].score == max(scores.values())


def test_every_kind_status_and_headline_has_its_label():
    assert [rules.REPORT_KIND_LABELS[kind] for kind in ReportKind] == ["月度通报", "季度通报", "专项通报"]
    assert [rules.HEADLINE_LABELS[headline] for headline in Headline] == ["业主参与率", "物业费收缴率", "群众满意率",
                                                                         "新发矛盾纠纷"]
    assert set(rules.REPORT_STATUS_LABELS) == set(rules.ReportStatus)
    assert rules.period_label(ReportKind.QUARTERLY, Period(date(2026, 7, 1), date(2026, 9, 30))) == "2026年第3季度"
