"""The year's result and surplus page (年度收支与结余): the year's income, expense, remuneration and surplus, the months
still to close, the owners' decision and the form the bookkeepers record it with, the reader's own refund, and every
household's refund for those who see the entries. What it shows is the presenter's (presenters/fund_years.py); the
form is loaded by the API's schema (schemas/fund_years.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, require_user_for_post
from backend.presenters import fund_years as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.fund_years import FundYearDecisionInputSchema
from backend.services import fund_years as service
from backend.services.fund_access import fund_access, require

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
YEAR = "<int(min=2000, max=2100):year>"


def _year_page(compound_id: int, year: int, user_id: int, refused=None):
    view = presenter.year(compound_id, year, user_id, entry_compound_id())
    refunds = presenter.refunds(compound_id, year, user_id, entry_compound_id()) \
        if "see_refunds" in view.actions else None
    return render_template("fund_years/year.html", view=view, refunds=refunds,
                           error=refused.message if refused is not None else None,
                           errors=refused.errors if refused is not None else {})


@h5.get(f"/compounds/{COMPOUND_ID}/funds/years/{YEAR}")
def fund_year(compound_id: int, year: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _year_page(compound_id, year, user_id)


@h5.post(f"/compounds/{COMPOUND_ID}/funds/years/{YEAR}")
def fund_year_decide(compound_id: int, year: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _year_page(compound_id, year, user_id, refused))
    access = fund_access(compound_id, user_id, entry_compound_id())
    require(access, "keep_books")
    body = load_form(FundYearDecisionInputSchema())
    service.record_decision(access, year, body["use"], body["note"], body["topic_id"], ip=client_ip())
    flash("已记录业主对本年度结余用途的决定", "success")
    return redirect(url_for("h5.fund_year", compound_id=compound_id, year=year))
