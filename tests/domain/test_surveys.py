"""The survey rules without a database: the template, the state from the times, what a person may do when, the
order comments are shown in, and what an answer may be."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.rating import (
    DEFAULT_DIMENSIONS,
    DEFAULT_MIN_HOUSEHOLDS,
    DEFAULT_MIN_RESPONSE_BP,
    QuestionKind,
)
from backend.domain.surveys import (
    MIN_HOUSEHOLDS_FLOOR,
    MIN_RESPONSE_BP_FLOOR,
    SurveyAction,
    SurveyRefused,
    SurveyState,
    allowed_actions,
    answer_choices,
    answers_shown,
    check_answer,
    compound_sufficient,
    default_questions,
    ordered_comments,
    state_at,
)

OPENS = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=7)
NOBODY = dict(runs=False, appoints=False, evaluator=False, may_answer=False, answered=False, sees_results=False)


def test_the_template_is_the_six_dimensions_then_an_optional_comment():
    questions = default_questions()
    assert [(q.kind, q.text, q.required) for q in questions] == [
        *((QuestionKind.DIMENSION, text, True) for text in DEFAULT_DIMENSIONS),
        (QuestionKind.TEXT, "其他意见和建议", False)]
    assert [label for _, label in answer_choices()] == ["很满意", "满意", "一般", "不满意", "很不满意", "不了解"]


@pytest.mark.parametrize(("now", "closed_at", "state"), [
    (OPENS - timedelta(seconds=1), None, SurveyState.UPCOMING),
    (OPENS, None, SurveyState.OPEN),
    (CLOSES - timedelta(seconds=1), None, SurveyState.OPEN),
    (CLOSES, None, SurveyState.CLOSED),
    (OPENS + timedelta(days=1), OPENS + timedelta(hours=1), SurveyState.CLOSED),
])
def test_the_state_follows_the_times_and_an_early_close(now, closed_at, state):
    assert state_at(now, OPENS, CLOSES, closed_at) is state


def actions(state: SurveyState, frozen: bool = False, tallied: bool = False, **who) -> set[SurveyAction]:
    return set(allowed_actions(state=state, frozen=frozen, tallied=tallied, **(NOBODY | who)))


def test_a_household_answers_then_changes_its_answer_only_while_open():
    assert actions(SurveyState.UPCOMING, may_answer=True) == set()
    assert actions(SurveyState.OPEN, may_answer=True) == {SurveyAction.ANSWER}
    assert actions(SurveyState.OPEN, may_answer=True, answered=True) == {SurveyAction.CHANGE_ANSWER}
    assert actions(SurveyState.CLOSED, may_answer=True, answered=True) == set()


def test_questions_change_only_before_the_first_answer_and_the_creator_closes_before_the_end():
    assert actions(SurveyState.UPCOMING, runs=True) == {SurveyAction.CLOSE, SurveyAction.EDIT_QUESTIONS}
    assert actions(SurveyState.OPEN, frozen=True, runs=True) == {SurveyAction.CLOSE}
    assert actions(SurveyState.CLOSED, runs=True) == set()


def test_surveyors_enter_paper_while_open_and_officials_appoint_them_until_the_close():
    assert actions(SurveyState.OPEN, evaluator=True) == {SurveyAction.ENTER_PAPER}
    assert actions(SurveyState.UPCOMING, evaluator=True) == set()
    assert actions(SurveyState.UPCOMING, appoints=True) == {SurveyAction.APPOINT_EVALUATOR}
    assert actions(SurveyState.CLOSED, appoints=True) == set()


def test_results_once_closed_and_tallied_for_those_who_may_read_some():
    assert actions(SurveyState.OPEN, sees_results=True) == set()
    assert actions(SurveyState.CLOSED, sees_results=True) == set()
    assert actions(SurveyState.CLOSED, tallied=True, sees_results=True) == {SurveyAction.VIEW_RESULTS}
    assert actions(SurveyState.CLOSED, tallied=True, evaluator=True) == set()


def test_comments_are_shown_in_the_order_of_their_text_never_of_their_arrival():
    assert ordered_comments(["保洁好", "  ", "电梯坏了", " 保安负责 ", ""]) == sorted(["保洁好", "电梯坏了", "保安负责"])
    assert ordered_comments(["b", "a"]) == ordered_comments(["a", "b"])


@pytest.mark.parametrize(("kind", "options", "value", "ok"), [
    (QuestionKind.DIMENSION, (), 0, True), (QuestionKind.DIMENSION, (), 5, True),
    (QuestionKind.DIMENSION, (), 6, False), (QuestionKind.DIMENSION, (), -1, False),
    (QuestionKind.DIMENSION, (), True, False), (QuestionKind.DIMENSION, (), None, False),
    (QuestionKind.CHOICE, ("愿意", "不愿意"), 1, True), (QuestionKind.CHOICE, ("愿意", "不愿意"), 2, False),
    (QuestionKind.TEXT, (), None, True), (QuestionKind.TEXT, (), 3, False),
])
def test_what_an_answer_may_be(kind, options, value, ok):
    if ok:
        check_answer(kind, options, value)
    else:
        with pytest.raises(SurveyRefused):
            check_answer(kind, options, value)


@pytest.mark.parametrize(("kind", "options", "value"), [
    (QuestionKind.DIMENSION, (), 5), (QuestionKind.CHOICE, ("愿意", "不愿意"), 0),
])
def test_only_a_text_question_takes_text(kind, options, value):
    check_answer(kind, options, value, "")
    check_answer(kind, options, value, "  ")
    with pytest.raises(SurveyRefused, match="只有文字题可以填写文字"):
        check_answer(kind, options, value, "文字在评分旁")
    check_answer(QuestionKind.TEXT, (), None, "意见")


def test_the_floors_are_the_city_sample_rule():
    assert (MIN_RESPONSE_BP_FLOOR, MIN_HOUSEHOLDS_FLOOR) == (DEFAULT_MIN_RESPONSE_BP, DEFAULT_MIN_HOUSEHOLDS)


@pytest.mark.parametrize(("answered", "households", "bp", "minimum", "sufficient"), [
    (0, 0, 0, 0, False), (0, 16, 0, 0, False), (1, 16, 0, 0, True),
    (9, 16, 3000, 10, False), (10, 40, 3000, 10, False), (12, 40, 3000, 10, True),
])
def test_a_compound_without_a_sheet_is_never_sufficient(answered, households, bp, minimum, sufficient):
    assert compound_sufficient(answered, households, bp, minimum) is sufficient


def test_a_receipt_shows_the_answers_only_to_those_who_may_answer():
    assert answers_shown(True) is True and answers_shown(False) is False
