"""`linli jobs failed` and `linli jobs requeue`: failed jobs are visible and go back to their queue."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from rq import Queue, SimpleWorker, get_current_job
from rq.job import Job, JobStatus

from backend.services.queueing import QUEUES

HERE = __name__
ALLOW_KEY = "linli:test:job-admin:allow"


def send_reminder(notification_id: int) -> int:
    """Fails until the (stand-in for an) outside service is back, i.e. while ALLOW_KEY is unset."""
    if not get_current_job().connection.get(ALLOW_KEY):
        raise RuntimeError(f"WeChat unreachable for notification {notification_id}")
    return notification_id


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["jobs", *args])


def _burst(redis_conn) -> None:
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


def _fail(redis_conn, queue: str, job_id: str, at: datetime) -> None:
    Queue(queue, connection=redis_conn).enqueue(f"{HERE}.send_reminder", 7, job_id=job_id)
    with time_machine.travel(at, tick=False):
        _burst(redis_conn)
    assert Job.fetch(job_id, connection=redis_conn).get_status() == JobStatus.FAILED


def test_no_failed_jobs_says_so(cli):
    result = cli("failed")

    assert result.exit_code == 0
    assert "没有失败的任务" in result.output


def test_failed_jobs_are_listed_newest_first_with_queue_function_beijing_time_and_last_error(redis_conn, cli):
    _fail(redis_conn, "low", "tally-1", datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    _fail(redis_conn, "high", "remind-1", datetime(2026, 11, 25, 15, 30, 5, tzinfo=UTC))

    result = cli("failed")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("\t") == [
        "remind-1", "high", f"{HERE}.send_reminder", "2026-11-25 23:30:05",
        "RuntimeError: WeChat unreachable for notification 7",
    ]
    assert lines[1].split("\t")[:4] == ["tally-1", "low", f"{HERE}.send_reminder", "2026-11-25 10:00:00"]
    assert lines[2] == "共 2 个失败任务"


def test_a_requeued_job_goes_back_to_its_queue_and_a_worker_then_runs_it(redis_conn, cli):
    _fail(redis_conn, "high", "remind-2", datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    redis_conn.set(ALLOW_KEY, "1")

    result = cli("requeue", "remind-2")

    assert result.exit_code == 0, result.output
    assert "已重新排队 remind-2（队列 high）" in result.output
    assert Queue("high", connection=redis_conn).job_ids == ["remind-2"]
    _burst(redis_conn)
    job = Job.fetch("remind-2", connection=redis_conn)
    assert (job.get_status(), job.return_value()) == (JobStatus.FINISHED, 7)
    assert "没有失败的任务" in cli("failed").output


def test_requeue_all_puts_every_failed_job_back_on_its_own_queue(redis_conn, cli):
    _fail(redis_conn, "high", "remind-3", datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    _fail(redis_conn, "low", "tally-3", datetime(2026, 11, 25, 1, 1, tzinfo=UTC))

    result = cli("requeue", "--all")

    assert result.exit_code == 0, result.output
    assert "已重新排队 2 个任务" in result.output
    assert Queue("high", connection=redis_conn).job_ids == ["remind-3"]
    assert Queue("low", connection=redis_conn).job_ids == ["tally-3"]
    assert "没有失败的任务" in cli("failed").output


@pytest.mark.parametrize("job_id", ["no-such-job", "bad.id/with:chars", "finished-job"])
def test_requeue_of_a_job_that_is_not_a_failed_job_exits_with_a_chinese_message(redis_conn, cli, job_id):
    redis_conn.set(ALLOW_KEY, "1")
    Queue("default", connection=redis_conn).enqueue(f"{HERE}.send_reminder", 1, job_id="finished-job")
    _burst(redis_conn)

    result = cli("requeue", job_id)

    assert result.exit_code != 0
    assert f"没有编号为 {job_id} 的失败任务" in result.output
    assert Queue("default", connection=redis_conn).job_ids == []


@pytest.mark.parametrize("args", [(), ("remind-4", "--all")], ids=["neither", "both"])
def test_requeue_needs_exactly_one_of_an_id_or_all(cli, args):
    result = cli("requeue", *args)

    assert result.exit_code == 2
    assert "请给出一个任务编号，或使用 --all" in result.output
