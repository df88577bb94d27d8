"""Survey jobs on a moving clock: the reminder a day before the close reaches the households' people who have not
answered, once however often it runs; the close at closes_at happens once and tallies; the nightly tally while
running writes response rates and hides nothing it should not. Notifications go through the outbox, Redis and a
worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from backend.domain.notifications import SURVEY_REMINDER
from backend.domain.rating import QuestionKind
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs import surveys as jobs
from backend.models import Household, Notice, Notification, Survey, SurveyTally
from backend.services import surveys as service
from backend.services.queueing import QUEUES
from backend.services.surveys import AnswerInput, CampaignDraft

pytestmark = pytest.mark.calendar

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
CLOSES = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def work(app) -> None:
    redis_conn = app.extensions["linli_redis"]
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


@pytest.fixture
def running(make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=4)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes]
    tenant = make_user(Role.RESIDENT, compound, household=homes[3])
    committee = make_user(Role.COMMITTEE, compound)
    with time_machine.travel(T0, tick=False):
        survey = service.create_campaign(CampaignDraft(
            title="测评", compound_id=compound.id, opens_at=T0, closes_at=CLOSES, min_households=1), committee.id)
    return survey.id, owners, tenant


def answer_all(survey_id: int, user_id: int, value: int = 5) -> None:
    survey = service.get_survey(survey_id)
    service.submit_sheet(survey_id, user_id, None, [
        AnswerInput(question.id, value) for question in survey.questions if question.kind is QuestionKind.DIMENSION])


def reminded(survey_id: int) -> list[int]:
    return sorted(db.session.scalars(
        select(Notification.user_id).join(Notice, Notice.id == Notification.notice_id)
        .where(Notice.kind == SURVEY_REMINDER, Notice.dedupe_key == service.reminder_key(survey_id))))


def test_the_reminder_reaches_those_not_answered_once_even_when_the_job_runs_twice(app, running):
    survey_id, owners, tenant = running
    with time_machine.travel(T0 + HOUR, tick=False):
        answer_all(survey_id, owners[0].id)
    # More than a day before the close: nothing yet.
    with time_machine.travel(CLOSES - 25 * HOUR, tick=False):
        assert jobs.send_reminders() == 0
    work(app)
    assert reminded(survey_id) == []
    with time_machine.travel(CLOSES - 23 * HOUR, tick=False):
        assert jobs.send_reminders() == 4
        assert jobs.send_reminders() == 0
        # The same job again by id, as a replayed job would.
        jobs.remind(survey_id)
    work(app)
    work(app)
    assert reminded(survey_id) == sorted([owner.id for owner in owners[1:]] + [tenant.id])
    assert db.session.scalar(select(func.count()).select_from(Notification).join(
        Notice, Notice.id == Notification.notice_id).where(Notice.kind == SURVEY_REMINDER)) == 4


def test_the_close_at_closes_at_happens_once_and_tallies(app, running):
    survey_id, owners, _ = running
    with time_machine.travel(T0 + HOUR, tick=False):
        for owner in owners[:3]:
            answer_all(survey_id, owner.id, value=4)
        # The nightly tally while running: response rates written, the campaign still open.
        assert jobs.tally_running() == 1
    assert db.session.get(Survey, survey_id).closed_at is None
    with time_machine.travel(CLOSES - HOUR, tick=False):
        assert jobs.close_due() == 0
    with time_machine.travel(CLOSES + 2 * HOUR, tick=False):
        assert jobs.close_due() == 1
        assert jobs.close_due() == 0
        assert jobs.close_and_tally(survey_id) is False
    db.session.expire_all()
    survey = db.session.get(Survey, survey_id)
    assert survey.closed_at == CLOSES + 2 * HOUR and survey.closed_by_id is None
    overall = db.session.scalar(select(SurveyTally).where(SurveyTally.survey_id == survey_id,
                                                           SurveyTally.subject == "overall"))
    assert (overall.answered, overall.households, overall.valid, overall.rate_bp, overall.sufficient) == (
        3, 4, 18, 10000, True)
