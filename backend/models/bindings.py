"""Requests by a resident to be bound to a household, and their decision."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.bindings import BindingStatus, Relation
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.people import User
from backend.models.places import Household
from backend.shared.clock import utcnow


class BindingRequest(Base):
    __tablename__ = "binding_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    claimed_name: Mapped[str] = mapped_column(String(64))
    relation: Mapped[Relation] = mapped_column(str_enum(Relation, "relation"))
    status: Mapped[BindingStatus] = mapped_column(str_enum(BindingStatus, "binding_status"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    household: Mapped[Household] = relationship()

    __table_args__ = (
        Index("ix_binding_requests_compound_status", "compound_id", "status", "id"),
        # One open request per person and household: a double tap must not queue two.
        Index(
            "uq_binding_requests_one_pending",
            "user_id",
            "household_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
