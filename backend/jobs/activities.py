"""Activity jobs: the reminder sweep (hourly) that tells each confirmed sign-up the day before its activity.

Idempotent: each sign-up's reminder is claimed by one UPDATE (`reminded_at IS NULL` in its WHERE) and the notice has
its own dedupe key, so a sweep run twice, or by two cron processes, sends nothing twice. Quiet hours are the
notifications path's: a reminder found at night waits in the inbox and is pushed at 08:00."""
from __future__ import annotations

import logging

from backend.extensions import db
from backend.services.activities import due_reminder_ids, remind
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import utcnow

log = logging.getLogger("linli.activities")

MAX_REMINDER_BATCHES = 20


def send_reminders() -> int:
    """Send every reminder that is due; returns how many went out. One sign-up that fails is logged and left for
    the next sweep: the ones behind it still go."""
    now = utcnow()
    sent = 0
    failed: set[int] = set()
    for _ in range(MAX_REMINDER_BATCHES):
        due = [signup_id for signup_id in due_reminder_ids(now) if signup_id not in failed]
        if not due:
            break
        for signup_id in due:
            try:
                if remind(signup_id, now):
                    sent += 1
            except Exception:
                db.session.rollback()
                failed.add(signup_id)
                log.exception("activity reminder of sign-up %d failed", signup_id)
            # Each sign-up commits on its own; its reminder goes out now, not after the whole sweep.
            push_committed_jobs()
    log.info("activity reminders: %d sent", sent)
    return sent
