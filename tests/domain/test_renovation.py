"""The renovation rules: who may report progress and rate in which status, where a progress report takes the
project (never back, 100% completes it), the rating's average (hypothesis: half-up, within the stars), the budget by
funding source, the plan's checks and the accountability timeline."""
from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.refusals import Kind
from backend.domain.renovation import (
    FundingSource,
    ProjectAction,
    ProjectStatus,
    RenovationRefused,
    allowed_actions,
    average_centi,
    budget_by_source,
    check_plan,
    check_stars,
    require,
    status_after_progress,
    timeline,
)

S = ProjectStatus
A = ProjectAction


@pytest.mark.parametrize(("status", "party", "household", "allowed"), [
    (S.PLANNED, False, False, set()),
    (S.PLANNED, True, False, {A.PROGRESS}),
    (S.PLANNED, False, True, set()),
    (S.IN_PROGRESS, True, True, {A.PROGRESS}),
    (S.IN_PROGRESS, False, True, set()),
    (S.COMPLETED, True, False, set()),
    (S.COMPLETED, False, True, {A.RATE}),
    (S.COMPLETED, True, True, {A.RATE}),
])
def test_allowed_actions(status, party, household, allowed):
    assert allowed_actions(status, party=party, household=household) == allowed


def test_only_the_party_reports_progress_and_only_a_household_rates_after_completion():
    with pytest.raises(RenovationRefused) as refused:
        require(A.PROGRESS, S.IN_PROGRESS, party=False, household=True)
    assert refused.value.kind is Kind.FORBIDDEN
    with pytest.raises(RenovationRefused) as refused:
        require(A.PROGRESS, S.COMPLETED, party=True, household=False)
    assert refused.value.kind is Kind.CONFLICT
    with pytest.raises(RenovationRefused) as refused:
        require(A.RATE, S.IN_PROGRESS, party=False, household=True)
    assert refused.value.kind is Kind.CONFLICT
    with pytest.raises(RenovationRefused) as refused:
        require(A.RATE, S.COMPLETED, party=True, household=False)
    assert refused.value.kind is Kind.FORBIDDEN
    require(A.RATE, S.COMPLETED, party=False, household=True)


@given(st.sampled_from([S.PLANNED, S.IN_PROGRESS]), st.integers(0, 100), st.integers(-5, 105))
def test_progress_moves_forward_only_and_100_completes(status, last, percent):
    if not 0 <= percent <= 100 or percent < last:
        with pytest.raises(RenovationRefused) as refused:
            status_after_progress(status, last, percent)
        assert refused.value.kind is Kind.INVALID
        return
    after = status_after_progress(status, last, percent)
    if percent == 100:
        assert after is S.COMPLETED
    elif percent > 0:
        assert after is S.IN_PROGRESS
    else:
        assert after is status


def test_a_completed_project_takes_no_progress():
    with pytest.raises(RenovationRefused) as refused:
        status_after_progress(S.COMPLETED, 100, 100)
    assert refused.value.kind is Kind.CONFLICT


@given(st.lists(st.integers(1, 5), max_size=60))
def test_the_average_is_the_mean_rounded_half_up_in_hundredths(stars):
    found = average_centi(stars)
    if not stars:
        assert found is None
        return
    exact = Fraction(100 * sum(stars), len(stars))
    assert found - Fraction(1, 2) <= exact < found + Fraction(1, 2)
    assert 100 * min(stars) <= found <= 100 * max(stars)


def test_half_a_hundredth_rounds_up():
    assert average_centi([4, 5, 5, 5, 5, 5, 5, 5]) == 488  # 4.875
    assert average_centi([1, 2]) == 150


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_stars_are_one_to_five(stars):
    with pytest.raises(RenovationRefused):
        check_stars(stars)


@given(st.lists(st.tuples(st.sampled_from(list(FundingSource)), st.integers(0, 10**12)), max_size=20))
def test_the_budget_by_source_adds_up(items):
    totals = budget_by_source(items)
    assert sum(total for _, total in totals) == sum(budget for _, budget in items)
    assert [source for source, _ in totals] == [s for s in FundingSource if s in {source for source, _ in items}]


def test_the_plan_ends_after_it_starts_and_its_categories_are_known():
    check_plan(date(2027, 3, 1), date(2027, 3, 1), ["电气线路", "电梯"])
    with pytest.raises(RenovationRefused) as refused:
        check_plan(date(2027, 3, 2), date(2027, 3, 1), ["电梯", "造火箭"])
    assert set(refused.value.errors) == {"planned_end", "items.1.category"}


def test_the_timeline_runs_from_the_proposal_to_the_rating():
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    steps = timeline(topic_proposed_at=moment, topic_decided_at=moment, decision_note="表决通过", created_at=moment,
                     started_on=date(2026, 6, 1), completed_on=None, ratings=0, average=None)
    assert [(s.key, s.done) for s in steps] == [("proposal", True), ("decision", True), ("project", True),
                                                ("started", True), ("completed", False), ("rating", False)]
    alone = timeline(topic_proposed_at=None, topic_decided_at=None, decision_note="", created_at=moment,
                     started_on=date(2026, 6, 1), completed_on=date(2026, 7, 1), ratings=2, average=450)
    assert [s.key for s in alone] == ["project", "started", "completed", "rating"]
    assert alone[-1].done and alone[-1].note == "2户评价，平均4.50星"
