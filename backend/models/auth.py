"""Signed-out tokens: the revocation list, kept in the database so that no Redis restart can undo a logout."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime
from backend.shared.clock import utcnow


class RevokedToken(Base):
    """A token (by its `jti`) that was signed out, kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Whose token: the sign-in cache keeps revocations per person (services/auth_cache). Rows from before
    # issue 18 have none; they are still found by `jti`.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
