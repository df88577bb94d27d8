"""Dispute mediation (矛盾纠纷调解): one case per dispute in a compound."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.disputes import DisputeKind, DisputeStatus
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class DisputeCase(Base):
    __tablename__ = "dispute_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    kind: Mapped[DisputeKind] = mapped_column(str_enum(DisputeKind, "dispute_kind"))
    status: Mapped[DisputeStatus] = mapped_column(str_enum(DisputeStatus, "dispute_status"), default=DisputeStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the outcome was recorded (settled or referred); NULL while open.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_dispute_cases_compound_status", "compound_id", "status"),)
