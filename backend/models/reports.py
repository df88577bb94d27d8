"""Periodic reports (定期通报): one row per report of an area and period, its figures frozen when published."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.reports import ReportKind, ReportStatus
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.places import Area
from backend.shared.clock import utcnow


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    kind: Mapped[ReportKind] = mapped_column(str_enum(ReportKind, "report_kind"))
    # Beijing dates, both included.
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[ReportStatus] = mapped_column(str_enum(ReportStatus, "report_status"), default=ReportStatus.BUILDING)
    # Everything the page, the workbook and the PDF show, as built; never rewritten once published.
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    # Why the last build failed, for the officials' list ("" otherwise).
    failure: Mapped[str] = mapped_column(String(300), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # NULL for the cron's reports.
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    built_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    xlsx_key: Mapped[str] = mapped_column(String(255), default="")
    pdf_key: Mapped[str] = mapped_column(String(255), default="")

    area: Mapped[Area] = relationship()

    __table_args__ = (
        # The cron's reports are made once per area and period however often it runs (custom ones may repeat).
        Index(
            "uq_reports_periodic", "area_id", "kind", "period_start", unique=True,
            sqlite_where=text("kind <> 'custom'"), postgresql_where=text("kind <> 'custom'"),
        ),
        Index("ix_reports_area_period", "area_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )
