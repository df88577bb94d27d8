"""公共账本 pages: the overview (balance, this month by category with a chart and its table, latest entries with
their vouchers for those who see entries, the months with their statements), a month's statement with the close
form (the bank's month-end balance per account, in yuan) and the red difference until explained, and the
bookkeepers' desk. What each shows is the presenter's (presenters/fund_statements.py); forms are loaded by the
API's schemas (schemas/fund_statements.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.funds import FundRefused
from backend.domain.refusals import Kind, Refused
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, require_user_for_post
from backend.presenters import fund_statements as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.fund_statements import CloseFormSchema, ExplanationInputSchema
from backend.services import fund_statements as service
from backend.services.fund_access import fund_access, require

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
MONTH = "<string(length=7):month>"


@h5.get(f"/compounds/{COMPOUND_ID}/funds")
def funds_overview(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    summary = presenter.summary(compound_id, user_id, entry_compound_id())
    months = presenter.months(compound_id, user_id, entry_compound_id())["items"]
    chart = [{"name": line["label"], "value": line["amount_fen"] / 100}
             for line in summary["this_month"]["by_category"] if line["direction"] == "expense" and line["amount_fen"] > 0]
    return render_template("fund_statements/overview.html", compound=presenter.heading(compound_id), summary=summary,
                           months=months, chart=chart)


@h5.get(f"/compounds/{COMPOUND_ID}/funds/desk")
def funds_desk(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    require(fund_access(compound_id, user_id, entry_compound_id()), "keep_books")
    months = presenter.months(compound_id, user_id, entry_compound_id())["items"]
    return render_template("fund_statements/desk.html", compound=presenter.heading(compound_id),
                           to_close=[m for m in months if m["status"] in ("closable", "waiting")])


def _statement_page(compound_id: int, month: str, user_id: int, refused=None, form: dict | None = None):
    statement = presenter.statement(compound_id, presenter.parse_month(month), user_id, entry_compound_id())
    errors = {}
    if refused is not None:
        # The service names the API's field (bank_balances.<account id>); the page's is bank_<account id>.
        errors = {key.replace("bank_balances.", "bank_"): messages[0] for key, messages in refused.errors.items()}
    return render_template("fund_statements/statement.html", compound=presenter.heading(compound_id), statement=statement,
                           error=refused.message if refused is not None else None, errors=errors, form=form or {})


@h5.get(f"/compounds/{COMPOUND_ID}/funds/statements/{MONTH}")
def funds_statement(compound_id: int, month: str):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _statement_page(compound_id, month, user_id)


@h5.post(f"/compounds/{COMPOUND_ID}/funds/statements/{MONTH}/close")
def funds_close(compound_id: int, month: str):
    user_id = require_user_for_post()
    typed = {key: value.strip() for key, value in request.form.items() if key.startswith("bank_")}
    show_refusal_with(lambda refused: _statement_page(compound_id, month, user_id, refused, typed))
    parsed = presenter.parse_month(month)
    statement = presenter.statement(compound_id, parsed, user_id, entry_compound_id())
    balances = {}
    for account in statement["accounts"]:
        if account["needs_bank_balance"] and account["status"] != "closed":
            # The API's bank balance in fen, as the page's yuan field gives it.
            try:
                line = load_form(CloseFormSchema(), {"account_id": str(account["id"]),
                                                     "bank_balance_fen": typed.get(f"bank_{account['id']}", "")})
            except Refused as refused:
                raise FundRefused(refused.message, Kind.INVALID,
                                  errors={f"bank_{account['id']}": [refused.message]}) from None
            balances[line["account_id"]] = line["bank_balance_fen"]
    service.close_month(compound_id, parsed, balances, user_id, entry_compound_id(), ip=client_ip())
    flash(f"{parsed:%Y年%m月}已结账", "success")
    return redirect(url_for("h5.funds_statement", compound_id=compound_id, month=month))


@h5.post(f"/compounds/{COMPOUND_ID}/funds/statements/{MONTH}/explanation")
def funds_explain(compound_id: int, month: str):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _statement_page(compound_id, month, user_id, refused))
    body = load_form(ExplanationInputSchema())
    service.explain_difference(compound_id, presenter.parse_month(month), body["account_id"], body["note"], user_id,
                               entry_compound_id(), ip=client_ip())
    flash("差额说明已记录", "success")
    return redirect(url_for("h5.funds_statement", compound_id=compound_id, month=month))
