"""Satisfaction surveys (满意度测评): the default questionnaire, a campaign's state from its times, what a person
may do with it (the presenter's one source of buttons), and the order comments are shown in."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.domain.rating import (
    ANSWER_LABELS,
    DEFAULT_DIMENSIONS,
    DEFAULT_MIN_HOUSEHOLDS,
    DEFAULT_MIN_RESPONSE_BP,
    QuestionKind,
    sample_sufficient,
)
from backend.domain.refusals import Kind, Refused

COMMENT_QUESTION = "其他意见和建议"
# A campaign's own questions beyond the template, and a choice question's options.
MAX_EXTRA_QUESTIONS = 10
MIN_OPTIONS, MAX_OPTIONS = 2, 10
# The answer buttons in the order a resident reads them, best first; 不了解 last.
ANSWER_ORDER = (5, 4, 3, 2, 1, 0)
INSUFFICIENT_LABEL = "样本不足"
# The city's sample rule is a floor: a campaign may ask for more, never less, or one household's sheet would
# reach the company as a compound's figures.
MIN_RESPONSE_BP_FLOOR, MAX_RESPONSE_BP = DEFAULT_MIN_RESPONSE_BP, 10000
MIN_HOUSEHOLDS_FLOOR = DEFAULT_MIN_HOUSEHOLDS
# A campaign's times fall in these years (and convert to UTC without leaving the calendar).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class SurveyRefused(Refused):
    pass


class SurveyState(enum.StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


STATE_LABELS = {SurveyState.UPCOMING: "未开始", SurveyState.OPEN: "进行中", SurveyState.CLOSED: "已结束"}


class SurveyAction(enum.StrEnum):
    """What a survey's screens offer; the API names them in `actions`, the pages in `data-action`."""

    ANSWER = "answer"
    CHANGE_ANSWER = "change_answer"
    ENTER_PAPER = "enter_paper"
    CLOSE = "close"
    EDIT_QUESTIONS = "edit_questions"
    APPOINT_EVALUATOR = "appoint_evaluator"
    VIEW_RESULTS = "view_results"


@dataclass(frozen=True)
class QuestionDraft:
    kind: QuestionKind
    text: str
    options: tuple[str, ...] = ()
    required: bool = True


def default_questions() -> list[QuestionDraft]:
    """The city's template: the six dimensions, each 很满意 … 不了解, then one optional comment."""
    return [QuestionDraft(QuestionKind.DIMENSION, text) for text in DEFAULT_DIMENSIONS] + [
        QuestionDraft(QuestionKind.TEXT, COMMENT_QUESTION, required=False)
    ]


def answer_choices() -> list[tuple[int, str]]:
    return [(value, ANSWER_LABELS[value]) for value in ANSWER_ORDER]


def state_at(now: datetime, opens_at: datetime, closes_at: datetime, closed_at: datetime | None) -> SurveyState:
    """Closed once closed by hand or past its close time (the job writes closed_at soon after)."""
    if closed_at is not None or now >= closes_at:
        return SurveyState.CLOSED
    return SurveyState.OPEN if now >= opens_at else SurveyState.UPCOMING


def allowed_actions(
    *,
    state: SurveyState,
    frozen: bool,
    tallied: bool,
    runs: bool,
    appoints: bool,
    evaluator: bool,
    may_answer: bool,
    answered: bool,
    sees_results: bool,
) -> frozenset[SurveyAction]:
    """`runs`: the campaign's creator side; `appoints`: an official over it; `may_answer`: one of my households
    may answer; `sees_results`: some compound's results are mine to see. Questions change only before the first
    answer; answers and paper sheets only while open; results once closed and tallied."""
    actions: set[SurveyAction] = set()
    if state is SurveyState.OPEN:
        if may_answer:
            actions.add(SurveyAction.CHANGE_ANSWER if answered else SurveyAction.ANSWER)
        if evaluator:
            actions.add(SurveyAction.ENTER_PAPER)
    if state is not SurveyState.CLOSED:
        if runs:
            actions.add(SurveyAction.CLOSE)
            if not frozen:
                actions.add(SurveyAction.EDIT_QUESTIONS)
        if appoints:
            actions.add(SurveyAction.APPOINT_EVALUATOR)
    if state is SurveyState.CLOSED and tallied and sees_results:
        actions.add(SurveyAction.VIEW_RESULTS)
    return frozenset(actions)


def ordered_comments(texts: Iterable[str]) -> list[str]:
    """Comments as the company reads them: non-empty, in the order of their text, so that neither the order of
    the sheets nor their times can point back to a household."""
    return sorted(text.strip() for text in texts if text.strip())


def check_answer(kind: QuestionKind, options: Sequence[str], value: int | None, text: str = "") -> None:
    """A dimension takes 0–5, a choice one of its options' indexes, neither any text (it would be stored beside
    the score); a text question text only (value None)."""
    if kind is QuestionKind.DIMENSION:
        if type(value) is not int or value not in ANSWER_LABELS:
            raise SurveyRefused("请选择满意程度", Kind.INVALID)
    elif kind is QuestionKind.CHOICE:
        if type(value) is not int or not 0 <= value < len(options):
            raise SurveyRefused("请选择一个选项", Kind.INVALID)
    elif value is not None:
        raise SurveyRefused("文字题请填写文字", Kind.INVALID)
    if kind is not QuestionKind.TEXT and text.strip():
        raise SurveyRefused("只有文字题可以填写文字", Kind.INVALID)


def compound_sufficient(answered: int, households: int, min_response_bp: int, min_households: int) -> bool:
    """The campaign's sample rule, never met by a compound without a single sheet whatever the rule says."""
    return answered > 0 and sample_sufficient(answered, households, min_response_bp, min_households)


def answers_shown(may_answer: bool) -> bool:
    """A household's answers are shown to those who may answer for it: in an owners-only campaign its tenant
    learns that the household answered and when, never what (the owner's sheet is secret from them too)."""
    return may_answer


def reminder_key(survey_id: int) -> str:
    """The one reminder a day before the close, to the people of the households with no sheet yet."""
    return f"survey-{survey_id}-closing"


def reminder_keys(survey_id: int) -> list[str]:
    """Every notice asking a household to answer by the close: no longer true for a person once each household
    they answer for has a sheet (online or paper), nor for anyone once the campaign closed."""
    return [reminder_key(survey_id)]
