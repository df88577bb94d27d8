"""The 台账 page for officials: export the area's ledger, upload an edited sheet, and read what the import changed
(or each wrong row, in Chinese). The import itself is the API's (services/ledger_import.py)."""
from __future__ import annotations

from flask import render_template, request

from backend.pages import h5
from backend.pages.helpers import login_redirect, require_user_for_post
from backend.presenters import ledger as presenter
from backend.request_context import optional_user_id
from backend.services.ledger_import import LedgerFileInvalid, import_ledger

AREA_ID = "<int(min=1, max=2147483647):area_id>"


@h5.get(f"/areas/{AREA_ID}/ledger")
def ledger_page(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    area = presenter.ledger_page(area_id, user_id)
    return render_template("ledger/page.html", area=area, result=None, error=None)


@h5.post(f"/areas/{AREA_ID}/ledger")
def ledger_upload(area_id: int):
    user_id = require_user_for_post()
    area = presenter.ledger_page(area_id, user_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("ledger/page.html", area=area, result=None, error="请选择要导入的 .xlsx 文件"), 422
    try:
        report = import_ledger(upload.stream, area_id, user_id)
    except LedgerFileInvalid as exc:
        return render_template("ledger/page.html", area=area, result=None, error=str(exc)), 422
    result = presenter.import_screen(report)
    return render_template("ledger/page.html", area=area, result=result, error=None), 200 if report.ok else 422
