"""Jobs asked for in a transaction: written to the outbox with it, pushed to Redis after the commit, and
settled by the job's own outcome.

Services never talk to Redis inside a transaction. `enqueue_after_commit` adds an outbox row to the
caller's transaction; when it commits, the rows are pushed (after the request, or by the caller with
`push_committed_jobs`). If Redis is down the rows wait and the relay (`linli relay`, every minute by
cron, and at worker start) pushes them later. A row counts as done when its job succeeds (RQ's success
callback, backend/jobs/logging.py), not when it reaches Redis: a row pushed but still open after
REPUSH_AFTER is pushed again, so a job lost with Redis's data (a restart without persistence, a flush)
runs after all. Each row has a fixed RQ job id and RQ refuses an id it still knows, so a push of a job
still queued, running or waiting for a retry queues nothing: nothing is lost, nothing runs twice."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from flask import current_app
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Callback, Job, JobStatus
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.orm import Session

from backend.extensions import DATABASE_UNAVAILABLE, db
from backend.models import OutboxJob
from backend.shared.clock import utcnow

log = logging.getLogger("linli.jobs")

QUEUES = ("high", "default", "low")
# By name, not by function: the worker imports them when a job ends (jobs sit above services, see pyproject).
JOB_CALLBACKS = dict(
    on_success=Callback("backend.jobs.logging.log_success"),
    on_failure=Callback("backend.jobs.logging.log_failure"),
    on_stopped=Callback("backend.jobs.logging.log_stopped"),
)

_PENDING = "linli_outbox_pending"
_COMMITTED = "linli_outbox_committed"
_PENDING_PUSHES = "linli_pushes_pending"
_COMMITTED_PUSHES = "linli_pushes_committed"
# Results are kept a day, so a late second push of the same row is still refused as a duplicate.
RESULT_TTL = 86400
RELAY_BATCH = 1000
# A delivery job sends up to 500 pushes with a 5 s timeout each: RQ's default 180 s would kill it midway.
JOB_TIMEOUT = 3600
RETRY_INTERVALS = [10, 60, 300]
# Longer than a normal queue delay (seconds) and than the whole retry schedule (10 + 60 + 300 s and the
# runs): the relay leaves jobs in flight alone, and one lost with Redis's data runs at most ~11 minutes late.
REPUSH_AFTER = timedelta(minutes=10)
# A job Redis still knows in one of these ended for good without success: it waits for `linli jobs`.
_ENDED_BADLY = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED})


def enqueue_after_commit(
    func_path: str, *args, queue: str = "default", job_id: str | None = None, run_at: datetime | None = None
) -> OutboxJob:
    """Ask for `func_path(*args)` once the caller's transaction commits (at `run_at`, if given)."""
    row = OutboxJob(queue=queue, func_path=func_path, args=list(args), job_id=job_id or "", run_at=run_at)
    if not job_id:
        # Not the row id: after a database reset that id comes back while Redis still remembers the old
        # job for a day, and the new job would be refused as its duplicate.
        row.job_id = f"outbox-{uuid.uuid4().hex}"
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(row.id)
    return row


def push_after_commit(func_path: str, *args, job_id: str, queue: str = "default") -> None:
    """Ask for `func_path(*args)` once the caller's transaction commits, straight to Redis, with no outbox row:
    for a job whose need the caller's own rows already record, so that a sweep of those rows finds it again when
    the push is lost (Redis out of reach, the process gone after the commit). A statement less on a hot path."""
    db.session.info.setdefault(_PENDING_PUSHES, []).append((queue, func_path, args, job_id))


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    for pending_key, committed_key in ((_PENDING, _COMMITTED), (_PENDING_PUSHES, _COMMITTED_PUSHES)):
        pending = session.info.pop(pending_key, None)
        if pending:
            session.info.setdefault(committed_key, []).extend(pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    # Only the whole transaction's end (rolled back or closed; after a commit nothing is left) forgets the
    # rows: a savepoint rolled back (begin_nested) undoes its own rows only, and their ids are not found.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_PENDING_PUSHES, None)


def push_committed_jobs() -> int:
    """Push the jobs this session committed; a Redis or database failure leaves them for the relay (or, for
    push_after_commit's, for the sweep of the rows that record them)."""
    pushes = db.session.info.pop(_COMMITTED_PUSHES, None)
    pushed = _push_direct(pushes) if pushes else 0
    ids = db.session.info.pop(_COMMITTED, None)
    if not ids:
        return pushed
    try:
        rows = db.session.scalars(select(OutboxJob).where(OutboxJob.id.in_(ids), OutboxJob.pushed_at.is_(None)))
        return pushed + _push(list(rows))
    except DATABASE_UNAVAILABLE as exc:
        # The caller's work is committed: failing its request now would only invite a second submission.
        db.session.rollback()
        log.warning("database unreachable after the commit, %d job(s) wait for the relay: %s", len(ids), exc)
        return pushed


def _push_direct(pushes: list[tuple[str, str, tuple, str]]) -> int:
    connection = current_app.extensions["linli_redis"]
    pushed = 0
    try:
        for queue, func_path, args, job_id in pushes:
            try:
                Queue(queue, connection=connection).enqueue(
                    func_path, *args, job_id=job_id, unique=True, result_ttl=RESULT_TTL,
                    retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS), job_timeout=JOB_TIMEOUT,
                    **JOB_CALLBACKS,
                )
                pushed += 1
            except DuplicateJobError:
                pushed += 1  # queued already (a sweep came first): it runs once
    except redis.RedisError as exc:
        log.warning("Redis unreachable, %d job(s) wait for their sweep: %s", len(pushes) - pushed, exc)
    return pushed


def relay_outbox() -> int:
    """Push every row never pushed, and every row pushed REPUSH_AFTER ago or more whose job reported no
    outcome (oldest first); returns how many rows reached Redis."""
    pushed = 0
    while True:
        rows = db.session.scalars(
            select(OutboxJob).where(_waiting(utcnow() - REPUSH_AFTER)).order_by(OutboxJob.id).limit(RELAY_BATCH)
        ).all()
        if not rows:
            return pushed
        count = _push(list(rows))
        pushed += count
        if count < len(rows):
            return pushed  # Redis went away again: the rest waits for the next relay


def _waiting(cutoff: datetime):
    # A job for later (quiet hours) is not late before its time: it counts from run_at.
    stale = and_(OutboxJob.pushed_at < cutoff, or_(OutboxJob.run_at.is_(None), OutboxJob.run_at < cutoff))
    return and_(
        OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_(None), or_(OutboxJob.pushed_at.is_(None), stale)
    )


def _push(rows: list[OutboxJob]) -> int:
    connection = current_app.extensions["linli_redis"]
    now = utcnow()
    # What each row that reached Redis gets written: queued now, or still known to Redis as in flight,
    # ended well or ended badly (a push is refused as a duplicate while Redis knows the job id).
    outcomes: dict[str, list[int]] = {"queued": [], "in_flight": [], "done": [], "failed": []}
    values = {
        "queued": {"pushed_at": now, "pushes": OutboxJob.pushes + 1},
        "in_flight": {"pushed_at": now},
        "done": {"pushed_at": now, "done_at": now},
        "failed": {"pushed_at": now, "failed_at": now},
    }
    try:
        for row in rows:
            queue = Queue(row.queue, connection=connection)
            options = {
                "job_id": row.job_id, "unique": True, "result_ttl": RESULT_TTL,
                "retry": Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS), "job_timeout": JOB_TIMEOUT,
                **JOB_CALLBACKS,
            }
            try:
                if row.run_at is not None and row.run_at > datetime.now(UTC):
                    queue.enqueue_at(row.run_at, row.func_path, *row.args, **options)
                else:
                    queue.enqueue(row.func_path, *row.args, **options)
                outcomes["queued"].append(row.id)
            except DuplicateJobError:
                # Queued, running or waiting for a retry; or ended while the database could not record it.
                outcome = _known_outcome(row.job_id, connection)
                if outcome == "lost":
                    Job.fetch(row.job_id, connection=connection).delete()
                    queue.enqueue(row.func_path, *row.args, **options)
                    outcome = "queued"
                outcomes[outcome].append(row.id)
    except redis.RedisError as exc:
        reached = sum(len(ids) for ids in outcomes.values())
        log.warning("Redis unreachable, %d job(s) wait in the outbox: %s", len(rows) - reached, exc)
    for outcome, ids in outcomes.items():
        if ids:
            db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(ids)).values(values[outcome]))
    reached = sum(len(ids) for ids in outcomes.values())
    if reached:
        db.session.commit()
    return reached


def _known_outcome(job_id: str, connection: redis.Redis) -> str:
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return "in_flight"  # gone since the push was refused: pushed again after REPUSH_AFTER
    status = job.get_status(refresh=False)
    if status == JobStatus.FINISHED:
        return "done"
    if status == JobStatus.QUEUED and connection.lpos(Queue(job.origin, connection=connection).key, job_id) is None:
        # A worker killed after taking the job off its queue and before starting it: a worker on several queues
        # pops with BLPOP, which keeps no copy (RQ's intermediate list is for one queue only), so the job says
        # queued and is in no queue, and pushing its id again is refused while Redis knows it: queue it afresh.
        return "lost"
    return "failed" if status in _ENDED_BADLY else "in_flight"


@dataclass(frozen=True)
class OutboxBacklog:
    unpushed: int  # committed, open, never pushed to Redis: the relay's work
    oldest_unpushed_at: datetime | None


def outbox_backlog() -> OutboxBacklog:
    """The jobs waiting in the outbox for Redis, in one statement over the open rows' index."""
    unpushed, oldest = db.session.execute(
        select(func.count(), func.min(OutboxJob.created_at)).where(
            OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_(None), OutboxJob.pushed_at.is_(None)
        )
    ).one()
    return OutboxBacklog(unpushed, oldest)
