"""Renovation projects (老旧小区改造): a compound's project with its items (class, category, budget, funding), the
responsible party's progress reports with photos, and the households' ratings once it is completed."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.rectifications import ResponsibleParty
from backend.domain.renovation import (
    COMMENT_LIMIT,
    CONTRACTOR_LIMIT,
    DESCRIPTION_LIMIT,
    NOTE_LIMIT,
    TITLE_LIMIT,
    FundingSource,
    ItemClass,
    ProjectStatus,
)
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class RenovationProject(Base):
    __tablename__ = "renovation_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    title: Mapped[str] = mapped_column(String(TITLE_LIMIT))
    status: Mapped[ProjectStatus] = mapped_column(str_enum(ProjectStatus, "renovation_status"),
                                                  default=ProjectStatus.PLANNED)
    responsible_party: Mapped[ResponsibleParty] = mapped_column(str_enum(ResponsibleParty, "renovation_party"))
    contractor: Mapped[str] = mapped_column(String(CONTRACTOR_LIMIT), default="")
    # The owners' vote (议题) the project came from: the same compound's, or none.
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    # Beijing dates, set by the party's progress: the first report above 0%, and the one at 100%.
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    percent: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[RenovationItem]] = relationship(order_by="RenovationItem.position", lazy="selectin")

    __table_args__ = (
        Index("ix_renovation_projects_compound_status", "compound_id", "status"),
        CheckConstraint("percent BETWEEN 0 AND 100", name="percent_range"),
    )


class RenovationItem(Base):
    __tablename__ = "renovation_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("renovation_projects.id"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    item_class: Mapped[ItemClass] = mapped_column(str_enum(ItemClass, "renovation_item_class"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_LIMIT), default="")
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    funding_source: Mapped[FundingSource] = mapped_column(str_enum(FundingSource, "renovation_funding_source"))

    __table_args__ = (
        UniqueConstraint("project_id", "position"),
        CheckConstraint("budget_fen >= 0", name="budget_not_negative"),
    )


class RenovationUpdate(Base):
    """A progress report of the responsible party: what was done and how far the works are."""

    __tablename__ = "renovation_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("renovation_projects.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(NOTE_LIMIT))
    percent: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RenovationPhoto(Base):
    """A re-encoded photo (no EXIF) of a progress report."""

    __tablename__ = "renovation_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("renovation_projects.id"), index=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("renovation_updates.id"))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RenovationRating(Base):
    """A household's 1–5 rating of a completed project, with a comment: one per household, the last one counts."""

    __tablename__ = "renovation_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("renovation_projects.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(String(COMMENT_LIMIT), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("project_id", "household_id"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
    )
