"""Governance pages: a compound's party organisation and self-governance body (edit, history, first secretary),
an area's coverage figures, and a first secretary's monthly log. What each shows is presenters/governance.py's;
forms are loaded by the API's schemas (schemas/governance.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, require_user_for_post
from backend.presenters import governance as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.governance import AssignFirstSecretarySchema, GovernanceInputSchema, LogInputSchema
from backend.services import first_secretaries as secretary_service
from backend.services import governance as service

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
ASSIGNMENT_ID = "<int(min=1, max=2147483647):assignment_id>"


def _governance_page(compound_id: int, user_id: int, refused=None):
    screen = presenter.governance(compound_id, user_id)
    error = refused.message if refused is not None else None
    return render_template("governance/compound.html", screen=screen, error=error, typed=request.form)


def _to_page(compound_id: int):
    return redirect(url_for("h5.governance_page", compound_id=compound_id))


@h5.get(f"/compounds/{COMPOUND_ID}/governance")
def governance_page(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _governance_page(compound_id, user_id)


@h5.post(f"/compounds/{COMPOUND_ID}/governance")
def governance_update(compound_id: int):
    user_id = require_user_for_post()
    presenter.governance(compound_id, user_id)
    show_refusal_with(lambda refused: _governance_page(compound_id, user_id, refused))
    _, after = service.update(compound_id, user_id, load_form(GovernanceInputSchema()), ip=client_ip())
    flash("已保存，变更已记入历史" if after else "没有变更", "success")
    return _to_page(compound_id)


@h5.post(f"/compounds/{COMPOUND_ID}/first-secretary")
def first_secretary_assign(compound_id: int):
    user_id = require_user_for_post()
    presenter.governance(compound_id, user_id)
    show_refusal_with(lambda refused: _governance_page(compound_id, user_id, refused))
    body = load_form(AssignFirstSecretarySchema())
    secretary_service.assign(compound_id, user_id, user_id=body.get("user_id"), phone=body.get("phone"),
                             name=body["name"], started_on=body["started_on"], goals=body["goals"], ip=client_ip())
    flash("已选派第一书记", "success")
    return _to_page(compound_id)


@h5.post(f"/compounds/{COMPOUND_ID}/first-secretary/end")
def first_secretary_end(compound_id: int):
    user_id = require_user_for_post()
    secretary_service.end(compound_id, user_id, ip=client_ip())
    flash("选派已结束", "success")
    return _to_page(compound_id)


@h5.get(f"/areas/{AREA_ID}/coverage")
def coverage_page(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("governance/coverage.html", coverage=presenter.coverage(area_id, user_id))


def _log_page(assignment_id: int, user_id: int, refused=None):
    listing = presenter.log_list(assignment_id, user_id)
    return render_template("governance/logs.html", listing=listing,
                           error=refused.message if refused is not None else None)


@h5.get(f"/first-secretaries/{ASSIGNMENT_ID}/logs")
def first_secretary_logs(assignment_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _log_page(assignment_id, user_id)


@h5.post(f"/first-secretaries/{ASSIGNMENT_ID}/logs")
def first_secretary_log_write(assignment_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _log_page(assignment_id, user_id, refused))
    secretary_service.write_log(assignment_id, user_id, load_form(LogInputSchema())["body"])
    flash("本月日志已保存", "success")
    return redirect(url_for("h5.first_secretary_logs", assignment_id=assignment_id))


@h5.get("/first-secretary")
def my_first_secretary_assignments():
    """A first secretary's way in: their assignments, each to its log."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("governance/mine.html", assignments=secretary_service.mine(user_id))
