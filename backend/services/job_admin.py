"""Jobs for admins: how full each queue is, the failed jobs across the queues, and putting them back on their queue
(`linli jobs`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import update

from backend.extensions import db
from backend.models import OutboxJob
from backend.services.queueing import QUEUES
from backend.shared.clock import utcnow


class JobNotFailed(Exception):
    """No failed job has this id (unknown, expired, or not failed)."""


@dataclass(frozen=True)
class FailedJob:
    id: str
    func: str | None
    queue: str
    failed_at: datetime | None  # UTC
    error: str  # the last line of the exception, e.g. "ValueError: bad id"


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    queued: int  # waiting for a worker
    started: int  # running now
    scheduled: int  # for later: a retry's wait, or a job asked for at a set time
    failed: int  # no retry left: waits for `linli jobs requeue`


def _connection():
    return current_app.extensions["linli_redis"]


def _last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


def list_failed_jobs() -> list[FailedJob]:
    """Every job in the failed registries of high, default and low, most recent failure first."""
    connection = _connection()
    failed: list[FailedJob] = []
    for name in QUEUES:
        ids = FailedJobRegistry(name, connection=connection).get_job_ids()
        for job in Job.fetch_many(ids, connection=connection):
            if job is None:
                continue  # the job hash expired before its registry entry was cleaned up
            result = job.latest_result()
            failed.append(
                FailedJob(
                    id=job.id, func=job.func_name, queue=job.origin, failed_at=job.ended_at,
                    error=_last_line(result.exc_string if result else None),
                )
            )
    return sorted(failed, key=lambda job: job.failed_at.timestamp() if job.failed_at else 0, reverse=True)


def queue_depths() -> list[QueueDepth]:
    """How many jobs each queue holds in each state, in one round trip. Counted as they stand: cleaning the
    registries up (a dead worker's job moved to failed) is the workers' business, not a reader's."""
    connection = _connection()
    pipe = connection.pipeline(transaction=False)
    for name in QUEUES:
        pipe.llen(Queue(name, connection=connection).key)
        for registry in (StartedJobRegistry, ScheduledJobRegistry, FailedJobRegistry):
            pipe.zcard(registry(name, connection=connection).key)
    counts = pipe.execute()
    return [QueueDepth(name, *counts[4 * index:4 * index + 4]) for index, name in enumerate(QUEUES)]


def requeue(job_id: str) -> Job:
    """Put one failed job back at the end of its own queue; JobNotFailed when there is no such failed job."""
    try:
        job = Job.fetch(job_id, connection=_connection())
    except (NoSuchJobError, ValueError) as exc:  # ValueError: not even a valid job id
        raise JobNotFailed(job_id) from exc
    try:
        job = job.requeue()
    except InvalidJobOperation as exc:
        raise JobNotFailed(job_id) from exc
    # Open again: should Redis lose the job now, the relay pushes it again (jobs queued by cron have no row).
    db.session.execute(update(OutboxJob).where(OutboxJob.job_id == job.id).values(failed_at=None, pushed_at=utcnow()))
    db.session.commit()
    return job


def requeue_all() -> list[str]:
    """Requeue every failed job; returns their ids."""
    requeued = []
    for failed in list_failed_jobs():
        try:
            requeue(failed.id)
        except JobNotFailed:
            continue  # requeued or expired meanwhile
        requeued.append(failed.id)
    return requeued
