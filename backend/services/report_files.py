"""A report's files, rendered once from its frozen figures: the workbook (one sheet per section, through the one
spreadsheet writer) and the PDF (ReportLab with an embedded, subset CJK font, so Chinese shows on any reader)."""
from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from backend.services.spreadsheets import workbook_bytes, write_table

# Debian's fonts-wqy-microhei (installed by `make install`/`make test-tools`), else Noto CJK; LINLI_REPORT_FONT
# names any other TrueType/OpenType file or collection.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
FONT = "LinliCJK"
MARGIN = 36  # points, half an inch


class FontMissing(RuntimeError):
    """No CJK font on this machine: the PDF would show empty boxes, so the build fails and says so."""


@functools.cache
def font_path() -> Path:
    configured = os.environ.get("LINLI_REPORT_FONT")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing("没有中文字体：请安装 fonts-wqy-microhei（make install 会安装）或设置 LINLI_REPORT_FONT")


# ---- the sections, as (sheet name, title, header, rows, widths) -------------------------------------------------


def _sections(figures: dict) -> list[tuple[str, str, list[str], list[list], list[int]]]:
    period = figures["period"]["label"]
    previous = figures["previous"]["label"]
    headlines = [[line["label"], line["display"], line["previous_display"], line["direction_label"],
                  line["delta_display"], line["aim"], line["detail"]] for line in figures["headlines"]]

    def compound_rows(board: str) -> list[list]:
        return [[board, line["rank"], line["name"], line["community"], line["company"], line["composite"],
                 line["collection"], line["satisfaction"], line["participation"], line["disputes"]]
                for line in figures["compound_ranking"][board == "黑榜" and "black" or "red"]]

    def company_rows(board: str) -> list[list]:
        return [[board, line["rank"], line["name"], line["composite"], line["stars_display"], line["round"]]
                for line in figures["company_ranking"][board == "黑榜" and "black" or "red"]]

    return [
        ("三升一降", f"{figures['title']}：三升一降（{period}，对比{previous}）",
         ["指标", "本期", "上期", "变化", "变化量", "目标", "说明"], headlines, [14, 12, 12, 6, 16, 6, 48]),
        ("小区红黑榜", f"小区红黑榜（参与排名{figures['compound_ranking']['ranked']}个）",
         ["榜单", "名次", "小区", "社区", "物业企业", "综合得分", "收缴率", "满意率", "参与率", "纠纷"],
         compound_rows("红榜") + compound_rows("黑榜"), [6, 6, 20, 12, 20, 10, 10, 10, 10, 6]),
        ("企业红黑榜", f"物业企业红黑榜（参与排名{figures['company_ranking']['ranked']}家）",
         ["榜单", "名次", "物业企业", "综合得分", "星级", "评星轮次"],
         company_rows("红榜") + company_rows("黑榜"), [6, 6, 28, 10, 12, 28]),
        ("问题小区", f"问题小区（{len(figures['problem_compounds'])}条）", ["小区", "问题", "原因", "标记日期"],
         [[line["name"], line["rule"], line["reason"], line["raised_on"]] for line in figures["problem_compounds"]],
         [20, 18, 48, 12]),
        ("逾期整改", f"逾期未销号整改（{len(figures['overdue_rectifications'])}项）",
         ["编号", "小区", "责任方", "整改期限", "逾期天数"],
         [[line["id"], line["name"], line["party"], line["deadline"], line["days_overdue"]]
          for line in figures["overdue_rectifications"]], [8, 20, 16, 12, 10]),
        ("本期整改", f"本期检查发现的整改事项（{len(figures.get('rectifications_raised', []))}项）",
         ["编号", "小区", "检查项", "问题", "责任方", "整改期限", "状态"],
         [[line["id"], line["name"], line["item"], line["finding"], line["party"], line["deadline"], line["status"]]
          for line in figures.get("rectifications_raised", [])], [8, 20, 12, 40, 16, 12, 10]),
        ("第一书记日志", f"第一书记工作日志（{len(figures['first_secretary_logs'])}条）",
         ["小区", "第一书记", "月份", "内容"],
         [[line["name"], line["secretary"], line["month"], line["text"]] for line in figures["first_secretary_logs"]],
         [20, 10, 10, 60]),
    ]


def workbook(figures: dict) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet_name, title, header, rows, widths in _sections(figures):
        write_table(book.create_sheet(sheet_name), title, header, rows, money_columns=[], widths=widths)
    return workbook_bytes(book)


def _register_font() -> None:
    """Once per process: reading the font takes most of a second, each document after it a few milliseconds."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(font_path()), subfontIndex=0))


def pdf(figures: dict) -> bytes:
    _register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK")
    note = ParagraphStyle("note", parent=body, fontSize=8, textColor=colors.grey)
    heading = ParagraphStyle("heading", parent=body, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=TA_CENTER)
    subtitle = ParagraphStyle("subtitle", parent=body, alignment=TA_CENTER, spaceAfter=6)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=figures["title"], author="邻里",
                                 leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN)
    flow = [
        Paragraph(escape(figures["title"]), title),
        Paragraph(escape(
            f"{figures['area']['level_label']}：{figures['area']['name']}　统计期间：{figures['period']['start']} 至 "
            f"{figures['period']['end']}　对比：{figures['previous']['label']}　辖区小区：{figures['compounds']}个"
        ), subtitle),
    ]
    for index, (_, section_title, header, rows, widths) in enumerate(_sections(figures)):
        flow.append(Paragraph(escape(section_title), heading))
        if not rows:
            flow.append(Paragraph("本期无。", body))
            continue
        scale = document.width / sum(widths)
        table = Table([[Paragraph(escape(str(value)), body) for value in values] for values in [header, *rows]],
                      colWidths=[width * scale for width in widths], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#ebf0eb")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]))
        flow.append(table)
        if index == 1:
            flow.append(Paragraph(escape(figures["ranking_rule"]), note))
    document.build(flow)
    return buffer.getvalue()
