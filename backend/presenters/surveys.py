"""What the satisfaction surveys' (满意度测评) screens show, built once for the API to dump and the pages to render:
a campaign as this person sees it with the actions open to them, the compound's and my lists, my household's
receipt, and the results (only the response-rate bar while it runs; the figures, or 样本不足, once closed).

Anonymity is kept here as much as in the service: results carry counts and rates per compound, comments only as
text in the order of their text; a household appears only in its own people's receipt."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain.rating import ANSWER_LABELS, QuestionKind, figures_from_counts, response_rate_bp
from backend.domain.refusals import Kind
from backend.domain.roles import Action
from backend.domain.surveys import (
    INSUFFICIENT_LABEL,
    STATE_LABELS,
    SurveyAction,
    SurveyRefused,
    SurveyState,
    allowed_actions,
    answer_choices,
    default_questions,
)
from backend.models import Survey, SurveyQuestion
from backend.policy import authorize
from backend.services import surveys as service
from backend.services.surveys import OVERALL, Standing, household_label
from backend.shared.clock import utcnow

OVERALL_LABEL = "综合（六项合计）"
TEMPLATE_SIZE = len(default_questions())
NOT_RUNNER = "只有测评发起方可以进行此操作"


@dataclass(frozen=True)
class SurveyLine:
    id: int
    title: str
    state: SurveyState
    state_label: str
    opens_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    compounds: int
    actions: frozenset[SurveyAction]


@dataclass(frozen=True)
class SurveyList:
    items: list[SurveyLine]

    @property
    def running(self) -> list[SurveyLine]:
        return [line for line in self.items if line.state is not SurveyState.CLOSED]

    @property
    def closed(self) -> list[SurveyLine]:
        return [line for line in self.items if line.state is SurveyState.CLOSED]


@dataclass(frozen=True)
class MyHousehold:
    household_id: int
    label: str
    may_answer: bool
    answered: bool


@dataclass(frozen=True)
class SurveyDetail(SurveyLine):
    area_id: int | None
    compound_id: int | None
    frozen: bool
    owners_only: bool
    publish_comments: bool
    min_response_bp: int
    min_households: int
    questions: list[SurveyQuestion]
    answer_choices: list[dict]
    my_households: list[MyHousehold]
    evaluator_count: int

    @property
    def dimensions(self) -> list[SurveyQuestion]:
        return [question for question in self.questions if question.kind is QuestionKind.DIMENSION]

    @property
    def extra_questions(self) -> list[SurveyQuestion]:
        """The campaign's own questions, after the template's (the ones its creator may remove)."""
        return self.questions[TEMPLATE_SIZE:]


def _actions(survey: Survey, person: Standing, now: datetime, answered: bool) -> frozenset[SurveyAction]:
    """`answered`: one of the households I may answer for has a sheet."""
    return allowed_actions(
        state=service.state_of(survey, now), frozen=survey.frozen_at is not None,
        tallied=survey.tallied_at is not None and survey.closed_at is not None, runs=person.runs,
        appoints=person.appoints, evaluator=person.evaluator,
        may_answer=bool(person.answering_seats(survey.owners_only)), answered=answered,
        sees_results=bool(person.result_compound_ids),
    )


def _line(survey: Survey, person: Standing, now: datetime, actions: frozenset[SurveyAction]) -> dict:
    state = service.state_of(survey, now)
    return {
        "id": survey.id, "title": survey.title, "state": state, "state_label": STATE_LABELS[state],
        "opens_at": survey.opens_at, "closes_at": survey.closes_at, "closed_at": survey.closed_at,
        "compounds": person.compounds, "actions": actions,
    }


def seen(survey_id: int, user_id: int | None) -> tuple[Survey, Standing]:
    return service.seen(survey_id, user_id)


def survey_detail(survey_id: int, user_id: int | None) -> SurveyDetail:
    survey, person = seen(survey_id, user_id)
    now = utcnow()
    answered = service.answered_household_ids(survey.id, person.household_ids)
    allowed = {seat.household_id for seat in person.answering_seats(survey.owners_only)}
    return SurveyDetail(
        **_line(survey, person, now, _actions(survey, person, now, bool(answered & allowed))),
        area_id=survey.area_id, compound_id=survey.compound_id, frozen=survey.frozen_at is not None,
        owners_only=survey.owners_only, publish_comments=survey.publish_comments,
        min_response_bp=survey.min_response_bp, min_households=survey.min_households,
        questions=list(survey.questions),
        answer_choices=[{"value": value, "label": label} for value, label in answer_choices()],
        my_households=[
            MyHousehold(household.id, household_label(household), household.id in allowed, household.id in answered)
            for household in service.households_of(person.household_ids)
        ],
        evaluator_count=len(service.evaluators_of(survey.id)) if person.runs or person.appoints else 0,
    )


def _lines(surveys: list[Survey], user_id: int | None, now: datetime, keep=lambda survey, person: True
           ) -> list[SurveyLine]:
    """The campaigns as this person sees them, in a fixed number of queries however many there are."""
    people = service.standings(surveys, user_id)
    households = {seat.household_id for person in people.values() for seat in person.seats}
    answered = service.answered_pairs([survey.id for survey in surveys], sorted(households))
    lines = []
    for survey in surveys:
        person = people[survey.id]
        if not keep(survey, person):
            continue
        mine = any((survey.id, seat.household_id) in answered for seat in person.answering_seats(survey.owners_only))
        lines.append(SurveyLine(**_line(survey, person, now, _actions(survey, person, now, mine))))
    return lines


def compound_surveys(compound_id: int, user_id: int | None, entry_compound_id: int | None) -> SurveyList:
    """The compound's campaigns as this person sees them: running ones (upcoming ones only to those who run
    them) and closed ones with their results."""
    authorize(Action.VIEW_COMPOUND, compound_id, user_id, entry_compound_id)
    now = utcnow()

    def shown(survey: Survey, person: Standing) -> bool:
        state = service.state_of(survey, now)
        if state is SurveyState.UPCOMING:
            return person.runs
        return state is SurveyState.OPEN or survey.tallied_at is not None

    return SurveyList(items=_lines(service.compound_surveys(compound_id), user_id, now, shown))


def my_surveys(user_id: int) -> SurveyList:
    """A surveyor's assigned campaigns; an official's of their areas; a committee's of its compound."""
    return SurveyList(items=_lines(service.my_surveys(user_id), user_id, utcnow()))


def require(survey_id: int, user_id: int | None, *, runs: bool = False, appoints: bool = False) -> Survey:
    """403 for anyone known to the campaign who is not on its creator's side (or, to appoint, an official)."""
    survey, person = seen(survey_id, user_id)
    if (runs and not person.runs) or (appoints and not person.appoints):
        raise SurveyRefused(NOT_RUNNER, Kind.FORBIDDEN)
    return survey


# ---- my receipt ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptAnswer:
    question_id: int
    question: str
    value: int | None
    label: str
    text: str


@dataclass(frozen=True)
class Receipt:
    survey_id: int
    survey_title: str
    household_id: int
    household_label: str
    revision: int
    paper: bool
    submitted_at: datetime
    updated_at: datetime
    answers_shown: bool
    answers: list[ReceiptAnswer]
    may_change: bool


def receipt(survey_id: int, user_id: int | None, household_id: int | None = None) -> Receipt:
    """My household's sheet: 404 for anyone but the household's own verified people; its answers only for those
    who may answer for it."""
    return receipt_of(survey_id, service.receipt(survey_id, user_id, household_id))


def receipt_of(survey_id: int, found: service.Receipt) -> Receipt:
    """A receipt as the service found or wrote it."""
    survey = service.get_survey(survey_id)
    answers = []
    for question in survey.questions:
        answer = found.answers.get(question.id)
        if answer is None:
            continue
        if question.kind is QuestionKind.DIMENSION:
            label = ANSWER_LABELS[answer.value]
        elif question.kind is QuestionKind.CHOICE:
            label = question.options[answer.value]
        else:
            label = answer.text
        answers.append(ReceiptAnswer(question.id, question.text, answer.value, label, answer.text))
    return Receipt(
        survey_id=survey.id, survey_title=survey.title, household_id=found.response.household_id,
        household_label=found.household_label, revision=found.response.revision,
        paper=found.response.paper, submitted_at=found.response.submitted_at,
        updated_at=found.response.updated_at, answers_shown=found.answers_shown, answers=answers,
        may_change=found.answers_shown and service.state_of(survey) is SurveyState.OPEN,
    )


def previous_answers(survey: SurveyDetail, user_id: int) -> dict[str, str]:
    """My household's sheet as the answer form's values (q<question id>), to change it without starting over:
    where I answer for one household only."""
    mine = [household for household in survey.my_households if household.may_answer]
    if len(mine) != 1 or not mine[0].answered:
        return {}
    found = receipt(survey.id, user_id, mine[0].household_id)
    return {f"q{answer.question_id}": answer.text if answer.value is None else str(answer.value)
            for answer in found.answers}


# ---- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    subject: str
    label: str
    valid: int
    satisfied: int
    rate_bp: int
    score_centi: int
    counts: list[int]


@dataclass(frozen=True)
class CompoundResult:
    compound_id: int
    compound_name: str
    households: int
    answered: int
    response_rate_bp: int
    needed: int
    sufficient: bool
    sample_label: str | None
    figures: list[Figure]
    overall: Figure | None
    comments: list[str] | None


@dataclass(frozen=True)
class CampaignFigures:
    households: int
    answered: int
    response_rate_bp: int
    figures: list[Figure]
    overall: Figure | None


@dataclass(frozen=True)
class Results:
    survey_id: int
    title: str
    state: SurveyState
    published: bool
    min_response_bp: int
    min_households: int
    compounds: list[CompoundResult]
    campaign: CampaignFigures | None

    @property
    def chart(self) -> list[dict]:
        """Per compound with figures: the dimensions' labels, satisfaction rates (%) and scores, for ECharts."""
        return [
            {"id": result.compound_id, "name": result.compound_name,
             "labels": [figure.label for figure in result.figures],
             "rates": [figure.rate_bp / 100 for figure in result.figures],
             "scores": [figure.score_centi / 100 for figure in result.figures]}
            for result in self.compounds if result.figures
        ]


def needed_answers(households: int, min_response_bp: int, min_households: int) -> int:
    return max(min_households, -(-households * min_response_bp // 10000))


def _figure(subject: str, label: str, counts: list[int]) -> Figure:
    figures = figures_from_counts(dict(enumerate(counts)))
    return Figure(subject, label, figures.valid, figures.satisfied, figures.rate_bp, figures.score_centi, list(counts))


def results(survey_id: int, user_id: int | None) -> Results:
    """Each compound this person may read: while the campaign runs only its response-rate bar against the
    minimum; once closed and tallied its figures per dimension and overall, or 样本不足 without figures."""
    survey, person = seen(survey_id, user_id)
    if not person.result_compound_ids:
        raise SurveyRefused("测评结果只向参评小区的居民、物业和主管部门公开", Kind.FORBIDDEN)
    state = service.state_of(survey)
    published = state is SurveyState.CLOSED and survey.closed_at is not None and survey.tallied_at is not None
    scope = [row for row in service.scope_of(survey.id) if row.compound_id in person.result_compound_ids]
    dimensions = [question for question in survey.questions if question.kind is QuestionKind.DIMENSION]
    labels = {service.subject_of(question.id): question.text for question in dimensions} | {OVERALL: OVERALL_LABEL}
    tallies: dict[tuple[int, str], object] = {}
    comments: dict[int, list[str]] = {}
    if published:
        tallies = {(row.compound_id, row.subject): row
                   for row in service.tallies_of(survey.id, [row.compound_id for row in scope])}
        readers = [row.compound_id for row in scope if row.compound_id in person.comment_compound_ids]
        if survey.publish_comments or person.runs:
            comments = service.comments_of(survey.id, readers)
    live = {} if published else service.live_answered(survey.id)
    compounds = []
    pooled: dict[str, list[int]] = {}
    for row in scope:
        overall = tallies.get((row.compound_id, OVERALL))
        answered = overall.answered if overall is not None else live.get(row.compound_id, 0)
        households = overall.households if overall is not None else row.households
        sufficient = overall is not None and overall.sufficient
        figures = []
        if sufficient:
            for subject in labels:
                tally = tallies.get((row.compound_id, subject))
                if tally is not None:
                    figures.append(_figure(subject, labels[subject], tally.counts))
                    pooled[subject] = [a + b for a, b in zip(pooled.get(subject, [0] * 6), tally.counts, strict=True)]
        compounds.append(CompoundResult(
            compound_id=row.compound_id, compound_name=row.compound_name, households=households,
            answered=answered, response_rate_bp=response_rate_bp(answered, households),
            needed=needed_answers(households, survey.min_response_bp, survey.min_households),
            sufficient=sufficient, sample_label=INSUFFICIENT_LABEL if published and not sufficient else None,
            figures=[figure for figure in figures if figure.subject != OVERALL],
            overall=next((figure for figure in figures if figure.subject == OVERALL), None),
            comments=comments.get(row.compound_id, []) if sufficient and row.compound_id in comments else None,
        ))
    campaign = None
    if person.sees_all:
        households = sum(result.households for result in compounds)
        answered = sum(result.answered for result in compounds)
        figures = [_figure(subject, labels[subject], counts) for subject, counts in pooled.items()]
        campaign = CampaignFigures(
            households=households, answered=answered, response_rate_bp=response_rate_bp(answered, households),
            figures=[figure for figure in figures if figure.subject != OVERALL],
            overall=next((figure for figure in figures if figure.subject == OVERALL), None),
        )
    return Results(
        survey_id=survey.id, title=survey.title, state=state, published=published,
        min_response_bp=survey.min_response_bp, min_households=survey.min_households, compounds=compounds,
        campaign=campaign,
    )


# ---- forms -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignChoices:
    """Where this person may start a campaign: areas they hold as an official, compounds they run."""

    areas: list[tuple[int, str]]
    compounds: list[tuple[int, str]]


def campaign_choices(user_id: int) -> CampaignChoices:
    areas, compounds = service.campaign_places(user_id)
    return CampaignChoices(areas=areas, compounds=compounds)


@dataclass(frozen=True)
class PaperForm:
    survey: SurveyDetail
    buildings: list[tuple[int, str, str]]


def paper_form(survey_id: int, user_id: int) -> PaperForm:
    detail = survey_detail(survey_id, user_id)
    if SurveyAction.ENTER_PAPER not in detail.actions:
        raise SurveyRefused("只有受托的测评员在测评期间可以录入纸质问卷", Kind.FORBIDDEN)
    return PaperForm(survey=detail, buildings=service.buildings_in_scope(survey_id))


def has_survey_work(user_id: int) -> bool:
    areas, compounds = service.campaign_places(user_id)
    return bool(areas or compounds) or service.is_evaluator(user_id)


def open_count(compound_id: int) -> int:
    return service.open_survey_count(compound_id)
