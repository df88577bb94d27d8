"""Ledger (台账) .xlsx sheets built in memory for the import tests."""
from __future__ import annotations

import io

from openpyxl import Workbook

HEADER = ("小区编码", "小区名称", "地址", "建成年份", "管理模式", "楼栋", "单元", "房号", "建筑面积", "业主姓名", "业主手机")


def ledger_row(room: str = "101", area="89.5", phone="13812345678", model="市场化物业服务", **overrides) -> tuple:
    """One household of compound `gl1` (光辉小区), building 1栋, unit 1; any column can be overridden."""
    values = {
        "小区编码": "gl1", "小区名称": "光辉小区", "地址": "攀枝花市东区光辉路1号", "建成年份": 1994,
        "管理模式": model, "楼栋": "1栋", "单元": "1", "房号": room, "建筑面积": area, "业主姓名": f"业主{room}",
        "业主手机": phone,
    }
    values.update(overrides)
    return tuple(values[title] for title in HEADER)


GOOD_ROWS = (
    ledger_row("101", "89.5", "13812345678"),
    ledger_row("102", 76.25, "13812345679"),
    ledger_row("201", "120", None, 楼栋="2栋"),
    ledger_row("101", "64.333", "+86 139 0000 1111", 小区编码="gl2", 小区名称="红旗小区", 管理模式="trust"),
)


def ledger_xlsx(rows=GOOD_ROWS, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
