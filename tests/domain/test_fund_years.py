"""The year's result and the surplus split by floor area (largest remainder): the shares add up to the total to the
fen, each is within one fen of its exact share, a tie goes to the lower household id, and the split does not
depend on the order the households come in."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.fund_years import months_to_close, result_of, split_by_area, year_result
from backend.domain.funds import Category

areas = st.dictionaries(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=50_000),
                        min_size=1, max_size=60)
totals = st.integers(min_value=0, max_value=10**10)


@given(totals, areas)
def test_the_shares_add_up_to_the_total(total, by_household):
    assert sum(split_by_area(total, by_household).values()) == total


@given(totals, areas)
def test_each_share_is_within_one_fen_of_its_exact_share(total, by_household):
    whole = sum(by_household.values())
    for household, share in split_by_area(total, by_household).items():
        exact = Fraction(total * by_household[household], whole)
        assert abs(share - exact) < 1
        assert share >= 0


@given(totals, areas)
def test_the_order_of_the_households_does_not_matter(total, by_household):
    reordered = dict(reversed(list(by_household.items())))
    assert split_by_area(total, reordered) == split_by_area(total, by_household)


@given(totals, areas)
def test_a_larger_floor_area_never_gets_less(total, by_household):
    shares = split_by_area(total, by_household)
    for one in by_household:
        for other in by_household:
            if by_household[one] > by_household[other]:
                assert shares[one] >= shares[other]


def test_a_tie_goes_to_the_lower_household_id():
    assert split_by_area(1, {7: 100, 3: 100, 5: 100}) == {3: 1, 5: 0, 7: 0}
    assert split_by_area(2, {7: 100, 3: 100, 5: 100}) == {3: 1, 5: 1, 7: 0}
    assert split_by_area(100, {1: 8125, 2: 8250, 3: 8375}) == {1: 33, 2: 33, 3: 34}


@pytest.mark.parametrize("total, by_household", [(-1, {1: 100}), (100, {}), (100, {1: 0})])
def test_what_cannot_be_split(total, by_household):
    with pytest.raises(ValueError):
        split_by_area(total, by_household)


def test_the_year_result_nets_reversals_and_shows_the_remuneration_on_its_own():
    result = result_of({Category.PROPERTY_FEE: 1_000_00, Category.PARKING: 200_00, Category.CLEANING: 300_00,
                        Category.REPAIR: -50_00, Category.REMUNERATION: 80_00})
    assert result == year_result(1_200_00, 250_00, 80_00)
    assert result.surplus_fen == 1_200_00 - 250_00 - 80_00


def test_the_months_an_account_must_have_closed():
    assert months_to_close(date(2024, 3, 9), 2025) == [date(2025, m, 1) for m in range(1, 13)]
    assert months_to_close(date(2025, 10, 31), 2025) == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    assert months_to_close(date(2026, 1, 1), 2025) == []
