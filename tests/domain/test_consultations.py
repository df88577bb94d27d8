"""The deliberation rules that need no database: deadlines, early close, reminders, check-in window, what a person
may do with a topic, the household they act for, which of their households 我的表决 lists, the labels."""

from __future__ import annotations

import itertools
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
    NEEDS,
    STEP_LABELS,
    STEP_NUMBER,
    Schedule,
    Standing,
    Step,
    TopicAction,
    TopicRefused,
    acting_household,
    allowed_actions,
    checkin_open,
    choice_shown,
    due_meeting_reminders,
    due_voting_reminders,
    in_my_ballots,
    may_close_ballot,
    objections_open,
    require_step,
    speaker_title,
    step_after_publicity,
    voting_closes_at,
    window_label,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role

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


# ---- what a person may do with a topic ---------------------------------------------------------------------------

# Each action in a step where it can be taken.
STEP_OF = {
    TopicAction.COSIGN: Step.PROPOSED,
    TopicAction.ADD_PHOTO: Step.PROPOSED,
    TopicAction.REVIEW: Step.REVIEW,
    TopicAction.COMMENT: Step.DELIBERATION,
    TopicAction.HIDE_COMMENT: Step.DELIBERATION,
    TopicAction.FOLLOW: Step.DELIBERATION,
    TopicAction.SET_OPTIONS: Step.DELIBERATION,
    TopicAction.OPEN_BALLOT: Step.DELIBERATION,
    TopicAction.VOTE: Step.VOTING,
    TopicAction.RECORD_PAPER_VOTE: Step.VOTING,
    TopicAction.CLOSE_BALLOT: Step.VOTING,
    TopicAction.FILE_OBJECTION: Step.PUBLICITY,
    TopicAction.ANSWER_OBJECTION: Step.PUBLICITY,
    TopicAction.POST_PROGRESS: Step.IMPLEMENTATION,
    TopicAction.RATE: Step.IMPLEMENTATION,
}


def standing(step: Step, **changes) -> Standing:
    """Everything in favour: every permission, a household of each kind, a ballot and a publicity still running."""
    facts = dict(
        step=step, now=NOW, ballot_closes_at=NOW + timedelta(hours=1), publicity_ends_at=NOW + timedelta(days=1),
        permitted=frozenset(Action), signed_in=True, proposer=True, has_household=True, owns_household=True,
        household_to_cosign=True, household_to_vote=True, following=False, options=3,
        ballot_may_close=lambda: True, visible_comments=lambda: True, unanswered_objections=lambda: True,
    )
    return Standing(**facts | changes)


def test_every_action_is_offered_in_its_step_and_needs_its_permission():
    assert set(STEP_OF) == set(TopicAction)
    for action, step in STEP_OF.items():
        assert action in allowed_actions(standing(step)), action
        if action in NEEDS:
            without = frozenset(Action) - {NEEDS[action][0]}
            assert action not in allowed_actions(standing(step, permitted=without)), action


@pytest.mark.parametrize("step", list(Step))
def test_no_step_offers_anything_to_someone_the_table_refuses_everything(step):
    assert set(allowed_actions(standing(step, permitted=frozenset(), proposer=False))) == set()


def test_voting_needs_an_open_ballot_and_a_household_on_the_roll():
    assert TopicAction.VOTE not in allowed_actions(standing(Step.VOTING, household_to_vote=False))
    closed = standing(Step.VOTING, ballot_closes_at=NOW)
    assert not {TopicAction.VOTE, TopicAction.RECORD_PAPER_VOTE} & set(allowed_actions(closed))


def test_objections_are_taken_only_while_the_publicity_runs_and_only_from_owners():
    assert TopicAction.FILE_OBJECTION not in allowed_actions(standing(Step.PUBLICITY, publicity_ends_at=NOW))
    assert TopicAction.FILE_OBJECTION not in allowed_actions(standing(Step.PUBLICITY, owns_household=False))


def test_the_costly_facts_are_asked_only_when_the_cheap_ones_hold():
    def never() -> bool:
        raise AssertionError("asked although the answer could not matter")

    costly = dict(ballot_may_close=never, visible_comments=never, unanswered_objections=never)
    for step in (Step.PROPOSED, Step.REVIEW, Step.DELIBERATION, Step.VOTING, Step.PUBLICITY):
        allowed_actions(standing(step, permitted=frozenset(), **costly))
    for step in (Step.PROPOSED, Step.DECLINED):
        allowed_actions(standing(step, **costly | {"visible_comments": lambda: False}))


def test_the_proposer_adds_photos_until_the_topic_is_accepted():
    assert TopicAction.ADD_PHOTO in allowed_actions(standing(Step.REVIEW))
    assert TopicAction.ADD_PHOTO not in allowed_actions(standing(Step.DELIBERATION))
    assert TopicAction.ADD_PHOTO not in allowed_actions(standing(Step.PROPOSED, proposer=False))


def test_a_person_acts_for_the_household_they_chose_or_their_only_one():
    assert acting_household(7, ()) == 7
    assert acting_household(None, (3,)) == 3
    with pytest.raises(TopicRefused) as none:
        acting_household(None, ())
    assert none.value.kind is Kind.FORBIDDEN
    with pytest.raises(TopicRefused) as several:
        acting_household(None, (3, 4))
    assert several.value.kind is Kind.INVALID and several.value.errors == {"household_id": ["请选择以哪一户的名义"]}


@pytest.mark.parametrize(("may_vote", "on_roll", "voted"), list(itertools.product((True, False), repeat=3)))
def test_my_ballots_list_a_household_i_may_vote_for_one_on_the_roll_or_one_that_voted(may_vote, on_roll, voted):
    assert in_my_ballots(may_vote, on_roll, voted) is (may_vote or on_roll or voted)
    assert choice_shown(may_vote) is may_vote


def test_labels():
    assert speaker_title({Role.COMMITTEE, Role.PARTY_SECRETARY}) == "党组织书记"
    assert speaker_title({Role.OWNER}) == "居民"
    assert (window_label(72), window_label(36), window_label(None)) == ("3天", "36小时", "")
