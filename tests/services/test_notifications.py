"""Withdrawing a notice that is no longer true, through the service, the real outbox, Redis and an in-process RQ
worker: it leaves the inbox and the unread count, for everyone or for some people; a fan-out still on its way
writes nothing withdrawn; a push planned but not yet sent is never sent; withdrawing again changes nothing."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select, update

from backend.domain.notifications import BINDING_DECISION, DeliveryStatus
from backend.extensions import db
from backend.integrations.wechat_messages import SANDBOX_OUTBOX_KEY
from backend.jobs.notifications import deliver
from backend.models import Delivery, Notice, Notification, User
from backend.services.notifications import (
    UnknownNotification,
    inbox_page,
    mark_read,
    notify,
    unread_count,
    withdraw,
)
from backend.services.queueing import QUEUES, push_committed_jobs
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests.support import link_wechat


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


def work(redis_conn, *, scheduler: bool = False) -> None:
    """Run every queued job in this thread; with the scheduler, first move the scheduled jobs now due."""
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, with_scheduler=scheduler, logging_level="WARNING")


def send(user_ids: list[int], key: str) -> None:
    notify(user_ids, BINDING_DECISION, "您的房屋绑定申请已通过：1栋1单元101室", link="/h5/", dedupe_key=key)
    db.session.commit()
    push_committed_jobs()


def titles(user: User) -> list[str]:
    return [item["title"] for item in inbox_page(user.id, False, 1, 20).items]


def pushed_to(redis_conn, openid: str) -> int:
    return sum(json.loads(raw)["touser"] == openid for raw in redis_conn.lrange(SANDBOX_OUTBOX_KEY, 0, -1))


def statuses(user: User) -> list[DeliveryStatus]:
    return list(db.session.scalars(
        select(Delivery.status).join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == user.id)))


def test_a_notice_withdrawn_for_one_person_leaves_their_inbox_and_unread_count_only(make_user, redis_conn):
    one, other = make_user(), make_user()
    send([one.id, other.id], "withdraw-one")
    work(redis_conn)
    assert unread_count(one.id) == unread_count(other.id) == 1
    [row] = db.session.scalars(select(Notification).where(Notification.user_id == one.id))

    withdraw(["withdraw-one"], [one.id])
    db.session.commit()

    assert (titles(one), unread_count(one.id)) == ([], 0)
    assert (len(titles(other)), unread_count(other.id)) == (1, 1)
    assert inbox_page(one.id, True, 1, 20).total == 0
    # Its old link from a page left open is gone too (nothing about it is shown).
    with pytest.raises(UnknownNotification):
        mark_read(one.id, row.id)


def test_a_notice_withdrawn_for_everyone_is_written_to_no_inbox_by_a_fan_out_still_on_its_way(make_user,
                                                                                            redis_conn):
    people = [make_user() for _ in range(3)]
    send([person.id for person in people], "withdraw-all")

    withdraw(["withdraw-all"])
    db.session.commit()
    work(redis_conn)

    assert db.session.scalar(select(Notice.withdrawn_at).where(Notice.dedupe_key == "withdraw-all")) is not None
    assert db.session.scalars(select(Notification).where(Notification.dedupe_key == "withdraw-all")).all() == []
    assert all(unread_count(person.id) == 0 for person in people)
    # notify() again with the key: a withdrawn notice stays withdrawn.
    send([people[0].id], "withdraw-all")
    work(redis_conn)
    assert titles(people[0]) == []


def test_a_notice_withdrawn_for_a_person_before_the_fan_out_reaches_them_is_never_shown(make_user, redis_conn):
    early, late = make_user(), make_user()
    send([early.id, late.id], "withdraw-before")

    withdraw(["withdraw-before"], [early.id])
    db.session.commit()
    work(redis_conn)

    assert titles(early) == [] and unread_count(early.id) == 0
    assert len(titles(late)) == 1


def test_a_push_planned_but_not_yet_sent_is_never_sent_once_withdrawn(make_user, redis_conn):
    # 23:00 in Beijing today: the inbox rows are written at once, the pushes wait for 08:00.
    late_evening = datetime.combine(beijing_date(utcnow()), time(23, 0), tzinfo=SHANGHAI)
    withdrawn, kept = make_user(), make_user()
    link_wechat(withdrawn, "openid-withdrawn")
    link_wechat(kept, "openid-kept")
    with time_machine.travel(late_evening, tick=False):
        send([withdrawn.id, kept.id], "withdraw-push")
        work(redis_conn)
        assert statuses(withdrawn) == statuses(kept) == [DeliveryStatus.PENDING]
        withdraw(["withdraw-push"], [withdrawn.id])
        db.session.commit()

    with time_machine.travel(late_evening + timedelta(hours=9, minutes=1), tick=False):
        work(redis_conn, scheduler=True)

    assert statuses(withdrawn) == [DeliveryStatus.WITHDRAWN]
    assert statuses(kept) == [DeliveryStatus.SENT]
    assert (pushed_to(redis_conn, "openid-withdrawn"), pushed_to(redis_conn, "openid-kept")) == (0, 1)


def test_a_push_planned_after_its_row_was_withdrawn_is_not_sent_by_the_delivery_job(make_user, redis_conn):
    """plan_pushes read the row just before the withdrawal and wrote its push just after: the push is pending
    under a withdrawn row, and the delivery job itself must see that."""
    late_evening = datetime.combine(beijing_date(utcnow()), time(23, 0), tzinfo=SHANGHAI)
    person = make_user()
    link_wechat(person, "openid-raced")
    with time_machine.travel(late_evening, tick=False):
        send([person.id], "withdraw-raced")
        work(redis_conn)
    [delivery_id] = db.session.scalars(
        select(Delivery.id).join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == person.id))
    db.session.execute(
        update(Notification).where(Notification.user_id == person.id).values(withdrawn_at=utcnow()))
    db.session.commit()

    with time_machine.travel(late_evening + timedelta(hours=9, minutes=1), tick=False):
        assert deliver("wechat", [delivery_id]) == 0

    assert statuses(person) == [DeliveryStatus.WITHDRAWN]
    assert pushed_to(redis_conn, "openid-raced") == 0


def test_withdrawing_twice_changes_nothing_and_an_unknown_key_is_no_error(make_user, redis_conn):
    person = make_user()
    send([person.id], "withdraw-twice")
    work(redis_conn)
    withdraw(["withdraw-twice"], [person.id])
    db.session.commit()
    first = db.session.scalar(select(Notification.withdrawn_at).where(Notification.user_id == person.id))

    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        withdraw(["withdraw-twice"], [person.id])
        withdraw(["withdraw-twice", "never-sent"])
        withdraw(["never-sent"], [person.id])
        db.session.commit()

    assert db.session.scalars(select(Notification.withdrawn_at).where(Notification.user_id == person.id)).all() == [
        first]
    assert db.session.scalar(select(Notice.id).where(Notice.dedupe_key == "never-sent")) is None
