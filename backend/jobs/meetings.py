"""Meeting jobs: the reminder sweep (every 5 minutes) that tells invitees and the convener the day before and
1 h before a meeting.

Idempotent: each meeting counts the reminders it sent (under a row lock) and each reminder's notice has its
own dedupe key, so a sweep run twice, or by two cron processes, sends nothing twice."""

from __future__ import annotations

import logging

from backend.jobs.one_by_one import OneByOne
from backend.services.meetings import due_reminder_ids, remind
from backend.shared.clock import utcnow

log = logging.getLogger("linli.meetings")

# After an outage a sweep works through this many batches (of 500 meetings) at most; the next sweep goes on.
MAX_REMINDER_BATCHES = 20


def send_reminders() -> int:
    """Send every reminder that is due; returns how many meetings had one sent."""
    now = utcnow()
    sent = 0
    meetings = OneByOne(log, "reminding of meeting")
    for _ in range(MAX_REMINDER_BATCHES):
        due = meetings.not_failed(due_reminder_ids(now))
        if not due:
            break
        for meeting_id in due:
            # Each meeting commits on its own; its reminders go out now, not after the whole sweep.
            if meetings.handle(meeting_id, remind, meeting_id, now, failed=False):
                sent += 1
    log.info("meeting reminders: %d sent", sent)
    return sent
