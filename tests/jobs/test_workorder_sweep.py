"""The SLA sweep on a moving clock: each escalation step at its time, to the right people, once however often
the sweep runs; urges bring it forward, accepting starts the close phase, ended orders never escalate, and the
submitter is reminded once to answer. Notifications go through the real outbox, Redis and an RQ worker."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from rq.registry import FinishedJobRegistry
from sqlalchemy import select

from backend.domain.notifications import WORK_ORDER_ESCALATED, WORK_ORDER_RATE_REMINDER
from backend.domain.roles import Role
from backend.domain.workorders import Action, Status, Urgency
from backend.extensions import db
from backend.jobs.slots import enqueue_slot
from backend.jobs.workorders import sweep
from backend.models import Notice, Notification, User, WorkOrder, WorkOrderEscalation, WorkOrderEvent
from backend.services import workorders
from backend.services.queueing import QUEUES
from tests.support import first_household

pytestmark = pytest.mark.calendar

# 10:00 on a Monday in Beijing: escalations land in working hours and outside quiet hours.
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
SWEEP = "backend.jobs.workorders.sweep"
STAFF = frozenset({Role.STAFF})
MANAGER = frozenset({Role.MANAGER})
RESIDENT = frozenset({Role.RESIDENT})


@dataclass
class People:
    compound_id: int
    household_id: int
    resident: User
    staff: User
    manager: User
    committee: User
    secretary: User
    official: User
    street_official: User


@pytest.fixture
def people(area_tree, make_compound, make_user) -> People:
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=2)
    household = first_household(compound)
    return People(
        compound_id=compound.id,
        household_id=household.id,
        resident=make_user(Role.RESIDENT, compound, household=household),
        staff=make_user(Role.STAFF, compound),
        manager=make_user(Role.MANAGER, compound),
        committee=make_user(Role.COMMITTEE, compound),
        secretary=make_user(Role.PARTY_SECRETARY, compound),
        official=make_user(Role.OFFICIAL, area=community),
        # Above the community: the community's own officials are the nearest, so the street is not told.
        street_official=make_user(Role.OFFICIAL, area=street),
    )


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


def work(redis_conn) -> None:
    """Run every queued job (fan-out, push planning) in this process, as the worker would."""
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


# Each report differs: the same report again within two minutes is a double tap and files once.
_reports = itertools.count(1)


def submit(people: People, urgency: Urgency = Urgency.NORMAL, at: datetime = T0) -> int:
    with time_machine.travel(at, tick=False):
        order = workorders.submit_order(
            user_id=people.resident.id, compound_id=people.compound_id, category="水电维修",
            description=f"厨房水管漏水（{next(_reports)}）", urgency=urgency, household_id=people.household_id,
        )
    return order.id


def act(order_id: int, user: User, roles: frozenset[Role], action: Action, at: datetime, note: str = "") -> None:
    with time_machine.travel(at, tick=False):
        workorders.transition(order_id, user.id, roles, action, note=note)


def sweep_at(at: datetime) -> dict[str, int]:
    with time_machine.travel(at, tick=False):
        return sweep()


def steps(order_id: int) -> list[tuple[str, int]]:
    rows = db.session.scalars(
        select(WorkOrderEscalation).where(WorkOrderEscalation.work_order_id == order_id)
        .order_by(WorkOrderEscalation.id)
    )
    return [(row.phase, row.level) for row in rows]


def escalation_events(order_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(WorkOrderEvent.note).where(
                WorkOrderEvent.work_order_id == order_id, WorkOrderEvent.action == "escalate"
            ).order_by(WorkOrderEvent.id)
        )
    )


def notices(order_id: int, kind: str) -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice).where(Notice.kind == kind, Notice.link == f"/h5/work-orders/{order_id}").order_by(Notice.id)
        )
    )


def recipients(notice: Notice) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(Notification.notice_id == notice.id)))


def test_a_normal_order_climbs_manager_committee_community_each_step_once(people, redis_conn):
    order_id = submit(people)
    hour = timedelta(hours=1)
    second = timedelta(seconds=1)

    expected = []
    for level, due in ((1, 4 * hour), (2, 8 * hour), (3, 12 * hour)):
        assert sweep_at(T0 + due - second)["escalated"] == 0
        assert steps(order_id) == expected
        assert sweep_at(T0 + due)["escalated"] == 1
        # The next cron slot, or a second cron process in the same one: nothing more.
        assert sweep_at(T0 + due)["escalated"] == 0
        assert sweep_at(T0 + due + 5 * timedelta(minutes=1))["escalated"] == 0
        expected.append(("accept", level))
        assert steps(order_id) == expected
    assert sweep_at(T0 + 100 * hour)["escalated"] == 0

    assert steps(order_id) == [("accept", 1), ("accept", 2), ("accept", 3)]
    assert escalation_events(order_id) == ["已提醒物业经理", "已上报业委会和党组织", "已上报社区"]
    work(redis_conn)
    sent = notices(order_id, WORK_ORDER_ESCALATED)
    assert [notice.title for notice in sent] == ["工单超时未受理：水电维修"] * 3
    assert [recipients(notice) for notice in sent] == [
        {people.manager.id},
        {people.committee.id, people.secretary.id},
        {people.official.id},
    ]
    order = db.session.get(WorkOrder, order_id)
    assert (order.escalation_level, order.escalate_at) == (3, None)


def test_an_urgent_order_escalates_every_thirty_minutes_past_its_accept_deadline(people, redis_conn):
    order_id = submit(people, Urgency.URGENT)
    minute = timedelta(minutes=1)

    assert sweep_at(T0 + 29 * minute)["escalated"] == 0
    assert sweep_at(T0 + 30 * minute)["escalated"] == 1
    assert sweep_at(T0 + 59 * minute)["escalated"] == 0
    assert sweep_at(T0 + 60 * minute)["escalated"] == 1
    assert sweep_at(T0 + 90 * minute)["escalated"] == 1
    assert sweep_at(T0 + 95 * minute)["escalated"] == 0

    assert steps(order_id) == [("accept", 1), ("accept", 2), ("accept", 3)]
    work(redis_conn)
    assert [recipients(n) for n in notices(order_id, WORK_ORDER_ESCALATED)] == [
        {people.manager.id}, {people.committee.id, people.secretary.id}, {people.official.id},
    ]


def test_a_sweep_after_an_outage_takes_every_overdue_step_once(people, redis_conn):
    order_id = submit(people)

    first = sweep_at(T0 + timedelta(hours=13))
    again = sweep_at(T0 + timedelta(hours=13))

    assert (first["escalated"], again["escalated"]) == (3, 0)
    assert steps(order_id) == [("accept", 1), ("accept", 2), ("accept", 3)]
    work(redis_conn)
    assert len(notices(order_id, WORK_ORDER_ESCALATED)) == 3
    assert len(db.session.scalars(select(Notification).where(Notification.user_id == people.manager.id)).all()) == 1


def test_urges_bring_each_step_a_quarter_window_forward(people):
    order_id = submit(people)
    hour = timedelta(hours=1)
    with time_machine.travel(T0 + hour, tick=False):
        workorders.urge(order_id, people.resident.id)

    # One urge: the manager at 4 h - 1 h.
    assert sweep_at(T0 + 3 * hour - timedelta(seconds=1))["escalated"] == 0
    assert sweep_at(T0 + 3 * hour)["escalated"] == 1

    with time_machine.travel(T0 + 5 * hour, tick=False):
        workorders.urge(order_id, people.resident.id)

    # Two urges: the committee at 8 h - 2 h, the community at 12 h - 2 h.
    assert sweep_at(T0 + 6 * hour - timedelta(seconds=1))["escalated"] == 0
    assert sweep_at(T0 + 6 * hour)["escalated"] == 1
    assert sweep_at(T0 + 10 * hour)["escalated"] == 1
    assert steps(order_id) == [("accept", 1), ("accept", 2), ("accept", 3)]
    assert db.session.get(WorkOrder, order_id).urge_count == 2


def test_accepting_starts_the_close_phase_from_its_first_step(people, redis_conn):
    order_id = submit(people)
    hour = timedelta(hours=1)
    assert sweep_at(T0 + 4 * hour)["escalated"] == 1  # not accepted in time: the manager hears

    act(order_id, people.staff, STAFF, Action.ACCEPT, T0 + 5 * hour)
    assert sweep_at(T0 + 8 * hour)["escalated"] == 0  # the accept phase's committee step is off

    # Normal close SLA is 72 h from submission; its steps are a 72-hour window apart.
    assert sweep_at(T0 + 72 * hour - timedelta(seconds=1))["escalated"] == 0
    assert sweep_at(T0 + 72 * hour)["escalated"] == 1
    assert sweep_at(T0 + 144 * hour)["escalated"] == 1
    assert sweep_at(T0 + 216 * hour)["escalated"] == 1
    assert sweep_at(T0 + 400 * hour)["escalated"] == 0

    assert steps(order_id) == [("accept", 1), ("close", 1), ("close", 2), ("close", 3)]
    work(redis_conn)
    assert [notice.title for notice in notices(order_id, WORK_ORDER_ESCALATED)] == [
        "工单超时未受理：水电维修", "工单超时未办结：水电维修", "工单超时未办结：水电维修", "工单超时未办结：水电维修",
    ]


@pytest.mark.parametrize("ending", ["close", "withdraw", "reject"])
def test_orders_that_ended_never_escalate(people, ending):
    order_id = submit(people)
    at = T0 + timedelta(minutes=30)
    if ending == "withdraw":
        act(order_id, people.resident, RESIDENT, Action.WITHDRAW, at)
    elif ending == "reject":
        act(order_id, people.staff, STAFF, Action.REJECT, at, note="不属于物业维修范围")
    else:
        act(order_id, people.staff, STAFF, Action.ACCEPT, at)
        act(order_id, people.staff, STAFF, Action.START, at)
        act(order_id, people.staff, STAFF, Action.CLOSE, at, note="已更换水管")

    for hours in (4, 8, 12, 72, 144, 216, 1000):
        assert sweep_at(T0 + timedelta(hours=hours))["escalated"] == 0
    assert steps(order_id) == []
    assert db.session.get(WorkOrder, order_id).escalate_at is None


def test_a_disputed_order_goes_on_climbing_without_repeating_steps_taken(people, redis_conn):
    order_id = submit(people)
    hour = timedelta(hours=1)
    act(order_id, people.staff, STAFF, Action.ACCEPT, T0 + hour)
    act(order_id, people.staff, STAFF, Action.START, T0 + hour)
    assert sweep_at(T0 + 72 * hour)["escalated"] == 1
    act(order_id, people.staff, STAFF, Action.CLOSE, T0 + 73 * hour, note="已处理")

    act(order_id, people.resident, RESIDENT, Action.DISPUTE, T0 + 80 * hour, note="还在漏水")

    # The manager heard at 72 h already; the committee's step is still 144 h.
    assert sweep_at(T0 + 80 * hour)["escalated"] == 0
    assert sweep_at(T0 + 144 * hour)["escalated"] == 1
    assert steps(order_id) == [("close", 1), ("close", 2)]
    work(redis_conn)
    assert [recipients(n) for n in notices(order_id, WORK_ORDER_ESCALATED)] == [
        {people.manager.id}, {people.committee.id, people.secretary.id},
    ]


def test_the_submitter_is_reminded_once_to_answer_three_days_after_close(people, redis_conn):
    order_id = submit(people)
    closed_at = T0 + timedelta(hours=2)
    act(order_id, people.staff, STAFF, Action.ACCEPT, T0 + timedelta(hours=1))
    act(order_id, people.staff, STAFF, Action.START, T0 + timedelta(hours=1))
    act(order_id, people.staff, STAFF, Action.CLOSE, closed_at, note="已更换水管")

    assert sweep_at(closed_at + timedelta(days=3) - timedelta(seconds=1))["reminded"] == 0
    assert sweep_at(closed_at + timedelta(days=3))["reminded"] == 1
    assert sweep_at(closed_at + timedelta(days=3))["reminded"] == 0
    assert sweep_at(closed_at + timedelta(days=5))["reminded"] == 0

    work(redis_conn)
    reminders = notices(order_id, WORK_ORDER_RATE_REMINDER)
    assert len(reminders) == 1
    assert recipients(reminders[0]) == {people.resident.id}


def test_no_reminder_once_answered_or_after_the_seven_days(people):
    answered = submit(people)
    forgotten = submit(people)
    closed_at = T0 + timedelta(hours=2)
    for order_id in (answered, forgotten):
        act(order_id, people.staff, STAFF, Action.ACCEPT, T0 + timedelta(hours=1))
        act(order_id, people.staff, STAFF, Action.START, T0 + timedelta(hours=1))
        act(order_id, people.staff, STAFF, Action.CLOSE, closed_at, note="已处理")
    act(answered, people.resident, RESIDENT, Action.CONFIRM, closed_at + timedelta(days=1))

    # The sweep was down from day 3 to day 7: the window to answer is over, nobody is reminded late.
    assert sweep_at(closed_at + timedelta(days=7))["reminded"] == 0
    assert notices(answered, WORK_ORDER_RATE_REMINDER) == notices(forgotten, WORK_ORDER_RATE_REMINDER) == []


def test_the_cron_slot_runs_the_sweep_once_on_a_worker(people, redis_conn):
    order_id = submit(people)
    with time_machine.travel(T0 + timedelta(hours=4, seconds=20), tick=False):
        first = enqueue_slot(SWEEP, "*/5 * * * *", "default")
        second = enqueue_slot(SWEEP, "*/5 * * * *", "default")
        work(redis_conn)
        # Read while the clock still stands there: the registry drops jobs whose result_ttl ran out.
        finished = FinishedJobRegistry("default", connection=redis_conn).get_job_ids()

    assert first == "backend_jobs_workorders_sweep-202611020600"
    assert second is None
    assert [job_id for job_id in finished if job_id.startswith("backend_jobs_workorders")] == [first]
    assert steps(order_id) == [("accept", 1)]
    assert [recipients(n) for n in notices(order_id, WORK_ORDER_ESCALATED)] == [{people.manager.id}]
    assert db.session.get(WorkOrder, order_id).status is Status.SUBMITTED
