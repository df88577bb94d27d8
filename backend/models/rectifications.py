"""Rectification items (整改台账): each finding of an inspection, answered by its party and accepted (销号); their
photos and history, the escalation steps taken, and each area's inspection checklist."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.rectifications import (
    FINDING_LIMIT,
    NOTE_LIMIT,
    RectificationStatus,
    RectificationUrgency,
    ResponsibleParty,
)
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.people import User
from backend.shared.clock import utcnow


class Rectification(Base):
    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    responsible_party: Mapped[ResponsibleParty] = mapped_column(str_enum(ResponsibleParty, "responsible_party"))
    urgency: Mapped[RectificationUrgency] = mapped_column(
        str_enum(RectificationUrgency, "rectification_urgency"), default=RectificationUrgency.NORMAL
    )
    # The last Beijing day on which the party may answer; overdue from the next day while not accepted.
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[RectificationStatus] = mapped_column(
        str_enum(RectificationStatus, "rectification_status"), default=RectificationStatus.OPEN
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The supervision inspection whose finding this is; its inspector alone accepts or returns it.
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The checklist item the finding falls under, as it was named on the day.
    item: Mapped[str] = mapped_column(String(20))
    finding: Mapped[str] = mapped_column(String(FINDING_LIMIT))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])

    __table_args__ = (
        Index("ix_rectifications_compound_status", "compound_id", "status"),
        Index("ix_rectifications_status_deadline", "status", "deadline"),
    )


class RectificationEvent(Base):
    """One step of an item's history: recorded, answered (with the party's note), returned (with the reason),
    accepted, escalated."""

    __tablename__ = "rectification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    # None for the sweep's escalation steps.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(NOTE_LIMIT), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class RectificationPhoto(Base):
    """A re-encoded photo (no EXIF): of the finding (its record event) or of an answer (that answer's event)."""

    __tablename__ = "rectification_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("rectification_events.id"))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RectificationEscalation(Base):
    """An escalation step taken for an overdue item; the unique key makes each step happen once, however often
    (and however many at once) the sweep runs."""

    __tablename__ = "rectification_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"))
    step: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("rectification_id", "step"),)


class InspectionChecklist(Base):
    """An area's supervision checklist (检查清单); the nearest area above a compound that has one wins."""

    __tablename__ = "inspection_checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), unique=True)
    items: Mapped[list] = mapped_column(JSON, default=list)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
