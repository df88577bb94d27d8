"""Company scores and stars (评星定级): the per-area method, credit records, on-site inspections, rating rounds
with their rows and objections."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.rating import CreditKind, PeriodKind, RoundStatus, StarMethod
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class RatingMethod(Base):
    """How an area rates its companies; the nearest area above a company's compounds that has a row wins."""

    __tablename__ = "rating_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), unique=True)
    survey_weight: Mapped[int] = mapped_column(SmallInteger)
    service_weight: Mapped[int] = mapped_column(SmallInteger)
    inspection_weight: Mapped[int] = mapped_column(SmallInteger)
    method: Mapped[StarMethod] = mapped_column(str_enum(StarMethod, "star_method"))
    # [[minimum score (centi-points), stars], ...] for `bands`.
    bands: Mapped[list] = mapped_column(JSON, default=list)
    # Increasing shares (basis points) for ★5, ★4, ... for `rank`.
    cutoffs_bp: Mapped[list] = mapped_column(JSON, default=list)
    min_stars: Mapped[int] = mapped_column(SmallInteger, default=0)
    publicity_days: Mapped[int] = mapped_column(SmallInteger, default=7)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "survey_weight >= 0 AND service_weight >= 0 AND inspection_weight >= 0"
            " AND survey_weight + service_weight + inspection_weight = 100",
            name="weights_add_up",
        ),
        CheckConstraint("min_stars BETWEEN 0 AND 5", name="min_stars_range"),
        CheckConstraint("publicity_days BETWEEN 1 AND 30", name="publicity_days_range"),
    )


class CreditRecord(Base):
    """A good or bad record of a company (信用记录): points add or subtract until it expires."""

    __tablename__ = "credit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    kind: Mapped[CreditKind] = mapped_column(str_enum(CreditKind, "credit_kind"))
    # Signed centi-points added to the composite score (good > 0, the others ≤ 0).
    points_centi: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    evidence_key: Mapped[str | None] = mapped_column(String(128))
    occurred_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("expires_on > occurred_on", name="expires_after_occurring"),
        CheckConstraint("(kind = 'good') = (points_centi > 0)", name="sign_matches_kind"),
    )


class Inspection(Base):
    """An on-site inspection of a compound: scored (评分检查: the company's service, by an evaluator or the district's
    housing official; points count in the rating) or a supervision inspection (监督检查: by the street or the housing
    department, items checked without points, its findings kept as rectification items)."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    # The company serving the compound on the day; none for a supervision inspection of a compound without one.
    company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inspected_on: Mapped[date] = mapped_column(Date)
    # None for a supervision inspection: it scores nothing and counts in no rating.
    points: Mapped[int | None]
    max_points: Mapped[int | None]
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[InspectionItem]] = relationship(order_by="InspectionItem.position", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("max_points > 0 AND points BETWEEN 0 AND max_points", name="points_range"),
        CheckConstraint("(points IS NULL) = (max_points IS NULL)", name="scored_or_not"),
    )

    @property
    def scored(self) -> bool:
        return self.points is not None


class InspectionItem(Base):
    __tablename__ = "inspection_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(60))
    max_points: Mapped[int | None]
    points: Mapped[int | None]
    finding: Mapped[str] = mapped_column(String(300), default="")
    photo_key: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        UniqueConstraint("inspection_id", "position"),
        CheckConstraint("max_points > 0 AND points BETWEEN 0 AND max_points", name="points_range"),
    )


class RatingRound(Base):
    """One area's rating of its companies for one period, through 初审 → 复核 → 公示 → 授牌."""

    __tablename__ = "rating_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    period_kind: Mapped[PeriodKind] = mapped_column(str_enum(PeriodKind, "rating_period_kind"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[RoundStatus] = mapped_column(str_enum(RoundStatus, "rating_round_status"))
    # The method as it was when computed, so a later change of the area's method cannot rewrite a round.
    method_snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    publicity_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("area_id", "period_kind", "period_start"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )


class CompanyRating(Base):
    """A company's row in a round: its parts, composite, rank and stars (评星定级)."""

    __tablename__ = "company_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_rounds.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    compounds_rated: Mapped[int]
    compounds_insufficient: Mapped[int]
    survey_score_centi: Mapped[int | None]
    service_score_centi: Mapped[int | None]
    inspection_score_centi: Mapped[int | None]
    credit_centi: Mapped[int]
    composite_centi: Mapped[int]
    rank: Mapped[int]
    stars: Mapped[int] = mapped_column(SmallInteger)
    # Why no star whatever the score (重大事故, 黑榜), "" otherwise.
    no_star_reason: Mapped[str] = mapped_column(String(100), default="")

    round: Mapped[RatingRound] = relationship()

    __table_args__ = (
        UniqueConstraint("round_id", "company_id"),
        CheckConstraint("stars BETWEEN 0 AND 5", name="stars_range"),
    )


class RatingObjection(Base):
    """An objection during publicity (公示异议), answered publicly."""

    __tablename__ = "rating_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rating_rounds.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(String(500), default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
