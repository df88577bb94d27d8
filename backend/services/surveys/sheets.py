"""The answer sheets: one per household (the database decides, by upsert), online by a verified owner or resident,
or on paper by an appointed surveyor with a photo; the last one counts; the household's own receipt.

Anonymity: a sheet's household is read only for that household's own receipt."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from backend.domain import surveys as rules
from backend.domain.notifications import SURVEY_RECEIPT
from backend.domain.rating import (
    QuestionKind,
)
from backend.domain.refusals import Kind
from backend.domain.surveys import SurveyRefused, SurveyState
from backend.extensions import db, dialect_insert
from backend.models import (
    Building,
    Compound,
    Household,
    Survey,
    SurveyAnswer,
    SurveyCompound,
    SurveyResponse,
)
from backend.services.audit import record_audit
from backend.services.notifications import notify, withdraw
from backend.services.photos import PreparedPhoto, kept_only_on_commit, store_photo
from backend.services.surveys.common import NOT_FOUND, Standing, household_label, link, local, seen, state_of
from backend.services.surveys.tally import withdraw_reminder
from backend.shared.clock import utcnow


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
        rules.check_answer(question.kind, question.options, answer.value, answer.text)
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
    label = _label(household_id)
    _tell_sheet_recorded(survey, response, label, user_id, now)
    written = Receipt(response=response, household_label=label, answers_shown=True, answers={
        answer.question_id: SurveyAnswer(question_id=answer.question_id, value=answer.value, text=answer.text.strip())
        for answer in checked})
    # Detached, so the commit does not expire it.
    db.session.expunge(response)
    db.session.commit()
    return written


def sheet_receipt_key(survey_id: int, household_id: int, revision: int) -> str:
    return f"survey-{survey_id}-household-{household_id}-sheet-{revision}"


def _tell_sheet_recorded(survey: Survey, response: SurveyResponse, label: str, user_id: int, now: datetime) -> None:
    """The receipt of my household's sheet, to me alone: which campaign and household, never an answer (the
    household's receipt page shows those, to its own people). A changed sheet's earlier receipt is withdrawn."""
    if response.revision > 1:
        withdraw([sheet_receipt_key(survey.id, response.household_id, response.revision - 1)], now=now)
    notify([user_id], SURVEY_RECEIPT, f"您已提交“{survey.title}”的满意度测评",
           f"{label}的答卷已于{local(now)}记录。测评结束前可以修改，以最后一次提交为准。",
           link=f"{link(survey)}/receipt?household_id={response.household_id}",
           dedupe_key=sheet_receipt_key(survey.id, response.household_id, response.revision))


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
    paper = photo_key is not None
    sheet = {"answered_by_id": user_id, "paper": paper, "photo_key": photo_key, "updated_at": now}
    # One statement: twenty taps from one household at once leave one sheet (the unique key decides), and the
    # row lock it takes keeps each tap's answers together until its commit. A paper sheet replaces only an
    # earlier paper sheet: the household's own online answer stands, and the row says so under the lock.
    statement = (
        dialect_insert(SurveyResponse)
        .values(survey_id=survey_id, compound_id=compound_id, household_id=household_id, revision=1,
                submitted_at=now, **sheet)
        .on_conflict_do_update(index_elements=[SurveyResponse.survey_id, SurveyResponse.household_id],
                               set_={**sheet, "revision": SurveyResponse.revision + 1},
                               where=SurveyResponse.paper.is_(True) if paper else None)
        .returning(SurveyResponse)
    )
    response = db.session.scalars(statement, execution_options={"populate_existing": True}).one_or_none()
    if response is None:
        raise SurveyRefused("该户已在线作答，无需录入纸质问卷", Kind.CONFLICT)
    db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
    if answers:
        db.session.execute(SurveyAnswer.__table__.insert(), [
            {"response_id": response.id, "question_id": answer.question_id, "survey_id": survey_id,
             "compound_id": compound_id, "value": answer.value, "text": answer.text.strip()}
            for answer in answers
        ])
    withdraw_reminder(db.session.get(Survey, survey_id), household_id, now)
    return response


@dataclass(frozen=True)
class Receipt:
    """My household's sheet: which one, the revision that counts, and its answers where rules.answers_shown says
    so (empty otherwise)."""

    response: SurveyResponse
    household_label: str
    answers_shown: bool
    answers: dict[int, SurveyAnswer]


def _label(household_id: int) -> str:
    return household_label(db.session.scalar(
        select(Household).options(joinedload(Household.building)).where(Household.id == household_id)))


def receipt(survey_id: int, user_id: int | None, household_id: int | None) -> Receipt:
    """404 unless the sheet is of one of my verified households; its answers only if I may answer for it."""
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
    shown = rules.answers_shown(household_id in {
        seat.household_id for seat in person.answering_seats(survey.owners_only)})
    answers = {answer.question_id: answer for answer in db.session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id))} if shown else {}
    return Receipt(response=response, household_label=_label(household_id), answers_shown=shown, answers=answers)


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
