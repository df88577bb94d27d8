"""Ledger import (台账导入) from .xlsx: all rows or none, every wrong row reported, re-import changes nothing."""
from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.extensions import db
from backend.models import AuditEvent, Building, Compound, Household, RegisteredOwner
from backend.services.identity import phone_hash
from backend.services.ledger_import import LedgerFileInvalid, import_ledger
from tests.ledger_sheets import GOOD_ROWS, HEADER, ledger_row, ledger_xlsx


def _import(community, content: bytes):
    return import_ledger(io.BytesIO(content), community.id, actor_id=None)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _households(code: str) -> dict[tuple[str, str, str], int]:
    rows = db.session.execute(
        select(Building.name, Household.unit, Household.room, Household.floor_area_centi_m2)
        .join(Building, Building.id == Household.building_id)
        .join(Compound, Compound.id == Household.compound_id)
        .where(Compound.code == code)
    )
    return {(b, u, r): area for b, u, r, area in rows}


def test_good_sheet_creates_compounds_buildings_and_households_in_hundredths_of_a_square_metre(area_tree):
    community = area_tree[3]

    report = _import(community, ledger_xlsx())

    assert report.ok
    assert (report.compounds_created, report.buildings_created, report.households_created) == (2, 3, 4)
    first = db.session.scalar(select(Compound).where(Compound.code == "gl1"))
    assert (first.name, first.area_id, first.built_year, first.management_model) == (
        "光辉小区", community.id, 1994, ManagementModel.MARKET
    )
    assert db.session.scalar(select(Compound.management_model).where(Compound.code == "gl2")) is ManagementModel.TRUST
    # "89.5" → 8950, 76.25 (a number cell) → 7625, "120" → 12000, "64.333" rounds half-up to 6433.
    assert _households("gl1") == {("1栋", "1", "101"): 8950, ("1栋", "1", "102"): 7625, ("2栋", "1", "201"): 12000}
    assert _households("gl2") == {("1栋", "1", "101"): 6433}


def test_owners_on_the_sheet_are_registered_with_hashed_and_masked_phones(area_tree):
    _import(area_tree[3], ledger_xlsx())

    owners = {
        (code, owner.name): owner
        for code, owner in db.session.execute(
            select(Compound.code, RegisteredOwner)
            .join(Household, Household.id == RegisteredOwner.household_id)
            .join(Compound, Compound.id == Household.compound_id)
        )
    }
    assert set(owners) == {("gl1", "业主101"), ("gl1", "业主102"), ("gl1", "业主201"), ("gl2", "业主101")}
    assert (owners["gl1", "业主101"].phone_hash, owners["gl1", "业主101"].phone_masked) == (
        phone_hash("13812345678"), "138****5678"
    )
    # Written "+86 139 0000 1111" on the sheet: normalised before hashing, so signing in with it matches.
    assert owners["gl2", "业主101"].phone_hash == phone_hash("13900001111")
    assert (owners["gl1", "业主201"].phone_hash, owners["gl1", "业主201"].phone_masked) == (None, None)


def test_import_is_audited(area_tree):
    _import(area_tree[3], ledger_xlsx())

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "ledger.import"))
    assert event.target_id == area_tree[3].id
    assert event.after["households_created"] == 4


def test_reimporting_the_same_sheet_creates_nothing_twice(area_tree):
    community = area_tree[3]
    _import(community, ledger_xlsx())
    before = [_count(m) for m in (Compound, Building, Household, RegisteredOwner)]

    report = _import(community, ledger_xlsx())

    assert report.ok
    assert (report.compounds_created, report.buildings_created, report.households_created) == (0, 0, 0)
    assert report.households_updated == 0
    assert [_count(m) for m in (Compound, Building, Household, RegisteredOwner)] == before


def test_reimport_with_a_corrected_floor_area_updates_that_household(area_tree):
    community = area_tree[3]
    _import(community, ledger_xlsx())

    report = _import(community, ledger_xlsx((ledger_row("101", "90.05"),)))

    assert (report.households_created, report.households_updated) == (0, 1)
    assert _households("gl1")[("1栋", "1", "101")] == 9005


def test_three_bad_rows_are_all_reported_with_row_numbers_and_nothing_is_written(area_tree):
    rows = (
        ledger_row("101"),
        ledger_row("102", area="八十"),
        ledger_row("103", phone="12345"),
        ledger_row("104", model="物业公司管"),
        ledger_row("105"),
    )

    report = _import(area_tree[3], ledger_xlsx(rows))

    assert not report.ok
    # Row 1 is the header, so the sheet's second row is row 2.
    assert [(e["row"], e["field"]) for e in report.errors] == [
        (3, "floor_area"), (4, "owner_phone"), (5, "management_model"),
    ]
    assert all(e["message"] for e in report.errors)
    assert [_count(m) for m in (Compound, Building, Household, RegisteredOwner, AuditEvent)] == [0, 0, 0, 0, 0]


def test_the_same_household_twice_is_reported_against_its_first_row(area_tree):
    rows = (ledger_row("101"), ledger_row("102"), ledger_row("101", area="70"))

    report = _import(area_tree[3], ledger_xlsx(rows))

    assert report.errors == [{"row": 4, "field": "room", "message": "与第 2 行是同一户"}]
    assert _count(Household) == 0


def test_empty_required_cells_and_blank_lines(area_tree):
    rows = (ledger_row("101"), (None,) * len(HEADER), ledger_row("", 小区名称=""))

    report = _import(area_tree[3], ledger_xlsx(rows))

    # The blank line is skipped; row 4 misses two required cells.
    assert sorted((e["row"], e["field"]) for e in report.errors) == [(4, "name"), (4, "room")]


def test_a_compound_code_of_another_community_is_refused(area_tree, make_compound, make_area):
    elsewhere = make_area("别的社区", AreaLevel.COMMUNITY, area_tree[2])
    other = make_compound(area=elsewhere)

    report = _import(area_tree[3], ledger_xlsx((ledger_row("101", 小区编码=other.code),)))

    assert [(e["row"], e["field"]) for e in report.errors] == [(2, "code")]
    assert db.session.scalar(select(func.count()).select_from(Household).where(Household.compound_id == other.id)) == 8


def test_a_missing_header_column_is_named(area_tree):
    header = tuple(title for title in HEADER if title != "建筑面积")

    with pytest.raises(LedgerFileInvalid, match="建筑面积"):
        _import(area_tree[3], ledger_xlsx((row[:8] + row[9:] for row in GOOD_ROWS), header=header))


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _with_broken_part(part: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(ledger_xlsx())) as good:
        return _zip({name: b"<broken" if name == part else good.read(name) for name in good.namelist()})


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param("小区编码,小区名称\ngl1,光辉小区\n".encode(), id="csv"),
        pytest.param(_zip({"hello.txt": b"hi"}), id="zip-without-workbook"),
        pytest.param(_with_broken_part("xl/workbook.xml"), id="broken-workbook-xml"),
        pytest.param(_with_broken_part("xl/worksheets/sheet1.xml"), id="broken-sheet-xml"),
    ],
)
def test_a_file_that_is_not_an_xlsx_sheet_is_refused(area_tree, content):
    with pytest.raises(LedgerFileInvalid, match="不是有效的 .xlsx"):
        _import(area_tree[3], content)


def test_only_a_community_can_receive_new_compounds(area_tree):
    """A street takes back the sheet it exported (its compounds' changes), never new compounds."""
    report = _import(area_tree[2], ledger_xlsx())

    assert not report.ok and {error["message"] for error in report.errors} == {"新小区只能导入到所在社区"}


# ---- the `linli import` command ---------------------------------------------------------------------


def test_cli_import_prints_the_counts(app, area_tree, tmp_path):
    sheet = tmp_path / "ledger.xlsx"
    sheet.write_bytes(ledger_xlsx())

    result = app.test_cli_runner().invoke(args=["import", str(sheet), "--community-id", str(area_tree[3].id)])

    assert result.exit_code == 0, result.output
    assert "新增小区 2，楼栋 3，房屋 4，更新房屋 0" in result.stdout
    assert _count(Household) == 4


def test_cli_import_lists_row_errors_and_exits_non_zero(app, area_tree, tmp_path):
    sheet = tmp_path / "ledger.xlsx"
    sheet.write_bytes(ledger_xlsx((ledger_row("101"), ledger_row("102", area="-3"))))

    result = app.test_cli_runner().invoke(args=["import", str(sheet), "--community-id", str(area_tree[3].id)])

    assert result.exit_code != 0
    assert "第 3 行 floor_area" in result.stderr
    assert "1 处错误，未导入任何数据" in result.stderr
    assert _count(Household) == 0


def test_cli_import_of_a_non_xlsx_file_exits_non_zero(app, area_tree, tmp_path):
    sheet = tmp_path / "ledger.xlsx"
    sheet.write_text("not a spreadsheet")

    result = app.test_cli_runner().invoke(args=["import", str(sheet), "--community-id", str(area_tree[3].id)])

    assert result.exit_code == 1
    assert "不是有效的 .xlsx" in result.stderr


def test_rows_of_one_compound_code_must_agree_on_its_name_and_model(area_tree):
    rows = (ledger_row("101"), ledger_row("102", 小区名称="乙小区"), ledger_row("103", model="trust"))

    report = _import(area_tree[3], ledger_xlsx(rows))

    assert [(e["row"], e["field"]) for e in report.errors] == [(3, "name"), (4, "management_model")]
    assert "第 2 行" in report.errors[0]["message"]
    assert _count(Compound) == 0


@pytest.mark.parametrize("code", ["a/b", "小区1", "x" * 33, "a b"])
def test_a_compound_code_must_fit_in_a_qr_link(area_tree, code):
    report = _import(area_tree[3], ledger_xlsx((ledger_row("101", 小区编码=code),)))
    assert [(e["row"], e["field"]) for e in report.errors] == [(2, "code")]


def test_a_build_year_in_other_digits_is_a_row_error_not_a_crash(area_tree):
    report = _import(area_tree[3], ledger_xlsx((ledger_row("101", 建成年份="１９９４"), ledger_row("102", 建成年份="²"))))
    assert [(e["row"], e["field"]) for e in report.errors] == [(2, "built_year"), (3, "built_year")]
