"""The deliberation rules that need no database: deadlines, early close, reminders, check-in window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.consultations import (
    CHECKIN_CLOSES_AFTER,
    CHECKIN_OPENS_BEFORE,
    FIVE_STEPS,
    MAX_DELIBERATION_LEAD,
    MAX_VOTING_HOURS,
    MIN_VOTING_HOURS,
    STEP_LABELS,
    STEP_NUMBER,
    Schedule,
    Step,
    TopicRefused,
    checkin_open,
    due_meeting_reminders,
    due_voting_reminders,
    may_close_ballot,
    objections_open,
    require_step,
    step_after_publicity,
    voting_closes_at,
)

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def test_every_step_has_a_label_and_a_place_in_the_five_steps():
    assert set(STEP_LABELS) == set(Step) == set(STEP_NUMBER)
    assert len(FIVE_STEPS) == 5
    assert {STEP_NUMBER[step] for step in Step} == {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("deliberation_ends_at", "voting_hours", "publicity_days", "message"),
    [
        (NOW, 48, 7, "协商讨论截止时间须晚于现在"),
        (NOW - timedelta(seconds=1), 48, 7, "协商讨论截止时间须晚于现在"),
        (NOW + MAX_DELIBERATION_LEAD + timedelta(seconds=1), 48, 7, "协商讨论截止时间须在一年以内"),
        (NOW + timedelta(days=1), MIN_VOTING_HOURS - 1, 7, "表决时长"),
        (NOW + timedelta(days=1), MAX_VOTING_HOURS + 1, 7, "表决时长"),
        (NOW + timedelta(days=1), 48, 0, "公示期"),
        (NOW + timedelta(days=1), 48, 31, "公示期"),
    ],
)
def test_a_schedule_out_of_bounds_is_refused_as_bad_input(
    deliberation_ends_at, voting_hours, publicity_days, message
):
    with pytest.raises(TopicRefused) as refused:
        Schedule(deliberation_ends_at, voting_hours, publicity_days).check(NOW)
    assert refused.value.status == 422
    assert message in refused.value.message


@pytest.mark.parametrize(
    ("ends_in", "voting_hours", "publicity_days"),
    [(timedelta(minutes=1), MIN_VOTING_HOURS, 1), (MAX_DELIBERATION_LEAD, MAX_VOTING_HOURS, 30)],
)
def test_a_schedule_at_its_bounds_is_accepted(ends_in, voting_hours, publicity_days):
    Schedule(NOW + ends_in, voting_hours, publicity_days).check(NOW)


@pytest.mark.parametrize(
    ("step", "ends_in", "taken"),
    [
        (Step.PUBLICITY, timedelta(seconds=1), True),
        (Step.PUBLICITY, timedelta(0), False),  # held past its end for an unanswered objection
        (Step.PUBLICITY, -timedelta(days=1), False),
        (Step.VOTING, timedelta(days=1), False),
        (Step.IMPLEMENTATION, timedelta(days=1), False),
    ],
)
def test_objections_are_taken_only_while_the_publicity_period_runs(step, ends_in, taken):
    assert objections_open(step, NOW, NOW + ends_in) is taken
    assert objections_open(step, NOW, None) is False


def test_a_step_that_forbids_the_action_is_a_conflict_naming_the_step():
    with pytest.raises(TopicRefused) as refused:
        require_step(Step.VOTING, Step.DELIBERATION)
    assert refused.value.status == 409
    assert "表决决议" in refused.value.message


def test_the_ballot_closes_after_its_window():
    assert voting_closes_at(NOW, 48) == NOW + timedelta(hours=48)


def test_a_ballot_runs_its_whole_window_unless_everyone_on_the_roll_has_voted():
    closes = NOW + timedelta(hours=1)
    assert not may_close_ballot(NOW, closes, voted_households=9, roll_households=10)
    assert may_close_ballot(NOW, closes, voted_households=10, roll_households=10)
    assert may_close_ballot(closes, closes, voted_households=0, roll_households=10)
    # An empty roll never counts as "everyone voted".
    assert not may_close_ballot(NOW, closes, voted_households=0, roll_households=0)


@pytest.mark.parametrize(
    ("before_close", "already_sent", "due"),
    [
        (timedelta(hours=30), 0, 0),
        (timedelta(hours=24), 0, 1),
        (timedelta(hours=3), 1, 1),
        (timedelta(hours=2), 1, 2),
        # A sweep that first runs 1 h before close owes only the last reminder (the count jumps to 2).
        (timedelta(hours=1), 0, 2),
        (timedelta(hours=1), 2, 2),
    ],
)
def test_voting_reminders_due(before_close, already_sent, due):
    closes = NOW + before_close
    assert due_voting_reminders(NOW, closes, already_sent) == due


@given(st.integers(min_value=-3 * 3600, max_value=4 * 3600))
def test_check_in_is_open_from_an_hour_before_to_two_hours_after_the_start(offset_seconds):
    starts = NOW
    now = starts + timedelta(seconds=offset_seconds)
    expected = -CHECKIN_OPENS_BEFORE <= timedelta(seconds=offset_seconds) <= CHECKIN_CLOSES_AFTER
    assert checkin_open(now, starts) is expected


@pytest.mark.parametrize(
    ("before_start", "already_sent", "due"),
    [
        (timedelta(days=2), 0, 0),
        (timedelta(days=1), 0, 1),
        (timedelta(hours=2), 1, 1),
        (timedelta(hours=1), 1, 2),
        (timedelta(minutes=30), 0, 2),
        (timedelta(0), 0, 0),
        (-timedelta(minutes=5), 1, 1),
    ],
)
def test_meeting_reminders_due(before_start, already_sent, due):
    assert due_meeting_reminders(NOW, NOW + before_start, already_sent) == due


def test_a_passed_decision_is_carried_out_and_a_failed_one_ends():
    assert step_after_publicity(True) is Step.IMPLEMENTATION
    assert step_after_publicity(False) is Step.DONE
