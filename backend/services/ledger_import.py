"""Import the ledger (台账) of compounds, buildings and households from one .xlsx sheet.

One row per household. Every row is checked first; if any row is wrong, nothing is written and every
error comes back with its row number, so the sheet can be fixed in one pass. The sheet `ledger_export` writes
reads back as "no changes": every difference from the database is listed in the report, and a file without any
writes nothing and records no audit event."""
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

from backend.domain.compounds import (
    MANAGEMENT_MODEL_LABELS,
    AreaLevel,
    GovernanceBody,
    ManagementModel,
    PartyOrgForm,
    household_label,
)
from backend.domain.governance import GOVERNANCE_BODY_LABELS, PARTY_ORG_FORM_LABELS
from backend.domain.phones import InvalidPhone, mask_phone, normalize_phone
from backend.domain.text import FORMULA_TRIGGERS
from backend.extensions import db
from backend.models import Area, Building, Compound, Household, PropertyCompany, RegisteredOwner
from backend.policy import ancestor_area_ids
from backend.services import governance
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
    # The compound's own ledger fields (DESIGN §2), the same on every row of a compound; a sheet without these
    # columns leaves them as they are.
    "党组织形式": "party_org_form",
    "自治组织": "governance_body",
    "物业企业": "property_company",
    "物业费标准（分/m²·月）": "fee_standard",
}
COMPOUND_COLUMNS = ("name", "address", "built_year", "management_model", "party_org_form", "governance_body",
                    "property_company", "fee_standard")
FIELD_LABELS = {
    "name": "小区名称", "address": "地址", "built_year": "建成年份", "management_model": "管理模式",
    "party_org_form": "党组织形式", "governance_body": "自治组织", "property_company": "物业企业",
    "fee_standard": "物业费标准", "compound": "小区", "household": "房屋", "floor_area": "建筑面积",
    "owner": "业主", "owner_phone": "业主手机", "code": "小区编码", "building": "楼栋", "unit": "单元", "room": "房号",
}
# What an export writes for a phone (138****5678): coming back unchanged it is no change, and it never
# overwrites the number kept.
MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}")
COLUMN_TITLES = {key: title for title, key in COLUMNS.items()}
COMPOUND_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
REQUIRED = ("code", "name", "management_model", "building", "unit", "room", "floor_area")
# A building without units (a low block, a shop front) has households with no 单元: the column must be there, its
# cell may be blank (the export writes it so).
MAY_BE_BLANK = ("unit",)
MAX_ROWS = 20_000
# What openpyxl raises on a file that is not a readable .xlsx: not a zip, a zip without the workbook parts
# (KeyError), broken XML inside (ParseError is a SyntaxError), or a workbook without a sheet.
_UNREADABLE = (InvalidFileException, BadZipFile, KeyError, IndexError, OSError, ValueError, SyntaxError)
_MODEL_BY_TEXT = {label: model for model, label in MANAGEMENT_MODEL_LABELS.items()} | {m.value: m for m in ManagementModel}
_FORM_BY_TEXT = {label: form for form, label in PARTY_ORG_FORM_LABELS.items()} | {f.value: f for f in PartyOrgForm}
_BODY_BY_TEXT = {label: body for body, label in GOVERNANCE_BODY_LABELS.items()} | {b.value: b for b in GovernanceBody}


@dataclass
class ImportReport:
    compounds_created: int = 0
    buildings_created: int = 0
    households_created: int = 0
    households_updated: int = 0
    errors: list[dict] = field(default_factory=list)
    # Every difference the sheet made: {code, compound, household, field, label, before, after}.
    changes: list[dict] = field(default_factory=list)

    @property
    def no_changes(self) -> bool:
        return self.ok and not self.changes

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
    text = str(value).strip()
    # The export writes text a spreadsheet would run with a leading quote (spreadsheet_text): read it back as typed.
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _parse_row(number: int, raw: dict) -> tuple[dict, list[dict]]:
    row = {key: _text(raw.get(key)) for key in COLUMNS.values()}
    errors = [
        {"row": number, "field": key, "message": "不能为空"}
        for key in REQUIRED if not row[key] and key not in MAY_BE_BLANK
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
    row["owner_phone_masked"] = ""
    if MASKED_PHONE.fullmatch(row["owner_phone"]):
        row["owner_phone_masked"], row["owner_phone"] = row["owner_phone"], ""
    elif row["owner_phone"]:
        try:
            row["owner_phone"] = normalize_phone(row["owner_phone"])
        except InvalidPhone as exc:
            errors.append({"row": number, "field": "owner_phone", "message": str(exc)})
    errors.extend(_parse_compound_columns(number, raw, row))
    return row, errors


def _parse_compound_columns(number: int, raw: dict, row: dict) -> list[dict]:
    """The compound columns present in the sheet, as values to compare; an absent column stays absent."""
    errors = []
    for key, choices, message in (
        ("party_org_form", _FORM_BY_TEXT, "党组织形式应为：" + "、".join(PARTY_ORG_FORM_LABELS.values())),
        ("governance_body", _BODY_BY_TEXT, "自治组织应为：" + "、".join(GOVERNANCE_BODY_LABELS.values())),
    ):
        if key not in raw:
            del row[key]
        elif row[key] in choices or not row[key]:
            row[key] = choices.get(row[key] or "none")
        else:
            errors.append({"row": number, "field": key, "message": message})
    if "property_company" not in raw:
        del row["property_company"]
    elif len(row["property_company"]) > 128:
        errors.append({"row": number, "field": "property_company", "message": "物业企业名称过长"})
    if "fee_standard" not in raw:
        del row["fee_standard"]
    elif not row["fee_standard"]:
        row["fee_standard"] = None
    elif row["fee_standard"].isascii() and row["fee_standard"].isdigit() and int(row["fee_standard"]) <= 100_000:
        row["fee_standard"] = int(row["fee_standard"])
    else:
        errors.append({"row": number, "field": "fee_standard", "message": "物业费标准应为整数（分/m²·月）"})
    return errors


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
        # Every column of the header is present in the row, a short row's missing cells as empty ones.
        raw = dict.fromkeys(key for key in keys if key) | {
            key: value for key, value in zip(keys, row_values, strict=False) if key}
        row, row_errors = _parse_row(number, raw)
        parsed.append((number, row))
        errors.extend(row_errors)
    return parsed, errors


def _company_lookup(rows: list[tuple[int, dict]], compounds: dict[str, Compound],
                    report: ImportReport) -> dict[str, int | None]:
    """Company text → id: a credit code, or a name only one company has; a row naming none of them is an error.
    A name several companies share is still no change on the row of a compound whose company is one of them (the
    export writes names, which are not unique); _apply_compound_row keeps that company."""
    texts = {row["property_company"] for _, row in rows if row.get("property_company")}
    found: dict[str, int | None] = {"": None}
    if not texts:
        return found
    companies = db.session.execute(
        select(PropertyCompany.id, PropertyCompany.name, PropertyCompany.credit_code)
        .where(PropertyCompany.credit_code.in_(texts) | PropertyCompany.name.in_(texts))
    ).all()
    for text in texts:
        by_code = [c.id for c in companies if c.credit_code == text]
        by_name = [c.id for c in companies if c.name == text]
        if by_code or len(by_name) == 1:
            found[text] = (by_code or by_name)[0]
    for number, row in rows:
        text = row.get("property_company")
        compound = compounds.get(row["code"])
        if text and text not in found and compound is not None and compound.property_company_id in {
                c.id for c in companies if c.name == text}:
            continue
        if text and text not in found:
            report.errors.append({"row": number, "field": "property_company",
                                  "message": "没有找到这家物业企业（请填写统一社会信用代码或准确名称）"})
    return found


def _change(report: ImportReport, compound: Compound, household: str | None, key: str, before, after) -> None:
    report.changes.append({
        "code": compound.code, "compound": compound.name, "household": household, "field": key,
        "label": FIELD_LABELS[key], "before": before, "after": after,
    })


def _company_name(company_id: int | None) -> str:
    return db.session.get(PropertyCompany, company_id).name if company_id else ""


def _apply_compound_row(compound: Compound, row: dict, companies: dict, actor_id: int | None,
                        report: ImportReport) -> None:
    """The compound columns of its first row, each difference listed; party form and body through the governance
    service (the one writer of them, which keeps their history)."""
    for key, attribute in (("name", "name"), ("address", "address"), ("built_year", "built_year"),
                           ("management_model", "management_model"), ("fee_standard", "fee_standard_fen_per_m2")):
        if key not in row or getattr(compound, attribute) == row[key]:
            continue
        before = getattr(compound, attribute)
        setattr(compound, attribute, row[key])
        _change(report, compound, None, key, _plain(before), _plain(row[key]))
    if "property_company" in row:
        company_id = companies.get(row["property_company"], compound.property_company_id)
        if company_id != compound.property_company_id:
            before = _company_name(compound.property_company_id)
            compound.property_company_id = company_id
            _change(report, compound, None, "property_company", before, _company_name(company_id))
    wanted = {name: row[key] for name, key in (("party_org_form", "party_org_form"), ("body", "governance_body"))
              if key in row}
    if wanted:
        before, after = governance.apply(compound, wanted, actor_id, governance.SOURCE_LEDGER)
        for name in ("party_org_form", "body"):
            if name in after:
                _change(report, compound, None, "party_org_form" if name == "party_org_form" else "governance_body",
                        before[name], after[name])


def _plain(value):
    return value.value if isinstance(value, (ManagementModel, PartyOrgForm, GovernanceBody)) else value


def import_ledger(stream: BinaryIO, area_id: int, actor_id: int | None) -> ImportReport:
    """All or nothing: on any row error the report lists every error and the database is untouched. Into a
    community, new compounds are created there; into a larger area (a sheet exported there), only the compounds
    already below it are updated."""
    report = ImportReport()
    area = db.session.get(Area, area_id)
    if area is None:
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
        for column in COMPOUND_COLUMNS:
            if column in row and row[column] != first.get(column):
                message = f"与第 {first_number} 行同一小区编码，但{FIELD_LABELS[column]}不同"
                report.errors.append({"row": number, "field": column, "message": message})
    if report.errors:
        return report

    # One import at a time per city, before reading what exists: two sheets creating the same compound, building or
    # household at once would otherwise both find it missing, and the second insert would fail on the unique key.
    # FOR NO KEY UPDATE, so rows referencing the city (its officials' memberships) are still inserted meanwhile.
    db.session.execute(select(Area.id).where(Area.id == ancestor_area_ids(area.path)[0])
                       .with_for_update(key_share=True))
    codes = {row["code"] for _, row in rows}
    # Locked like the governance form locks it, so the party form and body below are compared with the state the
    # last writer left and no change made meanwhile is overwritten.
    compounds = {c.code: c for c in db.session.scalars(
        select(Compound).where(Compound.code.in_(codes)).with_for_update(key_share=True))}
    below = set(db.session.scalars(
        select(Compound.code).join(Area, Area.id == Compound.area_id)
        .where(Compound.code.in_(codes), Area.path.startswith(area.path))
    ))
    for number, row in rows:
        existing = compounds.get(row["code"])
        if existing is None and area.level is not AreaLevel.COMMUNITY:
            report.errors.append({"row": number, "field": "code", "message": "新小区只能导入到所在社区"})
        elif existing is not None and area.level is AreaLevel.COMMUNITY and existing.area_id != area_id:
            report.errors.append({"row": number, "field": "code", "message": "该小区编码已属于其他社区"})
        elif existing is not None and existing.code not in below:
            report.errors.append({"row": number, "field": "code", "message": "该小区编码不属于本区域"})
    companies = _company_lookup(rows, compounds, report)
    if report.errors:
        return report

    buildings: dict[tuple[int, str], Building] = {}
    households: dict[tuple[int, str, str], Household] = {}
    registered: dict[tuple[int, str], RegisteredOwner] = {}
    compound_ids = [compound.id for compound in compounds.values()]
    if compound_ids:
        for owner in db.session.scalars(
            select(RegisteredOwner).join(Household, Household.id == RegisteredOwner.household_id)
            .where(Household.compound_id.in_(compound_ids))
        ):
            registered.setdefault((owner.household_id, owner.name), owner)
        for building in db.session.scalars(select(Building).where(Building.compound_id.in_(compound_ids))):
            buildings[(building.compound_id, building.name)] = building
        for household in db.session.scalars(select(Household).where(Household.compound_id.in_(compound_ids))):
            households[(household.building_id, household.unit, household.room)] = household

    applied: set[str] = set()
    # Nothing is flushed until a change is known, so an unchanged sheet leaves the session clean.
    with db.session.no_autoflush:
        for _, row in rows:
            _import_row(row, area_id, compounds, buildings, households, registered, companies, applied, actor_id,
                        report)
    if not report.changes:
        db.session.rollback()
        return report
    record_audit(
        actor_id=actor_id, action="ledger.import", target_type="area", target_id=area_id, compound_id=None,
        before={_change_key(c): c["before"] for c in report.changes},
        after={_change_key(c): c["after"] for c in report.changes}
        | {"compounds_created": report.compounds_created, "buildings_created": report.buildings_created,
           "households_created": report.households_created, "households_updated": report.households_updated},
    )
    db.session.commit()
    return report


def _change_key(change: dict) -> str:
    return " ".join(part for part in (change["code"], change["household"] or "", change["label"]) if part)


def _import_row(row, area_id, compounds, buildings, households, registered, companies, applied, actor_id,
                report) -> None:
    compound = compounds.get(row["code"])
    if compound is None:
        compound = Compound(
            code=row["code"], name=row["name"], address=row["address"], area_id=area_id,
            built_year=row["built_year"], management_model=row["management_model"],
        )
        db.session.add(compound)
        db.session.flush()
        compounds[row["code"]] = compound
        report.compounds_created += 1
        _change(report, compound, None, "compound", None, "新增")
    if compound.code not in applied:
        applied.add(compound.code)
        _apply_compound_row(compound, row, companies, actor_id, report)
    building = buildings.get((compound.id, row["building"]))
    if building is None:
        building = Building(compound_id=compound.id, name=row["building"])
        db.session.add(building)
        db.session.flush()
        buildings[(compound.id, row["building"])] = building
        report.buildings_created += 1
    label = household_label(row["building"], row["unit"], row["room"])
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
        _change(report, compound, label, "household", None, "新增")
    elif household.floor_area_centi_m2 != row["floor_area_centi_m2"]:
        _change(report, compound, label, "floor_area", household.floor_area_centi_m2, row["floor_area_centi_m2"])
        household.floor_area_centi_m2 = row["floor_area_centi_m2"]
        report.households_updated += 1
    _import_owner(row, compound, household, label, registered, report)


def _import_owner(row, compound, household, label, registered, report) -> None:
    """A name not registered for the household adds an owner; a registered one keeps its phone unless the sheet
    gives a different full number (its masked export is no change)."""
    name = row["owner_name"][:64]
    if not name:
        return
    phone = row["owner_phone"] or None
    owner = registered.get((household.id, name))
    if owner is None:
        if row["owner_phone_masked"]:
            # A masked number cannot be kept for a new owner: without the full number it is no phone at all.
            phone = None
        owner = RegisteredOwner(household_id=household.id, name=name, phone_hash=phone_hash(phone) if phone else None,
                                phone_masked=mask_phone(phone) if phone else None)
        db.session.add(owner)
        registered[(household.id, name)] = owner
        _change(report, compound, label, "owner", None, name)
    elif phone and owner.phone_hash != phone_hash(phone):
        _change(report, compound, label, "owner_phone", owner.phone_masked, mask_phone(phone))
        owner.phone_hash, owner.phone_masked = phone_hash(phone), mask_phone(phone)
