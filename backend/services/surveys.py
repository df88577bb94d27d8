"""Satisfaction surveys (满意度测评): campaigns over an area or one compound, their questions (frozen by the first
answer), appointed surveyors, one sheet per household (online, or on paper with a photo; the last counts), the
close, and the tally that writes each compound's figures.

Anonymity: a sheet's household is read only for that household's own receipt; nothing else here returns a
household together with an answer. Comments leave only as text, in the order of their text."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, text, update
from sqlalchemy.orm import joinedload

from backend.domain import surveys as rules
from backend.domain.notifications import SURVEY_REMINDER
from backend.domain.rating import (
    DEFAULT_MIN_HOUSEHOLDS,
    DEFAULT_MIN_RESPONSE_BP,
    QuestionKind,
    figures_from_counts,
    sample_sufficient,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.surveys import QuestionDraft, SurveyRefused, SurveyState
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    Building,
    Compound,
    Household,
    Membership,
    Notice,
    Survey,
    SurveyAnswer,
    SurveyCompound,
    SurveyEvaluator,
    SurveyQuestion,
    SurveyResponse,
    SurveyTally,
    User,
)
from backend.policy import ancestor_area_ids
from backend.services.audit import record_audit
from backend.services.identity import phone_columns, phone_hash
from backend.services.notifications import notify
from backend.services.photos import PreparedPhoto, kept_only_on_commit, store_photo
from backend.shared.clock import SHANGHAI, utcnow

OVERALL = "overall"
REMINDER_BEFORE_HOURS = 24
# The campaign's own wording of "not yours": 404, as for any other compound's data.
NOT_FOUND = "测评不存在"
HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)
COMPANY_ROLES = (Role.MANAGER, Role.STAFF)
COMMITTEE_ROLES = (Role.COMMITTEE, Role.PARTY_SECRETARY)


# What the tally writes into a row; the rest is the row's key.
TALLIED = ("households", "answered", "counts", "valid", "satisfied", "rate_bp", "score_centi", "sufficient")


def subject_of(question_id: int) -> str:
    return f"q{question_id}"


# ---- who someone is to a campaign ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """One of my verified households in a compound of the campaign."""

    household_id: int
    compound_id: int
    role: Role


@dataclass(frozen=True)
class Standing:
    """A person's standing in one campaign: runs it (the creator's side), appoints its surveyors (an official
    over it, or an admin), surveys for it, and which compounds' results and comments are theirs to read."""

    user_id: int | None
    runs: bool = False
    appoints: bool = False
    evaluator: bool = False
    seats: tuple[Seat, ...] = ()
    result_compound_ids: frozenset[int] = frozenset()
    comment_compound_ids: frozenset[int] = frozenset()
    sees_all: bool = False
    compounds: int = 0  # in the campaign's scope

    @property
    def knows(self) -> bool:
        return self.runs or self.appoints or self.evaluator or bool(self.result_compound_ids)

    def answering_seats(self, owners_only: bool) -> tuple[Seat, ...]:
        return tuple(seat for seat in self.seats if seat.role is Role.OWNER or not owners_only)

    @property
    def household_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(seat.household_id for seat in self.seats))


@dataclass(frozen=True)
class ScopeRow:
    compound_id: int
    compound_name: str
    compound_code: str
    property_company_id: int | None
    households: int
    area_path: str


def scope_of(survey_id: int) -> list[ScopeRow]:
    return scopes_of([survey_id])[survey_id]


def scopes_of(survey_ids: Sequence[int]) -> dict[int, list[ScopeRow]]:
    """The compounds in scope of each campaign, by name."""
    scopes: dict[int, list[ScopeRow]] = {survey_id: [] for survey_id in survey_ids}
    if not survey_ids:
        return scopes
    for survey_id, *row in db.session.execute(
        select(SurveyCompound.survey_id, SurveyCompound.compound_id, Compound.name, Compound.code,
               SurveyCompound.property_company_id, SurveyCompound.households, Area.path)
        .join(Compound, Compound.id == SurveyCompound.compound_id)
        .join(Area, Area.id == Compound.area_id)
        .where(SurveyCompound.survey_id.in_(survey_ids))
        .order_by(Compound.name, Compound.id)
    ).all():
        scopes[survey_id].append(ScopeRow(*row))
    return scopes


def standing(survey: Survey, user_id: int | None) -> Standing:
    return standings([survey], user_id)[survey.id]


def standings(surveys: Sequence[Survey], user_id: int | None) -> dict[int, Standing]:
    """Each campaign's standing of this person, in a fixed number of queries however many campaigns."""
    scopes = scopes_of([survey.id for survey in surveys])
    if user_id is None:
        return {survey.id: Standing(user_id=None, compounds=len(scopes[survey.id])) for survey in surveys}
    memberships = db.session.execute(
        select(Membership.role, Membership.compound_id, Membership.area_id, Membership.household_id,
               Membership.verified_at).where(Membership.user_id == user_id)
    ).all()
    area_ids = [survey.area_id for survey in surveys if survey.area_id is not None]
    area_paths = dict(db.session.execute(select(Area.id, Area.path).where(Area.id.in_(area_ids))).all()) \
        if area_ids else {}
    company_compounds = [row.compound_id for row in memberships if row.role in COMPANY_ROLES]
    companies = set(db.session.scalars(
        select(Compound.property_company_id).where(Compound.id.in_(company_compounds),
                                                   Compound.property_company_id.is_not(None))
    )) if company_compounds else set()
    evaluating = set(db.session.scalars(select(SurveyEvaluator.survey_id).where(
        SurveyEvaluator.user_id == user_id, SurveyEvaluator.survey_id.in_([survey.id for survey in surveys]))))
    return {
        survey.id: _standing(survey, user_id, scopes[survey.id], memberships, companies, survey.id in evaluating,
                             area_paths.get(survey.area_id) if survey.area_id is not None
                             else next((row.area_path for row in scopes[survey.id]), "/"))
        for survey in surveys
    }


def _standing(survey: Survey, user_id: int, scope: Sequence[ScopeRow], memberships, companies: set[int],
              evaluator: bool, area_path: str) -> Standing:
    in_scope = {row.compound_id for row in scope}
    admin = any(row.role is Role.ADMIN for row in memberships)
    official_areas = {row.area_id for row in memberships if row.role is Role.OFFICIAL}
    official_over = admin or bool(official_areas & set(ancestor_area_ids(area_path)))
    committee_here = survey.compound_id is not None and any(
        row.role in COMMITTEE_ROLES and row.compound_id == survey.compound_id for row in memberships)
    runs = official_over or committee_here
    seats = tuple(
        Seat(row.household_id, row.compound_id, row.role) for row in memberships
        if row.role in HOUSEHOLD_ROLES and row.verified_at is not None and row.compound_id in in_scope
    )
    # An official of an area below the campaign's (a street in a district's campaign) reads the compounds below.
    below = {row.compound_id for row in scope
             if any(f"/{area_id}/" in row.area_path for area_id in official_areas)}
    company = {row.compound_id for row in scope if row.property_company_id in companies}
    committee = {row.compound_id for row in memberships if row.role in COMMITTEE_ROLES} & in_scope
    results = in_scope if runs else below | company | committee | {seat.compound_id for seat in seats}
    return Standing(
        user_id=user_id, runs=runs, appoints=official_over, evaluator=evaluator, seats=seats,
        result_compound_ids=frozenset(results),
        comment_compound_ids=frozenset(in_scope if runs else (company | below)),
        sees_all=runs, compounds=len(scope),
    )


def get_survey(survey_id: int) -> Survey | None:
    return db.session.scalar(select(Survey).options(joinedload(Survey.questions)).where(Survey.id == survey_id))


def seen(survey_id: int, user_id: int | None) -> tuple[Survey, Standing]:
    """The campaign and the person's standing in it; 404 for anyone with nothing to do with it."""
    survey = get_survey(survey_id)
    if survey is None:
        raise SurveyRefused(NOT_FOUND, Kind.NOT_FOUND)
    person = standing(survey, user_id)
    if not person.knows:
        raise SurveyRefused(NOT_FOUND, Kind.NOT_FOUND)
    return survey, person


def state_of(survey: Survey, now: datetime | None = None) -> SurveyState:
    return rules.state_at(now or utcnow(), survey.opens_at, survey.closes_at, survey.closed_at)


# ---- creating and editing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignDraft:
    title: str
    opens_at: datetime
    closes_at: datetime
    area_id: int | None = None
    compound_id: int | None = None
    min_response_bp: int = DEFAULT_MIN_RESPONSE_BP
    min_households: int = DEFAULT_MIN_HOUSEHOLDS
    owners_only: bool = False
    publish_comments: bool = False
    questions: tuple[QuestionDraft, ...] = field(default_factory=tuple)


def _check_times(opens_at: datetime, closes_at: datetime) -> None:
    if closes_at <= opens_at:
        raise SurveyRefused("结束时间须晚于开始时间", Kind.INVALID, errors={"closes_at": ["结束时间须晚于开始时间"]})
    if closes_at <= utcnow():
        raise SurveyRefused("结束时间须晚于现在", Kind.INVALID, errors={"closes_at": ["结束时间须晚于现在"]})


def _scope_compounds(area_id: int | None, compound_id: int | None) -> list[tuple[int, int | None, int]]:
    """(compound, its company, its households) for every compound in scope: the compound, or every compound
    below the area."""
    query = select(Compound.id, Compound.property_company_id, func.count(Household.id)).outerjoin(
        Household, Household.compound_id == Compound.id).group_by(Compound.id, Compound.property_company_id)
    if compound_id is not None:
        query = query.where(Compound.id == compound_id)
    else:
        path = db.session.scalar(select(Area.path).where(Area.id == area_id))
        query = query.join(Area, Area.id == Compound.area_id).where(Area.path.startswith(path))
    return [tuple(row) for row in db.session.execute(query.order_by(Compound.id))]


def create_campaign(draft: CampaignDraft, actor_id: int, ip: str | None = None) -> Survey:
    """The caller is authorised for the area or the compound (the view asks policy). The template's questions
    come first, then the campaign's own."""
    _check_times(draft.opens_at, draft.closes_at)
    compounds = _scope_compounds(draft.area_id, draft.compound_id)
    if not compounds:
        raise SurveyRefused("该区域下还没有小区", Kind.INVALID)
    survey = Survey(
        title=draft.title, area_id=draft.area_id, compound_id=draft.compound_id, created_by_id=actor_id,
        opens_at=draft.opens_at, closes_at=draft.closes_at, min_response_bp=draft.min_response_bp,
        min_households=draft.min_households, owners_only=draft.owners_only,
        publish_comments=draft.publish_comments,
    )
    db.session.add(survey)
    db.session.flush()
    _write_questions(survey.id, [*rules.default_questions(), *draft.questions])
    db.session.execute(SurveyCompound.__table__.insert(), [
        {"survey_id": survey.id, "compound_id": compound, "property_company_id": company, "households": count}
        for compound, company, count in compounds
    ])
    record_audit(actor_id=actor_id, action="survey.create", target_type="survey", target_id=survey.id,
                 compound_id=draft.compound_id, after={"title": draft.title, "compounds": len(compounds)}, ip=ip)
    db.session.commit()
    return survey


def _write_questions(survey_id: int, questions: Sequence[QuestionDraft]) -> None:
    db.session.execute(SurveyQuestion.__table__.insert(), [
        {"survey_id": survey_id, "position": position, "kind": question.kind, "text": question.text,
         "options": list(question.options), "required": question.required}
        for position, question in enumerate(questions, start=1)
    ])


def _locked(survey_id: int) -> Survey:
    survey = db.session.scalar(
        select(Survey).where(Survey.id == survey_id).with_for_update().execution_options(populate_existing=True))
    if survey is None:
        raise SurveyRefused(NOT_FOUND, Kind.NOT_FOUND)
    return survey


def edit_campaign(survey_id: int, actor_id: int, *, title: str | None = None, opens_at: datetime | None = None,
                  closes_at: datetime | None = None, questions: Sequence[QuestionDraft] | None = None,
                  publish_comments: bool | None = None, ip: str | None = None) -> Survey:
    """Before the first answer only (the answer that freezes it waits for this row lock, and this waits for it).
    `questions` replaces the campaign's own questions; the template's stay."""
    survey = _locked(survey_id)
    if survey.frozen_at is not None or survey.closed_at is not None:
        raise SurveyRefused("已有住户作答，问卷不能再修改", Kind.CONFLICT)
    if title is not None:
        survey.title = title
    if publish_comments is not None:
        survey.publish_comments = publish_comments
    if opens_at is not None or closes_at is not None:
        _check_times(opens_at or survey.opens_at, closes_at or survey.closes_at)
        survey.opens_at = opens_at or survey.opens_at
        survey.closes_at = closes_at or survey.closes_at
    if questions is not None:
        db.session.execute(delete(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id))
        _write_questions(survey_id, [*rules.default_questions(), *questions])
    record_audit(actor_id=actor_id, action="survey.edit", target_type="survey", target_id=survey_id,
                 compound_id=survey.compound_id, after={"questions": questions is not None}, ip=ip)
    db.session.commit()
    db.session.expire_all()
    return survey


def extra_questions(survey: Survey) -> list[QuestionDraft]:
    """The campaign's own questions, after the template's, as drafts (to edit them as a list)."""
    template = len(rules.default_questions())
    return [QuestionDraft(question.kind, question.text, tuple(question.options), question.required)
            for question in survey.questions[template:]]


def appoint_evaluator(survey_id: int, actor_id: int, phone: str, name: str = "", ip: str | None = None) -> User:
    """The surveyor signs in by SMS like everyone: found by phone, or created with it now."""
    survey = _locked(survey_id)
    if state_of(survey) is SurveyState.CLOSED:
        raise SurveyRefused("测评已结束", Kind.CONFLICT)
    columns = phone_columns(phone)
    db.session.execute(
        dialect_insert(User).values(display_name=name, is_active=True, large_text=False, created_at=utcnow(),
                                    **columns)
        .on_conflict_do_nothing(index_elements=[User.phone_hash])
    )
    user = db.session.scalar(select(User).where(User.phone_hash == phone_hash(phone)))
    if not user.is_active:
        raise SurveyRefused("该账号已停用", Kind.CONFLICT)
    if name and not user.display_name:
        user.display_name = name
    db.session.execute(
        dialect_insert(SurveyEvaluator)
        .values(survey_id=survey_id, user_id=user.id, appointed_by_id=actor_id, appointed_at=utcnow())
        .on_conflict_do_nothing()
    )
    record_audit(actor_id=actor_id, action="survey.appoint_evaluator", target_type="survey", target_id=survey_id,
                 compound_id=survey.compound_id, after={"user_id": user.id}, ip=ip)
    notify([user.id], SURVEY_REMINDER, f"您已受托开展满意度测评：{survey.title}", link=link(survey),
           dedupe_key=f"survey-{survey_id}-evaluator-{user.id}")
    db.session.commit()
    return user


def is_evaluator(user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(SurveyEvaluator.user_id == user_id))))


def evaluators_of(survey_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(SurveyEvaluator, SurveyEvaluator.user_id == User.id)
        .where(SurveyEvaluator.survey_id == survey_id).order_by(SurveyEvaluator.appointed_at, User.id)))


# ---- answering -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    question_id: int
    value: int | None = None
    text: str = ""


def _checked_answers(survey: Survey, answers: Sequence[AnswerInput]) -> list[AnswerInput]:
    questions = {question.id: question for question in survey.questions}
    given: dict[int, AnswerInput] = {}
    for answer in answers:
        question = questions.get(answer.question_id)
        if question is None:
            raise SurveyRefused("没有这道题", Kind.INVALID)
        if answer.question_id in given:
            raise SurveyRefused("同一道题只能回答一次", Kind.INVALID)
        rules.check_answer(question.kind, question.options, answer.value)
        if question.kind is QuestionKind.TEXT and not answer.text.strip():
            continue
        given[answer.question_id] = answer
    missing = [question for question in survey.questions if question.required and question.id not in given]
    if missing:
        raise SurveyRefused(f"请回答：{missing[0].text}", Kind.INVALID)
    return list(given.values())


def _open_for_answers(survey_id: int, now: datetime) -> Survey:
    """The first answer freezes the questions, in its own transaction; then the row is share-locked, so that a
    close (which takes it exclusively) waits for the answers in flight and every later answer sees it closed."""
    db.session.execute(
        update(Survey).where(Survey.id == survey_id, Survey.frozen_at.is_(None), Survey.opens_at <= now)
        .values(frozen_at=now)
    )
    survey = db.session.scalar(
        select(Survey).where(Survey.id == survey_id).with_for_update(read=True)
        .execution_options(populate_existing=True))
    state = state_of(survey, now)
    if state is SurveyState.UPCOMING:
        raise SurveyRefused("测评尚未开始", Kind.CONFLICT)
    if state is SurveyState.CLOSED:
        raise SurveyRefused("测评已结束", Kind.CONFLICT)
    return survey


def answering_household(survey: Survey, person: Standing, household_id: int | None) -> int:
    """The household I answer for: the one given (mine, verified, in the campaign), or my only one. A tenant
    where only owners may answer: 403."""
    allowed = {seat.household_id for seat in person.answering_seats(survey.owners_only)}
    mine = set(person.household_ids)
    if household_id is not None and household_id not in mine:
        raise SurveyRefused(NOT_FOUND, Kind.NOT_FOUND)
    if not allowed:
        raise SurveyRefused("本次测评只由已认证的业主作答" if mine else "只有本小区已认证的业主或住户可以作答",
                            Kind.FORBIDDEN)
    if household_id is None:
        if len(allowed) > 1:
            raise SurveyRefused("请选择为哪一户作答", Kind.INVALID)
        return next(iter(allowed))
    if household_id not in allowed:
        raise SurveyRefused("本次测评只由已认证的业主作答", Kind.FORBIDDEN)
    return household_id


def submit_sheet(survey_id: int, user_id: int, household_id: int | None, answers: Sequence[AnswerInput],
                 now: datetime | None = None) -> Receipt:
    """My household's sheet, new or changed until the close; the last one counts. The receipt is of this sheet
    as written (another tap committing right after does not change it)."""
    now = now or utcnow()
    survey, person = seen(survey_id, user_id)
    household_id = answering_household(survey, person, household_id)
    checked = _checked_answers(survey, answers)
    compound_id = next(seat.compound_id for seat in person.seats if seat.household_id == household_id)
    survey = _open_for_answers(survey_id, now)
    response = _record_sheet(survey.id, compound_id, household_id, user_id, checked, now)
    written = Receipt(response=response, household_label=_label(household_id), answers={
        answer.question_id: SurveyAnswer(question_id=answer.question_id, value=answer.value, text=answer.text.strip())
        for answer in checked})
    # Detached, so the commit does not expire it.
    db.session.expunge(response)
    db.session.commit()
    return written


def enter_paper_sheet(survey_id: int, user_id: int, household_id: int, answers: Sequence[AnswerInput],
                      photo: PreparedPhoto, now: datetime | None = None, ip: str | None = None) -> SurveyResponse:
    """A surveyor's paper sheet for a household without a phone, with the photo of the paper (入户测评)."""
    now = now or utcnow()
    survey, person = seen(survey_id, user_id)
    if not person.evaluator:
        raise SurveyRefused("只有受托的测评员可以录入纸质问卷", Kind.FORBIDDEN)
    compound_id = db.session.scalar(
        select(Household.compound_id).join(
            SurveyCompound, (SurveyCompound.compound_id == Household.compound_id)
            & (SurveyCompound.survey_id == survey_id))
        .where(Household.id == household_id))
    if compound_id is None:
        raise SurveyRefused("这户不在本次测评范围内", Kind.INVALID)
    checked = _checked_answers(survey, answers)
    survey = _open_for_answers(survey_id, now)
    with kept_only_on_commit() as stored:
        key = store_photo(photo)
        stored.append(key)
        response = _record_sheet(survey.id, compound_id, household_id, user_id, checked, now, photo_key=key)
        # The audit names the sheet, never the answers.
        record_audit(actor_id=user_id, action="survey.paper_sheet", target_type="survey", target_id=survey_id,
                     compound_id=compound_id, after={"response_id": response.id}, ip=ip)
        db.session.commit()
    return response


def _record_sheet(survey_id: int, compound_id: int, household_id: int, user_id: int,
                  answers: Sequence[AnswerInput], now: datetime, photo_key: str | None = None) -> SurveyResponse:
    sheet = {"answered_by_id": user_id, "paper": photo_key is not None, "photo_key": photo_key, "updated_at": now}
    # One statement: twenty taps from one household at once leave one sheet (the unique key decides), and the
    # row lock it takes keeps each tap's answers together until its commit.
    statement = (
        dialect_insert(SurveyResponse)
        .values(survey_id=survey_id, compound_id=compound_id, household_id=household_id, revision=1,
                submitted_at=now, **sheet)
        .on_conflict_do_update(index_elements=[SurveyResponse.survey_id, SurveyResponse.household_id],
                               set_={**sheet, "revision": SurveyResponse.revision + 1})
        .returning(SurveyResponse)
    )
    response = db.session.scalars(statement, execution_options={"populate_existing": True}).one()
    db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
    if answers:
        db.session.execute(SurveyAnswer.__table__.insert(), [
            {"response_id": response.id, "question_id": answer.question_id, "survey_id": survey_id,
             "compound_id": compound_id, "value": answer.value, "text": answer.text.strip()}
            for answer in answers
        ])
    db.session.flush()
    return response


@dataclass(frozen=True)
class Receipt:
    """My household's sheet: which one, the revision that counts, and its answers (mine only)."""

    response: SurveyResponse
    household_label: str
    answers: dict[int, SurveyAnswer]


def household_label(household: Household) -> str:
    return f"{household.building.name} {household.unit}单元 {household.room}室"


def _label(household_id: int) -> str:
    return household_label(db.session.scalar(
        select(Household).options(joinedload(Household.building)).where(Household.id == household_id)))


def receipt(survey_id: int, user_id: int | None, household_id: int | None) -> Receipt:
    """404 unless the sheet is of one of my verified households."""
    survey, person = seen(survey_id, user_id)
    mine = person.household_ids
    if household_id is None:
        household_id = mine[0] if len(mine) == 1 else None
    if household_id is None or household_id not in mine:
        raise SurveyRefused("没有找到这户的答卷", Kind.NOT_FOUND)
    response = db.session.scalar(select(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.household_id == household_id))
    if response is None:
        raise SurveyRefused("这户还没有作答", Kind.NOT_FOUND)
    answers = {answer.question_id: answer for answer in db.session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id))}
    return Receipt(response=response, household_label=_label(household_id), answers=answers)


def answered_pairs(survey_ids: Sequence[int], household_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(campaign, household) for each of these households that has a sheet in each of these campaigns."""
    if not survey_ids or not household_ids:
        return set()
    return {tuple(row) for row in db.session.execute(
        select(SurveyResponse.survey_id, SurveyResponse.household_id).where(
            SurveyResponse.survey_id.in_(survey_ids), SurveyResponse.household_id.in_(household_ids)))}


def answered_household_ids(survey_id: int, household_ids: Sequence[int]) -> set[int]:
    if not household_ids:
        return set()
    return set(db.session.scalars(select(SurveyResponse.household_id).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.household_id.in_(household_ids))))


def households_of(household_ids: Sequence[int]) -> list[Household]:
    if not household_ids:
        return []
    return list(db.session.scalars(
        select(Household).options(joinedload(Household.building)).where(Household.id.in_(household_ids))
        .order_by(Household.id)))


def find_household(survey_id: int, building_id: int, unit: str, room: str) -> int:
    """The household a paper sheet names by its address, in a compound of the campaign."""
    household_id = db.session.scalar(
        select(Household.id).join(SurveyCompound, (SurveyCompound.compound_id == Household.compound_id)
                                  & (SurveyCompound.survey_id == survey_id))
        .where(Household.building_id == building_id, Household.unit == unit.strip(),
               Household.room == room.strip()))
    if household_id is None:
        raise SurveyRefused("找不到该房屋，请核对楼栋、单元和房号", Kind.INVALID)
    return household_id


def buildings_in_scope(survey_id: int) -> list[tuple[int, str, str]]:
    """(building id, compound name, building name) for the paper form's choice."""
    return [tuple(row) for row in db.session.execute(
        select(Building.id, Compound.name, Building.name)
        .join(Compound, Compound.id == Building.compound_id)
        .join(SurveyCompound, (SurveyCompound.compound_id == Compound.id) & (SurveyCompound.survey_id == survey_id))
        .order_by(Compound.name, Building.id))]


# ---- closing and the tally ---------------------------------------------------------------------------------


def close(survey_id: int, actor_id: int | None, now: datetime | None = None, ip: str | None = None) -> bool:
    """Close once (early by its creator's side, or by the job at closes_at), then tally. False when it was
    already closed: the second close changes nothing."""
    now = now or utcnow()
    closed = db.session.execute(
        update(Survey).where(Survey.id == survey_id, Survey.closed_at.is_(None))
        .values(closed_at=now, closed_by_id=actor_id)
    ).rowcount
    if not closed:
        db.session.rollback()
        return False
    survey = db.session.get(Survey, survey_id, populate_existing=True)
    if survey.opens_at > now:
        db.session.rollback()
        raise SurveyRefused("测评尚未开始，不能结束", Kind.CONFLICT)
    record_audit(actor_id=actor_id, action="survey.close", target_type="survey", target_id=survey_id,
                 compound_id=survey.compound_id, ip=ip)
    tally(survey_id, now, commit=False)
    db.session.commit()
    return True


def tally(survey_id: int, now: datetime | None = None, commit: bool = True) -> int:
    """Each compound's figures, per question and all dimensions pooled (`overall`), from ONE GROUP BY over the
    answers (compound, question, value); the rows that changed are written by upsert on (survey,
    compound, subject), so a rerun over the same sheets leaves the same rows with the same ids. Returns how many
    rows it wrote."""
    survey = db.session.get(Survey, survey_id)
    questions = list(db.session.scalars(
        select(SurveyQuestion).where(SurveyQuestion.survey_id == survey_id,
                                     SurveyQuestion.kind != QuestionKind.TEXT).order_by(SurveyQuestion.position)))
    scope = db.session.execute(select(SurveyCompound.compound_id, SurveyCompound.households).where(
        SurveyCompound.survey_id == survey_id)).all()
    counts: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for compound_id, question_id, value, count in db.session.execute(
        select(SurveyAnswer.compound_id, SurveyAnswer.question_id, SurveyAnswer.value, func.count())
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.value.is_not(None))
        .group_by(SurveyAnswer.compound_id, SurveyAnswer.question_id, SurveyAnswer.value)
    ).all():
        counts[(compound_id, question_id)][value] = count
    # Every sheet answers every required question (checked on submit; the first answer froze the questions), so
    # a compound's sheets are the answers to its first required dimension: no second scan for them.
    first = next(question.id for question in questions
                 if question.kind is QuestionKind.DIMENSION and question.required)
    answered = {compound_id: sum(found.values()) for (compound_id, question_id), found in counts.items()
                if question_id == first}
    rows = []
    for compound_id, households in scope:
        sheets = answered.get(compound_id, 0)
        common = {"survey_id": survey_id, "compound_id": compound_id, "households": households, "answered": sheets,
                  "sufficient": sample_sufficient(sheets, households, survey.min_response_bp,
                                                  survey.min_households)}
        pooled: dict[int, int] = defaultdict(int)
        for question in questions:
            found = counts.get((compound_id, question.id), {})
            if question.kind is QuestionKind.DIMENSION:
                for value, count in found.items():
                    pooled[value] += count
                rows.append(common | _figures(subject_of(question.id), found, 6))
            else:
                rows.append(common | _choice_counts(subject_of(question.id), found, len(question.options)))
        rows.append(common | _figures(OVERALL, pooled, 6))
    written = _changed(survey_id, rows)
    if written:
        _upsert_tallies(written)
    survey.tallied_at = now or utcnow()
    if commit:
        db.session.commit()
    return len(written)


_RECORDSET = text(
    "INSERT INTO survey_tallies (survey_id, compound_id, subject, households, answered, counts, valid, satisfied, "
    "rate_bp, score_centi, sufficient) "
    "SELECT * FROM json_to_recordset(CAST(:rows AS json)) AS r(survey_id int, compound_id int, subject text, "
    "households int, answered int, counts json, valid int, satisfied int, rate_bp int, score_centi int, "
    "sufficient bool) "
    "ON CONFLICT (survey_id, compound_id, subject) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in TALLIED)
)


def _upsert_tallies(rows: list[dict]) -> None:
    """On PostgreSQL one statement whatever the number of rows (a row per statement costs twice the GROUP BY at a
    district's scale, a long VALUES list more to plan); elsewhere the rows as one executemany."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_RECORDSET, {"rows": json.dumps(rows)})
        return
    statement = dialect_insert(SurveyTally.__table__)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["survey_id", "compound_id", "subject"],
        set_={name: statement.excluded[name] for name in TALLIED}), rows)


def _changed(survey_id: int, rows: list[dict]) -> list[dict]:
    """The rows whose figures differ from those stored: a rerun over the same sheets writes nothing."""
    table = SurveyTally.__table__
    stored = {
        (row[0], row[1]): tuple(row[2:])
        for row in db.session.execute(select(table.c.compound_id, table.c.subject, *[table.c[name] for name in TALLIED])
                                      .where(table.c.survey_id == survey_id)).all()
    }
    return [row for row in rows
            if stored.get((row["compound_id"], row["subject"])) != tuple(row[name] for name in TALLIED)]


def _figures(subject: str, counts: dict[int, int], width: int) -> dict:
    figures = figures_from_counts(counts)
    return {"subject": subject, "counts": [counts.get(value, 0) for value in range(width)], "valid": figures.valid,
            "satisfied": figures.satisfied, "rate_bp": figures.rate_bp, "score_centi": figures.score_centi}


def _choice_counts(subject: str, counts: dict[int, int], options: int) -> dict:
    """A choice question: answers per option; no satisfaction figures."""
    return {"subject": subject, "counts": [counts.get(value, 0) for value in range(options)],
            "valid": sum(counts.values()), "satisfied": 0, "rate_bp": 0, "score_centi": 0}


def tallies_of(survey_id: int, compound_ids: Sequence[int]) -> list[SurveyTally]:
    if not compound_ids:
        return []
    return list(db.session.scalars(select(SurveyTally).where(
        SurveyTally.survey_id == survey_id, SurveyTally.compound_id.in_(compound_ids))
        .order_by(SurveyTally.compound_id, SurveyTally.id)))


def live_answered(survey_id: int) -> dict[int, int]:
    """Sheets per compound right now, for the response-rate bar while the campaign runs."""
    return dict(db.session.execute(
        select(SurveyResponse.compound_id, func.count()).where(SurveyResponse.survey_id == survey_id)
        .group_by(SurveyResponse.compound_id)).all())


def comments_of(survey_id: int, compound_ids: Sequence[int]) -> dict[int, list[str]]:
    """The text answers of these compounds, per compound, as text only, in the order of their text."""
    if not compound_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for compound_id, comment in db.session.execute(
        select(SurveyAnswer.compound_id, SurveyAnswer.text)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.compound_id.in_(compound_ids),
               SurveyQuestion.kind == QuestionKind.TEXT)
    ):
        found[compound_id].append(comment)
    return {compound_id: rules.ordered_comments(texts) for compound_id, texts in found.items()}


# ---- lists ----------------------------------------------------------------------------------------------


def compound_surveys(compound_id: int) -> list[Survey]:
    """Every campaign of which this compound is in scope, latest first."""
    return list(db.session.scalars(
        select(Survey).join(SurveyCompound, SurveyCompound.survey_id == Survey.id)
        .where(SurveyCompound.compound_id == compound_id).order_by(Survey.closes_at.desc(), Survey.id.desc())))


def open_survey_count(compound_id: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.scalar(
        select(func.count()).select_from(Survey).join(SurveyCompound, SurveyCompound.survey_id == Survey.id)
        .where(SurveyCompound.compound_id == compound_id, Survey.closed_at.is_(None), Survey.opens_at <= now,
               Survey.closes_at > now)) or 0


def my_surveys(user_id: int) -> list[Survey]:
    """A surveyor's assigned campaigns, an official's or admin's campaigns of their areas, and the campaigns a
    committee runs: latest first."""
    memberships = db.session.execute(
        select(Membership.role, Membership.compound_id, Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    assigned = select(SurveyEvaluator.survey_id).where(SurveyEvaluator.user_id == user_id)
    conditions = [Survey.id.in_(assigned)]
    if any(row.role is Role.ADMIN for row in memberships):
        conditions = [Survey.id.is_not(None)]
    else:
        area_ids = [row.area_id for row in memberships if row.role is Role.OFFICIAL]
        if area_ids:
            paths = db.session.scalars(select(Area.path).where(Area.id.in_(area_ids))).all()
            below = select(Area.id).where(or_(*[Area.path.startswith(path) for path in paths]))
            conditions.append(Survey.area_id.in_(below))
            conditions.append(Survey.compound_id.in_(select(Compound.id).where(Compound.area_id.in_(below))))
        committee = [row.compound_id for row in memberships if row.role in COMMITTEE_ROLES]
        if committee:
            conditions.append(Survey.compound_id.in_(committee))
    return list(db.session.scalars(select(Survey).where(or_(*conditions))
                                   .order_by(Survey.closes_at.desc(), Survey.id.desc()).limit(200)))


# ---- the jobs' questions -----------------------------------------------------------------------------------


def due_to_close(now: datetime) -> list[int]:
    return list(db.session.scalars(select(Survey.id).where(Survey.closed_at.is_(None), Survey.closes_at <= now)
                                   .order_by(Survey.closes_at, Survey.id)))


def running(now: datetime) -> list[int]:
    return list(db.session.scalars(select(Survey.id).where(
        Survey.closed_at.is_(None), Survey.opens_at <= now, Survey.closes_at > now).order_by(Survey.id)))


def reminder_key(survey_id: int) -> str:
    return f"survey-{survey_id}-closing"


def due_reminders(now: datetime) -> list[int]:
    """Running campaigns within a day of their close whose reminder has not gone out."""
    soon = now + timedelta(hours=REMINDER_BEFORE_HOURS)
    return [survey_id for survey_id in db.session.scalars(select(Survey.id).where(
        Survey.closed_at.is_(None), Survey.opens_at <= now, Survey.closes_at > now, Survey.closes_at <= soon)
        .order_by(Survey.id))
        if not db.session.scalar(select(exists().where(Notice.dedupe_key == reminder_key(survey_id))))]


def not_answered_people(survey: Survey) -> list[int]:
    """The verified people of the households in scope that have no sheet yet (owners only where only they may
    answer)."""
    roles = (Role.OWNER,) if survey.owners_only else HOUSEHOLD_ROLES
    return list(dict.fromkeys(db.session.scalars(
        select(Membership.user_id)
        .join(SurveyCompound, (SurveyCompound.compound_id == Membership.compound_id)
              & (SurveyCompound.survey_id == survey.id))
        .where(Membership.role.in_(roles), Membership.verified_at.is_not(None),
               ~exists().where(SurveyResponse.survey_id == survey.id,
                               SurveyResponse.household_id == Membership.household_id))
        .order_by(Membership.user_id))))


def remind(survey_id: int) -> int:
    """The reminder a day before the close, once: one notice per campaign (its dedupe key), so a second run
    reaches nobody twice. Returns how many people it was sent to."""
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.closed_at is not None:
        return 0
    people = not_answered_people(survey)
    if people:
        notify(people, SURVEY_REMINDER, f"满意度测评即将结束：{survey.title}",
               body=f"请在{local(survey.closes_at)}前完成测评，您的答卷匿名", link=link(survey),
               dedupe_key=reminder_key(survey_id))
    db.session.commit()
    return len(people)


def link(survey: Survey) -> str:
    return f"/h5/surveys/{survey.id}"


def local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


def campaign_places(user_id: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The areas an official holds (every area for an admin) and the compounds whose committee the person sits
    on: where the new-campaign form offers to start one."""
    memberships = db.session.execute(
        select(Membership.role, Membership.compound_id, Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    admin = any(row.role is Role.ADMIN for row in memberships)
    area_query = select(Area.id, Area.name).order_by(Area.path)
    if not admin:
        area_query = area_query.where(Area.id.in_([row.area_id for row in memberships if row.role is Role.OFFICIAL]))
    compound_ids = [row.compound_id for row in memberships if row.role in COMMITTEE_ROLES]
    compounds = db.session.execute(
        select(Compound.id, Compound.name).where(Compound.id.in_(compound_ids)).order_by(Compound.name)
    ).all() if compound_ids else []
    return [tuple(row) for row in db.session.execute(area_query.limit(200))], [tuple(row) for row in compounds]
