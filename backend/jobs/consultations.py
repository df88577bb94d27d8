"""Consultation jobs: the sweep (every 5 minutes) that moves each topic on at its step's deadline — the ballot
opens when deliberation ends, closes at its time, publicity ends — and reminds non-voters before a ballot closes.

Idempotent: each topic is locked and read again before it moves, so a second run (or a second cron process at
the same time) finds it moved already; each reminder is counted on the topic and sent under one dedupe key."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from backend.domain.consultations import Step, TopicRefused
from backend.extensions import db
from backend.services.consultations import advance_topic, due_topic_ids, send_voting_reminders
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import utcnow

log = logging.getLogger("linli.consultations")

# A sweep after an outage works through this many batches (of 200 topics) at most; the next sweep goes on.
MAX_TOPIC_BATCHES = 20

_COUNTED_AS = {
    Step.VOTING: "ballots_opened",
    Step.PUBLICITY: "ballots_closed",
    Step.IMPLEMENTATION: "publicities_ended",
    Step.DONE: "publicities_ended",
}


def sweep() -> dict[str, int]:
    """Take every step whose deadline has passed, each topic in its own transaction, then send the voting
    reminders that are due."""
    now = utcnow()
    moved: Counter[str] = Counter()
    for _ in range(MAX_TOPIC_BATCHES):
        due = due_topic_ids(now)
        if not due:
            break
        for topic_id in due:
            step = _advance(topic_id, now)
            if step is not None:
                moved[_COUNTED_AS[step]] += 1
            # Each topic commits on its own; its notifications go out now, not after the whole sweep.
            push_committed_jobs()
    reminders = send_voting_reminders(now)
    push_committed_jobs()
    counts = {key: moved[key] for key in ("ballots_opened", "ballots_closed", "publicities_ended")}
    counts["reminders"] = reminders
    log.info(
        "consultation sweep: %d ballots opened, %d closed, %d publicities ended, %d reminders",
        counts["ballots_opened"],
        counts["ballots_closed"],
        counts["publicities_ended"],
        reminders,
    )
    return counts


def _advance(topic_id: int, now: datetime) -> Step | None:
    try:
        return advance_topic(topic_id, now)
    except TopicRefused:
        # Another run moved the topic between our read and our lock: its step is taken, once.
        db.session.rollback()
        return None
