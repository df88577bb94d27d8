"""The demo's places: a street in 攀枝花 with one community, a property company, and two compounds of three
buildings each, every household with a floor area of its own."""
from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select

from backend.demo import factories
from backend.domain.compounds import (
    AreaLevel,
    GovernanceBody,
    ManagementModel,
    PartyOrgForm,
    RenovationStatus,
)
from backend.extensions import db
from backend.models import Area, Compound, Household, PropertyCompany

DEMO_CITY = "攀枝花市"
# (code, name, model, built year, floors per unit): floors × 2 units × 2 rooms × 3 buildings households.
DEMO_COMPOUNDS = (
    ("yangguang", "阳光花园小区", ManagementModel.MARKET, 1996, 6),
    ("wushisi", "五十四街坊", ManagementModel.TRUST, 1988, 4),
)


@dataclass(frozen=True)
class Places:
    areas: dict[AreaLevel, Area]
    # The first compound (阳光花园) is where the demo's people and stories live; the second has an owner of its own.
    first: Compound
    second: Compound
    # Each compound's households in the order they were made: building, unit, floor, door.
    homes: dict[int, list[Household]]


def demo_loaded() -> bool:
    return db.session.scalar(select(Area.id).where(Area.name == DEMO_CITY, Area.parent_id.is_(None))) is not None


def demo_compound() -> Compound:
    return db.session.scalar(select(Compound).where(Compound.code == DEMO_COMPOUNDS[0][0]))


def make_places() -> Places:
    rng = random.Random(20261125)
    city = factories.make_area(DEMO_CITY, AreaLevel.CITY)
    district = factories.make_area("东区", AreaLevel.DISTRICT, city)
    street = factories.make_area("炳草岗街道", AreaLevel.STREET, district)
    community = factories.make_area("金沙社区", AreaLevel.COMMUNITY, street)
    company = PropertyCompany(name="攀枝花安居物业服务有限公司", credit_code="91510400MA6DEMO01X")
    db.session.add(company)
    db.session.flush()

    compounds: list[Compound] = []
    homes: dict[int, list[Household]] = {}
    for index, (code, name, model, built, floors) in enumerate(DEMO_COMPOUNDS):
        compound = factories.make_compound(
            code, name, community, model, address=f"攀枝花市东区炳草岗大道{rng.randint(10, 300)}号", built_year=built,
            party_org_form=PartyOrgForm.SINGLE, first_secretary_name="李红梅",
            governance_body=GovernanceBody.OWNERS_COMMITTEE, property_company_id=company.id,
            fee_standard_fen_per_m2=85 if model is ManagementModel.MARKET else 60,
            renovation_status=RenovationStatus.DONE if built < 1990 else RenovationStatus.IN_PROGRESS,
            open_problems="部分楼栋雨污管网老化" if built < 1990 else "",
            # The call button on the home page and every order (物业服务电话).
            service_phone=f"0812-333456{7 + index}",
        )
        compounds.append(compound)
        homes[compound.id] = []
        for number in range(1, 4):
            building = factories.make_building(compound, f"{number}栋")
            homes[compound.id] += factories.make_households(building, [
                (unit, f"{floor}0{door}", rng.randint(4500, 12000) + rng.choice((0, 50)))
                for unit in ("1", "2") for floor in range(1, floors + 1) for door in (1, 2)
            ])
    first, second = compounds
    return Places(
        areas={AreaLevel.CITY: city, AreaLevel.DISTRICT: district, AreaLevel.STREET: street,
               AreaLevel.COMMUNITY: community},
        first=first, second=second, homes=homes,
    )
