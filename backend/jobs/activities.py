"""Activity jobs: the reminder sweep (hourly) that tells each confirmed sign-up the day before its activity.

Idempotent: each sign-up's reminder is claimed by one UPDATE (`reminded_at IS NULL` in its WHERE) and the notice has
its own dedupe key, so a sweep run twice, or by two cron processes, sends nothing twice. Quiet hours are the
notifications path's: a reminder found at night waits in the inbox and is pushed at 08:00."""
from __future__ import annotations

import logging

from backend.jobs.one_by_one import OneByOne
from backend.services.activities import due_reminder_ids, remind
from backend.shared.clock import utcnow

log = logging.getLogger("linli.activities")

MAX_REMINDER_BATCHES = 20


def send_reminders() -> int:
    """Send every reminder that is due; returns how many went out. One sign-up that fails is logged and left for
    the next sweep: the ones behind it still go, each committed and pushed on its own."""
    now = utcnow()
    sent = 0
    signups = OneByOne(log, "activity reminder of sign-up")
    for _ in range(MAX_REMINDER_BATCHES):
        due = signups.not_failed(due_reminder_ids(now))
        if not due:
            break
        sent += sum(signups.handle(signup_id, remind, signup_id, now, failed=False) for signup_id in due)
    log.info("activity reminders: %d sent", sent)
    return sent
