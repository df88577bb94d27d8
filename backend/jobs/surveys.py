"""Survey jobs: close campaigns at their close time and tally them (every 5 minutes), remind the households that
have not answered a day before the close (hourly), and tally running campaigns nightly for their response rates.

Idempotent, and each takes ids: a close happens once (UPDATE … WHERE closed_at IS NULL), a tally rewrites the same
rows, and the reminder is one notice per campaign (its dedupe key), so a second run reaches nobody twice."""

from __future__ import annotations

import logging

from backend.jobs.one_by_one import OneByOne
from backend.services import surveys as service
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import utcnow

log = logging.getLogger("linli.surveys")


def close_due() -> int:
    """Close and tally every campaign past its close time; returns how many this run closed."""
    surveys = OneByOne(log, "closing survey")
    closed = sum(surveys.handle(survey_id, close_and_tally, survey_id, failed=False)
                 for survey_id in service.due_to_close(utcnow()))
    log.info("surveys: %d closed", closed)
    return closed


def close_and_tally(survey_id: int) -> bool:
    closed = service.close(survey_id, None)
    push_committed_jobs()
    return closed


def send_reminders() -> int:
    """The reminder to households not yet answered, for each campaign closing within a day."""
    reached = 0
    for survey_id in service.due_reminders(utcnow()):
        reached += remind(survey_id)
    log.info("survey reminders: %d people", reached)
    return reached


def remind(survey_id: int) -> int:
    reached = service.remind(survey_id)
    push_committed_jobs()
    return reached


def tally_running() -> int:
    """Nightly: each running campaign's response rates (its figures stay hidden until the close)."""
    running = service.running(utcnow())
    for survey_id in running:
        tally(survey_id)
    return len(running)


def tally(survey_id: int) -> int:
    return service.tally(survey_id)
