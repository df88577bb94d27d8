"""Meeting jobs: the reminder sweep (every 5 minutes) that tells invitees and the convener the day before and
1 h before a meeting.

Idempotent: each meeting counts the reminders it sent (under a row lock) and each reminder's notice has its
own dedupe key, so a sweep run twice, or by two cron processes, sends nothing twice."""

from __future__ import annotations

import logging

from backend.services.meetings import due_reminder_ids, remind
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import utcnow

log = logging.getLogger("linli.meetings")

# After an outage a sweep works through this many batches (of 500 meetings) at most; the next sweep goes on.
MAX_REMINDER_BATCHES = 20


def send_reminders() -> int:
    """Send every reminder that is due; returns how many meetings had one sent."""
    now = utcnow()
    sent = 0
    for _ in range(MAX_REMINDER_BATCHES):
        due = due_reminder_ids(now)
        if not due:
            break
        for meeting_id in due:
            if remind(meeting_id, now):
                sent += 1
            # Each meeting commits on its own; its reminders go out now, not after the whole sweep.
            push_committed_jobs()
    log.info("meeting reminders: %d sent", sent)
    return sent
