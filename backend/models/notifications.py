"""Notifications: the message (Notice), each person's inbox row, push deliveries, preferences."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.notifications import Channel, DeliveryStatus, Urgency
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class Notice(Base):
    """What one notify() call says, once; its dedupe key makes a repeated call the same notice."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(String(500), default="")
    link: Mapped[str] = mapped_column(String(255), default="")
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "urgency"))
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Withdrawn for everyone (e.g. a vote reminder once the ballot closed): no inbox row is written after it.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Notification(Base):
    """A person's inbox row (站内信). Unique on person and dedupe key: never twice in one inbox. A withdrawn row
    (no longer true for this person) leaves the inbox and is not pushed; one written withdrawn before its fan-out
    got there keeps that fan-out from writing it."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_newest", "user_id", "id"),
        # A notice withdrawn for everyone finds its rows by it.
        Index("ix_notifications_notice_id", "notice_id"),
    )


class Delivery(Base):
    """One push of an inbox row over one channel; at most one per row and channel."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "delivery_status"))
    deliver_after: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_deliveries_status_due", "status", "deliver_after"),
    )


class NotificationPreference(Base):
    """A kind of notification a person turned off (no row: on)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
