"""The one writer of every exported workbook (.xlsx): user text goes in as text and never as a formula, money
as yuan (a number shown "#,##0.00", exact to the fen) beside the integer fen."""
from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from backend.domain.text import spreadsheet_text

YUAN_FORMAT = "#,##0.00"
TOTAL = "合计"


def yuan(fen: int) -> Decimal:
    """Exact: 12345 fen → Decimal("123.45"), written to the sheet as that number."""
    return Decimal(fen).scaleb(-2)


def append_row(sheet: Worksheet, values: Sequence) -> None:
    """Every row of every export goes through here: text that a spreadsheet would run is defused."""
    sheet.append([spreadsheet_text(value) if isinstance(value, str) else value for value in values])


def write_table(sheet: Worksheet, title: str, header: list[str], rows: list[list], money_columns: list[int],
                widths: list[int]) -> None:
    """A title line, a bold header and the rows; `money_columns` (1-based) hold yuan amounts; a last row
    starting with 合计 is bold."""
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True, size=13)
    append_row(sheet, header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        append_row(sheet, row)
    for column in money_columns:
        for (cell,) in sheet.iter_rows(min_row=3, min_col=column, max_col=column):
            if isinstance(cell.value, Decimal):
                cell.number_format = YUAN_FORMAT
    if rows and rows[-1] and rows[-1][0] == TOTAL:
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A3"


def workbook_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
