"""先买后补 split of a bill (DESIGN §4, issue 6): the issue's example, tier boundaries, months outside the period,
cap, budget running out mid-bill, half-up rounding at exactly .5 fen, bad inputs, the tier-drop notice,
eligibility, and properties checked against a slow Fraction reference."""

from __future__ import annotations

import math
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.fees import bill_amount_fen, month_charges
from backend.domain.subsidy import (
    BillSplit,
    MonthCharge,
    MonthSubsidy,
    SubsidyTier,
    TierDrop,
    add_months,
    format_rate,
    half_up_share,
    is_eligible,
    months_between,
    period_end,
    rate_in_force,
    split_bill,
    tier_drop_next_month,
)

# The issue's example: 50% for months 1–12, 30% for 13–24, 10% for 25–36, from July 2025.
TAPERING = (SubsidyTier(months=12, rate_bp=5000), SubsidyTier(months=12, rate_bp=3000),
            SubsidyTier(months=12, rate_bp=1000))
PERIOD_START = date(2025, 7, 1)


def charges(*rows: tuple[date, int]) -> list[MonthCharge]:
    return [MonthCharge(month=month, amount_fen=amount) for month, amount in rows]


def subsidies(split: BillSplit) -> list[int]:
    return [month.subsidy_fen for month in split.per_month]


# ---- the issue's example ------------------------------------------------------------------------------------

def test_the_issues_example_pays_half_of_a_month_in_the_first_tier():
    split = split_bill(months=charges((date(2026, 1, 1), 4250)), period_start=PERIOD_START, tiers=TAPERING,
                       cap_fen_per_month=None, budget_left_fen=None)
    assert (split.subsidy_fen, split.resident_fen, split.bill_fen) == (2125, 2125, 4250)
    assert split.per_month == (MonthSubsidy(month=date(2026, 1, 1), amount_fen=4250, rate_bp=5000, subsidy_fen=2125),)
    assert split.per_month[0].resident_fen == 2125


def test_cap_and_budget_default_to_none():
    assert split_bill(charges((date(2026, 1, 1), 4250)), PERIOD_START, TAPERING).subsidy_fen == 2125


def test_a_bill_with_no_months_has_no_subsidy():
    split = split_bill([], PERIOD_START, TAPERING, cap_fen_per_month=100, budget_left_fen=100)
    assert (split.per_month, split.subsidy_fen, split.resident_fen, split.bill_fen) == ((), 0, 0, 0)


# ---- tiers --------------------------------------------------------------------------------------------------

def test_a_quarterly_bill_spanning_two_tiers_uses_each_months_own_rate():
    # From August 2025 the first tier ends with July 2026: July at 50%, August and September at 30%.
    months = month_charges(date(2026, 7, 1), 3, 12188)
    assert [month.amount_fen for month in months] == [4063, 4062, 4063]
    split = split_bill(months, date(2025, 8, 1), TAPERING)
    assert [month.rate_bp for month in split.per_month] == [5000, 3000, 3000]
    # 2031.5 → 2032, 1218.6 → 1219, 1218.9 → 1219
    assert subsidies(split) == [2032, 1219, 1219]
    assert (split.subsidy_fen, split.resident_fen) == (4470, 7718)


@pytest.mark.parametrize(("month", "rate_bp"), [
    (date(2026, 6, 1), 5000),   # month 12: the last of the first tier
    (date(2026, 7, 1), 3000),   # month 13: the first of the second
    (date(2027, 6, 1), 3000),   # month 24
    (date(2027, 7, 1), 1000),   # month 25
    (date(2028, 6, 1), 1000),   # month 36: the last of the period
    (date(2028, 7, 1), 0),      # month 37: the period is over
])
def test_each_tier_boundary_month_gets_its_own_tiers_rate(month, rate_bp):
    split = split_bill(charges((month, 10_000)), PERIOD_START, TAPERING)
    assert split.per_month[0].rate_bp == rate_bp
    assert split.subsidy_fen == rate_bp


def test_a_yearly_bill_spanning_the_end_of_the_period_gets_nothing_after_it():
    # A period from July 2023 ends with June 2026: January–June 2026 at 10%, July–December nothing.
    months = month_charges(date(2026, 1, 1), 12, 144_000)
    split = split_bill(months, date(2023, 7, 1), TAPERING)
    assert [month.rate_bp for month in split.per_month] == [1000] * 6 + [0] * 6
    assert subsidies(split) == [1200] * 6 + [0] * 6
    assert (split.subsidy_fen, split.resident_fen) == (7200, 136_800)


def test_months_before_the_period_starts_get_nothing():
    split = split_bill(month_charges(date(2026, 1, 1), 3, 9000), date(2026, 3, 1), TAPERING)
    assert [month.rate_bp for month in split.per_month] == [0, 0, 5000]
    assert subsidies(split) == [0, 0, 1500]


def test_a_bill_entirely_before_the_period_gets_nothing():
    split = split_bill(month_charges(date(2024, 1, 1), 12, 120_000), PERIOD_START, TAPERING)
    assert split.subsidy_fen == 0
    assert split.resident_fen == 120_000


def test_rates_of_zero_and_of_the_whole_bill():
    tiers = [SubsidyTier(months=1, rate_bp=10_000), SubsidyTier(months=1, rate_bp=0),
             SubsidyTier(months=1, rate_bp=2000)]
    split = split_bill(month_charges(date(2026, 1, 1), 4, 4001), date(2026, 1, 1), tiers)
    assert [month.amount_fen for month in split.per_month] == [1000, 1001, 1000, 1000]
    assert subsidies(split) == [1000, 0, 200, 0]
    assert split.per_month[0].resident_fen == 0


def test_no_tiers_means_no_subsidy():
    split = split_bill(charges((date(2026, 1, 1), 5000)), PERIOD_START, [])
    assert (split.per_month[0].rate_bp, split.subsidy_fen) == (0, 0)


# ---- rounding -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount_fen", "rate_bp", "subsidy_fen"), [
    (4251, 5000, 2126),   # 2125.5: exactly half a fen rounds up
    (4249, 5000, 2125),   # 2124.5
    (1, 5000, 1),         # 0.5
    (1, 4999, 0),         # 0.4999
    (5, 1000, 1),         # 0.5
    (15, 1000, 2),        # 1.5
    (25, 1000, 3),        # 2.5 — half-up, not to even
    (4, 1250, 1),         # 0.5
    (3, 3333, 1),         # 0.9999
    (10_001, 1, 1),       # 1.0001
    (4999, 1, 0),         # 0.4999
    (5000, 1, 1),         # 0.5
    (0, 5000, 0),
    (7, 0, 0),
    (7, 10_000, 7),
])
def test_each_months_subsidy_is_rounded_half_up_to_the_fen(amount_fen, rate_bp, subsidy_fen):
    assert half_up_share(amount_fen, rate_bp) == subsidy_fen
    split = split_bill(charges((date(2025, 7, 1), amount_fen)), PERIOD_START, [SubsidyTier(1, rate_bp)])
    assert split.subsidy_fen == subsidy_fen
    assert split.resident_fen == amount_fen - subsidy_fen


def test_rounding_is_per_month_not_per_bill():
    # Three months of 1 fen at 50%: each 0.5 rounds up to 1, so 3 — not round(1.5) = 2.
    split = split_bill(month_charges(PERIOD_START, 3, 3), PERIOD_START, TAPERING)
    assert subsidies(split) == [1, 1, 1]
    assert split.resident_fen == 0


# ---- cap ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("cap", "subsidy_fen"), [(2000, 2000), (2125, 2125), (2126, 2125), (0, 0), (None, 2125)])
def test_the_cap_limits_each_months_subsidy(cap, subsidy_fen):
    split = split_bill(charges((date(2026, 1, 1), 4250)), PERIOD_START, TAPERING, cap_fen_per_month=cap)
    assert split.subsidy_fen == subsidy_fen
    assert split.resident_fen == 4250 - subsidy_fen


def test_the_cap_is_per_month_not_per_bill():
    split = split_bill(month_charges(date(2026, 1, 1), 3, 12_000), PERIOD_START, TAPERING, cap_fen_per_month=1500)
    assert subsidies(split) == [1500, 1500, 1500]


def test_the_cap_applies_to_the_rounded_share():
    # 2125.5 rounds to 2126 first; a cap of 2126 then leaves it alone, 2125 trims it.
    month = charges((date(2026, 1, 1), 4251))
    assert split_bill(month, PERIOD_START, TAPERING, cap_fen_per_month=2126).subsidy_fen == 2126
    assert split_bill(month, PERIOD_START, TAPERING, cap_fen_per_month=2125).subsidy_fen == 2125


# ---- budget -------------------------------------------------------------------------------------------------

def test_a_budget_running_out_mid_bill_goes_to_the_earlier_months_first():
    split = split_bill(month_charges(date(2026, 1, 1), 3, 12_000), PERIOD_START, TAPERING, budget_left_fen=3500)
    assert subsidies(split) == [2000, 1500, 0]
    assert (split.subsidy_fen, split.resident_fen) == (3500, 8500)
    assert [month.rate_bp for month in split.per_month] == [5000, 5000, 5000]


def test_the_budget_is_taken_in_month_order_whatever_order_the_months_come_in():
    months = charges((date(2026, 3, 1), 4000), (date(2026, 1, 1), 4000), (date(2026, 2, 1), 4000))
    split = split_bill(months, PERIOD_START, TAPERING, budget_left_fen=3500)
    assert [(month.month, month.subsidy_fen) for month in split.per_month] == [
        (date(2026, 1, 1), 2000), (date(2026, 2, 1), 1500), (date(2026, 3, 1), 0)]


@pytest.mark.parametrize(("budget", "expected"), [
    (0, [0, 0, 0]),
    (1, [1, 0, 0]),
    (2000, [2000, 0, 0]),
    (5999, [2000, 2000, 1999]),
    (6000, [2000, 2000, 2000]),
    (6001, [2000, 2000, 2000]),
    (None, [2000, 2000, 2000]),
])
def test_the_budget_left_limits_the_bill(budget, expected):
    split = split_bill(month_charges(date(2026, 1, 1), 3, 12_000), PERIOD_START, TAPERING, budget_left_fen=budget)
    assert subsidies(split) == expected


def test_the_budget_is_counted_after_the_cap():
    split = split_bill(month_charges(date(2026, 1, 1), 3, 12_000), PERIOD_START, TAPERING,
                       cap_fen_per_month=1800, budget_left_fen=3500)
    assert subsidies(split) == [1800, 1700, 0]


def test_months_without_a_subsidy_do_not_use_the_budget():
    months = charges((date(2025, 5, 1), 4000), (date(2025, 6, 1), 0), (date(2025, 7, 1), 4000))
    split = split_bill(months, PERIOD_START, TAPERING, budget_left_fen=2000)
    assert subsidies(split) == [0, 0, 2000]


# ---- zero amounts -------------------------------------------------------------------------------------------

def test_zero_amount_months_get_no_subsidy_but_keep_their_rate():
    split = split_bill(charges((date(2026, 1, 1), 0), (date(2026, 2, 1), 4000)), PERIOD_START, TAPERING)
    assert [(month.rate_bp, month.subsidy_fen) for month in split.per_month] == [(5000, 0), (5000, 2000)]


def test_a_zero_area_household_owes_nothing_and_gets_nothing():
    amount = bill_amount_fen(floor_area_centi_m2=0, standard_fen_per_m2=150, months=3)
    split = split_bill(month_charges(date(2026, 1, 1), 3, amount), PERIOD_START, TAPERING, budget_left_fen=10)
    assert amount == 0
    assert (split.bill_fen, split.subsidy_fen, split.resident_fen) == (0, 0, 0)
    assert len(split.per_month) == 3


# ---- order --------------------------------------------------------------------------------------------------

def test_months_come_out_in_month_order():
    months = charges((date(2026, 12, 1), 300), (date(2025, 12, 1), 100), (date(2026, 1, 1), 200))
    split = split_bill(months, PERIOD_START, TAPERING)
    assert [month.month for month in split.per_month] == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 12, 1)]
    assert [month.amount_fen for month in split.per_month] == [100, 200, 300]


def test_the_months_may_be_any_iterable():
    split = split_bill(iter(month_charges(date(2026, 1, 1), 2, 8000)), PERIOD_START, TAPERING)
    assert subsidies(split) == [2000, 2000]


# ---- bad inputs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("months", "rate_bp"), [
    (0, 5000), (-1, 5000), (True, 5000), (1.0, 5000), ("12", 5000),
    (12, 10_001), (12, -1), (12, True), (12, False), (12, 5000.0), (12, "5000"),
])
def test_a_bad_tier_is_refused(months, rate_bp):
    with pytest.raises(ValueError):
        SubsidyTier(months=months, rate_bp=rate_bp)


@pytest.mark.parametrize(("months", "rate_bp"), [(1, 0), (1, 10_000), (120, 1)])
def test_tiers_at_the_edges_are_accepted(months, rate_bp):
    assert SubsidyTier(months=months, rate_bp=rate_bp).rate_bp == rate_bp


@pytest.mark.parametrize(("month", "amount_fen"), [
    (date(2026, 1, 2), 100), (date(2026, 1, 31), 100),
    (date(2026, 1, 1), -1), (date(2026, 1, 1), True), (date(2026, 1, 1), 1.5), (date(2026, 1, 1), 100.0),
    (date(2026, 1, 1), "100"),
])
def test_a_bad_month_charge_is_refused(month, amount_fen):
    with pytest.raises(ValueError):
        MonthCharge(month=month, amount_fen=amount_fen)


@pytest.mark.parametrize("cap", [-1, True, 1.5, 100.0])
def test_a_bad_cap_is_refused(cap):
    with pytest.raises(ValueError):
        split_bill(charges((date(2026, 1, 1), 4250)), PERIOD_START, TAPERING, cap_fen_per_month=cap)


@pytest.mark.parametrize("budget", [-1, False, 0.5, 100.0])
def test_a_bad_budget_is_refused(budget):
    with pytest.raises(ValueError):
        split_bill(charges((date(2026, 1, 1), 4250)), PERIOD_START, TAPERING, budget_left_fen=budget)


@pytest.mark.parametrize("start", [date(2025, 7, 2), date(2025, 7, 31)])
def test_a_period_not_starting_on_the_first_is_refused(start):
    with pytest.raises(ValueError):
        split_bill(charges((date(2026, 1, 1), 4250)), start, TAPERING)


def test_a_month_given_twice_is_refused():
    # Twice capped would be twice the cap for one household and month.
    with pytest.raises(ValueError):
        split_bill(charges((date(2026, 1, 1), 4000), (date(2026, 1, 1), 4000)), PERIOD_START, TAPERING,
                   cap_fen_per_month=1500)


# ---- month arithmetic, rate in force, end of the period ----------------------------------------------------

@pytest.mark.parametrize(("month", "count", "expected"), [
    (date(2025, 7, 1), 0, date(2025, 7, 1)),
    (date(2025, 7, 1), 5, date(2025, 12, 1)),
    (date(2025, 7, 1), 6, date(2026, 1, 1)),
    (date(2025, 12, 1), 1, date(2026, 1, 1)),
    (date(2026, 1, 1), -1, date(2025, 12, 1)),
    (date(2025, 7, 1), 36, date(2028, 7, 1)),
    (date(2025, 7, 1), -19, date(2023, 12, 1)),
    (date(2025, 7, 15), 1, date(2025, 8, 1)),
])
def test_add_months(month, count, expected):
    assert add_months(month, count) == expected


@pytest.mark.parametrize(("month", "expected"), [
    (date(2025, 7, 1), 0), (date(2025, 12, 1), 5), (date(2026, 1, 1), 6), (date(2025, 6, 1), -1),
    (date(2024, 7, 1), -12), (date(2028, 6, 1), 35),
])
def test_months_between(month, expected):
    assert months_between(PERIOD_START, month) == expected
    assert add_months(PERIOD_START, expected) == month


@pytest.mark.parametrize(("month", "rate_bp"), [
    (date(2020, 1, 1), 0),
    (date(2025, 6, 1), 0),
    (date(2025, 7, 1), 5000),
    (date(2026, 6, 1), 5000),
    (date(2026, 7, 1), 3000),
    (date(2027, 6, 1), 3000),
    (date(2027, 7, 1), 1000),
    (date(2028, 6, 1), 1000),
    (date(2028, 7, 1), 0),
    (date(2040, 1, 1), 0),
])
def test_rate_in_force(month, rate_bp):
    assert rate_in_force(month, PERIOD_START, TAPERING) == rate_bp


def test_rate_in_force_without_tiers_is_zero():
    assert rate_in_force(PERIOD_START, PERIOD_START, []) == 0


def test_period_end_is_the_first_month_after_the_last_tier():
    assert period_end(PERIOD_START, TAPERING) == date(2028, 7, 1)
    assert period_end(date(2025, 11, 1), [SubsidyTier(months=2, rate_bp=5000)]) == date(2026, 1, 1)
    assert period_end(PERIOD_START, []) == PERIOD_START


# ---- the notice before a tier drops ------------------------------------------------------------------------

@pytest.mark.parametrize(("this_month", "drop"), [
    (date(2026, 6, 1), TierDrop(month=date(2026, 7, 1), from_bp=5000, to_bp=3000)),    # month 12 → 13
    (date(2027, 6, 1), TierDrop(month=date(2027, 7, 1), from_bp=3000, to_bp=1000)),    # month 24 → 25
    (date(2028, 6, 1), TierDrop(month=date(2028, 7, 1), from_bp=1000, to_bp=0)),       # the end of the period
])
def test_a_drop_next_month_is_announced(this_month, drop):
    assert tier_drop_next_month(this_month, PERIOD_START, TAPERING) == drop


@pytest.mark.parametrize("this_month", [
    date(2025, 1, 1), date(2025, 6, 1),                         # before the period; its start is a rise
    date(2025, 7, 1), date(2026, 1, 1), date(2026, 5, 1),       # mid-tier
    date(2026, 7, 1), date(2027, 7, 1),                         # the month of a drop has already dropped
    date(2028, 7, 1), date(2030, 1, 1),                         # after the period
])
def test_no_drop_is_announced_otherwise(this_month):
    assert tier_drop_next_month(this_month, PERIOD_START, TAPERING) is None


def test_a_rising_or_equal_tier_is_not_a_drop():
    tiers = [SubsidyTier(months=2, rate_bp=3000), SubsidyTier(months=2, rate_bp=5000),
             SubsidyTier(months=2, rate_bp=5000)]
    start = date(2026, 1, 1)
    assert tier_drop_next_month(date(2026, 2, 1), start, tiers) is None
    assert tier_drop_next_month(date(2026, 4, 1), start, tiers) is None
    assert tier_drop_next_month(date(2026, 6, 1), start, tiers) == TierDrop(date(2026, 7, 1), 5000, 0)


def test_a_drop_across_the_new_year():
    tiers = [SubsidyTier(months=6, rate_bp=5000), SubsidyTier(months=6, rate_bp=2500)]
    assert tier_drop_next_month(date(2025, 12, 1), PERIOD_START, tiers) == TierDrop(date(2026, 1, 1), 5000, 2500)


@pytest.mark.parametrize(("drop", "message"), [
    (TierDrop(date(2026, 7, 1), 5000, 3000), "下月起补贴比例由50%调整为30%"),
    (TierDrop(date(2028, 7, 1), 1000, 0), "下月起补贴比例由10%调整为0%"),
    (TierDrop(date(2026, 7, 1), 1250, 500), "下月起补贴比例由12.5%调整为5%"),
])
def test_the_drop_notice_text(drop, message):
    assert drop.message == message


@pytest.mark.parametrize(("rate_bp", "text"), [
    (5000, "50%"), (3000, "30%"), (1000, "10%"), (0, "0%"), (10_000, "100%"),
    (1250, "12.5%"), (1205, "12.05%"), (3333, "33.33%"), (1, "0.01%"), (10, "0.1%"), (50, "0.5%"), (9999, "99.99%"),
])
def test_format_rate(rate_bp, text):
    assert format_rate(rate_bp) == text


# ---- eligibility --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("built_year", "model", "before", "models", "eligible"), [
    (1995, "market", 2000, [], True),                      # no models listed: every model
    (1999, "market", 2000, [], True),
    (2000, "market", 2000, [], False),                     # "before 2000" leaves 2000 out
    (2010, "market", 2000, [], False),
    (None, "market", 2000, [], False),                     # an unknown year is not known to be old enough
    (None, "market", None, [], True),                      # no year asked for
    (2020, "market", None, [], True),
    (1990, "market", 2000, ["market", "trust"], True),
    (1990, "trust", 2000, ["market", "trust"], True),
    (1990, "community_fallback", 2000, ["market", "trust"], False),
    (2010, "trust", 2000, ["trust"], False),               # both must hold
    (None, "owner_self", None, ["market"], False),
    (None, "owner_self", None, ("owner_self",), True),
])
def test_is_eligible(built_year, model, before, models, eligible):
    assert is_eligible(built_year, model, before, models) is eligible


def test_eligibility_reads_the_models_from_any_iterable():
    assert is_eligible(1990, "trust", 2000, iter(["trust"])) is True


# ---- properties against a slow Fraction reference ---------------------------------------------------------

def reference(rows: list[tuple[date, int]], period_start: date, tiers: list[tuple[int, int]],
              cap: int | None, budget: int | None) -> list[int]:
    """Each month's subsidy straight from the rule: the exact amount × rate as a Fraction, rounded half-up,
    capped, then what is left of the budget, months taken in calendar order."""
    rates = [rate for months, rate in tiers for _ in range(months)]
    left = budget
    result = []
    for month, amount in sorted(rows):
        offset = (month.year - period_start.year) * 12 + (month.month - period_start.month)
        rate = rates[offset] if 0 <= offset < len(rates) else 0
        share = Fraction(amount) * Fraction(rate, 10_000)
        subsidy = math.floor(share + Fraction(1, 2))
        if cap is not None:
            subsidy = min(subsidy, cap)
        if left is not None:
            subsidy = min(subsidy, left)
            left -= subsidy
        result.append(subsidy)
    return result


# Edge rates and amounts often, so .5 fen, 0% and 100% come up.
rates = st.one_of(st.sampled_from((0, 1, 1000, 1250, 2500, 3000, 3333, 5000, 9999, 10_000)), st.integers(0, 10_000))
tier_lists = st.lists(st.tuples(st.integers(1, 18), rates), max_size=5)
amounts = st.one_of(st.integers(0, 10), st.sampled_from((4250, 4251, 12_188, 99_999)), st.integers(0, 5_000_000))
period_starts = st.builds(date, st.integers(2015, 2035), st.integers(1, 12), st.just(1))
caps = st.one_of(st.none(), st.integers(0, 5), st.integers(0, 200_000))
budgets = st.one_of(st.none(), st.integers(0, 10), st.integers(0, 2_000_000))


@st.composite
def bills(draw, period_start: date):
    """A bill's months near the period (some before it, some after its end), in any order."""
    offsets = draw(st.lists(st.integers(-24, 100), min_size=0, max_size=14, unique=True))
    rows = [(add_months(period_start, offset), draw(amounts)) for offset in offsets]
    return draw(st.permutations(rows))


@st.composite
def cases(draw):
    period_start = draw(period_starts)
    return period_start, draw(tier_lists), draw(bills(period_start)), draw(caps), draw(budgets)


def run(period_start, tiers, rows, cap, budget) -> BillSplit:
    return split_bill(charges(*rows), period_start, [SubsidyTier(months, rate) for months, rate in tiers],
                      cap_fen_per_month=cap, budget_left_fen=budget)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_split_agrees_with_the_fraction_reference(case):
    period_start, tiers, rows, cap, budget = case
    split = run(*case)
    assert [month.month for month in split.per_month] == sorted(month for month, _ in rows)
    assert subsidies(split) == reference(rows, period_start, tiers, cap, budget)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_share_plus_subsidy_is_the_bill_and_no_limit_is_passed(case):
    _, _, rows, cap, budget = case
    split = run(*case)
    assert split.resident_fen + split.subsidy_fen == split.bill_fen == sum(amount for _, amount in rows)
    for month in split.per_month:
        assert 0 <= month.subsidy_fen <= month.amount_fen
        assert month.resident_fen + month.subsidy_fen == month.amount_fen
        assert cap is None or month.subsidy_fen <= cap
    assert budget is None or split.subsidy_fen <= budget


@settings(max_examples=300, deadline=None)
@given(cases())
def test_a_budget_only_ever_lowers_a_month_and_takes_the_earliest_first(case):
    period_start, tiers, rows, cap, budget = case
    unlimited = run(period_start, tiers, rows, cap, None)
    limited = run(*case)
    assert all(got <= full for got, full in zip(subsidies(limited), subsidies(unlimited), strict=True))
    expected_total = unlimited.subsidy_fen if budget is None else min(budget, unlimited.subsidy_fen)
    assert limited.subsidy_fen == expected_total
    # Once a month falls short of its full subsidy the budget is gone: every later month gets nothing.
    short = [index for index, (got, full) in enumerate(zip(subsidies(limited), subsidies(unlimited), strict=True))
             if got < full]
    if short:
        assert all(got == 0 for got in subsidies(limited)[short[0] + 1:])


@settings(max_examples=300, deadline=None)
@given(period_starts.flatmap(lambda start: st.tuples(
    st.just(start), tier_lists, st.lists(bills(start), max_size=8), caps, st.integers(0, 3_000_000))))
def test_grants_over_a_sequence_of_bills_never_pass_the_budget(case):
    """Each bill is given what the previous ones left, as payments are granted one after another."""
    period_start, tiers, bill_rows, cap, budget = case
    left, granted, wanted = budget, 0, 0
    for rows in bill_rows:
        split = run(period_start, tiers, rows, cap, left)
        assert subsidies(split) == reference(rows, period_start, tiers, cap, left)
        assert split.subsidy_fen <= left
        assert split.resident_fen + split.subsidy_fen == split.bill_fen
        left -= split.subsidy_fen
        granted += split.subsidy_fen
        wanted += run(period_start, tiers, rows, cap, None).subsidy_fen
    assert granted <= budget
    assert granted == min(budget, wanted)
    assert left == budget - granted >= 0


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10_000))
def test_half_up_share_agrees_with_fractions(amount_fen, rate_bp):
    assert half_up_share(amount_fen, rate_bp) == math.floor(Fraction(amount_fen * rate_bp, 10_000) + Fraction(1, 2))
