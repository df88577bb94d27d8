"""notify(): one call writes every recipient's inbox row (in batches, by workers) and queues the pushes;
withdraw(): a notice that is no longer true leaves the inbox, and its pushes not yet sent are never sent."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import uuid4

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from backend.domain.notifications import (
    FAN_OUT_BATCH,
    KINDS,
    DeliveryStatus,
    Urgency,
    batches,
    receivable_kinds,
)
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Role
from backend.extensions import db, dialect_insert
from backend.models import Delivery, Membership, Notice, Notification, NotificationPreference, SurveyEvaluator
from backend.services.queueing import enqueue_after_commit
from backend.shared.clock import utcnow
from backend.shared.pagination import Page, paginate

FAN_OUT_JOB = "backend.jobs.notifications.fan_out"


class UnknownNotification(Refused):
    """Not one of the person's notifications (another's id says nothing about it)."""

    default_kind = Kind.NOT_FOUND


def notify(
    user_ids: Sequence[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    urgency: Urgency = Urgency.NORMAL,
    dedupe_key: str = "",
) -> Notice:
    """Ask for `title` to reach every user: in-app always, pushes by channel. Runs in the caller's
    transaction; the fan-out jobs (one per FAN_OUT_BATCH recipients) start after the caller commits. Called again
    with the same dedupe key, nobody gets it twice."""
    # Without a key every call is its own notice (an empty key would make them all one).
    dedupe_key = (dedupe_key or f"notice-{uuid4().hex}")[:128]
    notice = db.session.scalar(select(Notice).where(Notice.dedupe_key == dedupe_key))
    if notice is None:
        notice = Notice(kind=kind, title=title[:64], body=body[:500], link=link[:255], urgency=urgency,
                        dedupe_key=dedupe_key)
        try:
            with db.session.begin_nested():
                db.session.add(notice)
        except IntegrityError:
            notice = db.session.scalar(select(Notice).where(Notice.dedupe_key == dedupe_key))
    for batch in batches(user_ids, FAN_OUT_BATCH):
        enqueue_after_commit(FAN_OUT_JOB, notice.id, batch, queue="high")
    return notice


def withdraw(dedupe_keys: Sequence[str], user_ids: Sequence[int] | None = None, now: datetime | None = None) -> None:
    """Withdraw the notices of these keys, for everyone (`user_ids` None) or for these people only: their inbox
    rows leave the inbox and the unread count, and their pushes still pending are never sent. Runs in the
    caller's transaction; withdrawing again changes nothing.

    A fan-out may still be on its way. For everyone: the notice itself is marked first, and the fan-out reads it
    under a share lock, so either it sees the mark and writes nothing, or this waits for its rows and withdraws
    them too. For some people: their rows are written withdrawn if the fan-out has not written them yet, and the
    inbox's unique key then keeps the fan-out from writing them at all."""
    keys = [key[:128] for key in dedupe_keys]
    now = now or utcnow()
    if user_ids is None:
        db.session.execute(
            update(Notice).where(Notice.dedupe_key.in_(keys), Notice.withdrawn_at.is_(None)).values(withdrawn_at=now)
        )
        notice_ids = list(db.session.scalars(select(Notice.id).where(Notice.dedupe_key.in_(keys))))
        db.session.execute(
            update(Notification).where(Notification.notice_id.in_(notice_ids), Notification.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
        mine = Notification.notice_id.in_(notice_ids)
    else:
        people = list(dict.fromkeys(user_ids))
        notices = db.session.execute(select(Notice.id, Notice.dedupe_key).where(Notice.dedupe_key.in_(keys))).all()
        rows = [{"user_id": user_id, "notice_id": notice_id, "dedupe_key": key, "created_at": now,
                 "withdrawn_at": now} for notice_id, key in notices for user_id in people]
        if rows:
            db.session.execute(
                dialect_insert(Notification).on_conflict_do_update(
                    index_elements=["user_id", "dedupe_key"], set_={"withdrawn_at": now},
                    where=Notification.withdrawn_at.is_(None)),
                rows,
            )
        mine = Notification.dedupe_key.in_(keys) & Notification.user_id.in_(people)
    db.session.execute(
        update(Delivery)
        .where(Delivery.status == DeliveryStatus.PENDING,
               exists().where(Notification.id == Delivery.notification_id, mine,
                              Notification.withdrawn_at.is_not(None)))
        .values(status=DeliveryStatus.WITHDRAWN)
        .execution_options(synchronize_session=False)
    )


def inbox_page(user_id: int, unread_only: bool, page: int, page_size: int) -> Page:
    query = (
        select(Notification, Notice)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.user_id == user_id, Notification.withdrawn_at.is_(None))
        .order_by(Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    result = paginate(query, page, page_size)
    return Page(items=[_item(row.Notification, row.Notice) for row in result.items], total=result.total,
                page=page, page_size=page_size)


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None),
                                   Notification.withdrawn_at.is_(None))
    ) or 0


def mark_read(user_id: int, notification_id: int) -> dict:
    """Only one's own (another's id is unknown, not forbidden: nothing about it is revealed); a withdrawn one is
    gone from the inbox, so it is unknown too."""
    row = db.session.execute(
        select(Notification, Notice)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.id == notification_id, Notification.user_id == user_id,
               Notification.withdrawn_at.is_(None))
    ).first()
    if row is None:
        raise UnknownNotification("没有找到这条消息")
    if row.Notification.read_at is None:
        row.Notification.read_at = utcnow()
        db.session.commit()
    return _item(row.Notification, row.Notice)


def mark_all_read(user_id: int) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()


def set_kind_enabled(user_id: int, kind: str, enabled: bool) -> None:
    preference = db.session.get(NotificationPreference, (user_id, kind))
    if preference is None:
        db.session.add(NotificationPreference(user_id=user_id, kind=kind, enabled=enabled))
    else:
        preference.enabled = enabled
    db.session.commit()


def roles_held(user_id: int) -> frozenset[Role]:
    """Every role the person holds anywhere (a compound, an area), and `evaluator` once appointed to a campaign
    (an appointment is no membership)."""
    roles = set(db.session.scalars(select(Membership.role).distinct().where(Membership.user_id == user_id)))
    if db.session.scalar(select(exists().where(SurveyEvaluator.user_id == user_id))):
        roles.add(Role.EVALUATOR)
    return frozenset(roles)


def kind_preferences(user_id: int) -> list[dict]:
    """The kinds this person can receive (domain.notifications.receivable_kinds of their roles), each with its
    label and whether its pushes are on for them (no row: on)."""
    turned_off = set(
        db.session.scalars(
            select(NotificationPreference.kind).where(
                NotificationPreference.user_id == user_id, NotificationPreference.enabled.is_(False)
            )
        )
    )
    return [kind_preference(kind, kind not in turned_off) for kind in receivable_kinds(roles_held(user_id))]


def kind_preference(kind: str, enabled: bool) -> dict:
    return {"kind": kind, "label": KINDS[kind], "enabled": enabled}


def kind_enabled(user_id: int, kind: str) -> bool:
    preference = db.session.get(NotificationPreference, (user_id, kind))
    return preference is None or preference.enabled


def _item(notification: Notification, notice: Notice) -> dict:
    return {
        "id": notification.id,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "link": notice.link,
        "urgency": notice.urgency,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }
