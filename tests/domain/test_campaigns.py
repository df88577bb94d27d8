"""The rules of environment campaigns: standard competition ranking (1, 1, 3) and red flags with ties, a building's
total from the checklist, the checklist as kept, findings under the checklist, and who may do what."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.campaigns import (
    DEFAULT_CHECKLIST,
    CampaignAction,
    CampaignRefused,
    CampaignStatus,
    ChecklistItem,
    allowed_actions,
    check_findings,
    normalised_checklist,
    ranks,
    red_flags,
    score_total,
)

totals = st.dictionaries(st.integers(min_value=1, max_value=10_000), st.integers(min_value=0, max_value=500),
                         max_size=40)


@pytest.mark.parametrize(("scores", "expected"), [
    ({}, {}),
    ({1: 80}, {1: 1}),
    ({1: 90, 2: 90, 3: 80}, {1: 1, 2: 1, 3: 3}),
    ({1: 70, 2: 95, 3: 95, 4: 95, 5: 60}, {2: 1, 3: 1, 4: 1, 1: 4, 5: 5}),
    ({1: 50, 2: 60, 3: 60, 4: 40}, {2: 1, 3: 1, 1: 3, 4: 4}),
    ({1: 0, 2: 0}, {1: 1, 2: 1}),
])
def test_ranks_share_a_place_on_ties_and_skip_the_next(scores, expected):
    assert ranks(scores) == expected


@given(totals)
def test_a_rank_is_one_more_than_the_buildings_scored_strictly_higher(scores):
    ranked = ranks(scores)
    assert ranked.keys() == scores.keys()
    for key, total in scores.items():
        assert ranked[key] == 1 + sum(1 for other in scores.values() if other > total)
    for first, second in ((a, b) for a in scores for b in scores):
        assert (scores[first] == scores[second]) is (ranked[first] == ranked[second])
        assert (scores[first] > scores[second]) is (ranked[first] < ranked[second])


@given(totals, st.integers(min_value=0, max_value=50))
def test_red_flags_are_the_first_places_ties_included(scores, count):
    ranked = ranks(scores)
    flagged = red_flags(ranked, count)
    assert flagged == {key for key, rank in ranked.items() if rank <= count}
    # Never fewer than asked (when there are enough buildings), and a tie is never split by the flag.
    assert len(flagged) >= min(count, len(scores))
    for key in scores:
        if key in flagged:
            assert all(other in flagged for other in scores if scores[other] >= scores[key])


def test_three_flags_with_a_tie_for_third_fly_four():
    ranked = ranks({1: 99, 2: 97, 3: 95, 4: 95, 5: 90})
    assert red_flags(ranked, 3) == {1, 2, 3, 4}
    assert red_flags(ranked, 0) == frozenset()


@given(st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=12).flatmap(
    lambda maxima: st.tuples(st.just(maxima), st.tuples(*[st.integers(0, high) for high in maxima]))))
def test_a_total_is_the_sum_of_the_items_points(case):
    maxima, given_points = case
    checklist = [ChecklistItem(f"项目{index}", high) for index, high in enumerate(maxima)]
    points = {item.name: value for item, value in zip(checklist, given_points, strict=True)}
    assert score_total(checklist, points) == sum(given_points)


@pytest.mark.parametrize(("points", "message"), [
    ({"楼道堆物": 20}, "请为“垃圾分类准确”打分"),
    ({item.name: 20 for item in DEFAULT_CHECKLIST} | {"小广告": 21}, "“小广告”的得分须在0–20分之间"),
    ({item.name: 20 for item in DEFAULT_CHECKLIST} | {"楼道堆物": -1}, "“楼道堆物”的得分须在0–20分之间"),
    ({item.name: 20 for item in DEFAULT_CHECKLIST} | {"乱贴乱画": 1}, "“乱贴乱画”不在本次评比的检查项中"),
])
def test_a_score_covers_each_item_once_within_its_maximum(points, message):
    with pytest.raises(CampaignRefused, match=message):
        score_total(DEFAULT_CHECKLIST, points)


def test_the_checklist_defaults_to_the_measures_list_and_is_kept_trimmed_and_unique():
    assert [item.name for item in normalised_checklist([])] == ["楼道堆物", "垃圾分类准确", "车辆乱停", "飞线充电", "小广告"]
    assert normalised_checklist([ChecklistItem(" 楼道堆物 ", 30)]) == (ChecklistItem("楼道堆物", 30),)
    for bad in ([ChecklistItem("楼道堆物", 10), ChecklistItem("楼道堆物", 5)], [ChecklistItem("", 10)],
                [ChecklistItem("小广告", 0)], [ChecklistItem(f"项{n}", 5) for n in range(13)]):
        with pytest.raises(CampaignRefused):
            normalised_checklist(bad)


def test_findings_fall_under_the_checklist_once_per_item():
    check_findings(DEFAULT_CHECKLIST, ["飞线充电", "小广告"])
    with pytest.raises(CampaignRefused, match="不在本次评比的检查项中"):
        check_findings(DEFAULT_CHECKLIST, ["乱贴乱画"])
    with pytest.raises(CampaignRefused, match="同一检查项只记录一条问题"):
        check_findings(DEFAULT_CHECKLIST, ["小广告", "小广告"])


@pytest.mark.parametrize(("status", "runs", "evaluator", "expected"), [
    (CampaignStatus.ACTIVE, True, False, {"appoint", "add_round", "score", "close", "to_work_order",
                                          "to_rectification"}),
    (CampaignStatus.ACTIVE, False, True, {"add_round", "score", "to_work_order"}),
    (CampaignStatus.ACTIVE, False, False, set()),
    (CampaignStatus.CLOSED, True, False, {"to_work_order", "to_rectification"}),
    (CampaignStatus.CLOSED, False, True, {"to_work_order"}),
])
def test_who_may_do_what(status, runs, evaluator, expected):
    assert allowed_actions(status, runs=runs, evaluator=evaluator) == {CampaignAction(name) for name in expected}
