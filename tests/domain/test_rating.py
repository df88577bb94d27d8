"""Satisfaction figures and stars (DESIGN §3, issue 14): every edge of the three rules the city's method names
(exact .5 roundings, a score equal to a band's minimum, ties across a rank cut-off, one company, all tied), bad
answers, and properties checked against slow `Fraction` references."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.rating import (
    Weights,
    composite_score,
    figures_from_counts,
    inspection_score,
    ranks,
    response_rate_bp,
    sample_sufficient,
    satisfaction_figures,
    service_score,
    stars_by_rank,
    stars_by_score,
)

POINTS = {5: 100, 4: 75, 3: 50, 2: 25, 1: 0}
CITY_CUTOFFS = (1000, 2500, 8500, 9700)
BANDS = ((9000, 5), (8000, 4), (7000, 3), (6000, 2), (5000, 1))


def half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


# --- satisfaction_figures ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("answers", "valid", "satisfied", "rate_bp", "score_centi"),
    [
        ([], 0, 0, 0, 0),
        ([0, 0, 0], 0, 0, 0, 0),  # 不了解 only: nothing valid, both figures 0
        ([5], 1, 1, 10000, 10000),
        ([1], 1, 0, 0, 0),
        ([4, 3], 2, 1, 5000, 6250),
        ([5, 4, 3, 2, 1, 0], 5, 2, 4000, 5000),
        # 1 satisfied of 32 valid = 312.5 bp → 313 (half-up)
        ([4] + [1] * 31, 32, 1, 313, 234),
        # 75 / 8 points = 9.375 → 937.5 centi → 938
        ([4] + [1] * 7, 8, 1, 1250, 938),
        # 2 of 3 = 6666.67 bp → 6667; (100 + 100 + 50) / 3 = 83.333 → 8333
        ([5, 5, 3, 0], 3, 2, 6667, 8333),
        # 1 of 3 = 3333.33 → 3333; (25 + 0 + 75) / 3 = 33.333 → 3333
        ([2, 1, 4, 0, 0], 3, 1, 3333, 3333),
        # 2 of 3 = 6666.67 → 6667; (75 + 75 + 0) / 3 = 50 → 5000
        ([4, 4, 1], 3, 2, 6667, 5000),
    ],
)
def test_satisfaction_figures_table(answers, valid, satisfied, rate_bp, score_centi):
    figures = satisfaction_figures(answers)

    assert (figures.valid, figures.satisfied, figures.rate_bp, figures.score_centi) == (
        valid, satisfied, rate_bp, score_centi)


def test_satisfaction_figures_are_ints():
    figures = satisfaction_figures([5, 4, 2])

    assert all(type(value) is int for value in (figures.valid, figures.satisfied, figures.rate_bp,
                                                 figures.score_centi))


@pytest.mark.parametrize("bad", [True, False, 6, -1, 4.0, "5", None, 2**70])
def test_satisfaction_figures_refuse_anything_but_an_int_0_to_5(bad):
    with pytest.raises(ValueError):
        satisfaction_figures([5, bad])


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=400))
def test_satisfaction_figures_match_a_fraction_reference(answers):
    valid = [answer for answer in answers if answer]
    figures = satisfaction_figures(answers)

    assert figures.valid == len(valid)
    assert figures.satisfied == sum(1 for answer in valid if answer >= 4)
    if valid:
        assert figures.rate_bp == half_up(Fraction(figures.satisfied * 10000, len(valid)))
        assert figures.score_centi == half_up(Fraction(sum(POINTS[a] for a in valid) * 100, len(valid)))
    else:
        assert figures.rate_bp == figures.score_centi == 0
    assert 0 <= figures.rate_bp <= 10000 and 0 <= figures.score_centi <= 10000


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=200))
def test_counts_give_the_figures_of_the_answers(answers):
    counts = {value: answers.count(value) for value in set(answers)}

    assert figures_from_counts(counts) == satisfaction_figures(answers)


def test_counts_refuse_negative_or_unknown():
    with pytest.raises(ValueError):
        figures_from_counts({5: -1})
    with pytest.raises(ValueError):
        figures_from_counts({7: 1})


# --- the sample rule --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("answered", "households", "sufficient"),
    [
        (30, 100, True),  # exactly 30%
        (29, 100, False),
        (10, 20, True),
        (9, 20, False),  # 45% but fewer than 10 households
        (10, 34, False),  # 29.4%
        (9, 9, False),  # a compound of 9 households can never count
        (150, 500, True),
    ],
)
def test_sample_rule_needs_30_percent_and_10_households(answered, households, sufficient):
    assert sample_sufficient(answered, households, 3000, 10) is sufficient


def test_response_rate_rounds_half_up():
    assert response_rate_bp(1, 32) == 313
    assert response_rate_bp(0, 0) == 0


# --- stars_by_score ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("score", "min_stars", "stars"),
    [
        (9000, 0, 5),  # equal to a band's minimum
        (8999, 0, 4),
        (10000, 0, 5),
        (5000, 0, 1),
        (4999, 0, 0),  # below every band
        (0, 0, 0),
        (6500, 3, 0),  # ★2 is below "no star below ★3"
        (7000, 3, 3),
    ],
)
def test_stars_by_score_table(score, min_stars, stars):
    assert stars_by_score(score, BANDS, min_stars) == stars


def test_stars_by_score_takes_bands_in_any_order():
    assert stars_by_score(8500, list(reversed(BANDS))) == 4
    assert stars_by_score(8500, []) == 0


@given(st.integers(min_value=0, max_value=10000),
       st.lists(st.tuples(st.integers(0, 10000), st.integers(1, 5)), max_size=6, unique_by=lambda b: b[0]),
       st.integers(0, 5))
def test_stars_by_score_is_the_highest_band_reached(score, bands, min_stars):
    reached = [band for band in bands if band[0] <= score]
    expected = max(reached)[1] if reached else 0

    assert stars_by_score(score, bands, min_stars) == (expected if expected >= min_stars else 0)


# --- stars_by_rank ----------------------------------------------------------------------------------------

def test_rank_cutoffs_of_ten_companies():
    scores = {company: 10000 - company * 100 for company in range(1, 11)}  # ranks 1..10

    # ⌈10 × 10%⌉ = 1, ⌈2.5⌉ = 3, ⌈8.5⌉ = 9, ⌈9.7⌉ = 10
    assert stars_by_rank(scores, CITY_CUTOFFS) == {1: 5, 2: 4, 3: 4, 4: 3, 5: 3, 6: 3, 7: 3, 8: 3, 9: 3, 10: 2}


def test_ties_across_a_cutoff_share_the_better_rank():
    scores = {1: 9000, 2: 9000, 3: 8000, 4: 8000, 5: 8000, 6: 7000, 7: 6000, 8: 5000, 9: 4000, 10: 3000}

    stars = stars_by_rank(scores, CITY_CUTOFFS)

    assert ranks(scores) == {1: 1, 2: 1, 3: 3, 4: 3, 5: 3, 6: 6, 7: 7, 8: 8, 9: 9, 10: 10}
    assert stars[1] == stars[2] == 5  # both rank 1 ≤ 1, although only one place is ★5
    assert stars[3] == stars[4] == stars[5] == 4  # rank 3 ≤ 3
    assert stars[6] == 3 and stars[10] == 2


def test_one_company_takes_the_top():
    assert stars_by_rank({7: 1234}, CITY_CUTOFFS) == {7: 5}


def test_all_tied_all_share_the_top():
    assert stars_by_rank({1: 5000, 2: 5000, 3: 5000, 4: 5000}, CITY_CUTOFFS) == {1: 5, 2: 5, 3: 5, 4: 5}


def test_rank_min_stars_and_the_rest():
    scores = {company: company for company in range(1, 101)}  # company 100 is rank 1

    stars = stars_by_rank(scores, CITY_CUTOFFS, min_stars=3)

    assert stars[100] == 5 and stars[91] == 5 and stars[90] == 4  # ⌈100 × 10%⌉ = 10
    assert stars[16] == 3 and stars[15] == 0  # ★2 (ranks 86–97) is below ★3
    assert stars[1] == 0
    assert stars_by_rank({}, CITY_CUTOFFS) == {}


def test_more_than_five_cutoffs_is_refused():
    with pytest.raises(ValueError):
        stars_by_rank({1: 1}, [1000, 2000, 3000, 4000, 5000, 6000])


@given(st.dictionaries(st.integers(1, 10**6), st.integers(0, 30), max_size=60),
       st.lists(st.integers(1, 10000), max_size=5, unique=True).map(sorted),
       st.integers(0, 5))
def test_stars_by_rank_match_a_fraction_reference(scores, cutoffs, min_stars):
    n = len(scores)
    result = stars_by_rank(scores, cutoffs, min_stars)

    assert set(result) == set(scores)
    for company, score in scores.items():
        rank = 1 + sum(1 for other in scores.values() if other > score)
        expected = 0
        for index, cutoff in enumerate(cutoffs):
            if rank <= math.ceil(Fraction(n * cutoff, 10000)):
                expected = 5 - index
                break
        assert result[company] == (expected if expected >= min_stars else 0)


# --- the composite --------------------------------------------------------------------------------------

def test_composite_shares_a_missing_parts_weight():
    weights = Weights(survey=50, service=30, inspection=20)

    assert composite_score(weights, 8000, 6000, 9000, 0) == 7600
    # Never inspected: 50:30 of the rest, (50 × 8000 + 30 × 6000) / 80 = 7250
    assert composite_score(weights, 8000, 6000, None, 0) == 7250
    assert composite_score(weights, None, None, None, 300) == 300
    assert composite_score(weights, 9900, 9900, 9900, 500) == 10000
    assert composite_score(weights, 100, 100, 100, -500) == 0


@given(st.integers(0, 100), st.integers(0, 100), st.one_of(st.none(), st.integers(0, 10000)),
       st.one_of(st.none(), st.integers(0, 10000)), st.one_of(st.none(), st.integers(0, 10000)),
       st.integers(-3000, 3000))
def test_composite_matches_a_fraction_reference(a, b, survey, service, inspection, credit):
    if a + b > 100:
        a, b = a // 2, b // 2
    weights = Weights(survey=a, service=b, inspection=100 - a - b)
    parts = [(w, s) for w, s in ((a, survey), (b, service), (100 - a - b, inspection)) if s is not None and w]
    total = sum(w for w, _ in parts)
    base = half_up(Fraction(sum(w * s for w, s in parts), total)) if total else 0

    assert composite_score(weights, survey, service, inspection, credit) == max(0, min(10000, base + credit))


def test_service_score_is_the_mean_of_three_shares():
    # 8/10 within SLA, 6/10 confirmed, average 4★ (75 points): (8000 + 6000 + 7500) / 3 = 7166.67
    assert service_score(closed=10, closed_within_sla=8, orders=12, confirmed=6, rating_count=5,
                         rating_sum=20) == 7167
    assert service_score(closed=0, closed_within_sla=0, orders=0, confirmed=0, rating_count=0, rating_sum=0) is None
    assert service_score(closed=0, closed_within_sla=0, orders=3, confirmed=0, rating_count=0, rating_sum=0) == 0


@given(st.integers(1, 500), st.data())
def test_service_score_matches_a_fraction_reference(closed, data):
    within = data.draw(st.integers(0, closed))
    confirmed = data.draw(st.integers(0, closed))
    rated = data.draw(st.integers(0, closed))
    stars = data.draw(st.integers(rated, 5 * rated))
    shares = [Fraction(within, closed), Fraction(confirmed, closed)]
    if rated:
        shares.append(Fraction(stars - rated, 4 * rated))

    assert service_score(closed=closed, closed_within_sla=within, orders=closed, confirmed=confirmed,
                         rating_count=rated, rating_sum=stars) == half_up(sum(shares) / len(shares) * 10000)


def test_inspection_score():
    assert inspection_score(45, 60) == 7500
    assert inspection_score(1, 8) == 1250
    assert inspection_score(1, 16) == 625
    assert inspection_score(0, 0) is None
