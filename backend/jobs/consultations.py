"""Consultation jobs: the sweep (every 5 minutes) that moves each topic on at its step's deadline — the ballot
opens when deliberation ends, closes at its time, publicity ends — and reminds non-voters before a ballot closes.

Idempotent: each topic is locked and read again before it moves, so a second run (or a second cron process at
the same time) finds it moved already; each reminder is counted on the topic and sent under one dedupe key."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from backend.domain.consultations import Step, TopicRefused
from backend.extensions import db
from backend.jobs.one_by_one import OneByOne
from backend.services.consultations import (
    advance_topic,
    due_topic_ids,
    remind_voters,
    untold_votes,
    voting_reminder_topic_ids,
)
from backend.services.consultations import tell_of_vote as service_tell_of_vote
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import utcnow

log = logging.getLogger("linli.consultations")

# A sweep after an outage works through this many batches (of 200 topics) at most; the next sweep goes on.
MAX_TOPIC_BATCHES = 20
# A vote's own job runs within a second or two; one untold after this was lost.
TELL_GRACE = timedelta(minutes=1)

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
    topics = OneByOne(log, "topic")
    for _ in range(MAX_TOPIC_BATCHES):
        due = topics.not_failed(due_topic_ids(now))
        if not due:
            break
        for topic_id in due:
            # Each topic commits on its own; its notifications go out now, not after the whole sweep.
            step = topics.handle(topic_id, _advance, topic_id, now, failed=None)
            if step is not None:
                moved[_COUNTED_AS[step]] += 1
    reminders = send_voting_reminders(now)
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


def send_voting_reminders(now: datetime) -> int:
    """Eligible non-voters 24 h and 2 h before the ballot closes, each reminder once; how many topics sent one."""
    topics = OneByOne(log, "reminding the voters of topic")
    return sum(topics.handle(topic_id, remind_voters, topic_id, now, failed=False)
               for topic_id in voting_reminder_topic_ids(now))


def _advance(topic_id: int, now: datetime) -> Step | None:
    try:
        return advance_topic(topic_id, now)
    except TopicRefused:
        # Another run moved the topic between our read and our lock: its step is taken, once.
        db.session.rollback()
        return None


def tell_of_vote(topic_id: int, household_id: int) -> bool:
    """After a household's vote: its receipt, the reminders withdrawn, the caster following the topic (once; a
    second run finds it told)."""
    told = service_tell_of_vote(topic_id, household_id)
    push_committed_jobs()
    return told


def tell_untold_votes() -> int:
    """Every minute: the votes whose telling job was lost (pushed to a Redis that went away, or never pushed),
    told now. A vote's own job has had TELL_GRACE to do it first."""
    untold = untold_votes(utcnow() - TELL_GRACE)
    votes = OneByOne(log, "telling the vote (topic, household)")
    for topic_id, household_id in untold:
        votes.handle((topic_id, household_id), service_tell_of_vote, topic_id, household_id, failed=False)
    told = len(untold) - len(votes.failed)
    if told:
        log.warning("told %d vote(s) whose job was lost", told)
    return told
