"""党建+ service activities (社区活动): the activity, its sign-ups with the waiting list, QR check-ins (from which
volunteer hours are counted) and the photos of its report."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.activities import ActivityKind, ActivityStatus, SignupStatus
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, "activity_kind"))
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(100))
    # Who runs it as the residents know them (e.g. 社区卫生服务中心, 党员志愿服务队); created_by is the account.
    organiser: Mapped[str] = mapped_column(String(60))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    capacity: Mapped[int]
    status: Mapped[ActivityStatus] = mapped_column(
        str_enum(ActivityStatus, "activity_status"), default=ActivityStatus.OPEN
    )
    # Bumped to void printed check-in codes, as a meeting's.
    checkin_version: Mapped[int] = mapped_column(default=1)
    report: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_activities_compound_starts", "compound_id", "starts_at"),
        Index("ix_activities_starts_at", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="activity_times"),
        CheckConstraint("capacity > 0", name="activity_capacity"),
    )


class ActivitySignup(Base):
    """One row per person and activity, made once by the database; a cancelled one is taken up again by a new
    sign-up (at the back of the waiting list)."""

    __tablename__ = "activity_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[SignupStatus] = mapped_column(str_enum(SignupStatus, "activity_signup_status"))
    as_volunteer: Mapped[bool] = mapped_column(default=False)
    # The waiting list's order.
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set in the statement that claims the day-before reminder: it goes out once.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("activity_id", "user_id"),
        Index("ix_activity_signups_queue", "activity_id", "status", "signed_up_at"),
    )


class ActivityCheckin(Base):
    """One check-in per person and activity (a second scan changes nothing); `as_volunteer` is the sign-up's at
    the moment of the check-in, so the hours stand even if the sign-up is changed later."""

    __tablename__ = "activity_checkins"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    as_volunteer: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_activity_checkins_user", "user_id", "as_volunteer"),)


class ActivityPhoto(Base):
    """A photo of the activity's report: re-encoded (no EXIF), shown only through an access-checked URL."""

    __tablename__ = "activity_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
