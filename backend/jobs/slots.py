"""Queue a periodic job once per time slot, whatever number of cron processes asked (rq cron has no lock)."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from croniter import croniter
from rq import get_current_job
from rq.exceptions import DuplicateJobError

from backend.jobs import get_queue
from backend.services.queueing import JOB_CALLBACKS

log = logging.getLogger("linli.jobs")


def slot_job_id(job_path: str, cron: str, now: datetime) -> str:
    """The id of the latest slot of `cron` at or before `now` (UTC), e.g. backend_jobs_x-202611250900.

    RQ ids allow only letters, digits, '_' and '-', hence the dots of the path become underscores."""
    # Cron strings are UTC: match in UTC too, or 09:00 Beijing would miss the "0 1 * * *" slot it is.
    now = now.astimezone(UTC)
    slot = now if croniter.match(cron, now) else croniter(cron, now).get_prev(datetime)
    return f"{job_path.replace('.', '_')}-{slot.astimezone(UTC):%Y%m%d%H%M}"


def enqueue_slot(job_path: str, cron: str, queue_name: str) -> str | None:
    # The slot is the one cron fired for (when it queued this job), not when a busy worker got to it.
    current = get_current_job()
    fired_at = current.enqueued_at if current is not None and current.enqueued_at else datetime.now(UTC)
    job_id = slot_job_id(job_path, cron, fired_at.replace(second=0, microsecond=0))
    try:
        get_queue(queue_name).enqueue(job_path, job_id=job_id, unique=True, result_ttl=86400, **JOB_CALLBACKS)
    except DuplicateJobError:
        log.info("slot %s already queued", job_id)
        return None
    return job_id
