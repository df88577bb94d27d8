"""Export an area's ledger (台账) as the .xlsx sheet the import reads: one row per household of every compound below
the area, the compound's ledger columns on each, owners' phones masked. Audited: it carries owners' names."""
from __future__ import annotations

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from backend.domain.compounds import MANAGEMENT_MODEL_LABELS, format_floor_area
from backend.domain.governance import GOVERNANCE_BODY_LABELS, PARTY_ORG_FORM_LABELS
from backend.domain.roles import Action
from backend.extensions import db
from backend.models import Area, Building, Compound, Household, PropertyCompany, RegisteredOwner
from backend.policy import authorize_area
from backend.services.audit import record_audit
from backend.services.ledger_import import COLUMNS
from backend.services.spreadsheets import append_row, workbook_bytes
from backend.shared.clock import beijing_date, utcnow

HEADER = list(COLUMNS)


def ledger_rows(area: Area) -> list[list]:
    """The sheet's rows in the import's column order, by compound code, building, unit and room; one statement."""
    # The newest registered owner: an import adds a name it does not know (a sale), so the next export shows it.
    newest_owner = (
        select(RegisteredOwner.household_id, func.max(RegisteredOwner.id).label("owner_id"))
        .group_by(RegisteredOwner.household_id).subquery()
    )
    owner = aliased(RegisteredOwner)
    rows = db.session.execute(
        select(Compound, Building.name, Household.unit, Household.room, Household.floor_area_centi_m2, owner.name,
               owner.phone_masked, PropertyCompany.name)
        .join(Area, Area.id == Compound.area_id)
        .join(Household, Household.compound_id == Compound.id)
        .join(Building, Building.id == Household.building_id)
        .outerjoin(newest_owner, newest_owner.c.household_id == Household.id)
        .outerjoin(owner, owner.id == newest_owner.c.owner_id)
        .outerjoin(PropertyCompany, PropertyCompany.id == Compound.property_company_id)
        .where(Area.path.startswith(area.path))
        .order_by(Compound.code, Building.name, Household.unit, Household.room)
    ).all()
    return [
        [compound.code, compound.name, compound.address, compound.built_year,
         MANAGEMENT_MODEL_LABELS[compound.management_model], building, unit, room, format_floor_area(area_centi),
         owner_name or "", phone_masked or "", PARTY_ORG_FORM_LABELS[compound.party_org_form],
         GOVERNANCE_BODY_LABELS[compound.governance_body], company or "", compound.fee_standard_fen_per_m2]
        for compound, building, unit, room, area_centi, owner_name, phone_masked, company in rows
    ]


def export(area_id: int, user_id: int | None, ip: str | None = None) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) for officials of the area or above and admins; the export is audited."""
    area = authorize_area(Action.EXPORT_LEDGER, area_id, user_id)
    rows = ledger_rows(area)
    book = Workbook()
    sheet = book.active
    sheet.title = "台账"
    append_row(sheet, HEADER)
    for row in rows:
        append_row(sheet, row)
    # Text columns stay text when edited (a room "0101" or a unit "01" must not turn into a number).
    for column in ("F", "G", "H", "I"):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=sheet[column + "1"].column, max_col=sheet[column + "1"].column):
            cell.number_format = "@"
    record_audit(actor_id=user_id, action="ledger.export", target_type="area", target_id=area_id, compound_id=None,
                 after={"rows": len(rows)}, ip=ip)
    db.session.commit()
    return f"台账-{area.name}-{beijing_date(utcnow()).isoformat()}.xlsx", workbook_bytes(book)
