"""The journal's pages (公共账本 → 日记账): a month's entries, posting one with its voucher (photo or PDF), one entry with
its vouchers and the reversal form, the accounts and the settings. What each shows is the presenter's
(presenters/funds.py); forms are loaded by the API's schemas with money in yuan (schemas/funds.py)."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for

from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, page_number, require_user_for_post
from backend.presenters import funds as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.funds import MONTH, AccountForm, EntryForm, ReversalInputSchema, SettingsForm
from backend.services import funds as service

PAGE_SIZE = 30
COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
ENTRY_ID = "<int(min=1, max=2147483647):entry_id>"
ENTRY_FIELDS = ("category", "amount", "entry_date", "account_id", "counterparty", "note", "spending_request_id")
ACCOUNT_FIELDS = ("kind", "bank_name", "account_no", "holder", "opening_balance", "opened_on")


def _month() -> date | None:
    """?month=YYYY-MM as the API reads it; anything else lists every month."""
    text = request.args.get("month", "")
    return date(int(text[:4]), int(text[5:7]), 1) if MONTH.match(text) else None


def _chosen(name: str) -> list:
    # A file input left empty still sends one part with no file name.
    return [upload for upload in request.files.getlist(name) if upload.filename]


def _errors(refused) -> dict[str, str]:
    return {key: messages[0] for key, messages in refused.errors.items()} if refused is not None else {}


# ---- entries ------------------------------------------------------------------------------------------------------


@h5.get(f"/compounds/{COMPOUND_ID}/funds/entries")
def fund_entries(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    month = _month()
    listing = presenter.entries(compound_id, user_id, month, page_number(), PAGE_SIZE)
    args = {"compound_id": compound_id} | ({"month": f"{month:%Y-%m}"} if month else {})
    return render_template("funds/entries.html", listing=listing, endpoint="h5.fund_entries", endpoint_args=args)


def _entry_form_page(compound_id: int, user_id: int, form: dict, refused=None):
    choices = presenter.entry_form(compound_id, user_id)
    return render_template("funds/entry_form.html", choices=choices, form=form, errors=_errors(refused),
                           error=refused.message if refused is not None else None)


@h5.get(f"/compounds/{COMPOUND_ID}/funds/entries/new")
def fund_entry_form(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    blank = {field: "" for field in ENTRY_FIELDS} | {"direction": request.args.get("direction", "income")}
    return _entry_form_page(compound_id, user_id, blank)


@h5.post(f"/compounds/{COMPOUND_ID}/funds/entries/new")
def fund_entry_create(compound_id: int):
    user_id = require_user_for_post()
    typed = {field: request.form.get(field, "").strip() for field in ENTRY_FIELDS}
    show_refusal_with(lambda refused: _entry_form_page(compound_id, user_id, typed, refused))
    body = load_form(EntryForm(), vouchers=_chosen("vouchers"))
    entry = service.post_entry(compound_id, user_id, body["draft"], [upload.stream for upload in body["vouchers"]],
                               ip=client_ip())
    flash("已记账", "success")
    return redirect(url_for("h5.fund_entry", entry_id=entry.id))


def _entry_page(entry_id: int, user_id: int, refused=None):
    entry = presenter.entry_detail(entry_id, user_id)
    return render_template("funds/entry.html", entry=entry, error=refused.message if refused is not None else None)


@h5.get(f"/fund-entries/{ENTRY_ID}")
def fund_entry(entry_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _entry_page(entry_id, user_id)


@h5.post(f"/fund-entries/{ENTRY_ID}/reversal")
def fund_entry_reverse(entry_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _entry_page(entry_id, user_id, refused))
    voucher = _chosen("voucher")
    body = load_form(ReversalInputSchema(), **({"voucher": voucher[0]} if voucher else {}))
    reversal = service.reverse_entry(entry_id, user_id, body["reason"],
                                     body["voucher"].stream if body["voucher"] else None, ip=client_ip())
    flash("已红字冲销", "success")
    return redirect(url_for("h5.fund_entry", entry_id=reversal.id))


# ---- accounts and settings ----------------------------------------------------------------------------------------


def _accounts_page(compound_id: int, user_id: int, form: dict | None = None, refused=None):
    listing = presenter.accounts(compound_id, user_id)
    blank = {field: "" for field in ACCOUNT_FIELDS} | {"opened_on": service.today().isoformat()}
    return render_template("funds/accounts.html", listing=listing, form=form or blank, errors=_errors(refused),
                           error=refused.message if refused is not None else None, today=service.today())


@h5.get(f"/compounds/{COMPOUND_ID}/funds/accounts")
def fund_accounts(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _accounts_page(compound_id, user_id)


@h5.post(f"/compounds/{COMPOUND_ID}/funds/accounts")
def fund_account_create(compound_id: int):
    user_id = require_user_for_post()
    typed = {field: request.form.get(field, "").strip() for field in ACCOUNT_FIELDS}
    show_refusal_with(lambda refused: _accounts_page(compound_id, user_id, typed, refused))
    draft = load_form(AccountForm())
    service.open_account(compound_id, user_id, draft, ip=client_ip())
    flash("账户已开设", "success")
    return redirect(url_for("h5.fund_accounts", compound_id=compound_id))


def _settings_page(compound_id: int, user_id: int, refused=None):
    return render_template("funds/settings.html", settings=presenter.settings(compound_id, user_id),
                           errors=_errors(refused), error=refused.message if refused is not None else None)


@h5.get(f"/compounds/{COMPOUND_ID}/funds/settings")
def fund_settings(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _settings_page(compound_id, user_id)


@h5.post(f"/compounds/{COMPOUND_ID}/funds/settings")
def fund_settings_update(compound_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _settings_page(compound_id, user_id, refused))
    draft = load_form(SettingsForm())
    service.update_settings(compound_id, user_id, draft, ip=client_ip())
    flash("设置已保存", "success")
    return redirect(url_for("h5.fund_settings", compound_id=compound_id))
