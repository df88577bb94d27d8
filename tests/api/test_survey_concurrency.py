"""One sheet per household under concurrency, on PostgreSQL with committed data: twenty answers for one household
at once leave one sheet, revision 20, whose answers are all of one request, the last one committed; a close racing
with answers lets through only those before it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, SurveyAnswer, SurveyResponse
from backend.services import surveys as service
from backend.services.auth import issue_tokens
from backend.services.surveys import CampaignDraft
from backend.shared.clock import utcnow
from tests.support import race

TAPS = 20


def bearer_for(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@pytest.mark.postgresql
@pytest.mark.live
def test_twenty_answers_for_one_household_at_once_leave_one_sheet_the_last(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    home = db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                              .order_by(Household.id)).first()
    # Several people of the same flat tapping at once.
    people = [make_user(Role.OWNER, compound, household=home) for _ in range(3)] + [
        make_user(Role.RESIDENT, compound, household=home) for _ in range(2)]
    committee = make_user(Role.COMMITTEE, compound)
    survey = service.create_campaign(CampaignDraft(
        title="测评", compound_id=compound.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=3)), committee.id)
    survey_id, questions = survey.id, [(question.id, question.kind.value) for question in survey.questions]
    headers = [bearer_for(person) for person in people]
    home_id = home.id
    db.session.remove()

    def body(n: int) -> dict:
        return {"answers": [
            {"question_id": question_id, "value": n % 6} if kind == "dimension"
            else {"question_id": question_id, "text": f"第{n}次提交"}
            for question_id, kind in questions]}

    answers = race(app, [("PUT", f"/api/v1/surveys/{survey_id}/response", headers[n % len(headers)], body(n))
                         for n in range(TAPS)])
    assert [status for status, _ in answers] == [200] * TAPS, answers
    assert sorted(receipt["revision"] for _, receipt in answers) == list(range(1, TAPS + 1))

    sheets = db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)).all()
    assert len(sheets) == 1 and sheets[0].household_id == home_id and sheets[0].revision == TAPS
    stored = db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == sheets[0].id)).all()
    last = next(receipt for _, receipt in answers if receipt["revision"] == TAPS)
    # Every answer kept is of the request that committed last, none mixed in from another.
    assert len(stored) == len(questions)
    assert {(answer.question_id, answer.value, answer.text) for answer in stored} == {
        (answer["question_id"], answer["value"], answer["text"]) for answer in last["answers"]}
    assert len({answer.text for answer in stored if answer.text}) == 1
