"""The consultation sweep on a moving clock: the ballot opens when deliberation ends and closes at its time,
publicity ends into implementation or done, each once however often (or late) the sweep runs; a topic without
options waits and the committee is told once; non-voters are reminded 24 h and 2 h before close, each once;
followers hear of every step change once. Notifications go through the real outbox, Redis and an RQ worker."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from rq.registry import FinishedJobRegistry
from sqlalchemy import func, select

from backend.domain.consultations import Schedule, Step
from backend.domain.notifications import TOPIC_DESK, TOPIC_UPDATE, VOTE_REMINDER
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.jobs.consultations import sweep
from backend.jobs.slots import enqueue_slot
from backend.models import AuditEvent, BallotResult, BallotRoll, Household, Notice, Notification, Topic, User
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.consultations import Acceptance, OptionDraft, Participant
from backend.services.queueing import QUEUES

pytestmark = pytest.mark.calendar

# 10:00 on a Monday in Beijing.
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
DELIBERATION_ENDS = T0 + timedelta(days=3)
VOTING_HOURS = 72
CLOSES = DELIBERATION_ENDS + timedelta(hours=VOTING_HOURS)
PUBLICITY_ENDS = CLOSES + timedelta(days=7)
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
SWEEP = "backend.jobs.consultations.sweep"
MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


@dataclass
class People:
    compound_id: int
    homes: list[Household]
    owners: list[User]  # owners[i] is the verified owner of homes[i]; homes[4] and homes[5] have nobody
    committee: User
    secretary: User

    def person(self, user: User) -> Participant:
        return service.participant(user.id, self.compound_id, roles_in_compound(user.id, self.compound_id))


@pytest.fixture
def people(make_compound, make_user) -> People:
    compound = make_compound(buildings=1, households_per_building=6)
    homes = list(
        db.session.scalars(
            select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )
    return People(
        compound_id=compound.id,
        homes=homes,
        owners=[make_user(Role.OWNER, compound, household=home) for home in homes[:4]],
        committee=make_user(Role.COMMITTEE, compound),
        secretary=make_user(Role.PARTY_SECRETARY, compound),
    )


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


def work(redis_conn) -> None:
    """Run every queued job (fan-out, push planning) in this process, as the worker would."""
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


def sweep_at(at: datetime) -> dict[str, int]:
    with time_machine.travel(at, tick=False):
        return sweep()


def deliberating(
    people: People, title: str = "更换单元门禁", with_options: bool = True, voting_hours: int = VOTING_HOURS
) -> int:
    """A topic raised by the committee at T0 and accepted, its deliberation ending DELIBERATION_ENDS."""
    desk = people.person(people.committee)
    with time_machine.travel(T0, tick=False):
        topic = service.raise_topic(people.compound_id, desk, title, "门禁坏了三个月")
        service.accept_topic(
            topic.id,
            desk,
            Acceptance(
                rule=VoteRule(VoteKind.CONSULTATION),
                schedule=Schedule(DELIBERATION_ENDS, voting_hours=voting_hours, publicity_days=7),
            ),
        )
        if with_options:
            service.set_options(topic.id, desk, MOTION)
    return topic.id


def cast(people: People, topic_id: int, owner: int, label: str, at: datetime) -> None:
    option = next(option for option in service.options_of(topic_id) if option.label == label)
    with time_machine.travel(at, tick=False):
        service.cast_vote(topic_id, people.person(people.owners[owner]), people.homes[owner].id, option.id)
        # What the job the vote asked for does, a moment later (the reminders withdrawn, the receipt).
        service.tell_of_vote(topic_id, people.homes[owner].id)


def notices(topic_id: int, kind: str) -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice)
            .where(Notice.kind == kind, Notice.link == f"/h5/topics/{topic_id}")
            .order_by(Notice.id)
        )
    )


def recipients(notice: Notice) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(Notification.notice_id == notice.id)))


def received(user: User, kind: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.user_id == user.id, Notice.kind == kind)
    )


def in_inbox(user: User, kind: str) -> int:
    """What the person's inbox shows of the kind: rows written and not withdrawn."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.user_id == user.id, Notice.kind == kind, Notification.withdrawn_at.is_(None))
    )


def step_events(topic_id: int, step: Step) -> int:
    return db.session.scalar(
        select(func.count()).where(
            AuditEvent.target_type == "topic",
            AuditEvent.target_id == topic_id,
            AuditEvent.action == f"topic.{step}",
        )
    )


def ids(*users: User) -> set[int]:
    return {user.id for user in users}


def topic_of(topic_id: int) -> Topic:
    db.session.expire_all()
    return db.session.get(Topic, topic_id)


# ---- deliberation → ballot --------------------------------------------------------------------------------------


def test_the_ballot_opens_when_deliberation_ends_once_however_often_the_sweep_runs(people, redis_conn):
    topic_id = deliberating(people)

    assert sweep_at(DELIBERATION_ENDS - SECOND)["ballots_opened"] == 0
    assert topic_of(topic_id).step is Step.DELIBERATION
    assert sweep_at(DELIBERATION_ENDS)["ballots_opened"] == 1
    # The same cron slot again (a second cron process), then the next slot: nothing more.
    assert sweep_at(DELIBERATION_ENDS)["ballots_opened"] == 0
    assert sweep_at(DELIBERATION_ENDS + timedelta(minutes=5))["ballots_opened"] == 0

    topic = topic_of(topic_id)
    assert (topic.step, topic.ballot_opened_at, topic.ballot_closes_at) == (
        Step.VOTING,
        DELIBERATION_ENDS,
        CLOSES,
    )
    assert step_events(topic_id, Step.VOTING) == 1
    roll = db.session.scalar(
        select(func.count()).select_from(BallotRoll).where(BallotRoll.topic_id == topic_id)
    )
    assert roll == len(people.homes)
    work(redis_conn)
    [opened] = notices(topic_id, VOTE_REMINDER)
    assert (opened.title, recipients(opened)) == ("议题“更换单元门禁”开始表决了", ids(*people.owners))
    assert [received(owner, VOTE_REMINDER) for owner in people.owners] == [1, 1, 1, 1]


def test_a_sweep_back_after_an_outage_opens_the_ballot_for_its_whole_window(people):
    topic_id = deliberating(people)
    late = DELIBERATION_ENDS + timedelta(days=4)

    assert sweep_at(late) == {
        "ballots_opened": 1,
        "ballots_closed": 0,
        "publicities_ended": 0,
        "reminders": 0,
    }

    topic = topic_of(topic_id)
    # Owners are promised the whole voting window from the moment the ballot really opens.
    assert (topic.ballot_opened_at, topic.ballot_closes_at) == (late, late + timedelta(hours=VOTING_HOURS))


def test_without_options_the_committee_is_told_once_and_the_topic_waits(people, redis_conn):
    topic_id = deliberating(people, with_options=False)

    for at in (DELIBERATION_ENDS, DELIBERATION_ENDS, DELIBERATION_ENDS + timedelta(days=1)):
        assert sweep_at(at)["ballots_opened"] == 0

    topic = topic_of(topic_id)
    assert (topic.step, topic.step_due_at) == (Step.DELIBERATION, None)
    work(redis_conn)
    [told] = [notice for notice in notices(topic_id, TOPIC_DESK) if "协商讨论已到期" in notice.title]
    assert told.title == "议题“更换单元门禁”的协商讨论已到期，请拟定表决选项后开启表决"
    assert recipients(told) == ids(people.committee, people.secretary)
    # The committee drafts the options and opens the ballot by hand; the sweep then leaves it to run.
    opened_at = DELIBERATION_ENDS + timedelta(days=1, hours=2)
    with time_machine.travel(opened_at, tick=False):
        service.set_options(topic_id, people.person(people.committee), MOTION)
        service.open_ballot(topic_id, people.committee.id)
    assert sweep_at(opened_at + timedelta(minutes=5))["ballots_opened"] == 0
    assert topic_of(topic_id).ballot_closes_at == opened_at + timedelta(hours=VOTING_HOURS)


# ---- ballot → publicity → implementation -----------------------------------------------------------------------


def test_the_ballot_closes_at_its_time_with_its_result_once(people):
    topic_id = deliberating(people)
    sweep_at(DELIBERATION_ENDS)
    for owner, label in ((0, "同意"), (1, "同意"), (2, "不同意")):
        cast(people, topic_id, owner, label, DELIBERATION_ENDS + HOUR)

    assert sweep_at(CLOSES - SECOND)["ballots_closed"] == 0
    assert sweep_at(CLOSES)["ballots_closed"] == 1
    assert sweep_at(CLOSES)["ballots_closed"] == 0
    assert sweep_at(CLOSES + timedelta(minutes=5))["ballots_closed"] == 0

    topic = topic_of(topic_id)
    assert (topic.step, topic.ballot_closed_at, topic.publicity_ends_at) == (
        Step.PUBLICITY,
        CLOSES,
        PUBLICITY_ENDS,
    )
    result = db.session.get(BallotResult, topic_id)
    assert (result.passed, result.participating_households, result.eligible_households) == (True, 3, 6)
    assert result.computed_at == CLOSES
    assert step_events(topic_id, Step.PUBLICITY) == 1


@pytest.mark.parametrize(("label", "after"), [("同意", Step.IMPLEMENTATION), ("不同意", Step.DONE)])
def test_publicity_ends_into_implementation_or_done_once(people, label, after):
    topic_id = deliberating(people)
    sweep_at(DELIBERATION_ENDS)
    cast(people, topic_id, 0, label, DELIBERATION_ENDS + HOUR)
    sweep_at(CLOSES)

    assert sweep_at(PUBLICITY_ENDS - SECOND)["publicities_ended"] == 0
    assert sweep_at(PUBLICITY_ENDS)["publicities_ended"] == 1
    assert sweep_at(PUBLICITY_ENDS)["publicities_ended"] == 0

    topic = topic_of(topic_id)
    assert (topic.step, topic.step_due_at) == (after, None)
    assert step_events(topic_id, after) == 1


def test_an_unanswered_objection_holds_publicity_past_its_end(people):
    topic_id = deliberating(people)
    sweep_at(DELIBERATION_ENDS)
    cast(people, topic_id, 0, "同意", DELIBERATION_ENDS + HOUR)
    sweep_at(CLOSES)
    with time_machine.travel(CLOSES + timedelta(days=1), tick=False):
        objection = service.file_objection(
            topic_id, people.person(people.owners[1]), people.homes[1].id, "计票有误"
        )

    assert sweep_at(PUBLICITY_ENDS)["publicities_ended"] == 0
    assert sweep_at(PUBLICITY_ENDS + timedelta(days=1))["publicities_ended"] == 0
    assert topic_of(topic_id).step is Step.PUBLICITY

    answered_at = PUBLICITY_ENDS + timedelta(days=2)
    with time_machine.travel(answered_at, tick=False):
        service.answer_objection(topic_id, objection.id, people.person(people.committee), "已复核，计票无误")
    assert sweep_at(answered_at + timedelta(minutes=5))["publicities_ended"] == 1
    assert topic_of(topic_id).step is Step.IMPLEMENTATION


# ---- reminders ------------------------------------------------------------------------------------------------


def test_non_voters_are_reminded_24_and_2_hours_before_close_each_once(people, redis_conn):
    topic_id = deliberating(people)
    assert sweep_at(DELIBERATION_ENDS)["reminders"] == 0
    work(redis_conn)
    cast(people, topic_id, 0, "同意", DELIBERATION_ENDS + HOUR)

    assert sweep_at(CLOSES - 24 * HOUR - SECOND)["reminders"] == 0
    assert sweep_at(CLOSES - 24 * HOUR)["reminders"] == 1
    assert sweep_at(CLOSES - 24 * HOUR)["reminders"] == 0
    assert sweep_at(CLOSES - 24 * HOUR + timedelta(minutes=5))["reminders"] == 0
    work(redis_conn)
    cast(people, topic_id, 1, "不同意", CLOSES - 10 * HOUR)
    assert sweep_at(CLOSES - 2 * HOUR - SECOND)["reminders"] == 0
    assert sweep_at(CLOSES - 2 * HOUR)["reminders"] == 1
    assert sweep_at(CLOSES - 2 * HOUR)["reminders"] == 0
    work(redis_conn)
    assert [in_inbox(owner, VOTE_REMINDER) for owner in people.owners] == [0, 0, 3, 3]
    assert sweep_at(CLOSES - HOUR)["reminders"] == 0
    assert sweep_at(CLOSES)["reminders"] == 0

    work(redis_conn)
    # Closed: "请在…前完成表决" is true for nobody any more.
    assert [in_inbox(owner, VOTE_REMINDER) for owner in people.owners] == [0, 0, 0, 0]
    sent = notices(topic_id, VOTE_REMINDER)
    assert [(notice.title, notice.body) for notice in sent] == [
        ("议题“更换单元门禁”开始表决了", "请在11月08日 10:00前完成表决，每户一票，截止前可以修改。"),
        ("议题“更换单元门禁”的表决不到24小时就要截止了", "您家还没有表决，请在11月08日 10:00前完成表决。"),
        ("议题“更换单元门禁”的表决不到2小时就要截止了", "您家还没有表决，请在11月08日 10:00前完成表决。"),
    ]
    owners = people.owners
    assert [recipients(notice) for notice in sent] == [
        ids(*owners),
        ids(owners[1], owners[2], owners[3]),
        ids(owners[2], owners[3]),
    ]
    assert [received(owner, VOTE_REMINDER) for owner in owners] == [1, 2, 3, 3]


def test_a_sweep_first_running_an_hour_before_close_sends_the_2_hour_reminder_only(people, redis_conn):
    topic_id = deliberating(people)
    with time_machine.travel(DELIBERATION_ENDS, tick=False):
        service.open_ballot(topic_id, people.committee.id)

    assert sweep_at(CLOSES - HOUR)["reminders"] == 1
    assert sweep_at(CLOSES - HOUR)["reminders"] == 0
    assert sweep_at(CLOSES - HOUR + timedelta(minutes=5))["reminders"] == 0

    work(redis_conn)
    assert [notice.body for notice in notices(topic_id, VOTE_REMINDER)] == [
        "请在11月08日 10:00前完成表决，每户一票，截止前可以修改。",
        "您家还没有表决，请在11月08日 10:00前完成表决。",
    ]
    assert topic_of(topic_id).voting_reminders_sent == 2


def test_a_one_day_ballot_is_not_reminded_24_hours_before_close_in_the_minute_it_opens(people, redis_conn):
    topic_id = deliberating(people, voting_hours=24)
    closes = DELIBERATION_ENDS + 24 * HOUR

    assert sweep_at(DELIBERATION_ENDS) == {
        "ballots_opened": 1,
        "ballots_closed": 0,
        "publicities_ended": 0,
        "reminders": 0,
    }
    assert sweep_at(DELIBERATION_ENDS + timedelta(minutes=5))["reminders"] == 0
    assert sweep_at(closes - 2 * HOUR)["reminders"] == 1

    work(redis_conn)
    assert [notice.body for notice in notices(topic_id, VOTE_REMINDER)] == [
        "请在11月06日 10:00前完成表决，每户一票，截止前可以修改。",
        "您家还没有表决，请在11月06日 10:00前完成表决。",
    ]


def test_a_sweep_back_only_after_close_closes_the_ballot_and_reminds_nobody(people, redis_conn):
    topic_id = deliberating(people)
    sweep_at(DELIBERATION_ENDS)

    assert sweep_at(CLOSES + HOUR) == {
        "ballots_opened": 0,
        "ballots_closed": 1,
        "publicities_ended": 0,
        "reminders": 0,
    }

    work(redis_conn)
    assert [notice.title for notice in notices(topic_id, VOTE_REMINDER)] == ["议题“更换单元门禁”开始表决了"]
    assert topic_of(topic_id).voting_reminders_sent == 0


# ---- followers -------------------------------------------------------------------------------------------------


def test_followers_hear_of_each_step_change_once(people, redis_conn):
    owners = people.owners
    with time_machine.travel(T0, tick=False):
        service.update_settings(people.compound_id, people.committee.id, 2, False, 7)
        topic = service.propose_topic(
            people.compound_id, people.person(owners[0]), people.homes[0].id, "加装扶手", "内容"
        )
        service.cosign(topic.id, people.person(owners[1]), people.homes[1].id)
        service.accept_topic(
            topic.id,
            people.person(people.committee),
            Acceptance(
                rule=VoteRule(VoteKind.CONSULTATION), schedule=Schedule(DELIBERATION_ENDS, VOTING_HOURS, 7)
            ),
        )
        service.add_comment(topic.id, owners[2].id, "支持")
        service.follow_topic(topic.id, owners[3].id)
        service.set_options(topic.id, people.person(people.committee), MOTION)
    for at in (DELIBERATION_ENDS, DELIBERATION_ENDS):
        sweep_at(at)
    cast(people, topic.id, 0, "同意", DELIBERATION_ENDS + HOUR)
    for at in (CLOSES, CLOSES, PUBLICITY_ENDS, PUBLICITY_ENDS + timedelta(minutes=5)):
        sweep_at(at)

    work(redis_conn)
    everyone = ids(*owners)
    assert [(notice.title, recipients(notice)) for notice in notices(topic.id, TOPIC_UPDATE)] == [
        # The co-signer whose sign reached the threshold moved it on, and is not told of it.
        ("您关注的议题“加装扶手”进入了“议题确定”阶段", ids(owners[0])),
        ("您关注的议题“加装扶手”进入了“协商讨论”阶段", ids(owners[0], owners[1])),
        ("您关注的议题“加装扶手”进入了“表决决议”阶段", everyone),
        ("您关注的议题“加装扶手”进入了“结果公示”阶段", everyone),
        ("您关注的议题“加装扶手”进入了“落实监督”阶段", everyone),
    ]
    assert [received(owner, TOPIC_UPDATE) for owner in owners] == [5, 4, 3, 3]


# ---- the cron slot, and two sweeps at once ---------------------------------------------------------------------


def test_the_cron_slot_runs_the_sweep_once_on_a_worker(people, redis_conn):
    topic_id = deliberating(people)
    with time_machine.travel(DELIBERATION_ENDS + timedelta(seconds=20), tick=False):
        first = enqueue_slot(SWEEP, "*/5 * * * *", "default")
        second = enqueue_slot(SWEEP, "*/5 * * * *", "default")
        work(redis_conn)
        # Read while the clock still stands there: the registry drops jobs whose result_ttl ran out.
        finished = FinishedJobRegistry("default", connection=redis_conn).get_job_ids()

    assert first == "backend_jobs_consultations_sweep-202611050200"
    assert second is None
    assert [job_id for job_id in finished if job_id.startswith("backend_jobs_consultations")] == [first]
    assert topic_of(topic_id).step is Step.VOTING
    assert [notice.title for notice in notices(topic_id, VOTE_REMINDER)] == ["议题“更换单元门禁”开始表决了"]


def _sweeps_at_once(app, at: datetime, runs: int = 2) -> list[dict[str, int]]:
    """`runs` sweeps started together, each in its own thread with its own app context and connection."""
    barrier = threading.Barrier(runs)
    results: list[dict[str, int] | BaseException | None] = [None] * runs

    def run(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results[index] = sweep()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results[index] = exc

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=run, args=(index,)) for index in range(runs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _total(results: list[dict[str, int]], key: str) -> int:
    return sum(result[key] for result in results)


@pytest.mark.postgresql
@pytest.mark.live
def test_two_sweeps_at_once_take_each_step_once(app, people):
    topic_ids = [deliberating(people, title=f"议题{n}") for n in range(3)]
    db.session.remove()

    opened = _sweeps_at_once(app, DELIBERATION_ENDS)
    reminded = _sweeps_at_once(app, CLOSES - HOUR)
    closed = _sweeps_at_once(app, CLOSES)
    ended = _sweeps_at_once(app, PUBLICITY_ENDS)

    assert (_total(opened, "ballots_opened"), _total(reminded, "reminders")) == (3, 3)
    assert (_total(closed, "ballots_closed"), _total(ended, "publicities_ended")) == (3, 3)
    for topic_id in topic_ids:
        assert [step_events(topic_id, step) for step in (Step.VOTING, Step.PUBLICITY, Step.DONE)] == [1, 1, 1]
        assert topic_of(topic_id).voting_reminders_sent == 2
        assert len(notices(topic_id, VOTE_REMINDER)) == 2
