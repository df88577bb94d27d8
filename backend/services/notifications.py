"""notify(): one call writes every recipient's inbox row (in batches, by workers) and queues the pushes."""
from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from backend.domain.notifications import KINDS, Urgency, batches
from backend.domain.refusals import Kind, Refused
from backend.extensions import db
from backend.models import Notice, Notification, NotificationPreference
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
    transaction; the fan-out jobs (one per 500 recipients) start after the caller commits. Called again
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
    for batch in batches(user_ids):
        enqueue_after_commit(FAN_OUT_JOB, notice.id, batch, queue="high")
    return notice


def inbox_page(user_id: int, unread_only: bool, page: int, page_size: int) -> Page:
    query = (
        select(Notification, Notice)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    result = paginate(query, page, page_size)
    return Page(items=[_item(row.Notification, row.Notice) for row in result.items], total=result.total,
                page=page, page_size=page_size)


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def mark_read(user_id: int, notification_id: int) -> dict:
    """Only one's own (another's id is unknown, not forbidden: nothing about it is revealed)."""
    row = db.session.execute(
        select(Notification, Notice)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
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


def kind_preferences(user_id: int) -> list[dict]:
    """Every known kind with its label and whether its pushes are on for the person (no row: on)."""
    turned_off = set(
        db.session.scalars(
            select(NotificationPreference.kind).where(
                NotificationPreference.user_id == user_id, NotificationPreference.enabled.is_(False)
            )
        )
    )
    return [{"kind": kind, "label": label, "enabled": kind not in turned_off} for kind, label in KINDS.items()]


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
