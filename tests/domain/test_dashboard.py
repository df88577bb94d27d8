"""The dashboard's rules: rates rounded half up in basis points (none without a denominator), the charts' twelve
months across a year's end, and the Beijing year's first day."""
from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.dashboard import SORT_LABELS, Sort, month_start, months_back, rate_bp, year_start


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (0, 0, None), (5, 0, None), (0, 3, 0), (1, 3, 3333), (2, 3, 6667), (1, 8, 1250), (1, 20000, 1), (1, 20001, 0),
    (3, 3, 10000),
])
def test_rate_in_basis_points(part, whole, expected):
    assert rate_bp(part, whole) == expected


@given(st.integers(0, 10**9), st.integers(1, 10**9))
def test_rate_is_the_exact_fraction_rounded_half_up(part, whole):
    exact = Fraction(part * 10_000, whole)
    assert rate_bp(part, whole) == int(exact + Fraction(1, 2))


@pytest.mark.parametrize(("month", "first", "last"), [
    (date(2026, 11, 1), date(2025, 12, 1), date(2026, 11, 1)),
    (date(2027, 1, 1), date(2026, 2, 1), date(2027, 1, 1)),
    (date(2026, 12, 1), date(2026, 1, 1), date(2026, 12, 1)),
])
def test_twelve_months_oldest_first(month, first, last):
    months = months_back(month)
    assert len(months) == 12 and months[0] == first and months[-1] == last
    assert months == sorted(set(months))


def test_month_and_year_starts():
    assert month_start(date(2026, 2, 28)) == date(2026, 2, 1)
    assert year_start(date(2026, 12, 31)) == date(2026, 1, 1)


def test_every_sort_has_a_label():
    assert set(SORT_LABELS) == set(Sort)
