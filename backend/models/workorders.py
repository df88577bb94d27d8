"""Work orders (报事报修): the order, its events, photos, followers, urges, escalations, rating, categories
and the monthly score snapshots the tally job writes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.workorders import HalfDay, Status, Urgency
from backend.models.base import Base, UTCDateTime, str_enum
from backend.models.people import User
from backend.models.places import Building, Household
from backend.shared.clock import utcnow


class WorkOrderCategory(Base):
    """A compound's own category list and SLA (minutes); a compound without rows uses the defaults."""

    __tablename__ = "work_order_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    name: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    accept_minutes_normal: Mapped[int]
    close_minutes_normal: Mapped[int]
    accept_minutes_urgent: Mapped[int]
    close_minutes_urgent: Mapped[int]

    __table_args__ = (
        UniqueConstraint("compound_id", "name"),
        CheckConstraint(
            "accept_minutes_normal > 0 AND close_minutes_normal >= accept_minutes_normal"
            " AND accept_minutes_urgent > 0 AND close_minutes_urgent >= accept_minutes_urgent",
            name="sla_positive",
        ),
    )


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    submitter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Where: the submitter's household, or a common area (a building and/or free text).
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    location_text: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(1000))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "work_order_urgency"))
    status: Mapped[Status] = mapped_column(str_enum(Status, "work_order_status"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accept_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    close_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The deadline the order runs against now (accept, then close); NULL once it is no longer open.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the sweep should take the next escalation step; NULL when none is left.
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Escalation steps taken in the current phase (0–3).
    escalation_level: Mapped[int] = mapped_column(default=0)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Kept as whole seconds so the figures are one portable SQL aggregate.
    seconds_to_accept: Mapped[int | None]
    seconds_to_close: Mapped[int | None]
    # Closed by the close deadline and never answered 未解决.
    closed_within_sla: Mapped[bool | None]
    # The rating's stars, repeated here so the figures are one pass over the month's orders (no lookup per order).
    rating_stars: Mapped[int | None] = mapped_column(SmallInteger)
    dispute_count: Mapped[int] = mapped_column(default=0)
    urge_count: Mapped[int] = mapped_column(default=0)
    last_urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rate_reminded: Mapped[bool] = mapped_column(default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    # 预约上门时间 of a home repair: a day (Asia/Shanghai) and its half (上午/下午), both or neither.
    visit_date: Mapped[date | None] = mapped_column(Date)
    visit_half_day: Mapped[HalfDay | None] = mapped_column(str_enum(HalfDay, "visit_half_day"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    submitter: Mapped[User] = relationship(foreign_keys=[submitter_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    household: Mapped[Household | None] = relationship()
    building: Mapped[Building | None] = relationship()
    rating: Mapped[WorkOrderRating | None] = relationship(back_populates="work_order", uselist=False)

    __table_args__ = (
        Index("ix_work_orders_compound_id_desc", "compound_id", "id"),
        Index("ix_work_orders_compound_status_due", "compound_id", "status", "sla_due_at"),
        # The staff queue: open orders only (a few per cent of the table), in deadline order.
        Index("ix_work_orders_open_due", "compound_id", "sla_due_at", "id",
              postgresql_where=text("sla_due_at IS NOT NULL"), sqlite_where=text("sla_due_at IS NOT NULL")),
        Index("ix_work_orders_compound_created", "compound_id", "created_at"),
        Index("ix_work_orders_submitter", "submitter_id", "id"),
        Index("ix_work_orders_escalate_at", "escalate_at"),
        Index("ix_work_orders_closed_at", "status", "closed_at"),
        CheckConstraint("escalation_level BETWEEN 0 AND 3", name="escalation_level_range"),
        CheckConstraint("(visit_date IS NULL) = (visit_half_day IS NULL)", name="visit_whole"),
    )


class WorkOrderEvent(Base):
    """One row per thing that happened to an order: who, from which status to which, the note, when."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    # NULL: the system (SLA escalation).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()
    photos: Mapped[list[WorkOrderPhoto]] = relationship(order_by="WorkOrderPhoto.id", viewonly=True)


class WorkOrderPhoto(Base):
    """A re-encoded photo (no EXIF) in photo storage; shown only through an access-checked URL."""

    __tablename__ = "work_order_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    # The event it documents (submission, close …); NULL while uploaded and not yet used.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("work_order_events.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkOrderFollower(Base):
    """Who hears about the order: its submitter, residents who joined it, submitters of merged duplicates."""

    __tablename__ = "work_order_followers"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkOrderEscalation(Base):
    """An escalation step taken; the unique key makes each step happen once, however often the sweep runs."""

    __tablename__ = "work_order_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    phase: Mapped[str] = mapped_column(String(8))
    level: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("work_order_id", "phase", "level"),)


class WorkOrderRating(Base):
    __tablename__ = "work_order_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(String(300), default="")
    # Chosen from RATING_TAGS, joined with "," (no free text, so no names slip into public figures).
    tags: Mapped[str] = mapped_column(String(100), default="")
    reply: Mapped[str] = mapped_column(String(300), default="")
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work_order: Mapped[WorkOrder] = relationship(back_populates="rating")

    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)


class ScoreSnapshot(Base):
    """A closed month's work-order figures for one compound or one property company, written by the nightly
    tally (rewritten, never added to, so running it twice gives the same rows). Orders count in the month
    (Asia/Shanghai) they were submitted."""

    __tablename__ = "score_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(16))  # "compound" | "company"
    subject_id: Mapped[int]
    orders: Mapped[int]
    accepted: Mapped[int]
    closed: Mapped[int]
    closed_within_sla: Mapped[int]
    confirmed: Mapped[int]
    closed_unconfirmed: Mapped[int]
    disputed: Mapped[int]
    rating_count: Mapped[int]
    rating_sum: Mapped[int]
    median_accept_seconds: Mapped[int | None]
    median_close_seconds: Mapped[int | None]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("month", "scope", "subject_id"),
        CheckConstraint("scope IN ('compound', 'company')", name="scope_known"),
    )
