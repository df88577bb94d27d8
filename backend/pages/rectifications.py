"""Inspection and rectification (整改台账) pages: recording a supervision inspection (the checklist, findings with
photos, each with its party, deadline and urgency), the compound's and the area's lists (overdue first), an item
with its history and the answer, 销号 and return forms as the presenter allows, and the area's checklist. What each
shows is the presenter's (presenters/rectifications.py); forms are loaded by the API's schemas."""
from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for

from backend.domain.rectifications import MAX_FINDINGS, RECTIFICATION_STATUS_LABELS, RectificationStatus
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.presenters import rectifications as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.rectifications import (
    InspectionChecklistSchema,
    InspectionInputSchema,
    RectificationAcceptSchema,
    RectificationAnswerSchema,
    RectificationReturnSchema,
)
from backend.services import rectifications as service
from backend.services.photos import photo_response, prepare_photo

PAGE_SIZE = 20
# Finding rows the record form offers (more are recorded by recording the inspection again, or through the API).
FINDING_ROWS = min(3, MAX_FINDINGS)
RECTIFICATION_ID = "<int(min=1, max=2147483647):rectification_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
FINDING_FIELDS = ("item", "finding", "responsible_party", "deadline", "urgency")


def _status_filter() -> RectificationStatus | None:
    value = request.args.get("status", "")
    return RectificationStatus(value) if value in RectificationStatus._value2member_map_ else None


def _files(name: str) -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist(name) if item.filename]


# ---- recording -----------------------------------------------------------------------------------------------


def _typed() -> dict:
    return {"inspected_on": request.form.get("inspected_on", ""), "note": request.form.get("note", ""),
            "checked": set(request.form.getlist("items")),
            "findings": [{name: request.form.get(f"finding_{index}_{name}", "") for name in FINDING_FIELDS}
                         for index in range(FINDING_ROWS)]}


def _filled_rows() -> list[int]:
    """The finding rows typed in: the API's findings, in order (empty rows are left out)."""
    return [index for index in range(FINDING_ROWS) if request.form.get(f"finding_{index}_finding", "").strip()]


def _row_key(key: str, rows: list[int]) -> str:
    """findings.N.field names the N-th finding sent, which is the form's row rows[N]."""
    parts = key.split(".")
    if len(parts) > 1 and parts[0] == "findings" and parts[1].isdigit() and int(parts[1]) < len(rows):
        parts[1] = str(rows[int(parts[1])])
    return ".".join(parts)


def _record_page(compound, choices, form: dict, refused=None):
    errors = {}
    if refused is not None:
        rows = _filled_rows()
        for key, messages in refused.errors.items():
            errors.setdefault(_row_key(key, rows), messages[0])
    error = refused.message if refused is not None else None
    return render_template("rectifications/record.html", compound=compound, choices=choices, form=form,
                           errors=errors, error=error, rows=range(FINDING_ROWS))


@h5.get("/c/<code>/inspections/new")
def inspection_record_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    choices = presenter.record_form(compound.id, user_id)
    blank = {"inspected_on": choices.today.isoformat(), "note": "", "checked": set(choices.checklist),
             "findings": [{"urgency": "normal"} for _ in range(FINDING_ROWS)]}
    return _record_page(compound, choices, blank)


@h5.post("/c/<code>/inspections/new")
def inspection_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    choices = presenter.record_form(compound.id, user_id)
    show_refusal_with(lambda refused: _record_page(compound, choices, _typed(), refused))
    rows = _filled_rows()
    findings = [{name: request.form.get(f"finding_{index}_{name}", "") for name in FINDING_FIELDS} for index in rows]
    for finding in findings:
        if not finding["urgency"]:
            del finding["urgency"]
    body = load_form(InspectionInputSchema(), items=[{"name": name} for name in request.form.getlist("items")],
                     findings=findings)
    body["findings"] = [
        replace(finding, photos=[prepare_photo(upload.stream) for upload in _files(f"finding_{index}_photos")])
        for finding, index in zip(body["findings"], rows, strict=True)
    ]
    inspection = service.record_inspection(compound.id, user_id, body["inspected_on"], body["note"],
                                           [item.name for item in body["items"]], body["findings"], ip=client_ip())
    flash(f"检查已记录，登记整改{len(body['findings'])}项" if body["findings"] else "检查已记录", "success")
    return redirect(url_for("h5.inspection_page", inspection_id=inspection.id))


@h5.get("/inspections/<int(min=1, max=2147483647):inspection_id>")
def inspection_page(inspection_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rectifications/inspection.html", inspection=presenter.inspection(inspection_id, user_id))


# ---- lists ---------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/rectifications")
def compound_rectifications(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    overdue = request.args.get("overdue") == "1"
    listing = presenter.compound_list(compound.id, user_id, _status_filter(), overdue, page_number(), PAGE_SIZE)
    return render_template("rectifications/list.html", listing=listing, title=compound.name, compound=compound,
                           statuses=RECTIFICATION_STATUS_LABELS, overdue=overdue,
                           endpoint="h5.compound_rectifications", endpoint_args={"code": code})


@h5.get(f"/areas/{AREA_ID}/rectifications")
def area_rectifications(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    overdue = request.args.get("overdue") == "1"
    listing = presenter.area_list(area_id, user_id, _status_filter(), overdue, page_number(), PAGE_SIZE)
    return render_template("rectifications/list.html", listing=listing, title=listing["area_name"], compound=None,
                           statuses=RECTIFICATION_STATUS_LABELS, overdue=overdue,
                           endpoint="h5.area_rectifications", endpoint_args={"area_id": area_id})


# ---- one item ------------------------------------------------------------------------------------------------


def _item_page(rectification_id: int, user_id: int, refused=None, typed: dict | None = None):
    item = presenter.detail(rectification_id, user_id)
    return render_template("rectifications/detail.html", item=item, error=refused.message if refused else None,
                           typed=typed or {})


def _item(rectification_id: int):
    return redirect(url_for("h5.rectification_page", rectification_id=rectification_id))


@h5.get(f"/rectifications/{RECTIFICATION_ID}")
def rectification_page(rectification_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _item_page(rectification_id, user_id)


@h5.post(f"/rectifications/{RECTIFICATION_ID}/answer")
def rectification_answer(rectification_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _item_page(rectification_id, user_id, refused,
                                                 {"note": request.form.get("note", "")}))
    body = load_form(RectificationAnswerSchema(), photos=_files("photos"))
    # Only those who may see the item get their files read.
    service.seen_by(rectification_id, user_id)
    service.answer(rectification_id, user_id, body["note"], [prepare_photo(upload.stream) for upload in body["photos"]],
                   ip=client_ip())
    flash("整改情况已回复，等待验收", "success")
    return _item(rectification_id)


@h5.post(f"/rectifications/{RECTIFICATION_ID}/accept")
def rectification_accept(rectification_id: int):
    user_id = require_user_for_post()
    body = load_form(RectificationAcceptSchema())
    service.accept(rectification_id, user_id, body["note"], ip=client_ip())
    flash("已验收销号", "success")
    return _item(rectification_id)


@h5.post(f"/rectifications/{RECTIFICATION_ID}/return")
def rectification_return(rectification_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _item_page(rectification_id, user_id, refused,
                                                 {"reason": request.form.get("reason", "")}))
    body = load_form(RectificationReturnSchema())
    service.send_back(rectification_id, user_id, body["reason"], ip=client_ip())
    flash("已退回，责任方将重新整改", "success")
    return _item(rectification_id)


@h5.get(f"/rectifications/{RECTIFICATION_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def rectification_photo(rectification_id: int, photo_id: int):
    return photo_response(presenter.photo(rectification_id, photo_id, optional_user_id()), max_age=3600)


# ---- the checklist -------------------------------------------------------------------------------------------


@h5.get(f"/areas/{AREA_ID}/inspection-checklist")
def inspection_checklist(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rectifications/checklist.html", checklist=presenter.checklist(area_id, user_id))


@h5.post(f"/areas/{AREA_ID}/inspection-checklist")
def inspection_checklist_save(area_id: int):
    user_id = require_user_for_post()
    lines = [line.strip() for line in request.form.get("items", "").splitlines() if line.strip()]
    body = load_form(InspectionChecklistSchema(), items=lines)
    service.set_area_checklist(area_id, user_id, body["items"], ip=client_ip())
    flash("检查清单已保存", "success")
    return redirect(url_for("h5.inspection_checklist", area_id=area_id))
