"""The work-order settings page: a compound's categories and the time to accept and close each (SLA), for
its manager, committee and party secretary."""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import flash, redirect, render_template, request, url_for

from backend.domain import workorders as rules
from backend.domain.roles import Action as RoleAction
from backend.pages import h5
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.policy import authorize
from backend.request_context import client_ip, optional_user_id
from backend.services import workorders as service

MAX_CATEGORIES = 20
NEW_ROWS = 3
CATEGORY_NAME_LIMIT = 16
ACCEPT_MINUTES = (1, 10_080)
CLOSE_HOURS = (1, 720)
SLA_FIELDS = ("accept_normal", "close_normal", "accept_urgent", "close_urgent")
SLA_FIELD_LABELS = {
    "accept_normal": "一般报修的受理时限", "close_normal": "一般报修的办结时限",
    "accept_urgent": "紧急报修的受理时限", "close_urgent": "紧急报修的办结时限",
}
ROW_FIELD = re.compile(r"(name|delete|accept_normal|close_normal|accept_urgent|close_urgent)-(\d{1,4})")
# Hours with at most two decimals: any minute count set through the API shows and saves back unchanged.
HOURS_TEXT = re.compile(r"\d{1,4}(\.\d{1,2})?")


def _hours_text(minutes: int) -> str:
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes / 60:.2f}".rstrip("0")


def _category_rows(items) -> list[dict]:
    rows = []
    for item in items:
        stored = service.category_minutes(item)
        rows.append({
            "name": item.name, "delete": False,
            "accept_normal": str(stored["accept_minutes_normal"]),
            "close_normal": _hours_text(stored["close_minutes_normal"]),
            "accept_urgent": str(stored["accept_minutes_urgent"]),
            "close_urgent": _hours_text(stored["close_minutes_urgent"]),
        })
    return rows


def _blank_row() -> dict:
    return {"name": "", "delete": False} | dict.fromkeys(SLA_FIELDS, "")


def _posted_rows() -> list[dict]:
    """The rows as typed, in page order; a row whose fields were not all sent counts them as empty."""
    indices = sorted({int(match.group(2)) for key in request.form if (match := ROW_FIELD.fullmatch(key))})
    return [
        {"name": request.form.get(f"name-{i}", "").strip(), "delete": bool(request.form.get(f"delete-{i}"))}
        | {field: unicodedata.normalize("NFKC", request.form.get(f"{field}-{i}", "")).strip() for field in SLA_FIELDS}
        for i in indices
    ]


def _minutes_from(field: str, text: str) -> int | None:
    """Minutes for 受理 typed in minutes, or for 办结 typed in hours; None when out of range or not a number."""
    if field.startswith("accept"):
        low, high = ACCEPT_MINUTES
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 and low <= int(text) <= high else None
    low, high = CLOSE_HOURS
    if not (text.isascii() and HOURS_TEXT.fullmatch(text) and low <= Decimal(text) <= high):
        return None
    return int((Decimal(text) * 60).to_integral_value(ROUND_HALF_UP))


def _row_problems(number: int, row: dict) -> tuple[list[str], dict[str, int]]:
    label = f"第{number}行「{row['name']}」" if row["name"] else f"第{number}行"
    problems = []
    if not row["name"]:
        problems.append(f"{label}：请填写类别名称")
    elif len(row["name"]) > CATEGORY_NAME_LIMIT:
        problems.append(f"{label}：类别名称最多{CATEGORY_NAME_LIMIT}个字")
    minutes = {}
    for field in SLA_FIELDS:
        value = _minutes_from(field, row[field])
        if value is None:
            limits = "1到10080之间的整数（分钟）" if field.startswith("accept") else "1到720之间的数字（小时）"
            problems.append(f"{label}：{SLA_FIELD_LABELS[field]}请填写{limits}")
        else:
            minutes[field] = value
    for urgency, word in (("normal", "一般"), ("urgent", "紧急")):
        accept, close = minutes.get(f"accept_{urgency}"), minutes.get(f"close_{urgency}")
        if accept is not None and close is not None and close < accept:
            problems.append(f"{label}：{word}报修的办结时限不能短于受理时限")
    return problems, minutes


def _typed(row: dict) -> bool:
    return any(row[key] for key in ("name", *SLA_FIELDS))


def _categories_from(rows: list[dict]) -> tuple[list[service.CategorySla], list[str]]:
    """The list to save and every problem with it, each as one Chinese sentence the page shows."""
    items, problems, seen, kept = [], [], set(), 0
    for number, row in enumerate(rows, start=1):
        if row["delete"] or not _typed(row):
            continue
        kept += 1
        row_problems, minutes = _row_problems(number, row)
        if row["name"] and row["name"] in seen:
            row_problems.append(f"第{number}行：类别名称「{row['name']}」重复了")
        seen.add(row["name"])
        problems += row_problems
        if not row_problems:
            items.append(service.CategorySla(
                row["name"],
                rules.Sla(timedelta(minutes=minutes["accept_normal"]), timedelta(minutes=minutes["close_normal"])),
                rules.Sla(timedelta(minutes=minutes["accept_urgent"]), timedelta(minutes=minutes["close_urgent"])),
            ))
    if not kept:
        problems.append("请至少保留一个报修类别")
    elif kept > MAX_CATEGORIES:
        problems.append(f"最多设置{MAX_CATEGORIES}个报修类别（现有{kept}个），请删除一些")
    return items, problems


def _render_categories(compound, rows: list[dict], problems=()):
    return render_template(
        "workorders/categories.html", compound=compound, rows=rows, problems=problems,
        max_categories=MAX_CATEGORIES, name_limit=CATEGORY_NAME_LIMIT, accept_minutes=ACCEPT_MINUTES,
        close_hours=CLOSE_HOURS,
    )


@h5.get("/c/<code>/work-orders/categories")
def work_order_categories(code: str):
    """The manager's, committee's or party secretary's settings: categories and the time to accept and close."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(RoleAction.CONFIGURE_WORK_ORDERS, compound.id, user_id)
    rows = _category_rows(service.categories(compound.id))
    return _render_categories(compound, rows + [_blank_row() for _ in range(NEW_ROWS)])


@h5.post("/c/<code>/work-orders/categories")
def work_order_categories_save(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(RoleAction.CONFIGURE_WORK_ORDERS, compound.id, user_id)
    typed = _posted_rows()
    items, problems = _categories_from(typed)
    if problems:
        # Keep what was typed; the empty rows are offered again at the bottom.
        rows = [row for row in typed if _typed(row)]
        return _render_categories(compound, rows + [_blank_row() for _ in range(NEW_ROWS)], problems), 422
    service.set_categories(compound.id, items, user_id, client_ip())
    flash("已保存报修类别和时限", "success")
    return redirect(url_for("h5.work_order_categories", code=compound.code))
