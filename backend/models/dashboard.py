"""The officials' dashboard figures: per compound (and per compound and month), rewritten by the refresh job from
each feature's own service, so a page over 2,000 compounds reads rows instead of scanning bills and orders."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime


class CompoundFigures(Base):
    """One row per compound: the live figures as of `refreshed_at`. Every column is a count or fen, never a rate:
    rates are computed when shown, so the area's totals add up exactly."""

    __tablename__ = "compound_figures"

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    households: Mapped[int] = mapped_column(default=0)
    # Collection (fees.collection): the newest billed period, and every period starting in the Beijing year.
    period_start: Mapped[date | None] = mapped_column(Date)
    period_billed_households: Mapped[int] = mapped_column(default=0)
    period_paid_households: Mapped[int] = mapped_column(default=0)
    period_billed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    period_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    year_billed_households: Mapped[int] = mapped_column(default=0)
    year_paid_households: Mapped[int] = mapped_column(default=0)
    year_billed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    year_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Work orders open and overdue now (services.overview.open_orders, the board's meaning of 超时).
    orders_open: Mapped[int] = mapped_column(default=0)
    orders_overdue: Mapped[int] = mapped_column(default=0)
    # This month's cohort (services.workorder_stats, the figures page).
    orders_month: Mapped[int] = mapped_column(default=0)
    orders_closed: Mapped[int] = mapped_column(default=0)
    orders_closed_within_sla: Mapped[int] = mapped_column(default=0)
    median_close_seconds: Mapped[int | None]
    # The latest survey's overall tally (满意率 in basis points) and the company's published stars.
    satisfaction_rate_bp: Mapped[int | None]
    satisfaction_sufficient: Mapped[bool] = mapped_column(default=False)
    stars: Mapped[int | None]
    # Ballots closed this Beijing year and their own participation (BallotResult).
    deliberations_held: Mapped[int] = mapped_column(default=0)
    turnout_households: Mapped[int] = mapped_column(default=0)
    turnout_eligible: Mapped[int] = mapped_column(default=0)
    disputes_open: Mapped[int] = mapped_column(default=0)
    flags_active: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CompoundMonthFigures(Base):
    """Per compound and month of the last twelve: collection of the periods starting that month and the orders
    submitted in it (and of those, closed), for the charts."""

    __tablename__ = "compound_month_figures"

    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    billed_households: Mapped[int] = mapped_column(default=0)
    paid_households: Mapped[int] = mapped_column(default=0)
    billed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(default=0)
    orders_closed: Mapped[int] = mapped_column(default=0)
