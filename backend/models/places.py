"""Places: the area tree, compounds (the official ledger row), buildings, households, property companies."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.compounds import (
    AreaLevel,
    GovernanceBody,
    HouseholdKind,
    ManagementModel,
    PartyOrgForm,
    RenovationStatus,
)
from backend.models.base import Base, UTCDateTime, str_enum
from backend.shared.clock import utcnow


class Area(Base):
    """City → district → street → community. `path` ("/1/4/9/") makes "every compound below" one LIKE."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[AreaLevel] = mapped_column(str_enum(AreaLevel, "area_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    path: Mapped[str] = mapped_column(String(255), default="", index=True)

    parent: Mapped[Area | None] = relationship(remote_side=[id])

    __table_args__ = (UniqueConstraint("parent_id", "name"),)


class PropertyCompany(Base):
    __tablename__ = "property_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    # 统一社会信用代码: 18 characters.
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    # With ★5, a party organisation makes a "红色物业".
    has_party_org: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Compound(Base):
    """A compound (小区) and its ledger (台账) fields."""

    __tablename__ = "compounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(255), default="")
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    built_year: Mapped[int | None]
    management_model: Mapped[ManagementModel] = mapped_column(str_enum(ManagementModel, "management_model"))
    party_org_form: Mapped[PartyOrgForm] = mapped_column(
        str_enum(PartyOrgForm, "party_org_form"), default=PartyOrgForm.NONE
    )
    first_secretary_name: Mapped[str] = mapped_column(String(64), default="")
    governance_body: Mapped[GovernanceBody] = mapped_column(
        str_enum(GovernanceBody, "governance_body"), default=GovernanceBody.NONE
    )
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    fee_standard_fen_per_m2: Mapped[int | None]
    renovation_status: Mapped[RenovationStatus] = mapped_column(
        str_enum(RenovationStatus, "renovation_status"), default=RenovationStatus.NOT_PLANNED
    )
    open_problems: Mapped[str] = mapped_column(Text, default="")
    # Measure 1: no committee, chaotic management or many disputes → the district assigns a first secretary.
    is_problem_compound: Mapped[bool] = mapped_column(default=False)
    # Bumped to revoke every printed QR code of the compound.
    qr_version: Mapped[int] = mapped_column(default=1)
    # Call buttons (tel: links) on the home page and every order: 物业服务电话, set by the manager, and the
    # committee's contact, shown only when the committee chooses to. Stored as normalize_contact_phone writes it.
    service_phone: Mapped[str] = mapped_column(String(20), default="")
    committee_phone: Mapped[str] = mapped_column(String(20), default="")
    committee_phone_public: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    area: Mapped[Area] = relationship()
    property_company: Mapped[PropertyCompany | None] = relationship()

    __table_args__ = (
        CheckConstraint("built_year IS NULL OR (built_year BETWEEN 1900 AND 2100)", name="built_year_range"),
        CheckConstraint("fee_standard_fen_per_m2 IS NULL OR fee_standard_fen_per_m2 >= 0", name="fee_nonnegative"),
    )


class Building(Base):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    qr_version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (UniqueConstraint("compound_id", "name"),)


class Household(Base):
    """A household (户, 专有部分). compound_id is repeated from the building so isolation is one filter."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    unit: Mapped[str] = mapped_column(String(16))
    room: Mapped[str] = mapped_column(String(16))
    # 0.01 m², so areas add up exactly in votes and bills.
    floor_area_centi_m2: Mapped[int]
    kind: Mapped[HouseholdKind] = mapped_column(
        str_enum(HouseholdKind, "household_kind"), default=HouseholdKind.RESIDENTIAL
    )

    building: Mapped[Building] = relationship()

    __table_args__ = (
        UniqueConstraint("building_id", "unit", "room"),
        CheckConstraint("floor_area_centi_m2 > 0", name="floor_area_positive"),
        Index("ix_households_compound_building", "compound_id", "building_id", "unit", "room"),
    )


class RegisteredOwner(Base):
    """An owner as imported from the property register (产权名册); matching phone = verified at once."""

    __tablename__ = "registered_owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(16))
