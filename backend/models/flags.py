"""Problem flags (问题小区): one row per time a rule fired for a compound, clearing keeps the row (the history); and
the per-area thresholds the rules compare with."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.flags import FlagRule
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class ProblemFlag(Base):
    __tablename__ = "problem_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    rule: Mapped[FlagRule] = mapped_column(str_enum(FlagRule, "flag_rule"))
    # Why it fired, in the words an official reads (e.g. "近三个月收缴率 41%、38%、35%，低于 60%").
    reason: Mapped[str] = mapped_column(String(300))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the rule stops firing; the row stays as history.
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # A rule is raised at most once at a time per compound: the sweep upserts on this.
        Index(
            "uq_problem_flags_active", "compound_id", "rule", unique=True,
            sqlite_where=text("cleared_at IS NULL"), postgresql_where=text("cleared_at IS NULL"),
        ),
    )


class FlagThreshold(Base):
    """An area's own thresholds for the flag rules; the nearest area at or above a compound's with a row wins, the
    defaults of domain FlagThresholds when none has one."""

    __tablename__ = "flag_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), unique=True)
    collection_min_bp: Mapped[int]
    overdue_orders_max: Mapped[int]
    satisfaction_min_bp: Mapped[int]
    low_stars: Mapped[int] = mapped_column(SmallInteger)
    open_disputes_max: Mapped[int]
    overdue_rectifications_max: Mapped[int]
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("collection_min_bp BETWEEN 0 AND 10000 AND satisfaction_min_bp BETWEEN 0 AND 10000",
                        name="rates_range"),
        CheckConstraint("low_stars BETWEEN 0 AND 5", name="low_stars_range"),
        CheckConstraint("overdue_orders_max >= 0 AND open_disputes_max >= 0 AND overdue_rectifications_max >= 0",
                        name="counts_not_negative"),
    )
