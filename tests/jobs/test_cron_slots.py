"""Periodic jobs: one job per cron slot however many cron processes ask, run by a real RQ worker on real Redis."""
from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine
from croniter import croniter
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from rq.job import Job, JobStatus
from rq.registry import FinishedJobRegistry
from rq.utils import import_attribute

from backend.jobs.health import last_worker_heartbeat
from backend.jobs.slots import enqueue_slot, slot_job_id
from backend.services.queueing import QUEUES

pytestmark = pytest.mark.calendar

HEARTBEAT = "backend.jobs.health.record_worker_heartbeat"
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


def _burst(redis_conn) -> bool:
    """Run every queued job in this process (the test's app context is the job's app context)."""
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    return worker.work(burst=True, logging_level="WARNING")


def test_two_cron_processes_asking_for_the_same_slot_queue_one_job(redis_conn):
    with time_machine.travel(datetime(2026, 11, 25, 1, 0, 12, tzinfo=UTC), tick=False):
        first = enqueue_slot(HEARTBEAT, "* * * * *", "low")
        second = enqueue_slot(HEARTBEAT, "* * * * *", "low")

    assert first == "backend_jobs_health_record_worker_heartbeat-202611250100"
    assert second is None
    assert Queue("low", connection=redis_conn).job_ids == [first]


def test_the_next_slot_queues_again(redis_conn):
    with time_machine.travel(datetime(2026, 11, 25, 1, 0, 50, tzinfo=UTC), tick=False) as traveller:
        first = enqueue_slot(HEARTBEAT, "* * * * *", "low")
        traveller.shift(timedelta(seconds=15))
        second = enqueue_slot(HEARTBEAT, "* * * * *", "low")

    assert (first[-4:], second[-4:]) == ("0100", "0101")
    assert Queue("low", connection=redis_conn).job_ids == [first, second]


@pytest.mark.parametrize(
    ("cron", "now", "slot"),
    [
        pytest.param("0 1 * * *", datetime(2026, 11, 25, 1, 0, 40, tzinfo=UTC), "202611250100", id="on-the-slot"),
        pytest.param("0 1 * * *", datetime(2026, 11, 25, 0, 59, tzinfo=UTC), "202611240100", id="before-today-s-slot"),
        pytest.param("0 1 * * *", datetime(2026, 11, 25, 9, 0, tzinfo=BEIJING), "202611250100", id="beijing-clock"),
        pytest.param("*/15 * * * *", datetime(2026, 11, 25, 10, 14, 59, tzinfo=UTC), "202611251000", id="quarter-hour"),
        # 2026-11-25 is a Wednesday: the weekly Monday 02:00 UTC slot was two days before.
        pytest.param("0 2 * * 1", datetime(2026, 11, 25, 12, 0, tzinfo=UTC), "202611230200", id="weekly"),
    ],
)
def test_the_slot_is_the_latest_cron_time_at_or_before_now(redis_conn, cron, now, slot):
    with time_machine.travel(now, tick=False):
        job_id = enqueue_slot(HEARTBEAT, cron, "low")

    assert job_id == f"backend_jobs_health_record_worker_heartbeat-{slot}"
    assert slot_job_id(HEARTBEAT, cron, now) == job_id


def test_a_queued_heartbeat_runs_on_a_worker_and_is_readable(redis_conn):
    assert last_worker_heartbeat() is None
    job_id = enqueue_slot(HEARTBEAT, "* * * * *", "low")

    assert _burst(redis_conn)

    assert Job.fetch(job_id, connection=redis_conn).get_status() == JobStatus.FINISHED
    stamp = datetime.fromisoformat(last_worker_heartbeat())
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)


def test_a_slot_already_run_is_not_queued_again(redis_conn):
    with time_machine.travel(datetime(2026, 11, 25, 1, 0, 5, tzinfo=UTC), tick=False):
        assert enqueue_slot(HEARTBEAT, "* * * * *", "low")
        _burst(redis_conn)
        # A late second cron process: the finished job is still kept (result_ttl), so the slot stays taken.
        assert enqueue_slot(HEARTBEAT, "* * * * *", "low") is None
    assert Queue("low", connection=redis_conn).count == 0


def test_every_periodic_job_is_registered_with_rq_cron_exactly_once(redis_conn):
    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file("backend.jobs.cron")
    # load_config_from_file re-imports the module, so read the list it just ran.
    periodic = sys.modules["backend.jobs.cron"].PERIODIC_JOBS

    registered = Counter((job.func_name, job.args, job.cron, job.queue_name) for job in scheduler.get_jobs())

    assert periodic
    assert registered == Counter(
        ("backend.jobs.slots.enqueue_slot", (job.job_path, job.cron, job.queue), job.cron, "high") for job in periodic
    )
    for job in periodic:
        assert callable(import_attribute(job.job_path))
        assert croniter.is_valid(job.cron)
        assert job.queue in QUEUES


def test_two_cron_schedulers_at_the_same_minute_run_the_heartbeat_once(redis_conn):
    with time_machine.travel(datetime(2026, 11, 25, 1, 0, 30, tzinfo=UTC), tick=False) as traveller:
        schedulers = [CronScheduler(connection=redis_conn) for _ in range(2)]
        for scheduler in schedulers:
            scheduler.load_config_from_file("backend.jobs.cron")
        traveller.move_to(datetime(2026, 11, 25, 1, 1, 0, tzinfo=UTC))
        for scheduler in schedulers:
            assert scheduler.enqueue_jobs()

        _burst(redis_conn)
        # Read while still on 2026-11-25: the registry's entries expire by the clock (result_ttl a day).
        finished = FinishedJobRegistry("low", connection=redis_conn).get_job_ids()

    assert finished == ["backend_jobs_health_record_worker_heartbeat-202611250101"]
    assert last_worker_heartbeat().startswith("2026-11-25T01:01:00")


def test_a_worker_that_is_behind_still_queues_the_slot_cron_fired_for(redis_conn):
    with time_machine.travel(datetime(2026, 11, 25, 1, 0, 30, tzinfo=UTC), tick=False) as traveller:
        schedulers = [CronScheduler(connection=redis_conn) for _ in range(2)]
        for scheduler in schedulers:
            scheduler.load_config_from_file("backend.jobs.cron")
        traveller.move_to(datetime(2026, 11, 25, 1, 1, 0, tzinfo=UTC))
        schedulers[0].enqueue_jobs()
        traveller.move_to(datetime(2026, 11, 25, 1, 3, 40, tzinfo=UTC))  # the first slot waited 2½ minutes
        schedulers[1].enqueue_jobs()

        _burst(redis_conn)
        finished = FinishedJobRegistry("low", connection=redis_conn).get_job_ids()

    assert sorted(finished) == [
        "backend_jobs_health_record_worker_heartbeat-202611250101",
        "backend_jobs_health_record_worker_heartbeat-202611250103",
    ]
