"""The work-order settings page: a compound's categories and the time to accept and close each (SLA), for
its manager, committee and party secretary. The rows typed are loaded by the API's CategoryListSchema, whose
limits and messages are the only ones; the page reads its rows (受理 in minutes, 办结 in hours) and names the row
of each problem."""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from flask import flash, redirect, render_template, request, url_for

from backend.domain.roles import Action as RoleAction
from backend.domain.workorders import format_duration
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.policy import authorize
from backend.request_context import client_ip, optional_user_id
from backend.schemas.workorders import ACCEPT_MINUTES, CLOSE_MINUTES, MAX_CATEGORIES, CategoryListSchema
from backend.services import workorders as service

NEW_ROWS = 3
# A row's fields on the page, and the API's for each.
SLA_FIELDS = {
    "accept_normal": "accept_minutes_normal", "close_normal": "close_minutes_normal",
    "accept_urgent": "accept_minutes_urgent", "close_urgent": "close_minutes_urgent",
}
ROW_FIELD = re.compile(r"(name|delete|accept_normal|close_normal|accept_urgent|close_urgent)-(\d{1,4})")
MINUTES_TEXT = re.compile(r"[0-9]{1,6}")
# Hours with at most two decimals: any minute count set through the API shows and saves back unchanged.
HOURS_TEXT = re.compile(r"[0-9]{1,4}(\.[0-9]{1,2})?")


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
            "summary": _summary(stored),
        })
    return rows


def _summary(stored: dict) -> str:
    """The saved deadlines in the one way every page writes a time span (rules.format_duration), so the
    minutes and hours typed above read alike: "一般 4小时内受理、72小时内办结；紧急 30分钟内受理、24小时内办结"."""
    parts = []
    for urgency, word in (("normal", "一般"), ("urgent", "紧急")):
        accept = format_duration(stored[f"accept_minutes_{urgency}"] * 60)
        close = format_duration(stored[f"close_minutes_{urgency}"] * 60)
        parts.append(f"{word} {accept}内受理、{close}内办结")
    return "；".join(parts)


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


def _typed(row: dict) -> bool:
    return any(row[key] for key in ("name", *SLA_FIELDS))


def _minutes(field: str, text: str) -> int | str:
    """受理 typed in minutes, or 办结 typed in hours, as minutes; anything else as typed, for the schema to refuse."""
    if field.startswith("accept"):
        return int(text) if MINUTES_TEXT.fullmatch(text) else text
    if HOURS_TEXT.fullmatch(text):
        return int((Decimal(text) * 60).to_integral_value(ROUND_HALF_UP))
    return text


def _category(row: dict) -> dict:
    """A row as the API's body holds a category."""
    return {"name": row["name"]} | {key: _minutes(field, row[field]) for field, key in SLA_FIELDS.items()}


def _problems(errors: dict[str, list[str]], numbered: list[tuple[int, dict]]) -> list[str]:
    """Every problem the schema found, a row's own as one sentence naming the row (第3行「电梯」：…)."""
    problems = []
    for key, messages in errors.items():
        path = key.split(".")
        if len(path) != 3:
            problems += messages
            continue
        number, row = numbered[int(path[1])]
        label = f"第{number}行「{row['name']}」" if row["name"] else f"第{number}行"
        problems += [f"{label}：{message}" for message in messages]
    return problems


def _render_categories(compound, rows: list[dict], problems=()):
    return render_template(
        "workorders/categories.html", compound=compound, rows=rows + [_blank_row() for _ in range(NEW_ROWS)],
        problems=problems, max_categories=MAX_CATEGORIES, accept_minutes=ACCEPT_MINUTES,
        close_hours=tuple(minutes // 60 for minutes in CLOSE_MINUTES),
    )


@h5.get("/c/<code>/work-orders/categories")
def work_order_categories(code: str):
    """The manager's, committee's or party secretary's settings: categories and the time to accept and close."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(RoleAction.CONFIGURE_WORK_ORDERS, compound.id, user_id)
    return _render_categories(compound, _category_rows(service.categories(compound.id)))


@h5.post("/c/<code>/work-orders/categories")
def work_order_categories_save(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(RoleAction.CONFIGURE_WORK_ORDERS, compound.id, user_id)
    typed = [row for row in _posted_rows() if _typed(row)]
    # Numbered as the page shows them; rows ticked for deletion are not saved, nor checked.
    numbered = [(number, row) for number, row in enumerate(typed, start=1) if not row["delete"]]
    # Refused: the page again with what was typed and every problem.
    show_refusal_with(lambda refused: _render_categories(compound, typed, _problems(refused.errors, numbered)))
    body = load_form(CategoryListSchema(), {}, items=[_category(row) for _, row in numbered])
    service.set_categories(compound.id, body["items"], user_id, client_ip())
    flash("已保存报修类别和时限", "success")
    return redirect(url_for("h5.work_order_categories", code=compound.code))
