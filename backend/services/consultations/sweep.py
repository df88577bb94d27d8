"""The sweep (cron): topics moved on at their deadlines, once each, and non-voters reminded before a ballot closes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, select

from backend.domain import consultations as rules
from backend.domain.consultations import Step
from backend.domain.notifications import VOTE_REMINDER
from backend.extensions import db
from backend.models import Topic, TopicObjection
from backend.services.consultations.ballots import close_ballot, eligible_voter_ids, open_ballot, result_of
from backend.services.consultations.common import change_step, link, local, locked, tell_desk
from backend.services.consultations.topics import options_of
from backend.services.notifications import notify


def due_topic_ids(now: datetime, limit: int = 200) -> list[int]:
    """Topics whose step deadline has passed and that can move now. A publicity with an objection still
    unanswered waits for the answer: it is not due, so it neither comes back in every batch nor keeps the
    topics behind it from their turn."""
    unanswered = exists().where(TopicObjection.topic_id == Topic.id, TopicObjection.answered_at.is_(None))
    return list(db.session.scalars(
        select(Topic.id).where(Topic.step_due_at <= now,
                               Topic.step.in_((Step.DELIBERATION, Step.VOTING, Step.PUBLICITY)),
                               ~and_(Topic.step == Step.PUBLICITY, unanswered))
        .order_by(Topic.step_due_at).limit(limit)
    ))


def advance_topic(topic_id: int, now: datetime) -> Step | None:
    """Take the step whose deadline has passed, once: open the ballot, close it, or end the publicity. Returns
    the new step, or None when nothing moved (already moved, or it must wait for people)."""
    topic = locked(topic_id)
    if topic.step_due_at is None or topic.step_due_at > now:
        db.session.rollback()
        return None
    if topic.step is Step.DELIBERATION:
        if len(options_of(topic_id)) < rules.MIN_OPTIONS:
            # Nothing to vote on yet: the committee is told once and opens the ballot by hand.
            topic.step_due_at = None
            tell_desk(topic, f"议题“{topic.title}”的协商讨论已到期，请拟定表决选项后开启表决",
                       f"topic-{topic.id}-needs-options")
            db.session.commit()
            return None
        db.session.rollback()
        return open_ballot(topic_id, None, now=now).step
    if topic.step is Step.VOTING:
        db.session.rollback()
        close_ballot(topic_id, None, now=now)
        return Step.PUBLICITY
    if topic.step is Step.PUBLICITY:
        return _end_publicity(topic, now)
    db.session.rollback()
    return None


def _end_publicity(topic: Topic, now: datetime) -> Step | None:
    unanswered = db.session.scalar(select(func.count()).where(
        TopicObjection.topic_id == topic.id, TopicObjection.answered_at.is_(None)))
    if unanswered:
        # Publicity ends only once every objection has its public answer; the desk was told when each arrived.
        db.session.rollback()
        return None
    result = result_of(topic.id)
    step = rules.step_after_publicity(bool(result and result.passed))
    topic.step_due_at = None
    change_step(topic, step, None, None)
    db.session.commit()
    return step


def voting_reminder_topic_ids(now: datetime) -> list[int]:
    """The ballots closing within the first reminder's time whose reminders are not all sent: eligible
    non-voters are reminded 24 h and 2 h before the close, each reminder once."""
    first_due = now + max(rules.VOTING_REMINDERS)
    return list(db.session.scalars(
        select(Topic.id).where(Topic.step == Step.VOTING, Topic.ballot_closes_at <= first_due,
                               Topic.ballot_closes_at > now,
                               Topic.voting_reminders_sent < len(rules.VOTING_REMINDERS))
    ))


def remind_voters(topic_id: int, now: datetime) -> bool:
    """The topic's reminder that is due, once (counted on the topic under its lock); whether one was sent."""
    topic = locked(topic_id)
    due = rules.due_voting_reminders(now, topic.ballot_closes_at, topic.voting_reminders_sent)
    sent = due > topic.voting_reminders_sent and topic.step is Step.VOTING
    if sent:
        hours = int(rules.VOTING_REMINDERS[due - 1].total_seconds() // 3600)
        # Under the topic's lock, which waits for the votes being cast: a household that voted is not asked.
        notify(eligible_voter_ids(topic, only_not_voted=True), VOTE_REMINDER,
               f"议题“{topic.title}”的表决不到{hours}小时就要截止了",
               body=f"您家还没有表决，请在{local(topic.ballot_closes_at)}前完成表决。",
               link=link(topic), dedupe_key=rules.vote_reminder_key(topic.id, due))
        topic.voting_reminders_sent = due
    db.session.commit()
    return sent
