"""Problem flags (问题小区): one row per time a rule fired for a compound; clearing keeps the row (the history)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
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
