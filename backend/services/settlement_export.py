"""The street's subsidy settlement (先买后补补贴结算) as the officials read it: the grant ledger's rows with
subtotals per month, street, compound and property company, and the same figures as an .xlsx workbook.

The JSON and the workbook are built from one report, so their totals agree to the fen. The workbook (written by
services/spreadsheets, like every export) gives every amount twice: in yuan (a number shown "#,##0.00", for
reading and summing in a spreadsheet) and in fen (the exact integer, for reconciling)."""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from openpyxl import Workbook

from backend.extensions import db
from backend.models import Area
from backend.services.audit import record_audit
from backend.services.spreadsheets import TOTAL, workbook_bytes, write_table, yuan
from backend.services.subsidies import Settlement, SettlementRow, settlement
from backend.shared.clock import SHANGHAI, utcnow

NO_STREET = "（未归属街道）"
NO_COMPANY = "（无物业公司）"
UNLIMITED = "不限"


@dataclass(frozen=True)
class Subtotal:
    id: int | None
    name: str
    grants: int
    subsidy_fen: int


@dataclass(frozen=True)
class MonthTotal:
    month: date
    grants: int
    subsidy_fen: int


@dataclass(frozen=True)
class SettlementReport:
    area_id: int
    area_name: str
    month: date | None
    rows: list[SettlementRow]
    total_fen: int
    grants: int
    by_month: list[MonthTotal]
    by_street: list[Subtotal]
    by_compound: list[Subtotal]
    by_property_company: list[Subtotal]
    policies: list[dict]


def _grouped(rows: Iterable[SettlementRow], key: Callable[[SettlementRow], Hashable]) -> dict:
    """Grants and fen summed per key, keys in first-seen order (the rows come sorted)."""
    totals: dict = {}
    for row in rows:
        grants, fen = totals.get(key(row), (0, 0))
        totals[key(row)] = (grants + row.grants, fen + row.subsidy_fen)
    return totals


def _subtotals(rows: list[SettlementRow], key: Callable[[SettlementRow], tuple[int | None, str]]) -> list[Subtotal]:
    totals = _grouped(rows, key)
    return sorted(
        (Subtotal(id=ident, name=name, grants=grants, subsidy_fen=fen)
         for (ident, name), (grants, fen) in totals.items()),
        key=lambda total: (total.name, total.id or 0),
    )


def report_of(area_id: int, area_name: str, month: date | None, result: Settlement) -> SettlementReport:
    rows = result.rows
    by_month = _grouped(rows, lambda row: row.month)
    return SettlementReport(
        area_id=area_id, area_name=area_name, month=month, rows=rows, total_fen=result.total_fen,
        grants=sum(row.grants for row in rows),
        by_month=[MonthTotal(month=month, grants=grants, subsidy_fen=fen)
                  for month, (grants, fen) in sorted(by_month.items())],
        by_street=_subtotals(rows, lambda row: (row.street_id, row.street_name)),
        by_compound=_subtotals(rows, lambda row: (row.compound_id, row.compound_name)),
        by_property_company=_subtotals(rows, lambda row: (row.property_company_id, row.property_company_name)),
        policies=result.policies,
    )


def settlement_report(area: Area, month: date | None) -> SettlementReport:
    return report_of(area.id, area.name, month, settlement(area, month))


# ---- the workbook --------------------------------------------------------------------------------------


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"


def _subtotal_sheet(book: Workbook, name: str, title: str, label: str, totals: list[Subtotal], empty: str,
                    report: SettlementReport) -> None:
    rows = [[total.name or empty, total.grants, yuan(total.subsidy_fen), total.subsidy_fen] for total in totals]
    rows.append([TOTAL, report.grants, yuan(report.total_fen), report.total_fen])
    write_table(book.create_sheet(name), title, [label, "补贴笔数", "补贴金额（元）", "补贴金额（分）"], rows, [3],
           [30, 10, 18, 16])


def _budget(value: int | None) -> list:
    return [UNLIMITED, UNLIMITED] if value is None else [yuan(value), value]


def settlement_workbook(report: SettlementReport, exported_at: datetime) -> bytes:
    scope = f"{report.area_name} {month_text(report.month) if report.month else '全部月份'}"
    stamp = exported_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    book = Workbook()
    sheet = book.active
    sheet.title = "补贴结算"
    rows = [
        [month_text(row.month), row.street_name or NO_STREET, row.compound_name,
         row.property_company_name or NO_COMPANY, row.grants, yuan(row.subsidy_fen), row.subsidy_fen]
        for row in report.rows
    ]
    rows.append([TOTAL, "", "", "", report.grants, yuan(report.total_fen), report.total_fen])
    write_table(sheet, f"先买后补补贴结算：{scope}（导出于 {stamp}）",
           ["结算月份", "街道", "小区", "物业公司", "补贴笔数", "补贴金额（元）", "补贴金额（分）"], rows, [6],
           [12, 20, 24, 28, 10, 18, 16])

    month_rows = [[month_text(total.month), total.grants, yuan(total.subsidy_fen), total.subsidy_fen]
                  for total in report.by_month]
    month_rows.append([TOTAL, report.grants, yuan(report.total_fen), report.total_fen])
    write_table(book.create_sheet("按月份"), f"按结算月份：{scope}", ["结算月份", "补贴笔数", "补贴金额（元）", "补贴金额（分）"],
           month_rows, [3], [12, 10, 18, 16])
    _subtotal_sheet(book, "按街道", f"按街道：{scope}", "街道", report.by_street, NO_STREET, report)
    _subtotal_sheet(book, "按小区", f"按小区：{scope}", "小区", report.by_compound, "", report)
    _subtotal_sheet(book, "按物业公司", f"按物业公司：{scope}", "物业公司", report.by_property_company, NO_COMPANY,
                    report)

    budget_rows = [
        [policy["id"], policy["name"], *_budget(policy["budget_fen"]), yuan(policy["committed_fen"]),
         policy["committed_fen"], yuan(policy["granted_fen"]), policy["granted_fen"],
         *_budget(policy["budget_left_fen"])]
        for policy in report.policies
    ]
    write_table(book.create_sheet("预算"), f"补贴政策预算（截至 {stamp}）",
           ["政策编号", "政策名称", "预算（元）", "预算（分）", "已占用（元）", "已占用（分）", "已发放（元）",
            "已发放（分）", "预算余额（元）", "预算余额（分）"],
           budget_rows, [3, 5, 7, 9], [10, 28, 16, 14, 16, 14, 16, 14, 16, 14])

    return workbook_bytes(book)


def export_settlement(area: Area, month: date | None, actor_id: int, ip: str | None) -> tuple[bytes, str]:
    """The workbook and its file name; the export is an audit event (DESIGN §6: exports are audited)."""
    now = utcnow()
    report = settlement_report(area, month)
    content = settlement_workbook(report, now)
    record_audit(actor_id=actor_id, action="settlement.export", target_type="area", target_id=area.id,
                 compound_id=None,
                 after={"month": month.isoformat() if month else None, "rows": len(report.rows),
                        "grants": report.grants, "total_fen": report.total_fen}, ip=ip)
    db.session.commit()
    name = f"补贴结算-{report.area_name}-{month_text(month) if month else '全部月份'}.xlsx"
    return content, name
