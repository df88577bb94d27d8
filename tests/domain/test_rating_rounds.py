"""The rules of a rating round: the period a start begins, a sound method, who may take which step when, and the
stars of a whole round (bars and companies without data included)."""
from __future__ import annotations

from datetime import date

import pytest

from backend.domain.rating import (
    CompanyParts,
    CreditKind,
    PeriodKind,
    RoundAction,
    RoundStatus,
    Standing,
    StarMethod,
    Weights,
    method_problems,
    period_end,
    period_label,
    rate_companies,
    red_property,
    round_actions,
    round_readable,
)

W = Weights(50, 30, 20)


@pytest.mark.parametrize(("kind", "start", "end"), [
    (PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31)),
    (PeriodKind.QUARTER, date(2024, 1, 1), date(2024, 3, 31)),
    (PeriodKind.QUARTER, date(2026, 4, 1), date(2026, 6, 30)),
    (PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31)),
    (PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31)),
])
def test_period_end(kind, start, end):
    assert period_end(kind, start) == end


@pytest.mark.parametrize(("kind", "start"), [
    (PeriodKind.QUARTER, date(2026, 2, 1)), (PeriodKind.QUARTER, date(2026, 4, 2)),
    (PeriodKind.YEAR, date(2026, 7, 1)),
])
def test_a_start_that_begins_no_period_is_refused(kind, start):
    with pytest.raises(ValueError):
        period_end(kind, start)


def test_period_labels():
    assert period_label(PeriodKind.QUARTER, date(2026, 10, 1)) == "2026年第4季度"
    assert period_label(PeriodKind.YEAR, date(2026, 1, 1)) == "2026年度"


@pytest.mark.parametrize(("weights", "method", "bands", "cutoffs", "field"), [
    (Weights(50, 30, 20), StarMethod.BANDS, [(9000, 5), (8000, 4)], [], None),
    (Weights(50, 30, 21), StarMethod.BANDS, [(9000, 5)], [], "survey_weight"),
    (W, StarMethod.BANDS, [], [], "bands"),
    (W, StarMethod.BANDS, [(9000, 5), (9000, 4)], [], "bands"),
    (W, StarMethod.BANDS, [(8000, 5), (9000, 4)], [], "bands"),
    (W, StarMethod.BANDS, [(10001, 5)], [], "bands"),
    (W, StarMethod.RANK, [], [1000, 3500, 8500, 9700], None),
    (W, StarMethod.RANK, [], [1000, 3500, 8500, 9700, 10000], None),
    (W, StarMethod.RANK, [], [1000, 2000, 3000, 4000, 5000, 6000], "cutoffs_bp"),
    (W, StarMethod.RANK, [], [3500, 1000], "cutoffs_bp"),
    (W, StarMethod.RANK, [], [1000, 1000], "cutoffs_bp"),
    (W, StarMethod.RANK, [], [], "cutoffs_bp"),
])
def test_method_problems(weights, method, bands, cutoffs, field):
    problems = method_problems(weights, method, bands, cutoffs)
    assert (next(iter(problems)) if problems else None) == field


AREA = Standing(at=True, above=True)  # a district's own officials
STREET_AREA = Standing(at=True, above=True, reviews=True)  # a street's own officials, its round
ABOVE = Standing(above=True)
STREET = Standing(below=True, street_below=True, reviews=True)
COMMUNITY = Standing(below=True)
RESIDENT = Standing(member=True)


@pytest.mark.parametrize(("status", "standing", "computed", "over", "unanswered", "expected"), [
    (RoundStatus.COMPUTED, STREET, False, False, 0, {"export"}),
    (RoundStatus.COMPUTED, STREET, True, False, 0, {"review", "export"}),
    (RoundStatus.COMPUTED, AREA, True, False, 0, {"export"}),
    (RoundStatus.COMPUTED, STREET_AREA, True, False, 0, {"review", "export"}),
    (RoundStatus.COMPUTED, ABOVE, True, False, 0, {"export"}),
    (RoundStatus.COMPUTED, COMMUNITY, True, False, 0, set()),
    (RoundStatus.PUBLICITY, COMMUNITY, True, False, 0, set()),
    (RoundStatus.COMPUTED, RESIDENT, True, False, 0, set()),
    (RoundStatus.REVIEWED, STREET, True, False, 0, {"export"}),
    (RoundStatus.REVIEWED, ABOVE, True, False, 0, {"confirm", "export"}),
    (RoundStatus.PUBLICITY, RESIDENT, True, False, 0, {"object"}),
    (RoundStatus.PUBLICITY, RESIDENT, True, True, 0, set()),
    (RoundStatus.PUBLICITY, AREA, True, False, 1, {"answer", "export"}),
    (RoundStatus.PUBLICITY, AREA, True, True, 1, {"answer", "export"}),
    (RoundStatus.PUBLICITY, AREA, True, True, 0, {"publish", "export"}),
    (RoundStatus.PUBLICITY, STREET, True, True, 0, {"export"}),
    (RoundStatus.PUBLISHED, AREA, True, True, 0, {"export"}),
    (RoundStatus.PUBLISHED, RESIDENT, True, True, 0, set()),
])
def test_round_actions(status, standing, computed, over, unanswered, expected):
    actions = round_actions(status, standing, computed=computed, publicity_over=over, unanswered=unanswered)
    assert actions == {RoundAction(name) for name in expected}


def test_the_reviewer_never_confirms():
    mine = round_actions(RoundStatus.REVIEWED, STREET_AREA, computed=True, publicity_over=False, unanswered=0,
                         reviewed_by_me=True)
    assert mine == {RoundAction.EXPORT}


@pytest.mark.parametrize(("standing", "before", "after"), [
    (AREA, True, True), (ABOVE, True, True), (STREET, True, True), (COMMUNITY, False, True),
    (RESIDENT, False, True), (Standing(), False, False),
])
def test_who_reads_a_round_before_and_from_its_publicity(standing, before, after):
    assert [round_readable(status, standing) for status in RoundStatus] == [before, before, before, after, after]


def parts(company_id, survey=None, service=None, inspection=None, credit=0, barred=None):
    return CompanyParts(company_id, survey, service, inspection, credit, barred)


def test_a_round_by_bands_with_a_bar_and_a_company_without_data():
    rated = {line.company_id: line for line in rate_companies(
        [parts(1, survey=9500), parts(2, survey=9500, barred=CreditKind.BLACKLIST), parts(3),
         parts(4, service=7000, credit=-8000)],
        W, StarMethod.BANDS, [(9000, 5), (6000, 3)], [], 0)}
    assert (rated[1].rank, rated[1].stars, rated[1].no_star_reason) == (1, 5, "")
    assert (rated[2].composite, rated[2].rank, rated[2].stars, rated[2].no_star_reason) == (9500, 1, 0, "期内列入黑榜")
    assert (rated[3].composite, rated[3].stars, rated[3].no_star_reason) == (0, 0, "期内无评价数据")
    # Credit cannot push a composite below 0.
    assert (rated[4].composite, rated[4].stars) == (0, 0)


def test_a_round_by_rank_counts_only_companies_with_a_score_and_applies_min_stars():
    rated = {line.company_id: line for line in rate_companies(
        [parts(1, survey=9000), parts(2, survey=8000), parts(3, survey=7000), parts(4, survey=6000), parts(5)],
        W, StarMethod.RANK, [], [2500, 5000, 7500, 10000], 3)}
    assert {key: line.stars for key, line in rated.items()} == {1: 5, 2: 4, 3: 3, 4: 0, 5: 0}
    assert rated[5].rank == 5


def test_red_property():
    assert red_property(5, True) and not red_property(4, True) and not red_property(5, False)


def test_a_barred_company_takes_no_rank_slot_from_the_others():
    rated = {line.company_id: line for line in rate_companies(
        [parts(1, survey=9000, barred=CreditKind.MAJOR_ACCIDENT), parts(2, survey=8000), parts(3, survey=7000),
         parts(4, survey=6000, barred=CreditKind.BLACKLIST), parts(5)],
        Weights(100, 0, 0), StarMethod.RANK, [], [2500, 5000], 0)}
    # Two companies with a score and no bar: the first quarter (rounded up, one place) is 2's ★5; counting the
    # barred it would have been 1's, leaving 2 only ★4.
    assert {key: line.stars for key, line in rated.items()} == {1: 0, 2: 5, 3: 0, 4: 0, 5: 0}
    # The barred keep their score and their rank among all.
    assert (rated[1].composite, rated[1].rank, rated[1].no_star_reason) == (9000, 1, "期内发生重大事故")
    assert (rated[2].rank, rated[4].rank, rated[4].no_star_reason) == (2, 4, "期内列入黑榜")
