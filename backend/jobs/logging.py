"""What RQ calls when a job ends (pass `**JOB_CALLBACKS` to `enqueue`): one structured (JSON) log line per run,
and the job's outbox row settled, done or failed for good (backend/services/queueing.py).

The callbacks are stored in each queued job by import path: keep their names and this module's path."""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from redis import Redis
from rq.job import Job
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from backend.extensions import db
from backend.models import OutboxJob
from backend.shared.clock import utcnow

log = logging.getLogger("linli.jobs")

# An exception message is for people reading a log, not a place to carry a payload: keep one short line.
_ERROR_MESSAGE_LIMIT = 200


def _line(job: Job, outcome: str, retries_left: int | None, **fields: Any) -> str:
    ended = job.ended_at or datetime.now(UTC)
    duration_ms = round((ended - job.started_at).total_seconds() * 1000, 1) if job.started_at else None
    record = {
        "job_id": job.id,
        "func": job.func_name,
        "queue": job.origin,
        "outcome": outcome,
        "duration_ms": duration_ms,
        # Retries still allowed after this run; None when the job was queued without Retry.
        "retries_left": retries_left,
        **fields,
    }
    # Job arguments are ids or personal data: they are never logged.
    return json.dumps(record, ensure_ascii=False)


def describe_error(exc_type: type[BaseException] | None, exc: BaseException | None) -> str | None:
    """"ValueError: the first line of the message", cut to a readable length."""
    if exc_type is None:
        return None
    lines = str(exc).strip().splitlines() if exc is not None else []
    message = lines[0][:_ERROR_MESSAGE_LIMIT] if lines else ""
    return f"{exc_type.__name__}: {message}" if message else exc_type.__name__


def _settle_outbox_row(job: Job, column: str) -> None:
    """Record the job's outcome on its outbox row (a job queued by a cron slot has none: nothing matches).

    A database out of reach leaves the row open; the relay reads the outcome from Redis when it looks again."""
    try:
        # The job's own transaction is over: whatever it left open (or broken, if it raised) is not ours.
        db.session.rollback()
        db.session.execute(
            update(OutboxJob).where(OutboxJob.job_id == job.id, OutboxJob.done_at.is_(None)).values({column: utcnow()})
        )
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("outbox row of job %s not settled: %s", job.id, describe_error(type(exc), exc))


def log_success(job: Job, connection: Redis, result: Any, *args, **kwargs) -> None:
    log.info(_line(job, "ok", job.retries_left))
    _settle_outbox_row(job, "done_at")


def log_failure(
    job: Job, connection: Redis, exc_type: type[BaseException] | None, exc: BaseException | None,
    traceback: TracebackType | None, *args, **kwargs,
) -> None:
    # RQ calls this before it decides on a retry, with retries_left not yet counted down.
    will_retry = job.should_retry
    retries_left = job.retries_left - 1 if will_retry else job.retries_left
    line = _line(job, "failed", retries_left, will_retry=will_retry, error=describe_error(exc_type, exc))
    log.log(logging.WARNING if will_retry else logging.ERROR, line)
    if not will_retry:
        # Failed for good: the relay must not push it forever; `linli jobs requeue` gives it another go.
        _settle_outbox_row(job, "failed_at")


def log_stopped(job: Job, connection: Redis, *args, **kwargs) -> None:
    log.warning(_line(job, "stopped", job.retries_left))
    _settle_outbox_row(job, "failed_at")

