"""Rows the tests and the demo both make: areas, compounds with their buildings and households, people with their
roles, and a compound's fee schedule, subsidy policy and bills. Plain functions of plain values that add through
`db.session` and flush, so each row has its id; committing is the caller's (a test commits each row it makes,
the demo once a story is told). The fee rows go through the services the app uses, so they are the rows the app
would have written. Nothing here reads or needs the demo data."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select

from backend.domain.compounds import AreaLevel, HouseholdKind, ManagementModel
from backend.domain.fees import BillingCycle
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.models import (
    Area,
    Bill,
    Building,
    Compound,
    FeeSchedule,
    Household,
    Membership,
    SubsidyPolicy,
    User,
)
from backend.services import fees as fee_service
from backend.services import subsidies as subsidy_service
from backend.services.identity import phone_columns

# ---- places ----------------------------------------------------------------------------------------------


def make_area(name: str, level: AreaLevel, parent: Area | None = None) -> Area:
    area = Area(name=name, level=level, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    # The materialised path (/city/district/…/) that scopes an official's view to the areas below theirs.
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    return area


def make_compound(code: str, name: str, area: Area, management_model: ManagementModel, **details) -> Compound:
    """`details`: the compound's other columns (address, built year, governance, property company …)."""
    compound = Compound(code=code, name=name, area_id=area.id, management_model=management_model, **details)
    db.session.add(compound)
    db.session.flush()
    return compound


def make_building(compound: Compound, name: str) -> Building:
    building = Building(compound_id=compound.id, name=name)
    db.session.add(building)
    db.session.flush()
    return building


def make_households(building: Building, homes: Iterable[tuple[str, str, int]],
                    kind: HouseholdKind = HouseholdKind.RESIDENTIAL) -> list[Household]:
    """One household for each (unit, room, floor area in 0.01 m²), in that order."""
    households = [
        Household(compound_id=building.compound_id, building_id=building.id, unit=unit, room=room,
                  floor_area_centi_m2=floor_area, kind=kind)
        for unit, room, floor_area in homes
    ]
    db.session.add_all(households)
    db.session.flush()
    return households


# ---- people ----------------------------------------------------------------------------------------------


def make_user(username: str | None, display_name: str, password_hash: str | None,
              phone: str | None = None) -> User:
    """An account; with a phone, as signing in by SMS stores it (hashed, encrypted and masked)."""
    user = User(username=username, password_hash=password_hash, display_name=display_name,
                **(phone_columns(phone) if phone else {}))
    db.session.add(user)
    db.session.flush()
    return user


def grant_role(user: User, role: Role, *, compound: Compound | None = None, area: Area | None = None,
               household: Household | None = None, verified_by: User | None = None,
               verified_at: datetime | None = None) -> Membership:
    """`role` held where it applies: the platform admin everywhere, an official over an area (街道, 社区 …),
    anyone else in a compound, a resident or owner for a household once verified."""
    membership = Membership(
        user_id=user.id, role=role,
        compound_id=compound.id if compound is not None and role not in (Role.OFFICIAL, Role.ADMIN) else None,
        area_id=area.id if area is not None and role is Role.OFFICIAL else None,
        household_id=household.id if household is not None else None,
        verified_by_id=verified_by.id if verified_by is not None else None,
        verified_at=verified_at,
    )
    db.session.add(membership)
    return membership


# ---- fees --------------------------------------------------------------------------------------------------


def make_schedule(compound: Compound, kind: HouseholdKind, standard_fen_per_m2: int, effective_from: date,
                  cycle: BillingCycle, due_day: int, *, charges_fees: bool | None = None, note: str = "",
                  actor_id: int | None = None) -> FeeSchedule:
    return fee_service.create_schedule(
        compound,
        fee_service.ScheduleDraft(household_kind=kind, standard_fen_per_m2=standard_fen_per_m2,
                                  effective_from=effective_from, cycle=cycle, due_day=due_day,
                                  charges_fees=charges_fees, hearing_meeting_id=None, note=note),
        actor_id, None,
    )


def make_policy(name: str, period_start: date, tiers: Sequence[SubsidyTier], *, area_id: int | None = None,
                compound_id: int | None = None, built_before_year: int | None = None,
                management_models: Sequence[str] = (), cap_fen_per_month: int | None = None,
                budget_fen: int | None = None, actor_id: int | None = None) -> SubsidyPolicy:
    return subsidy_service.create_policy(
        subsidy_service.PolicyDraft(
            name=name, area_id=area_id, compound_id=compound_id, built_before_year=built_before_year,
            management_models=list(management_models), period_start=period_start, tiers=list(tiers),
            cap_fen_per_month=cap_fen_per_month, budget_fen=budget_fen,
        ),
        actor_id, None,
    )


def issue_bills(schedule: FeeSchedule, period_start: date, now: datetime | None = None) -> list[Bill]:
    """Issue the schedule's bills for the period starting `period_start` as the cron job does (a household already
    billed for it is not billed again, whichever schedule billed it); the compound's bills for that period."""
    fee_service.issue_period(schedule, period_start, now=now)
    return list(db.session.scalars(
        select(Bill).where(Bill.compound_id == schedule.compound_id, Bill.period_start == period_start)
        .order_by(Bill.id)
    ))
