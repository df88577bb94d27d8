"""The work-order settings page: a compound's categories and the time to accept and close each (SLA), for
its manager, committee and party secretary. Every one of a row's four deadlines is typed the same way, a number and
a unit chosen beside it (分钟 or 小时), so no column of the page reads in a unit of its own. The rows typed are
loaded by the API's CategoryListSchema (in minutes), whose limits and messages are the only ones; the page shows
each problem beside its cell and, naming the row, above the form."""
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
# The API's field of each problem, and the page's cell it is shown beside.
PAGE_FIELD = {key: field for field, key in SLA_FIELDS.items()} | {"name": "name"}
ROW_FIELD = re.compile(r"(name|delete|(?:accept|close)_(?:normal|urgent)(?:_unit)?)-(\d{1,4})")
# The units a deadline may be typed in, and the minutes in one of each.
UNITS = {"minutes": ("分钟", 1), "hours": ("小时", 60)}
MINUTES_TEXT = re.compile(r"[0-9]{1,6}")
# Hours with at most two decimals ("1.5" 小时); a stored value always shows as a whole number of its unit.
HOURS_TEXT = re.compile(r"[0-9]{1,4}(\.[0-9]{1,2})?")


def _shown(minutes: int) -> tuple[str, str]:
    """A stored deadline as the number and unit it reads best in: whole hours in 小时, anything else in 分钟."""
    return (str(minutes // 60), "hours") if minutes % 60 == 0 else (str(minutes), "minutes")


def _category_rows(items) -> list[dict]:
    rows = []
    for item in items:
        stored = service.category_minutes(item)
        row = {"name": item.name, "delete": False, "errors": {}, "summary": _summary(stored)}
        for field, key in SLA_FIELDS.items():
            row[field], row[f"{field}_unit"] = _shown(stored[key])
        rows.append(row)
    return rows


def _summary(stored: dict) -> str:
    """The saved deadlines in the one way every page writes a time span (format_duration), as the bounds the
    page names are written: "一般 4小时内受理、72小时内办结；紧急 30分钟内受理、24小时内办结"."""
    parts = []
    for urgency, word in (("normal", "一般"), ("urgent", "紧急")):
        accept = format_duration(stored[f"accept_minutes_{urgency}"] * 60)
        close = format_duration(stored[f"close_minutes_{urgency}"] * 60)
        parts.append(f"{word} {accept}内受理、{close}内办结")
    return "；".join(parts)


def _blank_row() -> dict:
    """A row for a new category; its units start at the ones such deadlines are usually given in."""
    return {"name": "", "delete": False, "errors": {}} | dict.fromkeys(SLA_FIELDS, "") | {
        f"{field}_unit": "minutes" if field.startswith("accept") else "hours" for field in SLA_FIELDS}


def _typed_text(key: str) -> str:
    return unicodedata.normalize("NFKC", request.form.get(key, "")).strip()


def _posted_rows() -> list[dict]:
    """The rows as typed, in page order; a row whose fields were not all sent counts them as empty."""
    indices = sorted({int(match.group(2)) for key in request.form if (match := ROW_FIELD.fullmatch(key))})
    return [
        {"name": request.form.get(f"name-{i}", "").strip(), "delete": bool(request.form.get(f"delete-{i}")),
         "errors": {}}
        | {field: _typed_text(f"{field}-{i}") for field in SLA_FIELDS}
        | {f"{field}_unit": _typed_text(f"{field}_unit-{i}") for field in SLA_FIELDS}
        for i in indices
    ]


def _typed(row: dict) -> bool:
    return any(row[key] for key in ("name", *SLA_FIELDS))


def _minutes(text: str, unit: str) -> int | str:
    """A number typed in minutes (whole) or hours (at most two decimals) as minutes; anything else, or a unit not
    offered, as typed, for the schema to refuse with its message."""
    if unit == "minutes" and MINUTES_TEXT.fullmatch(text):
        return int(text)
    if unit == "hours" and HOURS_TEXT.fullmatch(text):
        return int((Decimal(text) * 60).to_integral_value(ROUND_HALF_UP))
    return text


def _category(row: dict) -> dict:
    """A row as the API's body holds a category."""
    return {"name": row["name"]} | {
        key: _minutes(row[field], row[f"{field}_unit"]) for field, key in SLA_FIELDS.items()}


def _problems(errors: dict[str, list[str]], numbered: list[tuple[int, dict]]) -> list[str]:
    """Every problem the schema found, a row's own as one sentence naming the row (第3行「电梯」：…), and kept on
    the row beside the cell it is about."""
    problems = []
    for key, messages in errors.items():
        path = key.split(".")
        if len(path) != 3:
            problems += messages
            continue
        number, row = numbered[int(path[1])]
        row["errors"][PAGE_FIELD.get(path[2], path[2])] = messages
        label = f"第{number}行「{row['name']}」" if row["name"] else f"第{number}行"
        problems += [f"{label}：{message}" for message in messages]
    return problems


def _render_categories(compound, rows: list[dict], problems=()):
    return render_template(
        "workorders/categories.html", compound=compound, rows=rows + [_blank_row() for _ in range(NEW_ROWS)],
        problems=problems, max_categories=MAX_CATEGORIES, units=UNITS,
        accept_bounds=[format_duration(minutes * 60) for minutes in ACCEPT_MINUTES],
        close_bounds=[format_duration(minutes * 60) for minutes in CLOSE_MINUTES],
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
