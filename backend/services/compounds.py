"""Reading compounds, buildings and households: every list is a fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from backend.domain.roles import Role
from backend.domain.text import unstorable
from backend.extensions import db
from backend.models import Area, Building, Compound, Household, Membership, PropertyCompany
from backend.shared.pagination import Page, paginate


def compound_by_code(code: str) -> Compound | None:
    """The compound a page's URL names, with its area; None for a code no compound has (or could have)."""
    if len(code) > 32 or unstorable(code):
        return None
    return db.session.scalar(select(Compound).options(joinedload(Compound.area)).where(Compound.code == code))


@dataclass(frozen=True)
class CompoundFigures:
    building_count: int
    household_count: int
    total_floor_area_centi_m2: int


def compound_figures(compound_ids: list[int]) -> dict[int, CompoundFigures]:
    buildings = dict(
        db.session.execute(
            select(Building.compound_id, func.count()).where(Building.compound_id.in_(compound_ids)).group_by(
                Building.compound_id
            )
        ).all()
    )
    households = {
        row.compound_id: row
        for row in db.session.execute(
            select(
                Household.compound_id,
                func.count().label("count"),
                func.coalesce(func.sum(Household.floor_area_centi_m2), 0).label("area"),
            )
            .where(Household.compound_id.in_(compound_ids))
            .group_by(Household.compound_id)
        )
    }
    return {
        cid: CompoundFigures(
            building_count=buildings.get(cid, 0),
            household_count=households[cid].count if cid in households else 0,
            total_floor_area_centi_m2=int(households[cid].area) if cid in households else 0,
        )
        for cid in compound_ids
    }


def compound_rows(query: Select, page: int, page_size: int, assessed: set[int] | None) -> Page:
    """Compounds with their area and company names and figures, in three queries whatever the page size.
    The assessment fields come with the compounds in `assessed` (None: with every compound)."""
    listing = (
        query.add_columns(Area.name.label("area_name"), PropertyCompany.name.label("property_company_name"))
        .join(Area, Area.id == Compound.area_id)
        .outerjoin(PropertyCompany, PropertyCompany.id == Compound.property_company_id)
        .order_by(Compound.id)
    )
    result = paginate(listing, page, page_size)
    figures = compound_figures([row.Compound.id for row in result.items])
    items = [
        _compound_dict(
            row.Compound, row.area_name, row.property_company_name, figures[row.Compound.id],
            with_assessment=assessed is None or row.Compound.id in assessed,
        )
        for row in result.items
    ]
    return Page(items=items, total=result.total, page=page, page_size=page_size)


def compound_detail(compound: Compound, with_assessment: bool) -> dict:
    company = db.session.get(PropertyCompany, compound.property_company_id) if compound.property_company_id else None
    area_name = db.session.scalar(select(Area.name).where(Area.id == compound.area_id))
    figures = compound_figures([compound.id])[compound.id]
    return _compound_dict(compound, area_name, company.name if company else None, figures, with_assessment)


def _compound_dict(
    compound: Compound, area_name: str, company_name: str | None, figures: CompoundFigures, with_assessment: bool
) -> dict:
    assessment = (
        {"open_problems": compound.open_problems, "is_problem_compound": compound.is_problem_compound}
        if with_assessment
        else {}
    )
    return assessment | {
        "compound": compound,
        "area_name": area_name,
        "property_company_name": company_name,
        "building_count": figures.building_count,
        "household_count": figures.household_count,
        "total_floor_area_centi_m2": figures.total_floor_area_centi_m2,
    }


def building_in(compound_id: int, building_id: int | None) -> Building | None:
    """The building when one is asked for and it belongs to the compound; LookupError when it does not."""
    if building_id is None:
        return None
    building = db.session.get(Building, building_id)
    if building is None or building.compound_id != compound_id:
        raise LookupError(building_id)
    return building


def list_buildings(compound_id: int) -> list[Building]:
    return list(db.session.scalars(select(Building).where(Building.compound_id == compound_id).order_by(Building.id)))


def _household_statements(by_building: bool) -> tuple[Select, Select]:
    scope = [Household.compound_id == bindparam("compound_id")]
    if by_building:
        scope.append(Household.building_id == bindparam("building_id"))
    verified_owners = (
        select(func.count())
        .where(Membership.household_id == Household.id, Membership.role == Role.OWNER)
        .correlate(Household)
        .scalar_subquery()
    )
    count = select(func.count()).select_from(Household).where(*scope)
    rows = (
        select(
            Household.id,
            Household.building_id,
            Building.name.label("building_name"),
            Household.unit,
            Household.room,
            Household.floor_area_centi_m2,
            Household.kind,
            verified_owners.label("verified_owner_count"),
        )
        .join(Building, Building.id == Household.building_id)
        .where(*scope)
        .order_by(Household.building_id, Household.unit, Household.room)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, rows


# The hottest list of the desk pages (docs/benchmarks.md): statements built once, plain rows, no ORM objects.
_HOUSEHOLDS = {by_building: _household_statements(by_building) for by_building in (False, True)}


def households_page(compound_id: int, page: int, page_size: int, building_id: int | None = None) -> Page:
    count, rows = _HOUSEHOLDS[building_id is not None]
    params = {"compound_id": compound_id, "building_id": building_id}
    total = db.session.scalar(count, params) or 0
    items = db.session.execute(rows, params | {"limit": page_size, "offset": (page - 1) * page_size}).mappings()
    return Page(items=list(items), total=total, page=page, page_size=page_size)
