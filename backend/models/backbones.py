"""治理骨干 roster: the people who carry a compound (party members, capable residents, volunteers, building heads,
social organisations, social workers), each entry with its history (who confirmed or ended it, and when)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.domain.backbones import NAME_LIMIT, NOTE_LIMIT, BackboneKind, BackboneStatus
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow

_LIVE = "status IN ('pending', 'active')"
_ACTIVE_HEAD = "kind = 'building_head' AND status = 'active'"


class BackboneMember(Base):
    __tablename__ = "backbone_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    # A verified resident's account, or None for someone known by name only (an organisation, a social worker).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(NAME_LIMIT))
    kind: Mapped[BackboneKind] = mapped_column(str_enum(BackboneKind, "backbone_kind"))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    # Required for a building head (the building they look after); for the others where they live, if given.
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    since: Mapped[date] = mapped_column(Date)
    status: Mapped[BackboneStatus] = mapped_column(str_enum(BackboneStatus, "backbone_status"))
    # A volunteer's few words about themselves, or a keeper's reason for declining or ending.
    note: Mapped[str] = mapped_column(String(NOTE_LIMIT), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_backbone_members_compound_status", "compound_id", "status", "kind"),
        # One live entry per person, compound and kind: a double tap on 我要当志愿者 makes one row.
        Index("uq_backbone_members_one_live", "compound_id", "user_id", "kind", unique=True,
              sqlite_where=text(_LIVE), postgresql_where=text(_LIVE)),
        # One active building head per building; the follower hook reads heads by building through it.
        Index("uq_backbone_members_one_head", "building_id", unique=True,
              sqlite_where=text(_ACTIVE_HEAD), postgresql_where=text(_ACTIVE_HEAD)),
    )
