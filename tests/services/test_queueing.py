"""Jobs asked for in a transaction reach Redis only after its commit, once, wait in the outbox while Redis is
down, and count as done only when they ran: one lost with Redis's data is pushed again (real Redis, real
database, an in-process RQ worker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker, get_current_job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import create_engine, insert, select, text

from backend.extensions import db
from backend.models import OutboxJob
from backend.redis_conn import connect
from backend.services import job_admin, queueing
from backend.services.queueing import QUEUES, enqueue_after_commit, push_committed_jobs, relay_outbox
from backend.shared.clock import utcnow

RECORD = f"{__name__}.record_run"
RUNS_KEY = "linli:test:queueing:runs"
CLOSED_PORT_URL = "redis://127.0.0.1:9/0"


def job_id_of(row_id: int) -> str:
    """The RQ job id the outbox gave a row (a random one, so a reused row id can never collide)."""
    return db.session.get(OutboxJob, row_id).job_id



def record_run(label: str) -> str:
    get_current_job().connection.rpush(RUNS_KEY, label)
    return label


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


@pytest.fixture
def redis_down(app, monkeypatch, redis_conn):
    """Points the app at a port nobody listens on; call the returned function to bring Redis back."""
    monkeypatch.setitem(app.extensions, "linli_redis", connect(CLOSED_PORT_URL))
    return lambda: monkeypatch.setitem(app.extensions, "linli_redis", redis_conn)


def runs(redis_conn) -> list[str]:
    return [raw.decode() for raw in redis_conn.lrange(RUNS_KEY, 0, -1)]


def work(redis_conn) -> None:
    SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn).work(
        burst=True, logging_level="WARNING"
    )


def ask(label: str, **options) -> int:
    return enqueue_after_commit(RECORD, label, queue="default", **options).id


def unpushed() -> list[int]:
    return list(
        db.session.scalars(select(OutboxJob.id).where(OutboxJob.pushed_at.is_(None)).order_by(OutboxJob.id))
    )


def test_a_rolled_back_transaction_pushes_nothing(redis_conn):
    row_id = ask("never")
    db.session.rollback()

    assert push_committed_jobs() == 0
    assert db.session.get(OutboxJob, row_id) is None
    assert relay_outbox() == 0
    assert Queue("default", connection=redis_conn).count == 0
    work(redis_conn)
    assert runs(redis_conn) == []


def test_a_committed_transaction_pushes_its_job_once(redis_conn):
    row_id = ask("once")
    # Nothing reaches Redis before the commit.
    assert push_committed_jobs() == 0
    assert Queue("default", connection=redis_conn).count == 0
    db.session.commit()

    assert push_committed_jobs() == 1
    assert push_committed_jobs() == 0
    assert relay_outbox() == 0
    queue = Queue("default", connection=redis_conn)
    assert queue.job_ids == [job_id_of(row_id)]
    assert db.session.get(OutboxJob, row_id).pushed_at is not None
    work(redis_conn)
    assert runs(redis_conn) == ["once"]


def test_jobs_go_to_the_queue_they_name(redis_conn):
    high = enqueue_after_commit(RECORD, "h", queue="high").id
    low = enqueue_after_commit(RECORD, "l", queue="low").id
    db.session.commit()
    push_committed_jobs()

    assert Queue("high", connection=redis_conn).job_ids == [job_id_of(high)]
    assert Queue("low", connection=redis_conn).job_ids == [job_id_of(low)]
    assert Queue("default", connection=redis_conn).count == 0


def test_the_same_row_pushed_twice_queues_one_job(redis_conn):
    row_id = ask("twice")
    db.session.commit()
    push_committed_jobs()
    # The push reached Redis but recording it did not (a crash in between): the relay pushes it again.
    db.session.get(OutboxJob, row_id).pushed_at = None
    db.session.commit()

    assert relay_outbox() == 1
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id)]
    assert unpushed() == []
    work(redis_conn)

    # Even after the job ran, a late third push is refused: its result is still kept.
    db.session.get(OutboxJob, row_id).pushed_at = None
    db.session.commit()
    relay_outbox()
    work(redis_conn)
    assert runs(redis_conn) == ["twice"]


def test_while_redis_is_down_jobs_wait_and_the_relay_pushes_them_oldest_first(redis_conn, redis_down):
    ids = []
    for label in ("first", "second", "third"):
        ids.append(ask(label))
        db.session.commit()
        assert push_committed_jobs() == 0  # no error: the row waits
    assert relay_outbox() == 0  # still down: stops without an error
    assert unpushed() == ids

    redis_down()  # Redis is back
    assert relay_outbox() == 3
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id) for row_id in ids]
    assert unpushed() == []
    assert relay_outbox() == 0
    work(redis_conn)
    assert runs(redis_conn) == ["first", "second", "third"]


def test_the_relay_pushes_a_long_backlog_in_rounds(redis_conn, redis_down, monkeypatch):
    monkeypatch.setattr(queueing, "RELAY_BATCH", 2)
    ids = [ask(str(n)) for n in range(5)]
    db.session.commit()
    push_committed_jobs()
    redis_down()

    assert relay_outbox() == 5
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id) for row_id in ids]


def test_a_database_lost_right_after_the_commit_leaves_the_jobs_to_the_relay(redis_conn, monkeypatch, tmp_path):
    row_id = ask("committed")
    db.session.commit()
    database = db.engines[None]
    # The database goes away between the commit and the push (as the request's after_request runs).
    monkeypatch.setitem(db.engines, None, create_engine(f"sqlite:///{tmp_path / 'gone' / 'linli.db'}"))

    assert push_committed_jobs() == 0  # no error: the request that committed still answers
    assert Queue("default", connection=redis_conn).count == 0

    monkeypatch.setitem(db.engines, None, database)  # back
    assert relay_outbox() == 1
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id)]


def test_a_job_for_later_waits_in_the_scheduled_registry(redis_conn):
    run_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    row_id = ask("later", run_at=run_at)
    db.session.commit()
    push_committed_jobs()

    queue = Queue("default", connection=redis_conn)
    registry = ScheduledJobRegistry(queue=queue)
    assert queue.count == 0
    assert registry.get_job_ids() == [job_id_of(row_id)]
    assert registry.get_scheduled_time(job_id_of(row_id)) == run_at


def test_a_job_for_a_time_already_past_when_relayed_is_queued_at_once(redis_conn, redis_down):
    row_id = ask("late", run_at=datetime.now(UTC) - timedelta(minutes=1))
    db.session.commit()
    push_committed_jobs()
    redis_down()

    relay_outbox()
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id)]


def test_a_rolled_back_savepoint_does_not_hold_back_the_jobs_asked_for_before_it(redis_conn):
    kept = ask("kept")
    with pytest.raises(LookupError), db.session.begin_nested():
        ask("dropped")
        raise LookupError("a nested step failed")
    db.session.commit()

    assert push_committed_jobs() == 1
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(kept)]
    assert unpushed() == []


# ---- settled by the job, not by the push ---------------------------------------------------------

FLAKY = f"{__name__}.flaky_run"
FAILING_KEY = "linli:test:queueing:failing"


def flaky_run(label: str) -> str:
    """Fails while the test says so (a key in Redis), then records its run."""
    connection = get_current_job().connection
    if connection.sismember(FAILING_KEY, label):
        raise RuntimeError(f"{label} fails")
    connection.rpush(RUNS_KEY, label)
    return label


def row_of(row_id: int) -> OutboxJob:
    db.session.expire_all()
    return db.session.get(OutboxJob, row_id)


@pytest.fixture
def later():
    """The clock, to move past the relay's re-push delay."""
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        yield traveller


def test_a_row_is_done_when_its_job_succeeds_not_when_it_reaches_redis(redis_conn):
    row_id = ask("settled")
    db.session.commit()
    push_committed_jobs()
    assert row_of(row_id).pushed_at is not None and row_of(row_id).done_at is None

    work(redis_conn)
    row = row_of(row_id)
    assert row.done_at is not None and row.failed_at is None and row.pushes == 1


def test_a_job_lost_with_redis_data_is_pushed_again_after_the_delay_and_runs_once(redis_conn, later):
    row_id = ask("lost")
    db.session.commit()
    push_committed_jobs()
    redis_conn.flushdb()  # Redis restarted without persistence: the queued job is gone

    assert relay_outbox() == 0  # not late yet: a job normally waits seconds, not minutes
    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 1
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id)]
    work(redis_conn)

    assert runs(redis_conn) == ["lost"]
    row = row_of(row_id)
    assert row.pushes == 2 and row.done_at is not None
    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 0


def test_a_job_still_queued_past_the_delay_is_looked_at_not_queued_twice(redis_conn, later):
    row_id = ask("slow worker")
    db.session.commit()
    push_committed_jobs()

    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 1
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id)]
    assert row_of(row_id).pushes == 1
    assert relay_outbox() == 0  # looked at just now: not again before the next delay
    work(redis_conn)

    assert runs(redis_conn) == ["slow worker"]
    assert row_of(row_id).done_at is not None


def test_an_outcome_the_database_missed_is_read_from_redis_and_the_job_not_run_again(redis_conn, later):
    row_id = ask("ran")
    db.session.commit()
    push_committed_jobs()
    work(redis_conn)
    # The success callback could not reach the database: the row still looks open.
    row_of(row_id).done_at = None
    db.session.commit()

    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 1
    work(redis_conn)
    assert runs(redis_conn) == ["ran"]
    assert row_of(row_id).done_at is not None and row_of(row_id).pushes == 1


def test_a_job_for_later_is_not_pushed_again_before_its_time(redis_conn, later):
    row_id = ask("at eight", run_at=datetime.now(UTC) + timedelta(hours=2))
    db.session.commit()
    push_committed_jobs()
    redis_conn.flushdb()

    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 0
    later.shift(timedelta(hours=2))
    assert relay_outbox() == 1
    work(redis_conn)
    assert runs(redis_conn) == ["at eight"]
    assert row_of(row_id).pushes == 2


def test_a_job_failed_for_good_is_marked_failed_left_alone_by_the_relay_and_done_once_requeued(
    redis_conn, later, monkeypatch
):
    # Retries at once, so one burst uses them all (the real schedule needs the scheduler and minutes).
    monkeypatch.setattr(queueing, "RETRY_INTERVALS", [0, 0])
    redis_conn.sadd(FAILING_KEY, "broken")
    row_id = enqueue_after_commit(FLAKY, "broken", queue="default").id
    db.session.commit()
    push_committed_jobs()
    work(redis_conn)

    row = row_of(row_id)
    assert row.failed_at is not None and row.done_at is None
    assert [job.id for job in job_admin.list_failed_jobs()] == [row.job_id]
    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 0
    assert Queue("default", connection=redis_conn).count == 0

    redis_conn.srem(FAILING_KEY, "broken")  # fixed: an admin puts it back (`linli jobs requeue`)
    job_admin.requeue(row.job_id)
    assert row_of(row_id).failed_at is None
    work(redis_conn)
    assert runs(redis_conn) == ["broken"]
    assert row_of(row_id).done_at is not None


def test_a_failure_with_a_retry_left_leaves_the_row_open(redis_conn, monkeypatch):
    monkeypatch.setattr(queueing, "RETRY_INTERVALS", [0])
    redis_conn.sadd(FAILING_KEY, "once")
    row_id = enqueue_after_commit(FLAKY, "once", queue="default").id
    db.session.commit()
    push_committed_jobs()
    worker = SimpleWorker([Queue("default", connection=redis_conn)], connection=redis_conn)
    worker.work(burst=True, max_jobs=1, logging_level="WARNING")

    assert row_of(row_id).failed_at is None and row_of(row_id).done_at is None
    redis_conn.srem(FAILING_KEY, "once")
    work(redis_conn)
    assert runs(redis_conn) == ["once"] and row_of(row_id).done_at is not None


def test_the_relay_reads_only_the_open_rows(redis_conn, count_queries):
    settled = [ask(str(n)) for n in range(30)]
    db.session.commit()
    push_committed_jobs()
    work(redis_conn)
    assert all(row_of(row_id).done_at is not None for row_id in settled)

    with count_queries() as statements:
        assert relay_outbox() == 0
    assert len(statements) == 1


@pytest.mark.postgresql
def test_the_relay_scans_the_index_of_open_rows(redis_conn):
    db.session.execute(
        insert(OutboxJob),
        [{"queue": "default", "func_path": RECORD, "args": [], "job_id": f"done-{n}", "created_at": utcnow(),
          "pushed_at": utcnow(), "pushes": 1, "done_at": utcnow()} for n in range(20_000)],
    )
    ask("open")
    db.session.commit()
    db.session.execute(text("ANALYZE outbox_jobs"))
    query = select(OutboxJob).where(queueing._waiting(utcnow() - queueing.REPUSH_AFTER)).order_by(OutboxJob.id)
    compiled = query.limit(queueing.RELAY_BATCH).compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_outbox_jobs_open" in plan, plan


def test_a_job_taken_off_its_queue_by_a_worker_killed_before_starting_it_is_queued_again(redis_conn, later):
    row_id = ask("popped")
    db.session.commit()
    push_committed_jobs()
    # What a worker listening on several queues does first (BLPOP), then SIGKILLed before the job starts.
    assert redis_conn.lpop(Queue("default", connection=redis_conn).key).decode() == job_id_of(row_id)
    work(redis_conn)
    assert runs(redis_conn) == []

    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 1
    assert Queue("default", connection=redis_conn).job_ids == [job_id_of(row_id)]
    work(redis_conn)

    assert runs(redis_conn) == ["popped"]
    row = row_of(row_id)
    assert row.done_at is not None and row.pushes == 2
    later.shift(queueing.REPUSH_AFTER + timedelta(minutes=1))
    assert relay_outbox() == 0
