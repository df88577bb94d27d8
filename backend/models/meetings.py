"""The four meetings (四会): the meeting, its invitees by party, attendance by QR check-in, minutes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.consultations import MeetingKind, Party
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.people import User
from backend.shared.clock import utcnow


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"))
    title: Mapped[str] = mapped_column(String(60))
    agenda: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(100))
    convener_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    minutes: Mapped[str] = mapped_column(Text, default="")
    resolutions: Mapped[str] = mapped_column(Text, default="")
    minutes_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped to void printed check-in codes (e.g. a poster photographed and shared).
    checkin_version: Mapped[int] = mapped_column(default=1)
    # How many of the reminders (the day before, 1 h before) went out: the sweep sends each once.
    reminders_sent: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    convener: Mapped[User] = relationship(foreign_keys=[convener_id])

    __table_args__ = (
        Index("ix_meetings_compound_starts", "compound_id", "starts_at"),
        Index("ix_meetings_starts_at", "starts_at"),
    )


class MeetingInvitee(Base):
    """Someone invited, by the party they speak for. A user when they have an account here; otherwise only a
    name (a merchant, a company's representative), shown in the invitation list but not reminded."""

    __tablename__ = "meeting_invitees"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    party: Mapped[Party] = mapped_column(str_enum(Party, "meeting_party"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)


class MeetingAttendance(Base):
    """One check-in per person and meeting (a second scan changes nothing)."""

    __tablename__ = "meeting_attendance"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
