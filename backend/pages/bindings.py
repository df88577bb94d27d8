"""Binding pages: a resident's request form, the reviewers' approval list and their decisions. What the list
shows is the presenter's (presenters/bindings.py); forms are loaded by the API's schemas (schemas/bindings.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.bindings import BindingStatus
from backend.domain.roles import Action
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import (
    compound_by_code,
    confirm_step,
    confirmed,
    login_redirect,
    page_number,
    require_user_for_post,
)
from backend.policy import authorize
from backend.presenters import bindings as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.bindings import BindingFormSchema, BindingListQuery, BindingRejectSchema
from backend.services import bindings as binding_service
from backend.services import compounds as compound_service

PAGE_SIZE = 20
FORM_FIELDS = ("building_id", "unit", "room", "name", "relation")


def _request_page(compound, form: dict, error: str | None = None) -> str:
    buildings = [(building.id, building.name) for building in compound_service.list_buildings(compound.id)]
    return render_template("bindings/request.html", compound=compound, buildings=buildings, form=form, error=error)


@h5.get("/c/<code>/bind")
def bind_form(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    authorize(Action.REQUEST_BINDING, compound.id, optional_user_id(), entry_compound_id())
    return _request_page(compound, {})


@h5.post("/c/<code>/bind")
def bind_submit(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.REQUEST_BINDING, compound.id, user_id, entry_compound_id())
    entries = {key: request.form.get(key, "").strip() for key in FORM_FIELDS}
    show_refusal_with(lambda refused: _request_page(compound, entries, refused.message))
    binding = binding_service.request_binding(
        user_id=user_id, compound_id=compound.id, ip=client_ip(), **load_form(BindingFormSchema())
    )
    if binding.status is BindingStatus.APPROVED:
        flash("手机号与产权名册一致，已自动认证", "success")
    else:
        flash("绑定申请已提交，请等待小区审核", "success")
    return redirect(url_for("h5.compound_home", code=code))


@h5.get("/c/<code>/bindings")
def binding_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(Action.REVIEW_BINDINGS, compound.id, user_id)
    # The page opens on the requests waiting for a decision; its tabs show the decided ones.
    status = load_form(BindingListQuery(only=("status",)), {"status": request.args.get("status", "pending")})["status"]
    queue = presenter.review_queue(compound.id, user_id, status, page_number(), PAGE_SIZE)
    return render_template("bindings/review.html", compound=compound, queue=queue, tabs=presenter.REVIEW_TABS)


def _back_to_the_list(access, message: str):
    flash(message, "success")
    return redirect(url_for("h5.binding_list", code=access.compound.code))


@h5.post("/bindings/<int(min=1, max=2147483647):binding_id>/approve")
def binding_approve(binding_id: int):
    user_id = require_user_for_post()
    access = presenter.reviewing(binding_id, user_id)
    binding_service.approve_binding(binding_id, user_id, client_ip())
    return _back_to_the_list(access, "已通过认证")


@h5.post("/bindings/<int(min=1, max=2147483647):binding_id>/reject")
def binding_reject(binding_id: int):
    user_id = require_user_for_post()
    access = presenter.reviewing(binding_id, user_id)
    body = load_form(BindingRejectSchema())
    confirmation = presenter.reject_confirmation(binding_id, user_id, body["reason"])
    if confirmation is not None and not confirmed():
        back = url_for("h5.binding_list", code=access.compound.code)
        return confirm_step(confirmation, access.compound.name, back, {"reason": body["reason"]})
    binding_service.reject_binding(binding_id, user_id, body["reason"], client_ip())
    return _back_to_the_list(access, "已驳回，并告知原因")
