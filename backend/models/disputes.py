"""Dispute mediation (矛盾纠纷调解): one case per dispute in a compound, its parties, its steps, its outcome."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.disputes import DisputeKind, DisputeStatus, PartyKind
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
    title: Mapped[str] = mapped_column(String(60), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The community or street over which the mediator mediates: officials of an area above it may take over.
    mediator_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    # Where it arose, in the same compound: at most one of the three.
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    rectification_id: Mapped[int | None] = mapped_column(ForeignKey("rectifications.id"))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    # For a referred case: to whom (人民调解委员会, 司法所, 法院…).
    referred_to: Mapped[str] = mapped_column(String(60), default="")
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The signed agreement (调解协议书): a re-encoded photo or a checked PDF, served as a download.
    agreement_key: Mapped[str | None] = mapped_column(String(255))
    agreement_type: Mapped[str | None] = mapped_column(String(32))
    agreement_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_dispute_cases_compound_status", "compound_id", "status"),
        Index("ix_dispute_cases_opened_at", "opened_at"),
    )


class DisputeParty(Base):
    """One side of a case: a named company or committee, or a resident by household or account (who then sees it)."""

    __tablename__ = "dispute_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"), index=True)
    kind: Mapped[PartyKind] = mapped_column(str_enum(PartyKind, "dispute_party_kind"))
    name: Mapped[str] = mapped_column(String(40), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)


class DisputeStep(Base):
    """A mediation record (调解记录): the Beijing day it happened and what happened."""

    __tablename__ = "dispute_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_cases.id"), index=True)
    happened_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
