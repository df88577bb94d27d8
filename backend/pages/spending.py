"""Spending request (支出申请) pages: a compound's requests, filing one with its quotes, and one request with its
quotes, approvals, the owners' vote it waits for and the committee's approve / reject forms. What each shows is the
presenter's (presenters/spending.py); forms are loaded by the API's schemas (schemas/spending.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.funds import SpendingStatus
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, page_number, require_user_for_post
from backend.presenters import spending as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.spending import RejectInputSchema, SpendingFormSchema
from backend.services import spending as service
from backend.serving import evidence_response

PAGE_SIZE = 20
# The form offers this many quote inputs (a photo or a PDF each); empty ones are left out.
QUOTE_INPUTS = 3
COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
REQUEST_ID = "<int(min=1, max=2147483647):request_id>"
QUOTE_ID = "<int(min=1, max=2147483647):quote_id>"
TYPED = ("title", "purpose", "amount", "category", "payee", "description", "emergency")


def _status() -> SpendingStatus | None:
    status = request.args.get("status", "")
    return SpendingStatus(status) if status in set(SpendingStatus) else None


def _to_detail(request_id: int):
    return redirect(url_for("h5.spending_detail", request_id=request_id))


@h5.get(f"/compounds/{COMPOUND_ID}/spending")
def spending_list(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    listing = presenter.request_list(compound_id, user_id, _status(), page_number(), PAGE_SIZE, entry_compound_id())
    return render_template("spending/list.html", listing=listing, endpoint="h5.spending_list",
                           endpoint_args={"compound_id": compound_id})


def _form_page(choices, form: dict, refused=None):
    errors: dict[str, str] = {}
    if refused is not None:
        for key, messages in refused.errors.items():
            errors.setdefault(key.split(".")[0], messages[0])
    return render_template("spending/form.html", choices=choices, form=form, errors=errors,
                           error=refused.message if refused is not None else None, quote_inputs=range(QUOTE_INPUTS))


@h5.get(f"/compounds/{COMPOUND_ID}/spending/new")
def spending_form(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    choices = presenter.new_form(compound_id, user_id, entry_compound_id())
    return _form_page(choices, {field: "" for field in TYPED})


@h5.post(f"/compounds/{COMPOUND_ID}/spending/new")
def spending_create(compound_id: int):
    user_id = require_user_for_post()
    choices = presenter.new_form(compound_id, user_id, entry_compound_id())
    typed = {field: request.form.get(field, "").strip() for field in TYPED}
    show_refusal_with(lambda refused: _form_page(choices, typed, refused))
    # A file input left empty still sends one part with no file name.
    quotes = [upload for upload in request.files.getlist("quotes") if upload.filename]
    body = load_form(SpendingFormSchema(), quotes=quotes)
    filed = service.create_request(compound_id, user_id, body["draft"], [upload.stream for upload in body["quotes"]],
                                   entry_compound_id(), ip=client_ip())
    flash("已提交，等待业主表决" if filed.status is SpendingStatus.VOTING else "已提交，等待业委会审批", "success")
    return _to_detail(filed.id)


def _detail_page(request_id: int, user_id: int, refused=None):
    item = presenter.detail(request_id, user_id, entry_compound_id())
    return render_template("spending/detail.html", item=item, error=refused.message if refused is not None else None)


@h5.get(f"/spending-requests/{REQUEST_ID}")
def spending_detail(request_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _detail_page(request_id, user_id)


@h5.post(f"/spending-requests/{REQUEST_ID}/approve")
def spending_approve(request_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _detail_page(request_id, user_id, refused))
    approved = service.approve(request_id, user_id, entry_compound_id(), ip=client_ip())
    flash("已批准，已通知申请人" if approved.status is SpendingStatus.APPROVED else "已同意，还需一名委员审批",
          "success")
    return _to_detail(request_id)


@h5.post(f"/spending-requests/{REQUEST_ID}/reject")
def spending_reject(request_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _detail_page(request_id, user_id, refused))
    body = load_form(RejectInputSchema())
    service.reject(request_id, user_id, body["note"], entry_compound_id(), ip=client_ip())
    flash("已不予批准，已通知申请人", "success")
    return _to_detail(request_id)


@h5.get(f"/spending-quotes/{QUOTE_ID}")
def spending_quote(quote_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    found = service.quote_file(quote_id, user_id, entry_compound_id())
    return evidence_response(found.data, found.content_type, found.filename)
