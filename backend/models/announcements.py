"""Announcements (通知公告): the notice, the compounds it is posted to, its photos and who has opened it."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.announcements import TITLE_LIMIT, Category
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.people import User
from backend.shared.clock import utcnow


class Announcement(Base):
    """A notice posted to one compound (compound_id) or to every compound below an area (area_id), once: its
    compounds are written beside it (announcement_compounds) when it is posted, so one row is read, edited and
    deleted everywhere at once, and a compound added to the area later does not receive old notices."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Exactly one: the compound it was posted to, or the area (an official's post to all compounds below it).
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(TITLE_LIMIT))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[Category] = mapped_column(str_enum(Category, "announcement_category"))
    pinned: Mapped[bool] = mapped_column(default=False)
    urgent: Mapped[bool] = mapped_column(default=False)
    # The last Beijing day it is current; after it, it leaves the home page and the list shows it 已结束.
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Deleted notices stay (what was announced is part of the record) but are not found by anyone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        CheckConstraint("(area_id IS NULL) <> (compound_id IS NULL)", name="one_scope"),
    )


class AnnouncementCompound(Base):
    """A compound the notice was posted to: its compound, or each compound below its area at posting time."""

    __tablename__ = "announcement_compounds"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)

    __table_args__ = (Index("ix_announcement_compounds_compound", "compound_id", "announcement_id"),)


class AnnouncementPhoto(Base):
    """A re-encoded photo (no EXIF) in photo storage; shown only through an access-checked URL."""

    __tablename__ = "announcement_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnnouncementRead(Base):
    """Someone signed in opened the notice: one row per person, made once by the database (insert if absent)."""

    __tablename__ = "announcement_reads"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
