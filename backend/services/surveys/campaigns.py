"""A campaign's life before the answers: starting it over an area or one compound, its questions (changed only
before the first answer), appointing surveyors, and the lists of campaigns."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select

from backend.domain import surveys as rules
from backend.domain.notifications import SURVEY_REMINDER
from backend.domain.rating import (
    DEFAULT_MIN_HOUSEHOLDS,
    DEFAULT_MIN_RESPONSE_BP,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.surveys import QuestionDraft, SurveyRefused, SurveyState
from backend.extensions import db, dialect_insert
from backend.models import (
    Area,
    Compound,
    Household,
    Membership,
    Survey,
    SurveyCompound,
    SurveyEvaluator,
    SurveyQuestion,
    User,
)
from backend.services.audit import record_audit
from backend.services.identity import phone_columns, phone_hash
from backend.services.notifications import notify
from backend.services.surveys.common import COMMITTEE_ROLES, NOT_FOUND, link, local, state_of
from backend.shared.clock import utcnow


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
    notify([user.id], SURVEY_REMINDER, f"您已受托开展满意度测评：{survey.title}",
           f"测评{local(survey.closes_at)}结束，请在此前完成入户测评，并录入纸质答卷。", link=link(survey),
           dedupe_key=f"survey-{survey_id}-evaluator-{user.id}")
    db.session.commit()
    return user


def is_evaluator(user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(SurveyEvaluator.user_id == user_id))))


def evaluators_of(survey_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(SurveyEvaluator, SurveyEvaluator.user_id == User.id)
        .where(SurveyEvaluator.survey_id == survey_id).order_by(SurveyEvaluator.appointed_at, User.id)))


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
