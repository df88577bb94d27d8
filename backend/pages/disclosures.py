"""Notice board (公示栏) pages: a compound's board (what stands for each kind, the quarter's statement owed, every
posting below), the posting form with its file, one posting with its frozen figures, and its file. What each shows
is the presenter's (presenters/disclosures.py); the form is loaded by the API's schema (schemas/disclosures.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.funds import DisclosureKind
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, page_number, require_user_for_post
from backend.presenters import disclosures as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.disclosures import DisclosureInputSchema
from backend.services import disclosures as service
from backend.serving import evidence_response

PAGE_SIZE = 20
COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
DISCLOSURE_ID = "<int(min=1, max=2147483647):disclosure_id>"
TYPED = ("kind", "period", "title", "body", "staff")


def _kind() -> DisclosureKind | None:
    """?kind= as the API reads it; anything else lists every posting."""
    kind = request.args.get("kind", "")
    return DisclosureKind(kind) if kind in set(DisclosureKind) else None


def _chosen(name: str):
    upload = request.files.get(name)
    # A file input left empty still sends one part with no file name.
    return upload if upload is not None and upload.filename else None


@h5.get(f"/compounds/{COMPOUND_ID}/disclosures")
def disclosure_board(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    board = presenter.board(compound_id, user_id, _kind(), page_number(), PAGE_SIZE)
    return render_template("disclosures/board.html", board=board, compound_name=service.compound_name(compound_id))


def _form_page(compound_id: int, choices, form: dict, refused=None):
    errors: dict[str, str] = {}
    if refused is not None:
        for key, messages in refused.errors.items():
            errors.setdefault(key.split(".")[0], messages[0])
    return render_template("disclosures/form.html", compound_name=service.compound_name(compound_id), choices=choices,
                           form=form, errors=errors, error=refused.message if refused is not None else None)


@h5.get(f"/compounds/{COMPOUND_ID}/disclosures/new")
def disclosure_form(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    choices = presenter.posting_form(compound_id, user_id)
    kind = request.args.get("kind", "")
    blank = {field: "" for field in TYPED} | {"kind": kind if kind in set(DisclosureKind) else ""}
    return _form_page(compound_id, choices, blank)


@h5.post(f"/compounds/{COMPOUND_ID}/disclosures/new")
def disclosure_create(compound_id: int):
    user_id = require_user_for_post()
    choices = presenter.posting_form(compound_id, user_id)
    typed = {field: request.form.get(field, "").strip() for field in TYPED}
    show_refusal_with(lambda refused: _form_page(compound_id, choices, typed, refused))
    staff = [line for line in typed["staff"].splitlines() if line.strip()]
    body = load_form(DisclosureInputSchema(), staff=staff,
                     **({"file": _chosen("file")} if _chosen("file") else {}))
    upload = body["file"].stream if body["file"] is not None else None
    disclosure = service.post(compound_id, user_id, body["draft"], upload, ip=client_ip())
    flash("公示已发布，已通知本小区住户", "success")
    return redirect(url_for("h5.disclosure_detail", disclosure_id=disclosure.id))


@h5.get(f"/disclosures/{DISCLOSURE_ID}")
def disclosure_detail(disclosure_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    item = presenter.detail(disclosure_id, user_id)
    return render_template("disclosures/detail.html", item=item,
                           compound_name=service.compound_name(item.compound_id))


@h5.get(f"/disclosures/{DISCLOSURE_ID}/file")
def disclosure_file(disclosure_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    found = service.file_of(disclosure_id, user_id)
    return evidence_response(found.data, found.content_type, found.filename)
