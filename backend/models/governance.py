"""Party organisation and self-governance history per compound, and first secretaries (第一书记) with their logs."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.compounds import GovernanceBody, PartyOrgForm
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class GovernanceRecord(Base):
    """The compound's party organisation and self-governance body as they stood from `created_at` on: one row per
    change, never updated, so the newest is the current state and the rest is the history. Compound.party_org_form
    and Compound.governance_body repeat the newest row's forms for the readers of the ledger row."""

    __tablename__ = "governance_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    party_org_form: Mapped[PartyOrgForm] = mapped_column(str_enum(PartyOrgForm, "party_org_form"))
    party_secretary_name: Mapped[str] = mapped_column(String(64), default="")
    party_members: Mapped[int] = mapped_column(default=0)
    body: Mapped[GovernanceBody] = mapped_column(str_enum(GovernanceBody, "governance_body"))
    body_formed_on: Mapped[date | None] = mapped_column(Date)
    body_term_ends_on: Mapped[date | None] = mapped_column(Date)
    body_members: Mapped[int] = mapped_column(default=0)
    # The fields this change touched, in the order of domain.governance.STATE_FIELDS.
    changed: Mapped[list] = mapped_column(JSON, default=list)
    # "form" (the governance page or API) or "ledger" (a ledger import).
    source: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_governance_records_compound", "compound_id", "id"),
        Index("ix_governance_records_term_end", "body_term_ends_on"),
        CheckConstraint("party_members >= 0 AND body_members >= 0", name="members_nonnegative"),
    )


class FirstSecretary(Base):
    """A first secretary sent to a compound: their `party_secretary` membership (so every party secretary's right
    is theirs) is `membership_id` while the assignment lasts; ending it removes that membership."""

    __tablename__ = "first_secretaries"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    started_on: Mapped[date] = mapped_column(Date)
    goals: Mapped[str] = mapped_column(Text, default="")
    ended_on: Mapped[date | None] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        # One first secretary at a time per compound: two districts' officials assigning at once make one.
        Index(
            "uq_first_secretaries_current", "compound_id", unique=True,
            sqlite_where=text("ended_on IS NULL"), postgresql_where=text("ended_on IS NULL"),
        ),
    )


class FirstSecretaryLog(Base):
    """The monthly log (工作日志) of one assignment: one per month, written and corrected within its month."""

    __tablename__ = "first_secretary_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_secretary_id: Mapped[int] = mapped_column(ForeignKey("first_secretaries.id"))
    # The month's first day (Beijing).
    month: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("first_secretary_id", "month"),)
