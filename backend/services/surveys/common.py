"""What every part of a survey campaign shares: who a person is to it (its creator's side, an official over it, a
surveyor, my households in it, whose results and comments are mine to read), its compounds in scope, its state."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.domain import compounds as compound_rules
from backend.domain import surveys as rules
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.surveys import SurveyRefused, SurveyState
from backend.extensions import db
from backend.models import (
    Area,
    Compound,
    Household,
    Membership,
    Survey,
    SurveyCompound,
    SurveyEvaluator,
)
from backend.policy import ancestor_area_ids
from backend.shared.clock import SHANGHAI, utcnow

OVERALL = "overall"
# The campaign's own wording of "not yours": 404, as for any other compound's data.
NOT_FOUND = "测评不存在"
HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)
COMPANY_ROLES = (Role.MANAGER, Role.STAFF)
COMMITTEE_ROLES = (Role.COMMITTEE, Role.PARTY_SECRETARY)


def subject_of(question_id: int) -> str:
    return f"q{question_id}"


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


def household_label(household: Household) -> str:
    return compound_rules.household_label(household.building.name, household.unit, household.room)


def households_of(household_ids: Sequence[int]) -> list[Household]:
    if not household_ids:
        return []
    return list(db.session.scalars(
        select(Household).options(joinedload(Household.building)).where(Household.id.in_(household_ids))
        .order_by(Household.id)))


def link(survey: Survey) -> str:
    return f"/h5/surveys/{survey.id}"


def local(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")
