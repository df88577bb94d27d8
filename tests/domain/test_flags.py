"""Problem-compound rules (issue 16, item 3): every rule at its threshold's edges (threshold − 1, threshold,
threshold + 1), the reasons naming the figures, properties against the plain comparison, and the sweep's plan
(raise, reword, clear)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.compounds import GovernanceBody
from backend.domain.flags import (
    DEFAULT_THRESHOLDS,
    CompoundFacts,
    DecidedBallot,
    FlagRule,
    FlagThresholds,
    MonthCollection,
    changes,
    failed_votes,
    firing,
    low_collection,
    low_satisfaction,
    no_self_governance,
    open_disputes,
    overdue_orders,
    overdue_rectifications,
    percent,
)

T = FlagThresholds(collection_min_bp=6000, overdue_orders_max=5, satisfaction_min_bp=6000, low_stars=2,
                   open_disputes_max=2, overdue_rectifications_max=1)


def months(*rates: int) -> list[MonthCollection]:
    """Newest first, as the service gives them; months named backwards from 2026-12."""
    return [MonthCollection(f"2026-{12 - index:02d}", rate) for index, rate in enumerate(rates)]


def test_the_defaults_are_the_documented_ones():
    assert FlagThresholds(6000, 5, 6000, 2, 2, 0) == DEFAULT_THRESHOLDS


@pytest.mark.parametrize(("bp", "shown"), [
    (0, "0%"), (6000, "60%"), (4120, "41.2%"), (5999, "59.99%"), (3550, "35.5%"), (10000, "100%"), (1, "0.01%"),
])
def test_percent_is_exact(bp, shown):
    assert percent(bp) == shown


@pytest.mark.parametrize(("body", "fires"), [
    (GovernanceBody.NONE, True),
    (GovernanceBody.OWNERS_COMMITTEE, False),
    (GovernanceBody.PROPERTY_COMMITTEE, False),
    (GovernanceBody.SELF_COMMITTEE, False),
])
def test_no_self_governance(body, fires):
    reason = no_self_governance(CompoundFacts(governance_body=body), T)
    assert (reason is not None) is fires
    if fires:
        assert "业委会" in reason


@pytest.mark.parametrize(("rates", "fires"), [
    ((5999, 5999, 5999), True),  # threshold − 1 each month
    ((6000, 5999, 5999), False),  # the newest at the threshold: not below
    ((5999, 6000, 5999), False),
    ((5999, 5999, 6000), False),
    ((6001, 5999, 5999), False),
    ((0, 0, 0), True),
    ((5999, 5999), False),  # fewer than three billed months never fire
    ((), False),
    ((5999, 5999, 5999, 9000), True),  # a fourth, older month plays no part
    ((9000, 5999, 5999, 5999), False),  # the newest three are what counts
])
def test_low_collection_at_its_edges(rates, fires):
    assert (low_collection(CompoundFacts(collections=months(*rates)), T) is not None) is fires


def test_low_collection_names_the_three_months_oldest_first():
    reason = low_collection(CompoundFacts(collections=months(3550, 3800, 4120)), T)
    assert reason == "近三个月（2026-10至2026-12）收缴率 41.2%、38%、35.5%，均低于 60%"


@given(st.lists(st.integers(0, 10_000), min_size=3, max_size=3), st.integers(0, 10_000))
def test_low_collection_is_every_month_strictly_below(rates, threshold):
    thresholds = FlagThresholds(collection_min_bp=threshold)
    fired = low_collection(CompoundFacts(collections=months(*rates)), thresholds) is not None
    assert fired is all(rate < threshold for rate in rates)


@pytest.mark.parametrize(("count", "fires"), [(4, False), (5, False), (6, True), (0, False)])
def test_overdue_orders_at_its_edges(count, fires):
    reason = overdue_orders(CompoundFacts(overdue_orders=count), T)
    assert (reason is not None) is fires
    if fires:
        assert reason == "超时未办结工单 6 件，超过 5 件"


@pytest.mark.parametrize(("rate", "stars", "fires"), [
    (5999, None, True), (6000, None, False), (6001, None, False),
    (None, 1, True), (None, 2, True), (None, 3, False), (None, 0, True),
    (None, None, False), (9000, 3, False), (5999, 3, True), (9000, 2, True),
])
def test_low_satisfaction_at_its_edges(rate, stars, fires):
    assert (low_satisfaction(CompoundFacts(satisfaction_bp=rate, stars=stars), T) is not None) is fires


def test_low_satisfaction_names_both_reasons():
    reason = low_satisfaction(CompoundFacts(satisfaction_bp=4500, stars=1), T)
    assert reason == "最近一次满意度测评满意率 45%，低于 60%；物业服务企业最新评定 1 星，不高于 2 星"


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.none() | st.integers(0, 5), st.integers(0, 5))
def test_low_satisfaction_is_below_or_few_stars(rate, threshold, stars, low):
    thresholds = FlagThresholds(satisfaction_min_bp=threshold, low_stars=low)
    fired = low_satisfaction(CompoundFacts(satisfaction_bp=rate, stars=stars), thresholds) is not None
    assert fired is (rate < threshold or (stars is not None and stars <= low))


@pytest.mark.parametrize(("count", "fires"), [(1, False), (2, False), (3, True)])
def test_open_disputes_at_its_edges(count, fires):
    assert (open_disputes(CompoundFacts(open_disputes=count), T) is not None) is fires


@pytest.mark.parametrize(("count", "fires"), [(0, False), (1, False), (2, True)])
def test_overdue_rectifications_at_its_edges(count, fires):
    assert (overdue_rectifications(CompoundFacts(overdue_rectifications=count), T) is not None) is fires


def test_one_overdue_rectification_fires_by_default():
    assert overdue_rectifications(CompoundFacts(overdue_rectifications=1), DEFAULT_THRESHOLDS) is not None
    assert overdue_rectifications(CompoundFacts(overdue_rectifications=0), DEFAULT_THRESHOLDS) is None


@given(st.integers(0, 50), st.integers(0, 50))
def test_the_count_rules_fire_strictly_above(count, threshold):
    thresholds = FlagThresholds(overdue_orders_max=threshold, open_disputes_max=threshold,
                                overdue_rectifications_max=threshold)
    facts = CompoundFacts(overdue_orders=count, open_disputes=count, overdue_rectifications=count)
    for rule in (overdue_orders, open_disputes, overdue_rectifications):
        assert (rule(facts, thresholds) is not None) is (count > threshold)


def ballot(topic_id: int, area: tuple[int, int], heads: tuple[int, int]) -> DecidedBallot:
    return DecidedBallot(topic_id, area[0], area[1], heads[0], heads[1])


MET = ((2, 3), (2, 3))  # exactly 2/3 of both: "三分之二以上" includes the line (Art. 1259)
AREA_SHORT = ((1999, 3000), (2, 3))  # one hundredth of a m² short of 2/3
HEADS_SHORT = ((2, 3), (199, 300))


@pytest.mark.parametrize(("newest_first", "fires"), [
    ([AREA_SHORT, HEADS_SHORT], True),
    ([AREA_SHORT, AREA_SHORT], True),
    ([MET, AREA_SHORT], False),
    ([AREA_SHORT, MET], False),
    ([AREA_SHORT], False),  # one failed ballot is not twice
    ([], False),
    ([AREA_SHORT, HEADS_SHORT, MET], True),  # only the two newest count
    ([MET, AREA_SHORT, HEADS_SHORT], False),
    ([((0, 0), (0, 0)), ((0, 0), (0, 0))], True),  # an empty roll never meets participation
    ([((2001, 3000), (201, 300)), AREA_SHORT], False),
])
def test_failed_votes_at_the_participation_line(newest_first, fires):
    ballots = [ballot(index + 1, area, heads) for index, (area, heads) in enumerate(newest_first)]
    assert (failed_votes(CompoundFacts(decided_ballots=ballots), T) is not None) is fires


def test_failed_votes_names_both_ballots_oldest_first():
    ballots = [ballot(15, (1500, 3000), (5, 10)), ballot(12, (1999, 3000), (7, 10))]
    reason = failed_votes(CompoundFacts(decided_ballots=ballots), T)
    assert reason.endswith("议题#12 参与面积 66.63%、参与人数 70%；议题#15 参与面积 50%、参与人数 50%")


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 100), st.integers(0, 100))
def test_participation_met_is_two_thirds_of_both(area_part, area_whole, heads_part, heads_whole):
    b = ballot(1, (area_part, area_whole), (heads_part, heads_whole))
    expected = (area_whole > 0 and 3 * area_part >= 2 * area_whole) and (heads_whole > 0 and 3 * heads_part >= 2 * heads_whole)
    assert b.participation_met is expected


def test_firing_collects_every_rule_with_its_reason():
    facts = CompoundFacts(governance_body=GovernanceBody.NONE, overdue_orders=9, open_disputes=3)
    assert set(firing(facts, T)) == {FlagRule.NO_SELF_GOVERNANCE, FlagRule.OVERDUE_ORDERS, FlagRule.OPEN_DISPUTES}
    assert firing(CompoundFacts(), T) == {}


def test_changes_raise_new_reword_moved_and_clear_stopped():
    active = {FlagRule.OVERDUE_ORDERS: "超时未办结工单 6 件，超过 5 件", FlagRule.OPEN_DISPUTES: "旧",
              FlagRule.NO_SELF_GOVERNANCE: "未成立"}
    fired = {FlagRule.OVERDUE_ORDERS: "超时未办结工单 7 件，超过 5 件", FlagRule.NO_SELF_GOVERNANCE: "未成立",
             FlagRule.LOW_COLLECTION: "近三个月…"}
    planned = changes(active, fired)
    assert planned.raise_ == {FlagRule.LOW_COLLECTION: "近三个月…"}
    assert planned.reword == {FlagRule.OVERDUE_ORDERS: "超时未办结工单 7 件，超过 5 件"}
    assert planned.clear == {FlagRule.OPEN_DISPUTES}


def test_changes_of_unchanged_flags_are_nothing():
    same = {FlagRule.OVERDUE_ORDERS: "x"}
    planned = changes(same, same)
    assert (planned.raise_, planned.reword, planned.clear) == ({}, {}, frozenset())
