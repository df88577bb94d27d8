"""Each job run writes one JSON line on `linli.jobs`: id, function, queue, outcome, duration, retries, error."""
from __future__ import annotations

import json
import logging
import time

import pytest
from rq import Queue, Retry, SimpleWorker, get_current_job

from backend.jobs.logging import describe_error
from backend.jobs.slots import enqueue_slot
from backend.services.queueing import JOB_CALLBACKS, QUEUES

HERE = __name__
ALLOW_KEY = "linli:test:job-logging:allow"


def pause_briefly(milliseconds: int) -> int:
    time.sleep(milliseconds / 1000)
    return milliseconds


def look_up_household(phone: str) -> None:
    raise LookupError("no household for this phone\nsecond line of detail")


def fails_first_time() -> str:
    connection = get_current_job().connection
    if not connection.get(ALLOW_KEY):
        connection.set(ALLOW_KEY, "1")
        raise ConnectionError("WeChat busy")
    return "sent"


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


@pytest.fixture
def job_lines(caplog):
    caplog.set_level(logging.INFO, logger="linli.jobs")

    def lines(job_id: str) -> list[tuple[int, dict]]:
        parsed = []
        for record in caplog.records:
            if record.name != "linli.jobs" or not record.getMessage().startswith("{"):
                continue
            line = json.loads(record.getMessage())
            if line["job_id"] == job_id:
                parsed.append((record.levelno, line))
        return parsed

    return lines


def _burst(redis_conn) -> None:
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


def test_a_job_that_succeeds_logs_one_ok_line_with_its_duration(redis_conn, job_lines):
    job = Queue("default", connection=redis_conn).enqueue(f"{HERE}.pause_briefly", 30, **JOB_CALLBACKS)

    _burst(redis_conn)

    [(level, line)] = job_lines(job.id)
    assert level == logging.INFO
    assert line["func"] == f"{HERE}.pause_briefly"
    assert line["queue"] == "default"
    assert line["outcome"] == "ok"
    assert 30 <= line["duration_ms"] < 5000
    assert line["retries_left"] is None
    assert "error" not in line


def test_a_failing_job_logs_failed_with_the_error_class_and_not_its_arguments(redis_conn, job_lines):
    job = Queue("high", connection=redis_conn).enqueue(f"{HERE}.look_up_household", "13900000001", **JOB_CALLBACKS)

    _burst(redis_conn)

    [(level, line)] = job_lines(job.id)
    assert level == logging.ERROR
    assert line["outcome"] == "failed"
    assert line["queue"] == "high"
    assert line["error"] == "LookupError: no household for this phone"
    assert line["will_retry"] is False
    assert line["duration_ms"] >= 0
    assert "13900000001" not in json.dumps(line)


def test_a_job_retried_after_a_failure_logs_each_run(redis_conn, job_lines):
    job = Queue("high", connection=redis_conn).enqueue(
        f"{HERE}.fails_first_time", retry=Retry(max=2), **JOB_CALLBACKS
    )

    _burst(redis_conn)

    [(first_level, first), (second_level, second)] = job_lines(job.id)
    assert (first_level, first["outcome"], first["will_retry"], first["retries_left"]) == (
        logging.WARNING, "failed", True, 1,
    )
    assert first["error"] == "ConnectionError: WeChat busy"
    assert (second_level, second["outcome"], second["retries_left"]) == (logging.INFO, "ok", 1)


def test_the_last_allowed_failure_says_no_retry_is_left(redis_conn, job_lines):
    job = Queue("high", connection=redis_conn).enqueue(
        f"{HERE}.look_up_household", "13900000001", retry=Retry(max=1), **JOB_CALLBACKS
    )

    _burst(redis_conn)

    assert [(line["outcome"], line["will_retry"], line["retries_left"]) for _, line in job_lines(job.id)] == [
        ("failed", True, 0),
        ("failed", False, 0),
    ]


def test_a_periodic_job_queued_for_its_slot_logs_its_run(redis_conn, job_lines):
    job_id = enqueue_slot("backend.jobs.health.record_worker_heartbeat", "* * * * *", "low")

    _burst(redis_conn)

    [(_, line)] = job_lines(job_id)
    assert (line["func"], line["queue"], line["outcome"]) == (
        "backend.jobs.health.record_worker_heartbeat", "low", "ok",
    )


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        pytest.param(ValueError("bad id"), "ValueError: bad id", id="class-and-message"),
        pytest.param(KeyError(), "KeyError", id="no-message"),
        pytest.param(RuntimeError("x" * 500), "RuntimeError: " + "x" * 200, id="long-message-cut"),
    ],
)
def test_the_error_is_the_class_and_a_short_first_line(exc, expected):
    assert describe_error(type(exc), exc) == expected
