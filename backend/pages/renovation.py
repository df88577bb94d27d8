"""Renovation project (老旧小区改造) pages: the compound's projects, the set-up form (items in rows, the budget in
yuan), a project with its timeline, progress and ratings, and the progress and rating forms as the presenter allows.
What each shows is the presenter's (presenters/renovation.py); forms are loaded by the API's schemas."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.renovation import MAX_ITEMS
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.presenters import renovation as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.renovation import (
    RenovationProgressSchema,
    RenovationProjectFormSchema,
    RenovationRatingSchema,
)
from backend.services import renovation as service
from backend.services.photos import photo_response, prepare_photo

PAGE_SIZE = 20
# Item rows the set-up form offers (more through the API).
ITEM_ROWS = min(3, MAX_ITEMS)
ITEM_FIELDS = ("item_class", "category", "description", "budget", "funding_source")
PROJECT_ID = "<int(min=1, max=2147483647):project_id>"


def _files(name: str) -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist(name) if item.filename]


@h5.get("/c/<code>/renovation")
def renovation_list(code: str):
    compound = compound_by_code(code)
    # Signed-out readers must at least have scanned the compound's QR code; others sign in first.
    if optional_user_id() is None and entry_compound_id() != compound.id:
        return login_redirect()
    listing = presenter.compound_list(compound.id, optional_user_id(), entry_compound_id(), page_number(), PAGE_SIZE)
    return render_template("renovation/list.html", compound=compound, listing=listing)


# ---- setting up ----------------------------------------------------------------------------------------------


def _typed_rows() -> list[dict]:
    return [{name: request.form.get(f"item_{index}_{name}", "") for name in ITEM_FIELDS} for index in range(ITEM_ROWS)]


def _filled_rows() -> list[int]:
    return [index for index in range(ITEM_ROWS) if request.form.get(f"item_{index}_category", "").strip()]


def _new_page(compound, choices, form: dict, refused=None):
    return render_template("renovation/new.html", compound=compound, choices=choices, form=form,
                           error=refused.message if refused is not None else None, rows=range(ITEM_ROWS))


@h5.get("/c/<code>/renovation/new")
def renovation_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    choices = presenter.create_form(compound.id, user_id)
    blank = {"items": [{"item_class": "basic", "funding_source": "central"} for _ in range(ITEM_ROWS)]}
    return _new_page(compound, choices, blank)


@h5.post("/c/<code>/renovation/new")
def renovation_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    choices = presenter.create_form(compound.id, user_id)
    show_refusal_with(lambda refused: _new_page(compound, choices, dict(request.form) | {"items": _typed_rows()}, refused))
    items = [{name: request.form.get(f"item_{index}_{name}", "").strip() for name in ITEM_FIELDS}
             for index in _filled_rows()]
    body = load_form(RenovationProjectFormSchema(), items=items)
    project = service.create_project(compound.id, user_id, body, ip=client_ip())
    flash("改造项目已建立，已通知责任方", "success")
    return redirect(url_for("h5.renovation_page", project_id=project.id))


# ---- one project ---------------------------------------------------------------------------------------------


def _project_page(project_id: int, user_id: int | None, refused=None, typed: dict | None = None):
    project = presenter.detail(project_id, user_id, entry_compound_id())
    return render_template("renovation/detail.html", project=project, error=refused.message if refused else None,
                           typed=typed or {})


@h5.get(f"/renovation/{PROJECT_ID}")
def renovation_page(project_id: int):
    if optional_user_id() is None and entry_compound_id() is None:
        return login_redirect()
    return _project_page(project_id, optional_user_id())


def _back(project_id: int):
    return redirect(url_for("h5.renovation_page", project_id=project_id))


@h5.post(f"/renovation/{PROJECT_ID}/progress")
def renovation_progress(project_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _project_page(project_id, user_id, refused, dict(request.form)))
    body = load_form(RenovationProgressSchema(), photos=_files("photos"))
    # Only those who may see the project get their files read.
    service.seen_by(project_id, user_id)
    service.post_progress(project_id, user_id, body["note"], body["percent"],
                          [prepare_photo(upload.stream) for upload in body["photos"]], ip=client_ip())
    flash("改造进度已更新", "success")
    return _back(project_id)


@h5.post(f"/renovation/{PROJECT_ID}/rating")
def renovation_rate(project_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _project_page(project_id, user_id, refused, dict(request.form)))
    body = load_form(RenovationRatingSchema())
    service.rate(project_id, user_id, body["household_id"], body["stars"], body["comment"], ip=client_ip())
    flash("感谢您的评价", "success")
    return _back(project_id)


@h5.get(f"/renovation/{PROJECT_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def renovation_photo(project_id: int, photo_id: int):
    return photo_response(presenter.photo(project_id, photo_id, optional_user_id(), entry_compound_id()),
                          max_age=3600)
