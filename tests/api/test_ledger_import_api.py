"""POST /api/v1/areas/<id>/ledger-import: who may import a community's ledger, and what a bad sheet gets."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Household
from tests.ledger_sheets import HEADER, ledger_row, ledger_xlsx
from tests.support import assert_error_shape


def _post(client, area_id: int, content: bytes | None, headers: dict, filename: str = "台账.xlsx"):
    data = {} if content is None else {"file": (io.BytesIO(content), filename)}
    return client.post(
        f"/api/v1/areas/{area_id}/ledger-import", data=data, headers=headers, content_type="multipart/form-data"
    )


def _households() -> int:
    return db.session.scalar(select(func.count()).select_from(Household))


def test_street_official_imports_a_community_ledger_and_sees_the_households(client, area_tree, make_user, sign_in):
    _, _, street, community = area_tree
    headers = sign_in(make_user(role=Role.OFFICIAL, area=street))

    response = _post(client, community.id, ledger_xlsx(), headers)

    assert response.status_code == 200, response.json
    assert {key: response.json[key] for key in ("compounds_created", "buildings_created", "households_created",
                                                "households_updated", "no_changes")} == {
        "compounds_created": 2, "buildings_created": 3, "households_created": 4, "households_updated": 0,
        "no_changes": False,
    }
    compound_id = db.session.scalar(select(Compound.id).where(Compound.code == "gl1"))
    listed = client.get(f"/api/v1/compounds/{compound_id}/households", headers=headers).json
    assert sorted((h["building_name"], h["room"], h["floor_area_centi_m2"]) for h in listed["items"]) == [
        ("1栋", "101", 8950), ("1栋", "102", 7625), ("2栋", "201", 12000),
    ]


def test_importing_the_same_sheet_again_adds_nothing(client, area_tree, make_user, sign_in):
    community = area_tree[3]
    headers = sign_in(make_user(role=Role.OFFICIAL, area=community))
    assert _post(client, community.id, ledger_xlsx(), headers).status_code == 200

    again = _post(client, community.id, ledger_xlsx(), headers)

    assert again.status_code == 200
    assert again.json["households_created"] == 0
    assert _households() == 4


def test_admin_may_import_anywhere(client, area_tree, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))

    assert _post(client, area_tree[3].id, ledger_xlsx(), headers).status_code == 200


def test_wrong_rows_give_422_with_every_row_and_write_nothing(client, area_tree, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))
    rows = (ledger_row("101"), ledger_row("102", area="abc"), ledger_row("103", phone="110"),
            ledger_row("104", model="随便管"), ledger_row("101"))

    response = _post(client, area_tree[3].id, ledger_xlsx(rows), headers)

    assert_error_shape(response, 422)
    assert "未导入" in response.json["message"]
    assert [(e["row"], e["field"]) for e in response.json["errors"]["rows"]] == [
        (3, "floor_area"), (4, "owner_phone"), (5, "management_model"), (6, "room"),
    ]
    assert _households() == 0


def test_a_sheet_missing_a_column_gives_422_naming_it(client, area_tree, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))
    header = tuple(title for title in HEADER if title != "房号")

    response = _post(client, area_tree[3].id, ledger_xlsx((), header=header), headers)

    assert_error_shape(response, 422)
    assert "房号" in response.json["message"]


def test_a_file_that_is_not_xlsx_gives_422_in_chinese(client, area_tree, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))

    response = _post(client, area_tree[3].id, b"%PDF-1.4 not a sheet", headers, filename="台账.xlsx")

    assert_error_shape(response, 422)
    assert response.json["message"] == "文件不是有效的 .xlsx 表格"


def test_no_file_gives_422(client, area_tree, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))

    response = _post(client, area_tree[3].id, None, headers)

    assert_error_shape(response, 422)
    assert "file" in response.json["errors"]["files"]


def test_a_file_over_5_mb_gives_413(client, area_tree, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))

    response = _post(client, area_tree[3].id, b"\0" * (5 * 1024 * 1024 + 1), headers)

    assert_error_shape(response, 413)
    assert _households() == 0


def test_a_street_is_not_a_place_to_import_into(client, area_tree, make_user, sign_in):
    _, _, street, _ = area_tree
    headers = sign_in(make_user(role=Role.OFFICIAL, area=street))

    response = _post(client, street.id, ledger_xlsx(), headers)

    assert_error_shape(response, 422)
    assert _households() == 0


def test_official_of_another_street_gets_404(client, area_tree, make_area, make_user, sign_in):
    _, district, _, community = area_tree
    other_street = make_area("东华街道", AreaLevel.STREET, district)
    headers = sign_in(make_user(role=Role.OFFICIAL, area=other_street))

    response = _post(client, community.id, ledger_xlsx(), headers)

    assert_error_shape(response, 404)
    assert _households() == 0


def test_committee_of_a_compound_in_the_community_gets_403(client, area_tree, make_compound, make_user, sign_in):
    community = area_tree[3]
    compound = make_compound(area=community)
    headers = sign_in(make_user(role=Role.COMMITTEE, compound=compound))

    response = _post(client, community.id, ledger_xlsx(), headers)

    assert_error_shape(response, 403)
    assert _households() == 8  # only the compound's own


def test_community_official_cannot_import_at_the_street_above(client, area_tree, make_user, sign_in):
    _, _, street, community = area_tree
    headers = sign_in(make_user(role=Role.OFFICIAL, area=community))

    assert_error_shape(_post(client, street.id, ledger_xlsx(), headers), 403)


def test_unknown_area_gives_404_and_huge_ids_do_not_overflow(client, make_user, sign_in):
    headers = sign_in(make_user(role=Role.ADMIN))

    assert_error_shape(_post(client, 2_147_483_647, ledger_xlsx(), headers), 404)
    assert_error_shape(_post(client, 2_147_483_648, ledger_xlsx(), headers), 404)


def test_signed_out_gets_401(client, area_tree):
    assert_error_shape(_post(client, area_tree[3].id, ledger_xlsx(), {}), 401)
