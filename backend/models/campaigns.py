"""Environment campaigns (卫生评比, 垃圾分类): the campaign over an area's compounds with its checklist, appointed
evaluators, inspection rounds, a score per building and round, findings (a failed item with note and photos) and
the work order or rectification item each finding became."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.campaigns import ITEM_LIMIT, NOTE_LIMIT, TITLE_LIMIT, CampaignKind, CampaignStatus
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class EnvironmentCampaign(Base):
    """Started by an official of a community or street (or above) over compounds of the area."""

    __tablename__ = "environment_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_LIMIT))
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind, "campaign_kind"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # [{"name": …, "max_points": …}] in order; fixed once the first score is recorded.
    checklist: Mapped[list] = mapped_column(JSON)
    red_flag_count: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus, "campaign_status"),
                                                   default=CampaignStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("red_flag_count >= 0", name="red_flags_nonnegative"),)


class CampaignCompound(Base):
    __tablename__ = "campaign_compounds"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("environment_campaigns.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), primary_key=True)

    __table_args__ = (Index("ix_campaign_compounds_compound", "compound_id"),)


class CampaignEvaluator(Base):
    """An inspector (评比员) appointed to one campaign: scores its buildings without any role in the compounds."""

    __tablename__ = "campaign_evaluators"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("environment_campaigns.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    appointed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignRound(Base):
    """One inspection round (第N轮): one day's walk through the buildings. Its number is drawn under the campaign's
    row lock; number and day are each unique per campaign, so a second tap on the same day finds the round."""

    __tablename__ = "campaign_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("environment_campaigns.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    inspected_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("campaign_id", "number"), UniqueConstraint("campaign_id", "inspected_on"))


class BuildingScore(Base):
    """A building's score in a round: one row per (round, building), a second entry updates it (upsert)."""

    __tablename__ = "building_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("campaign_rounds.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    # {item name: points}
    points: Mapped[dict] = mapped_column(JSON)
    total: Mapped[int]
    note: Mapped[str] = mapped_column(String(NOTE_LIMIT), default="")
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("round_id", "building_id"),
        CheckConstraint("total >= 0", name="total_nonnegative"),
        Index("ix_building_scores_compound", "compound_id"),
    )


class CampaignFinding(Base):
    """A failed checklist item of a building in a round, with note and photos. Turned into a work order or a
    rectification item at most once each: the link columns are unique and set under the finding's row lock."""

    __tablename__ = "campaign_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("building_scores.id"))
    round_id: Mapped[int] = mapped_column(ForeignKey("campaign_rounds.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    item: Mapped[str] = mapped_column(String(ITEM_LIMIT))
    note: Mapped[str] = mapped_column(String(NOTE_LIMIT))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    rectification_id: Mapped[int | None] = mapped_column(ForeignKey("rectifications.id"), unique=True)

    __table_args__ = (UniqueConstraint("score_id", "item"),)


class CampaignPhoto(Base):
    """A re-encoded photo of a finding. A work order or rectification item made from the finding shows the same
    file (its own row, the same storage key): nothing deletes these files."""

    __tablename__ = "campaign_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("campaign_findings.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
