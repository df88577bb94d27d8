"""Review probes of issue 16's ledger round-trip, governance, first secretaries and problem flags: each test is a
bug found in review, failing before its fix."""
from __future__ import annotations

import io
import threading
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Building, Compound, GovernanceRecord, Household, PropertyCompany
from backend.services.auth import issue_tokens
from tests.ledger_sheets import ledger_xlsx
from tests.support import assert_error_shape


def _import(client, area_id: int, content: bytes, headers: dict):
    return client.post(f"/api/v1/areas/{area_id}/ledger-import", data={"file": (io.BytesIO(content), "台账.xlsx")},
                       headers=headers, content_type="multipart/form-data")


def _export(client, area_id: int, headers: dict) -> bytes:
    response = client.get(f"/api/v1/areas/{area_id}/ledger.xlsx", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.data


@pytest.fixture
def ledger(client, area_tree, make_user, sign_in):
    _, _, street, community = area_tree
    headers = sign_in(make_user(Role.OFFICIAL, area=street))
    assert _import(client, community.id, ledger_xlsx(), headers).status_code == 200
    compound = db.session.scalar(select(Compound).where(Compound.code == "gl1"))
    return {"street": street, "community": community, "headers": headers, "compound": compound}


def test_a_household_without_a_unit_round_trips_as_no_changes(client, ledger):
    """A shop front or a low block has no 单元 (household_label writes 3栋102室); its exported row has a blank 单元
    and must import back as no change, not as "不能为空"."""
    compound = ledger["compound"]
    building = db.session.scalar(select(Building).where(Building.compound_id == compound.id).order_by(Building.id))
    db.session.add(Household(compound_id=compound.id, building_id=building.id, unit="", room="门面1",
                             floor_area_centi_m2=4000))
    db.session.commit()

    response = _import(client, ledger["community"].id, _export(client, ledger["community"].id, ledger["headers"]),
                       ledger["headers"])

    assert response.status_code == 200, response.json
    assert response.json["no_changes"] is True


def test_a_blank_unit_column_is_still_required_in_the_header(client, ledger):
    header = ("小区编码", "小区名称", "地址", "建成年份", "管理模式", "楼栋", "房号", "建筑面积")
    sheet = ledger_xlsx(rows=(("gl1", "光辉小区", "", 1994, "市场化物业服务", "1栋", "101", "89.5"),), header=header)

    assert_error_shape(_import(client, ledger["community"].id, sheet, ledger["headers"]), 422)


def test_a_company_sharing_its_name_with_another_round_trips(client, ledger):
    """The export writes the company's name; two companies with one name (names are not unique, credit codes are)
    must not make the unchanged sheet unimportable."""
    ours = PropertyCompany(name="光辉物业", credit_code="91510400MA0000001X")
    db.session.add_all([ours, PropertyCompany(name="光辉物业", credit_code="91510400MA0000002X")])
    db.session.flush()
    ledger["compound"].property_company_id = ours.id
    db.session.commit()

    response = _import(client, ledger["community"].id, _export(client, ledger["community"].id, ledger["headers"]),
                       ledger["headers"])

    assert response.status_code == 200, response.json
    assert response.json["no_changes"] is True


@pytest.mark.parametrize("month", ["9999-12-01", "9999-12-31"])
def test_first_secretary_logs_of_the_last_month_of_year_9999_is_not_a_500(client, area_tree, make_user, sign_in,
                                                                          month):
    _, _, street, _ = area_tree
    response = client.get(f"/api/v1/areas/{street.id}/first-secretary-logs?month={month}",
                          headers=sign_in(make_user(Role.OFFICIAL, area=street)))

    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]


@pytest.mark.live
def test_two_imports_of_one_new_sheet_at_once_are_not_a_500(app, area_tree, make_user):
    """Two officials uploading the same sheet of a new compound at the same instant: one creates it, the other is
    told (no IntegrityError surfacing as 500), and the compound exists once."""
    _, _, street, community = area_tree
    officials = [make_user(Role.OFFICIAL, area=street) for _ in range(3)]
    tokens = [{"Authorization": f"Bearer {issue_tokens(official)[0]}"} for official in officials]
    community_id = community.id
    db.session.commit()
    db.session.close()
    content = ledger_xlsx()
    barrier = threading.Barrier(len(tokens))
    statuses: list = [None] * len(tokens)

    def run(index: int) -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=30)
            statuses[index] = _import(client, community_id, content, tokens[index]).status_code
            db.session.remove()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert 500 not in statuses and statuses.count(200) >= 1, statuses
    assert db.session.scalar(select(func.count()).select_from(Compound).where(Compound.code == "gl1")) == 1


def test_an_edited_owner_name_shows_in_the_next_export(client, ledger):
    """Export → the owner's name edited → import (one change: an owner added) → export again: the sheet shows the
    name as edited, so exporting and importing it again is still no change and the edit is not lost from view."""
    community = ledger["community"]
    book = load_workbook(io.BytesIO(_export(client, community.id, ledger["headers"])))
    sheet = book.active
    column = [cell.value for cell in sheet[1]].index("业主姓名") + 1
    sheet.cell(row=2, column=column, value="张新业主")
    buffer = io.BytesIO()
    book.save(buffer)
    assert _import(client, community.id, buffer.getvalue(), ledger["headers"]).status_code == 200

    again = load_workbook(io.BytesIO(_export(client, community.id, ledger["headers"]))).active

    assert again.cell(row=2, column=column).value == "张新业主"


@pytest.mark.live
def test_a_ledger_import_and_governance_changes_at_once_lose_no_change(app, area_tree, make_user):
    """An import setting the party form while officials change the secretary's details: every history row's "before"
    is the row the last writer left (the import reads the current state under the compound's lock), so no change
    made meanwhile is overwritten by the import's stale copy."""
    _, _, street, community = area_tree
    official = make_user(Role.OFFICIAL, area=street)
    token = {"Authorization": f"Bearer {issue_tokens(official)[0]}"}
    community_id = community.id
    db.session.commit()
    with app.test_client() as client:
        assert _import(client, community_id, ledger_xlsx(), token).status_code == 200
        compound_id = db.session.scalar(select(Compound.id).where(Compound.code == "gl1"))
        assert client.put(f"/api/v1/compounds/{compound_id}/governance", headers=token,
                          json={"party_org_form": "single", "party_secretary_name": "甲", "party_members": 1}
                          ).status_code == 200
        exported = _export(client, community_id, token)
    db.session.close()
    book = load_workbook(io.BytesIO(exported))
    sheet = book.active
    titles = [cell.value for cell in sheet[1]]
    template = [cell.value for cell in sheet[2]]
    # Many new households after the compound's first row keep the import's transaction open after it read the state.
    for number in range(400):
        row = list(template)
        row[titles.index("房号")] = f"9{number:03d}"
        row[titles.index("业主姓名")] = ""
        row[titles.index("业主手机")] = ""
        sheet.append(row)
    for cells in sheet.iter_rows(min_row=2):
        if cells[0].value == "gl1":
            cells[titles.index("党组织形式")].value = "联建"
    buffer = io.BytesIO()
    book.save(buffer)
    content = buffer.getvalue()
    statuses: list = []

    def importing() -> None:
        with app.app_context():
            statuses.append(_import(app.test_client(), community_id, content, token).status_code)
            db.session.remove()

    def changing(members: int) -> None:
        time.sleep(members * 0.03)
        with app.app_context():
            statuses.append(app.test_client().put(f"/api/v1/compounds/{compound_id}/governance", headers=token,
                                                  json={"party_members": members}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=importing)] + [
        threading.Thread(target=changing, args=(members,)) for members in range(2, 30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert set(statuses) == {200}, statuses
    rows = db.session.scalars(select(GovernanceRecord).where(GovernanceRecord.compound_id == compound_id)
                              .order_by(GovernanceRecord.id)).all()
    for before, after in zip(rows, rows[1:], strict=False):
        kept = [name for name in ("party_org_form", "party_secretary_name", "party_members")
                if name not in after.changed]
        assert [getattr(after, name) for name in kept] == [getattr(before, name) for name in kept], (
            after.source, after.changed)
