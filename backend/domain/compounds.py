"""The ledger vocabulary of a compound (DESIGN §2, §7)."""
from __future__ import annotations

import enum


class ManagementModel(enum.StrEnum):
    MARKET = "market"
    OWNER_SELF = "owner_self"
    UNIT_SELF = "unit_self"
    TRUST = "trust"
    COMMUNITY_FALLBACK = "community_fallback"


MANAGEMENT_MODEL_LABELS = {
    ManagementModel.MARKET: "市场化物业服务",
    ManagementModel.OWNER_SELF: "业主自行服务",
    ManagementModel.UNIT_SELF: "单位自管",
    ManagementModel.TRUST: "信托制物业服务",
    ManagementModel.COMMUNITY_FALLBACK: "社区兜底服务",
}


class PartyOrgForm(enum.StrEnum):
    SINGLE = "single"
    JOINT = "joint"
    GRID = "grid"
    NONE = "none"


class GovernanceBody(enum.StrEnum):
    OWNERS_COMMITTEE = "owners_committee"
    PROPERTY_COMMITTEE = "property_committee"
    SELF_COMMITTEE = "self_committee"
    NONE = "none"


class RenovationStatus(enum.StrEnum):
    NOT_PLANNED = "not_planned"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class AreaLevel(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


class HouseholdKind(enum.StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"


HOUSEHOLD_KIND_LABELS = {HouseholdKind.RESIDENTIAL: "住宅", HouseholdKind.COMMERCIAL: "商业用房"}


def format_floor_area(centi_m2: int) -> str:
    """Floor area is stored in 0.01 m² so it sums exactly; shown as 89.50."""
    return f"{centi_m2 // 100}.{centi_m2 % 100:02d}"


def household_label(building: str, unit: str | None, room: str) -> str:
    """The one way a house is written on every screen, file and notice: 1栋1单元101室. A building without units
    (a low block, a shop front) is 3栋102室; a ledger that already wrote 单元 or 室 is not doubled."""
    unit = (unit or "").strip()
    room = room.strip()
    unit_part = f"{unit}单元" if unit and not unit.endswith("单元") else unit
    room_part = room if room.endswith("室") else f"{room}室"
    return f"{building.strip()}{unit_part}{room_part}"
