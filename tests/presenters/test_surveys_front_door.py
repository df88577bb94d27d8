"""One front door for satisfaction surveys (满意度测评): for every role and moment (before the opening, while it
runs, after the close), the API and the page offer the same actions (the page marks each with data-action), and
list the same campaigns."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import update

from backend.domain.rating import QuestionKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, PropertyCompany, Survey, SurveyEvaluator, User
from backend.services import surveys as service
from backend.services.surveys import AnswerInput, CampaignDraft
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
OPENS, CLOSES = T0 + timedelta(days=1), T0 + timedelta(days=8)
MOMENTS = {"before the opening": T0, "while it runs": OPENS + timedelta(days=1),
           "after the close": CLOSES + timedelta(hours=1)}
ROLES = ["official", "admin", "committee", "manager", "staff", "owner", "tenant", "evaluator", "stranger"]


@dataclass
class World:
    compound: Compound
    people: dict[str, User]
    survey_id: int


@pytest.fixture
def world(area_tree, make_compound, make_user) -> World:
    *_, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=3)
    company = PropertyCompany(name="攀钢物业", credit_code="91510400MA62200001")
    db.session.add(company)
    db.session.flush()
    compound.property_company_id = company.id
    db.session.commit()
    household = first_household(compound)
    people = {
        "official": make_user(Role.OFFICIAL, area=street),
        "admin": make_user(Role.ADMIN),
        "committee": make_user(Role.COMMITTEE, compound),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "owner": make_user(Role.OWNER, compound, household=household),
        "tenant": make_user(Role.RESIDENT, compound, household=household),
        "evaluator": make_user(),
        "stranger": make_user(Role.COMMITTEE, make_compound()),
    }
    with time_machine.travel(T0, tick=False):
        survey = service.create_campaign(CampaignDraft(
            title="第四季度测评", area_id=street.id, opens_at=OPENS, closes_at=CLOSES, owners_only=True,
            min_households=1), people["official"].id)
        db.session.add(SurveyEvaluator(survey_id=survey.id, user_id=people["evaluator"].id,
                                               appointed_by_id=people["official"].id))
        db.session.commit()
    with time_machine.travel(OPENS + timedelta(hours=1), tick=False):
        service.submit_sheet(survey.id, people["owner"].id, None, [
            AnswerInput(question.id, 4) for question in service.get_survey(survey.id).questions
            if question.kind is QuestionKind.DIMENSION])
    with time_machine.travel(CLOSES + timedelta(minutes=5), tick=False):
        service.close(survey.id, None)
    return World(compound, people, survey.id)


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("role", ROLES)
def test_a_campaign_offers_the_same_actions_through_the_api_and_the_page(app, client, world, role, moment):
    person = world.people[role]
    at = MOMENTS[moment]
    # The fixture answered and closed the campaign; earlier moments read it as it was then.
    with time_machine.travel(at, tick=False):
        if moment != "after the close":
            db.session.execute(update(Survey).where(Survey.id == world.survey_id).values(
                closed_at=None, tallied_at=None, frozen_at=None if moment == "before the opening" else OPENS))
            db.session.commit()
        api = client.get(f"/api/v1/surveys/{world.survey_id}", headers=api_headers(person))
        page = browser(app, person).get(f"/h5/surveys/{world.survey_id}")

    assert api.status_code == page.status_code == (404 if role == "stranger" else 200)
    if api.status_code != 200:
        return
    assert set(api.json["actions"]) == actions_on(text(page)), role
    expected = {
        "before the opening": {"official": {"close", "edit_questions", "appoint_evaluator"},
                               "admin": {"close", "edit_questions", "appoint_evaluator"}},
        "while it runs": {"official": {"close", "appoint_evaluator"}, "admin": {"close", "appoint_evaluator"},
                          "owner": {"change_answer"}, "evaluator": {"enter_paper"}},
        "after the close": {role: {"view_results"} for role in
                            ("official", "admin", "committee", "manager", "staff", "owner", "tenant")},
    }[moment].get(role, set())
    assert set(api.json["actions"]) == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_compound_list_reads_the_same_through_the_api_and_the_page(app, client, world, role):
    person = world.people[role]
    with time_machine.travel(MOMENTS["after the close"], tick=False):
        api = client.get(f"/api/v1/compounds/{world.compound.id}/surveys", headers=api_headers(person))
        page = browser(app, person).get(f"/h5/c/{world.compound.code}/surveys")
    assert api.status_code == page.status_code == (404 if role in ("stranger", "evaluator") else 200)
    if api.status_code == 200:
        body = text(page)
        assert [item["id"] for item in api.json["items"]] == [int(i) for i in re.findall(r'data-survey="(\d+)"', body)]
        assert {action for item in api.json["items"] for action in item["actions"]} == actions_on(body)
