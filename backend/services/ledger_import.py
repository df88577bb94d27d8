"""Import the ledger (台账) of compounds, buildings and households from one .xlsx sheet.

One row per household. Every row is checked first; if any row is wrong, nothing is written and every
error comes back with its row number, so the sheet can be fixed in one pass."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import islice
from typing import BinaryIO
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select

from backend.domain.compounds import MANAGEMENT_MODEL_LABELS, AreaLevel, ManagementModel
from backend.domain.phones import InvalidPhone, mask_phone, normalize_phone
from backend.extensions import db
from backend.models import Area, Building, Compound, Household, RegisteredOwner
from backend.services.audit import record_audit
from backend.services.identity import phone_hash

COLUMNS = {
    "小区编码": "code",
    "小区名称": "name",
    "地址": "address",
    "建成年份": "built_year",
    "管理模式": "management_model",
    "楼栋": "building",
    "单元": "unit",
    "房号": "room",
    "建筑面积": "floor_area",
    "业主姓名": "owner_name",
    "业主手机": "owner_phone",
}
COLUMN_TITLES = {key: title for title, key in COLUMNS.items()}
COMPOUND_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
REQUIRED = ("code", "name", "management_model", "building", "unit", "room", "floor_area")
MAX_ROWS = 20_000
# What openpyxl raises on a file that is not a readable .xlsx: not a zip, a zip without the workbook parts
# (KeyError), broken XML inside (ParseError is a SyntaxError), or a workbook without a sheet.
_UNREADABLE = (InvalidFileException, BadZipFile, KeyError, IndexError, OSError, ValueError, SyntaxError)
_MODEL_BY_TEXT = {label: model for model, label in MANAGEMENT_MODEL_LABELS.items()} | {m.value: m for m in ManagementModel}


@dataclass
class ImportReport:
    compounds_created: int = 0
    buildings_created: int = 0
    households_created: int = 0
    households_updated: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class LedgerFileInvalid(ValueError):
    pass


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_row(number: int, raw: dict) -> tuple[dict, list[dict]]:
    row = {key: _text(raw.get(key)) for key in COLUMNS.values()}
    errors = [
        {"row": number, "field": key, "message": "不能为空"} for key in REQUIRED if not row[key]
    ]
    if errors:
        return row, errors
    if not COMPOUND_CODE.fullmatch(row["code"]):
        # The code is part of every QR link (/h5/c/<code>): letters, digits, '-' and '_' only.
        errors.append({"row": number, "field": "code", "message": "小区编码只能由字母、数字、- 和 _ 组成，最长 32 位"})
    if len(row["name"]) > 128 or len(row["building"]) > 32:
        errors.append({"row": number, "field": "name", "message": "小区名称或楼栋过长"})
    if len(row["address"]) > 255:
        errors.append({"row": number, "field": "address", "message": "地址不能超过 255 个字"})
    if len(row["unit"]) > 16 or len(row["room"]) > 16:
        errors.append({"row": number, "field": "room", "message": "单元或房号过长"})
    model = _MODEL_BY_TEXT.get(row["management_model"])
    if model is None:
        errors.append({"row": number, "field": "management_model", "message": "管理模式应为：" + "、".join(MANAGEMENT_MODEL_LABELS.values())})
    row["management_model"] = model
    try:
        area = Decimal(row["floor_area"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if not Decimal("1") <= area <= Decimal("100000"):
            raise InvalidOperation
        row["floor_area_centi_m2"] = int(area * 100)
    except InvalidOperation:
        errors.append({"row": number, "field": "floor_area", "message": "建筑面积应为 1 到 100000 之间的数字（m²）"})
    if row["built_year"]:
        if not (row["built_year"].isascii() and row["built_year"].isdigit() and 1900 <= int(row["built_year"]) <= 2100):
            errors.append({"row": number, "field": "built_year", "message": "建成年份应为四位年份"})
        else:
            row["built_year"] = int(row["built_year"])
    else:
        row["built_year"] = None
    if row["owner_phone"]:
        try:
            row["owner_phone"] = normalize_phone(row["owner_phone"])
        except InvalidPhone as exc:
            errors.append({"row": number, "field": "owner_phone", "message": str(exc)})
    return row, errors


def _sheet_values(stream: BinaryIO) -> list[tuple]:
    """The first sheet's rows, header included, read in full so a broken part surfaces here and not later."""
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
        try:
            # One row past the limit is enough to know the sheet is too long.
            return list(islice(workbook.worksheets[0].iter_rows(values_only=True), MAX_ROWS + 2))
        finally:
            workbook.close()
    except _UNREADABLE as exc:
        raise LedgerFileInvalid("文件不是有效的 .xlsx 表格") from exc


def read_rows(stream: BinaryIO) -> tuple[list[tuple[int, dict]], list[dict]]:
    values = _sheet_values(stream)
    if len(values) > MAX_ROWS + 1:
        raise LedgerFileInvalid(f"一次最多导入 {MAX_ROWS} 行")
    header = [_text(cell) for cell in (values[0] if values else ())]
    missing = [title for title, key in COLUMNS.items() if key in REQUIRED and title not in header]
    if missing:
        raise LedgerFileInvalid("表头缺少列：" + "、".join(missing))
    keys = [COLUMNS.get(title) for title in header]
    parsed, errors = [], []
    for number, row_values in enumerate(values[1:], start=2):
        if all(value in (None, "") for value in row_values):
            continue
        row, row_errors = _parse_row(number, {key: value for key, value in zip(keys, row_values, strict=False) if key})
        parsed.append((number, row))
        errors.extend(row_errors)
    return parsed, errors


def import_ledger(stream: BinaryIO, community_area_id: int, actor_id: int | None) -> ImportReport:
    """All or nothing: on any row error the report lists every error and the database is untouched."""
    report = ImportReport()
    community = db.session.get(Area, community_area_id)
    if community is None or community.level is not AreaLevel.COMMUNITY:
        raise LedgerFileInvalid("请选择一个社区作为导入位置")
    rows, report.errors = read_rows(stream)
    unreadable = {error["row"] for error in report.errors}
    seen: dict[tuple, int] = {}
    first_of_compound: dict[str, tuple[int, dict]] = {}
    for number, row in rows:
        key = (row["code"], row["building"], row["unit"], row["room"])
        if key in seen:
            report.errors.append({"row": number, "field": "room", "message": f"与第 {seen[key]} 行是同一户"})
        seen.setdefault(key, number)
        if number in unreadable:
            continue
        first_number, first = first_of_compound.setdefault(row["code"], (number, row))
        for column in ("name", "management_model"):
            if row[column] != first[column]:
                message = f"与第 {first_number} 行同一小区编码，但{COLUMN_TITLES[column]}不同"
                report.errors.append({"row": number, "field": column, "message": message})
    if report.errors:
        return report

    codes = {row["code"] for _, row in rows}
    compounds = {c.code: c for c in db.session.scalars(select(Compound).where(Compound.code.in_(codes)))}
    for number, row in rows:
        existing = compounds.get(row["code"])
        if existing is not None and existing.area_id != community_area_id:
            report.errors.append({"row": number, "field": "code", "message": "该小区编码已属于其他社区"})
    if report.errors:
        return report

    buildings: dict[tuple[int, str], Building] = {}
    households: dict[tuple[int, str, str], Household] = {}
    registered: set[tuple[int, str]] = set()
    for compound in compounds.values():
        registered.update(
            (household_id, name)
            for household_id, name in db.session.execute(
                select(RegisteredOwner.household_id, RegisteredOwner.name)
                .join(Household, Household.id == RegisteredOwner.household_id)
                .where(Household.compound_id == compound.id)
            )
        )
        for building in db.session.scalars(select(Building).where(Building.compound_id == compound.id)):
            buildings[(compound.id, building.name)] = building
        for household in db.session.scalars(select(Household).where(Household.compound_id == compound.id)):
            households[(household.building_id, household.unit, household.room)] = household

    for _, row in rows:
        compound = compounds.get(row["code"])
        if compound is None:
            compound = Compound(
                code=row["code"], name=row["name"], address=row["address"], area_id=community_area_id,
                built_year=row["built_year"], management_model=row["management_model"],
            )
            db.session.add(compound)
            db.session.flush()
            compounds[row["code"]] = compound
            report.compounds_created += 1
        building = buildings.get((compound.id, row["building"]))
        if building is None:
            building = Building(compound_id=compound.id, name=row["building"])
            db.session.add(building)
            db.session.flush()
            buildings[(compound.id, row["building"])] = building
            report.buildings_created += 1
        household = households.get((building.id, row["unit"], row["room"]))
        if household is None:
            household = Household(
                compound_id=compound.id, building_id=building.id, unit=row["unit"], room=row["room"],
                floor_area_centi_m2=row["floor_area_centi_m2"],
            )
            db.session.add(household)
            db.session.flush()
            households[(building.id, row["unit"], row["room"])] = household
            report.households_created += 1
        elif household.floor_area_centi_m2 != row["floor_area_centi_m2"]:
            household.floor_area_centi_m2 = row["floor_area_centi_m2"]
            report.households_updated += 1
        if row["owner_name"] and (household.id, row["owner_name"][:64]) not in registered:
            registered.add((household.id, row["owner_name"][:64]))
            phone = row["owner_phone"] or None
            db.session.add(
                RegisteredOwner(
                    household_id=household.id, name=row["owner_name"][:64],
                    phone_hash=phone_hash(phone) if phone else None, phone_masked=mask_phone(phone) if phone else None,
                )
            )
    record_audit(
        actor_id=actor_id, action="ledger.import", target_type="area", target_id=community_area_id, compound_id=None,
        after={
            "compounds_created": report.compounds_created, "buildings_created": report.buildings_created,
            "households_created": report.households_created, "households_updated": report.households_updated,
        },
    )
    db.session.commit()
    return report
