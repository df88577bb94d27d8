"""The officials' dashboard pages: an area's totals, drill-down into child areas, the charts, and the compound
table (filters, sort and pages as query strings, so it reads without JavaScript). What each shows is the
presenter's (presenters/dashboard.py); the query is loaded by the API's schema (schemas/dashboard.py)."""
from __future__ import annotations

from flask import render_template, request, url_for

from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect
from backend.presenters import dashboard as presenter
from backend.request_context import optional_user_id
from backend.schemas.dashboard import CompoundTableQuery

AREA_ID = "<int(min=1, max=2147483647):area_id>"


@h5.get(f"/areas/{AREA_ID}/dashboard")
def area_dashboard(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    board = presenter.area_dashboard(area_id, user_id)
    args = load_form(CompoundTableQuery(), request.args)
    table = presenter.compound_table(area_id, user_id, presenter.table_query(args))
    # The child-area filter travels as `street`: `area_id` is the path's own name.
    chosen = {key: request.args.get(key, "") for key in ("model", "street", "flag", "sort", "page_size")}
    kept = {key: value for key, value in chosen.items() if value}

    def page_url(page: int) -> str:
        return url_for("h5.area_dashboard", area_id=area_id, **kept, page=page)

    return render_template("dashboard/area.html", board=board, table=table, charts=presenter.chart_data(board),
                           chosen=chosen, model_choices=presenter.MODEL_CHOICES, page_url=page_url)
