"""Periodic report (定期通报) pages: an area's report history with the on-demand form, and one report (生成中 until
its job publishes it). What each shows is the presenter's (presenters/reports.py); the form is loaded by the API's
schema (schemas/reports.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, page_number, require_user_for_post
from backend.presenters import reports as presenter
from backend.request_context import optional_user_id
from backend.schemas.reports import ReportCreateSchema
from backend.services import reports as service

AREA_ID = "<int(min=1, max=2147483647):area_id>"
REPORT_ID = "<int(min=1, max=2147483647):report_id>"
PAGE_SIZE = 20


@h5.get(f"/areas/{AREA_ID}/reports")
def area_reports(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("reports/list.html", area_id=area_id,
                           listing=presenter.report_list(area_id, user_id, page_number(), PAGE_SIZE))


@h5.post(f"/areas/{AREA_ID}/reports")
def area_report_create(area_id: int):
    user_id = require_user_for_post()
    body = load_form(ReportCreateSchema())
    report = service.ask_custom(area_id, user_id, body["start"], body["end"])
    flash("通报正在生成，稍后刷新本页即可查看", "success")
    return redirect(url_for("h5.report_page", report_id=report.id))


@h5.get(f"/reports/{REPORT_ID}")
def report_page(report_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("reports/report.html", report=presenter.report_detail(report_id, user_id))
