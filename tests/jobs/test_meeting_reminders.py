"""The meeting reminder sweep on a moving clock: the day before and 1 h before, to the user invitees and the
convener only, each once however often the sweep runs, nothing once the meeting has started, and no reminder
whose time had passed when the meeting was called. Notifications go through the outbox, Redis and a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select

from backend.domain.consultations import MeetingKind, Party
from backend.domain.notifications import MEETING_REMINDER
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.meetings import send_reminders
from backend.models import Meeting, Notice, Notification, User
from backend.services import meetings as service
from backend.services.meetings import InviteeSpec
from backend.services.queueing import QUEUES
from tests.support import first_household

pytestmark = pytest.mark.calendar

# 10:00 on a Monday in Beijing; the meeting is on Thursday at 19:30.
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
START = datetime(2026, 11, 5, 11, 30, tzinfo=UTC)
DAY, HOUR, SECOND = timedelta(days=1), timedelta(hours=1), timedelta(seconds=1)


@dataclass
class People:
    compound_id: int
    committee: User
    manager: User
    resident: User
    bystander: User  # of the compound, not invited


@pytest.fixture
def people(make_compound, make_user) -> People:
    compound = make_compound(buildings=1, households_per_building=2)
    return People(
        compound_id=compound.id,
        committee=make_user(Role.COMMITTEE, compound),
        manager=make_user(Role.MANAGER, compound),
        resident=make_user(Role.OWNER, compound, household=first_household(compound)),
        bystander=make_user(Role.STAFF, compound),
    )


def work(app) -> None:
    """Run every queued job (fan-out, push planning) in this process, as the worker would."""
    redis_conn = app.extensions["linli_redis"]
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


def convene(people: People, at: datetime = T0, starts_at: datetime = START) -> int:
    with time_machine.travel(at, tick=False):
        meeting = service.create_meeting(
            compound_id=people.compound_id,
            convener_id=people.committee.id,
            kind=MeetingKind.DELIBERATION,
            title="加装电梯议事会",
            agenda="讨论2栋加装电梯方案",
            starts_at=starts_at,
            place="党群服务站",
            invitees=[
                InviteeSpec(Party.PROPERTY_COMPANY, user_id=people.manager.id),
                InviteeSpec(Party.RESIDENT, user_id=people.resident.id),
                InviteeSpec(Party.MERCHANT, name="东门超市 李老板"),
            ],
        )
    return meeting.id


def sweep_at(at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return send_reminders()


def reminders(meeting_id: int) -> list[tuple[str, set[int]]]:
    """Each reminder notice of the meeting (the invitation aside), with whose inbox it reached."""
    notices = db.session.scalars(
        select(Notice)
        .where(
            Notice.kind == MEETING_REMINDER,
            Notice.link == f"/h5/meetings/{meeting_id}",
            Notice.dedupe_key.like(f"meeting-{meeting_id}-reminder-%"),
        )
        .order_by(Notice.id)
    ).all()
    return [
        (
            notice.body,
            set(db.session.scalars(select(Notification.user_id).where(Notification.notice_id == notice.id))),
        )
        for notice in notices
    ]


def test_the_day_before_and_one_hour_before_each_once_to_invitees_and_convener(app, people):
    meeting_id = convene(people)

    for moment, expected_sent in (
        (START - DAY - SECOND, 0),
        (START - DAY, 1),
        (START - DAY + 5 * 60 * SECOND, 0),
        (START - HOUR - SECOND, 0),
        (START - HOUR, 1),
        (START - HOUR + 5 * 60 * SECOND, 0),
    ):
        assert sweep_at(moment) == expected_sent, moment
        # The same cron slot again (a second cron process, a retried job): nothing more.
        assert sweep_at(moment) == 0, moment

    work(app)
    invited = {people.committee.id, people.manager.id, people.resident.id}
    body = "会议将于11月05日 19:30在党群服务站召开，请准时参加。"
    assert reminders(meeting_id) == [(body, invited), (body, invited)]
    assert db.session.get(Meeting, meeting_id).reminders_sent == 2
    # The staff member of the compound who was not invited hears nothing.
    assert (
        db.session.scalars(select(Notification).where(Notification.user_id == people.bystander.id)).all()
        == []
    )


def test_nothing_is_sent_once_the_meeting_has_started(app, people):
    meeting_id = convene(people)

    assert sweep_at(START) == 0
    assert sweep_at(START + HOUR) == 0
    work(app)
    assert reminders(meeting_id) == []


def test_after_an_outage_only_the_latest_due_reminder_goes_out(app, people):
    meeting_id = convene(people)

    assert sweep_at(START - 30 * 60 * SECOND) == 1
    assert sweep_at(START - 20 * 60 * SECOND) == 0
    work(app)
    assert len(reminders(meeting_id)) == 1
    assert db.session.get(Meeting, meeting_id).reminders_sent == 2


def test_a_meeting_called_at_short_notice_skips_reminders_whose_time_had_passed(app, people):
    # Called 20 h ahead: the invitation stands in for the day-before reminder; the 1 h one still comes.
    meeting_id = convene(people, at=START - 20 * HOUR)

    assert sweep_at(START - 20 * HOUR + 5 * 60 * SECOND) == 0
    assert sweep_at(START - HOUR) == 1
    work(app)
    assert len(reminders(meeting_id)) == 1


def test_meetings_further_ahead_than_a_day_are_left_alone(app, people):
    convene(people)
    later = convene(people, starts_at=START + 7 * DAY)

    assert sweep_at(START - DAY) == 1
    assert db.session.get(Meeting, later).reminders_sent == 0
