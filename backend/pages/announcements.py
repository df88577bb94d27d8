"""Announcement (通知公告) pages: the compound's list, posting (to the compound, or for an official to every compound
below an area), a notice with its photos (opening it counts the reader once), editing, and deleting after a
confirmation page. What each shows is the presenter's (presenters/announcements.py); forms are loaded by the API's
schema (schemas/announcements.py) and a refused one comes back with each message beside its field."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import (
    compound_by_code,
    login_redirect,
    page_number,
    parse_id,
    require_user_for_post,
)
from backend.presenters import announcements as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.announcements import AnnouncementFormSchema
from backend.services import announcements as service
from backend.services.announcements import DRAFT_FIELDS, Draft
from backend.services.photos import PhotoRefused, photo_response, prepare_photo

PAGE_SIZE = 20
ANNOUNCEMENT_ID = "<int(min=1, max=2147483647):announcement_id>"
TYPED = ("title", "body", "category", "ends_on", "scope")
TICKED = ("pinned", "urgent")


def _chosen_photos() -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist("photos") if item.filename]


def _typed() -> dict:
    """What the person typed and ticked, to show the form again as they left it (photos must be chosen again)."""
    return {field: request.form.get(field, "").strip() for field in TYPED} | {
        field: field in request.form for field in TICKED
    } | {"remove_photo_ids": set(request.form.getlist("remove_photo_ids"))}


def _field_errors(refused) -> dict[str, str]:
    """Each field's first message, for the form to show beside it; a refused photo's under the photos."""
    if isinstance(refused, PhotoRefused):
        return {"photos": refused.message}
    errors: dict[str, str] = {}
    for key, messages in refused.errors.items():
        errors.setdefault(key.split(".")[0], messages[0])
    return errors


def _form_page(template_args: dict, form: dict, refused=None):
    errors = _field_errors(refused) if refused is not None else {}
    # A message no field shows stands on top of the form.
    error = refused.message if refused is not None and not errors else None
    return render_template("announcements/form.html", form=form, errors=errors, error=error, **template_args)


def _loaded() -> tuple[dict, list]:
    body = load_form(AnnouncementFormSchema(), photos=_chosen_photos())
    return body, [prepare_photo(upload.stream) for upload in body["photos"]]


def _to_detail(announcement_id: int):
    return redirect(url_for("h5.announcement_detail", announcement_id=announcement_id))


# ---- list ---------------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/announcements")
def announcement_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and entry_compound_id() != compound.id:
        return login_redirect()
    include_ended = request.args.get("ended") == "1"
    listing = presenter.announcement_list(compound.id, user_id, entry_compound_id(), include_ended, page_number(),
                                          PAGE_SIZE)
    return render_template("announcements/list.html", compound=compound, listing=listing)


# ---- posting ------------------------------------------------------------------------------------------------------


def _new_args(compound, user_id: int) -> dict:
    """The new-notice form is for those who may post here (404 for strangers, 403 for other readers)."""
    return {"compound": compound, "announcement": None,
            "choices": presenter.posting_form(compound.id, user_id, entry_compound_id())}


@h5.get("/c/<code>/announcements/new")
def announcement_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _form_page(_new_args(compound, user_id), {"category": "", "scope": "compound", "remove_photo_ids": set()})


@h5.post("/c/<code>/announcements/new")
def announcement_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    args = _new_args(compound, user_id)
    show_refusal_with(lambda refused: _form_page(args, _typed(), refused))
    body, photos = _loaded()
    draft = Draft(**{name: body[name] for name in DRAFT_FIELDS})
    scope, _, area = body["scope"].partition(":")
    area_id = parse_id(area) if scope == "area" else None
    if area_id is not None:
        announcement = service.post_to_area(area_id, user_id, draft, photos, ip=client_ip())
    else:
        announcement = service.post_to_compound(compound.id, user_id, draft, photos, ip=client_ip())
    flash("紧急通知已发布，已立即推送给全体已认证住户" if draft.urgent else "通知已发布", "success")
    return _to_detail(announcement.id)


# ---- one notice ---------------------------------------------------------------------------------------------------


@h5.get(f"/announcements/{ANNOUNCEMENT_ID}")
def announcement_detail(announcement_id: int):
    user_id = optional_user_id()
    if user_id is None and entry_compound_id() is None:
        return login_redirect()
    announcement = presenter.opened(announcement_id, user_id, entry_compound_id())
    return render_template("announcements/detail.html", announcement=announcement)


@h5.get(f"/announcements/{ANNOUNCEMENT_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def announcement_photo(announcement_id: int, photo_id: int):
    photo = presenter.photo(announcement_id, photo_id, optional_user_id(), entry_compound_id())
    return photo_response(photo, max_age=3600)


def _edit_args(announcement) -> dict:
    return {"compound": None, "announcement": announcement, "choices": presenter.editing_form()}


def _current(announcement) -> dict:
    return {
        "title": announcement.title, "body": announcement.body, "category": announcement.category.value,
        "ends_on": announcement.ends_on.isoformat() if announcement.ends_on else "", "pinned": announcement.pinned,
        "urgent": announcement.urgent, "scope": "", "remove_photo_ids": set(),
    }


@h5.get(f"/announcements/{ANNOUNCEMENT_ID}/edit")
def announcement_edit_form(announcement_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    announcement = presenter.managed(announcement_id, user_id, entry_compound_id())
    return _form_page(_edit_args(announcement), _current(announcement))


@h5.post(f"/announcements/{ANNOUNCEMENT_ID}/edit")
def announcement_update(announcement_id: int):
    user_id = require_user_for_post()
    announcement = presenter.managed(announcement_id, user_id, entry_compound_id())
    show_refusal_with(lambda refused: _form_page(_edit_args(announcement), _typed(), refused))
    body, photos = _loaded()
    service.edit(announcement_id, user_id, {name: body[name] for name in DRAFT_FIELDS}, photos,
                 body["remove_photo_ids"], entry_compound_id(), ip=client_ip())
    flash("通知已修改", "success")
    return _to_detail(announcement_id)


@h5.get(f"/announcements/{ANNOUNCEMENT_ID}/delete")
def announcement_delete_confirm(announcement_id: int):
    """The confirmation step: the notice and one button; nothing is deleted by following a link."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    announcement = presenter.managed(announcement_id, user_id, entry_compound_id())
    return render_template("announcements/delete.html", announcement=announcement)


@h5.post(f"/announcements/{ANNOUNCEMENT_ID}/delete")
def announcement_delete(announcement_id: int):
    user_id = require_user_for_post()
    announcement = presenter.managed(announcement_id, user_id, entry_compound_id())
    service.remove(announcement_id, user_id, entry_compound_id(), ip=client_ip())
    flash("通知已删除", "success")
    return redirect(url_for("h5.announcement_list", code=announcement.compound_code))
