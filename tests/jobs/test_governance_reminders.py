"""The term-end reminder on a moving clock: 90 and 30 days before the body's term ends (Beijing dates), each step
once to the committee, the party secretary and the community's officials, however often the job runs."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select

from backend.domain.notifications import GOVERNANCE_TERM_END
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.governance import remind_term_ends
from backend.models import Notice, Notification, User
from backend.services import governance as service
from backend.services.queueing import QUEUES
from backend.shared.clock import SHANGHAI, beijing_date, utcnow


def work(app) -> None:
    redis_conn = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn).work(
        burst=True, logging_level="WARNING")


def run_on(app, day) -> dict:
    """The job at its cron slot (09:20 Beijing) on `day`, then the worker."""
    with time_machine.travel(datetime.combine(day, time(9, 20), tzinfo=SHANGHAI), tick=False):
        result = remind_term_ends()
        work(app)
    return result


def heard(user: User) -> list[str]:
    return list(db.session.scalars(
        select(Notice.body).join(Notification, Notification.notice_id == Notice.id)
        .where(Notification.user_id == user.id, Notice.kind == GOVERNANCE_TERM_END).order_by(Notification.id)))


def test_each_step_is_sent_once_to_the_desk_and_the_community(app, area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compound = make_compound(area=community)
    committee, secretary = make_user(Role.COMMITTEE, compound), make_user(Role.PARTY_SECRETARY, compound)
    community_official, street_official = make_user(Role.OFFICIAL, area=community), make_user(Role.OFFICIAL, area=street)
    today = beijing_date(utcnow())
    term_end = today + timedelta(days=120)
    service.apply(compound, {"body": "owners_committee", "body_term_ends_on": term_end}, None, service.SOURCE_FORM)
    db.session.commit()

    assert run_on(app, term_end - timedelta(days=91))["compounds"] == 0
    assert run_on(app, term_end - timedelta(days=90))["people"] == 3
    assert run_on(app, term_end - timedelta(days=90))["compounds"] == 0
    assert run_on(app, term_end - timedelta(days=60))["compounds"] == 0
    # A missed day is caught up the next: the 30-day step goes out on day 29.
    assert run_on(app, term_end - timedelta(days=29))["people"] == 3
    run_on(app, term_end - timedelta(days=29))
    run_on(app, term_end)
    run_on(app, term_end + timedelta(days=1))

    for person in (committee, secretary, community_official):
        assert heard(person) == ["距任期届满不足90天，请及时筹备换届。", "距任期届满不足30天，请及时筹备换届。"]
    assert heard(street_official) == []


def test_a_new_term_end_starts_its_own_reminders(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3])
    committee = make_user(Role.COMMITTEE, compound)
    today = beijing_date(utcnow())
    service.apply(compound, {"body": "self_committee", "body_term_ends_on": today + timedelta(days=10)}, None,
                  service.SOURCE_FORM)
    db.session.commit()
    run_on(app, today)
    service.apply(compound, {"body_term_ends_on": today + timedelta(days=20)}, None, service.SOURCE_FORM)
    db.session.commit()
    run_on(app, today)
    assert len(heard(committee)) == 2
