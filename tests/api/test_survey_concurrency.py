"""One sheet per household under concurrency, on PostgreSQL with committed data: twenty answers for one household
at once leave one sheet, revision 20, whose answers are all of one request, the last one committed; a close racing
with answers tallies every sheet it let through and refuses the rest with 409."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, SurveyAnswer, SurveyResponse, SurveyTally
from backend.services import surveys as service
from backend.services.auth import issue_tokens
from backend.services.surveys import CampaignDraft
from backend.shared.clock import utcnow
from tests.api.test_vote_concurrency import race as race_sequences
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


@pytest.mark.postgresql
@pytest.mark.live
def test_a_close_racing_with_answers_tallies_every_sheet_it_let_through_and_refuses_the_rest(
    app, make_compound, make_user
):
    compound = make_compound(buildings=2, households_per_building=5)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes]
    committee = make_user(Role.COMMITTEE, compound)
    survey = service.create_campaign(CampaignDraft(
        title="测评", compound_id=compound.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(days=3), min_households=1), committee.id)
    survey_id = survey.id
    dimensions = [question.id for question in survey.questions if question.kind.value == "dimension"]
    owner_headers, committee_headers = [bearer_for(owner) for owner in owners], bearer_for(committee)
    db.session.remove()

    path = f"/api/v1/surveys/{survey_id}/response"
    # Each household sends a 很满意 sheet then a 不满意 one; the committee closes in the middle of it all.
    sequences = [[("PUT", path, {"answers": [{"question_id": q, "value": value} for q in dimensions]}, headers)
                  for value in (5, 2)] for headers in owner_headers]
    closing = [("POST", f"/api/v1/surveys/{survey_id}/close", None, committee_headers)]
    middle = len(sequences) // 2
    answers = race_sequences(app, [*sequences[:middle], closing, *sequences[middle:]])
    assert answers[middle][0][0] == 200, answers[middle]

    expected = {5: 0, 2: 0}
    for household_answers in answers[:middle] + answers[middle + 1:]:
        statuses = [status for status, _ in household_answers]
        assert set(statuses) <= {200, 409} and statuses == sorted(statuses), household_answers
        counted = [value for value, status in zip((5, 2), statuses, strict=True) if status == 200]
        if counted:
            expected[counted[-1]] += 1
    tally = db.session.scalar(select(SurveyTally).where(SurveyTally.survey_id == survey_id,
                                                        SurveyTally.subject == "overall"))
    assert tally.answered == expected[5] + expected[2]
    assert tally.counts[5] == expected[5] * 6 and tally.counts[2] == expected[2] * 6
