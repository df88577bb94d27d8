"""Jobs asked for in a transaction: written to the outbox with it, pushed to Redis after the commit.

Services never talk to Redis inside a transaction. `enqueue_after_commit` adds an outbox row to the
caller's transaction; when it commits, the rows are pushed (after the request, or by the caller with
`push_committed_jobs`). If Redis is down the rows wait and the relay (`linli relay`, every minute by
cron, and at worker start) pushes them later. Each row has a fixed RQ job id, so a row pushed twice
queues one job: nothing is lost, nothing runs twice."""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import redis
from flask import current_app
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.jobs.logging import JOB_CALLBACKS
from backend.models import OutboxJob
from backend.models.base import utcnow

log = logging.getLogger("linli.jobs")

_PENDING = "linli_outbox_pending"
_COMMITTED = "linli_outbox_committed"
# Results are kept a day, so a late second push of the same row is still refused as a duplicate.
RESULT_TTL = 86400
RELAY_BATCH = 1000
# A delivery job sends up to 500 pushes with a 5 s timeout each: RQ's default 180 s would kill it midway.
JOB_TIMEOUT = 3600


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


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction) -> None:
    # Only the whole transaction's end (rolled back or closed; after a commit nothing is left) forgets the
    # rows: a savepoint rolled back (begin_nested) undoes its own rows only, and their ids are not found.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def push_committed_jobs() -> int:
    """Push the jobs this session committed; a Redis failure leaves them for the relay."""
    ids = db.session.info.pop(_COMMITTED, None)
    if not ids:
        return 0
    rows = db.session.scalars(select(OutboxJob).where(OutboxJob.id.in_(ids), OutboxJob.pushed_at.is_(None)))
    return _push(list(rows))


def relay_outbox() -> int:
    """Push every row still waiting (oldest first); returns how many were pushed."""
    pushed = 0
    while True:
        rows = db.session.scalars(
            select(OutboxJob).where(OutboxJob.pushed_at.is_(None)).order_by(OutboxJob.id).limit(RELAY_BATCH)
        ).all()
        if not rows:
            return pushed
        count = _push(list(rows))
        pushed += count
        if count < len(rows):
            return pushed  # Redis went away again: the rest waits for the next relay


def _push(rows: list[OutboxJob]) -> int:
    connection = current_app.extensions["linli_redis"]
    done: list[int] = []
    try:
        for row in rows:
            queue = Queue(row.queue, connection=connection)
            options = {
                "job_id": row.job_id, "unique": True, "result_ttl": RESULT_TTL,
                "retry": Retry(max=3, interval=[10, 60, 300]), "job_timeout": JOB_TIMEOUT, **JOB_CALLBACKS,
            }
            try:
                if row.run_at is not None and row.run_at > datetime.now(UTC):
                    queue.enqueue_at(row.run_at, row.func_path, *row.args, **options)
                else:
                    queue.enqueue(row.func_path, *row.args, **options)
            except DuplicateJobError:
                pass  # already queued by an earlier push
            done.append(row.id)
    except redis.RedisError as exc:
        log.warning("Redis unreachable, %d job(s) wait in the outbox: %s", len(rows) - len(done), exc)
    if done:
        db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(done)).values(pushed_at=utcnow()))
        db.session.commit()
    return len(done)
