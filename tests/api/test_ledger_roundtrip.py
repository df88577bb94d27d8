"""GET /api/v1/areas/<id>/ledger.xlsx and back through the import: an unchanged file changes nothing (no write, no
audit); one edited cell is exactly one change, audited with before and after; masked phones are no change."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel, PartyOrgForm
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, GovernanceRecord, Household, PropertyCompany, RegisteredOwner
from tests.ledger_sheets import ledger_xlsx
from tests.support import assert_error_shape


def _import(client, area_id: int, content: bytes, headers: dict):
    return client.post(f"/api/v1/areas/{area_id}/ledger-import", data={"file": (io.BytesIO(content), "台账.xlsx")},
                       headers=headers, content_type="multipart/form-data")


def _audits(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.fixture
def ledger(client, area_tree, make_user, sign_in):
    """The test sheet imported into the community, with a company and governance set, and a street official."""
    _, _, street, community = area_tree
    official = make_user(Role.OFFICIAL, area=street)
    headers = sign_in(official)
    assert _import(client, community.id, ledger_xlsx(), headers).status_code == 200
    db.session.add(PropertyCompany(name="光辉物业", credit_code="91510400MA0000001X"))
    compound = db.session.scalar(select(Compound).where(Compound.code == "gl1"))
    compound.fee_standard_fen_per_m2 = 120
    db.session.commit()
    compound.property_company_id = db.session.scalar(select(PropertyCompany.id))
    db.session.commit()
    assert client.put(f"/api/v1/compounds/{compound.id}/governance", json={"party_org_form": "joint", "body":
                      "property_committee"}, headers=headers).status_code == 200
    return {"street": street, "community": community, "headers": headers, "compound": compound}


def _export(client, area_id: int, headers: dict) -> bytes:
    response = client.get(f"/api/v1/areas/{area_id}/ledger.xlsx", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


def _edit(content: bytes, row: int, title: str, value) -> bytes:
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    column = [cell.value for cell in sheet[1]].index(title) + 1
    sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("level", ["community", "street"])
def test_an_unchanged_export_imports_as_no_changes(client, ledger, level):
    area = ledger[level]
    exported = _export(client, area.id, ledger["headers"])
    sheet = list(load_workbook(io.BytesIO(exported)).active.iter_rows(values_only=True))
    assert len(sheet) == 5 and sheet[1][10] == "138****5678" and sheet[1][11] == "联建" and sheet[1][13] == "光辉物业"
    before = (_audits("ledger.import"), db.session.scalar(select(func.count()).select_from(GovernanceRecord)))

    response = _import(client, area.id, exported, ledger["headers"])

    assert response.status_code == 200, response.json
    assert response.json["no_changes"] is True and response.json["changes"] == []
    assert (_audits("ledger.import"), db.session.scalar(select(func.count()).select_from(GovernanceRecord))) == before
    assert _audits("ledger.export") == 1


def test_one_edited_cell_is_exactly_that_change_and_audited(client, ledger):
    community = ledger["community"]
    edited = _edit(_export(client, community.id, ledger["headers"]), 2, "建筑面积", "90.00")
    imports = _audits("ledger.import")

    response = _import(client, community.id, edited, ledger["headers"])

    assert response.status_code == 200, response.json
    assert response.json["no_changes"] is False
    assert [(c["code"], c["household"], c["field"], c["before"], c["after"]) for c in response.json["changes"]] == [
        ("gl1", "1栋1单元101室", "floor_area", 8950, 9000)]
    assert response.json["households_updated"] == 1
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "ledger.import")
                               .order_by(AuditEvent.id.desc())).first()
    assert _audits("ledger.import") == imports + 1
    assert event.before == {"gl1 1栋1单元101室 建筑面积": 8950}
    assert event.after["gl1 1栋1单元101室 建筑面积"] == 9000
    assert db.session.scalar(select(Household.floor_area_centi_m2).join(RegisteredOwner)
                             .where(RegisteredOwner.name == "业主101", Household.compound_id == ledger["compound"].id)
                             ) == 9000


def test_a_party_form_edited_in_the_sheet_goes_into_the_governance_history(client, ledger):
    edited = _edit(_export(client, ledger["street"].id, ledger["headers"]), 2, "党组织形式", "单建")
    edited = _edit(edited, 3, "党组织形式", "单建")
    edited = _edit(edited, 4, "党组织形式", "单建")

    response = _import(client, ledger["street"].id, edited, ledger["headers"])

    assert [(c["field"], c["before"], c["after"]) for c in response.json["changes"]] == [
        ("party_org_form", "joint", "single")]
    newest = db.session.scalars(select(GovernanceRecord).order_by(GovernanceRecord.id.desc())).first()
    assert (newest.source, newest.party_org_form, newest.changed) == ("ledger", PartyOrgForm.SINGLE,
                                                                      ["party_org_form"])
    assert db.session.get(Compound, ledger["compound"].id).governance_body.value == "property_committee"


def test_a_new_full_phone_replaces_the_kept_one_and_a_company_by_credit_code_is_no_change(client, ledger):
    exported = _export(client, ledger["community"].id, ledger["headers"])
    unchanged_company = _edit(exported, 2, "物业企业", "91510400MA0000001X")
    unchanged_company = _edit(unchanged_company, 3, "物业企业", "91510400MA0000001X")
    unchanged_company = _edit(unchanged_company, 4, "物业企业", "91510400MA0000001X")
    assert _import(client, ledger["community"].id, unchanged_company, ledger["headers"]).json["no_changes"]

    changed = _import(client, ledger["community"].id, _edit(exported, 2, "业主手机", "13700001234"), ledger["headers"])

    assert [(c["field"], c["before"], c["after"]) for c in changed.json["changes"]] == [
        ("owner_phone", "138****5678", "137****1234")]


def test_a_street_import_cannot_create_compounds_and_a_community_cannot_take_anothers(client, ledger, make_area,
                                                                                      make_user, sign_in):
    exported = _export(client, ledger["street"].id, ledger["headers"])
    new_code = _edit(exported, 2, "小区编码", "new1")
    response = _import(client, ledger["street"].id, new_code, ledger["headers"])
    assert_error_shape(response, 422)
    assert "新小区只能导入到所在社区" in {e["message"] for e in response.json["errors"]["rows"]}
    neighbour = make_area("隔壁社区", AreaLevel.COMMUNITY, ledger["street"])
    assert_error_shape(_import(client, neighbour.id, exported, ledger["headers"]), 422)


@pytest.mark.parametrize(("who", "status"), [("resident", 403), ("committee", 403), ("other_street", 404)])
def test_who_may_not_export(client, ledger, make_user, make_area, sign_in, who, status):
    compound = ledger["compound"]
    if who == "other_street":
        user = make_user(Role.OFFICIAL, area=make_area("别的街道", AreaLevel.STREET, ledger["street"].parent))
    elif who == "resident":
        household = db.session.scalar(select(Household).where(Household.compound_id == compound.id).limit(1))
        user = make_user(Role.RESIDENT, compound, household=household)
    else:
        user = make_user(Role.COMMITTEE, compound)
    assert_error_shape(client.get(f"/api/v1/areas/{ledger['community'].id}/ledger.xlsx", headers=sign_in(user)),
                       status)
