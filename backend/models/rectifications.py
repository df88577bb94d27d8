"""Rectification items (整改台账): each finding of an inspection, answered by its party and accepted (销号)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.rectifications import RectificationStatus, RectificationUrgency, ResponsibleParty
from backend.models.base import Base, UTCDateTime, str_enum
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

    __table_args__ = (Index("ix_rectifications_compound_status", "compound_id", "status"),)
