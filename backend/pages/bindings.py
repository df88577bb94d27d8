"""Binding pages: a resident's request form, the reviewers' approval list and their decisions."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain.bindings import BindingRefused, BindingStatus, Relation
from backend.domain.roles import Action
from backend.pages import h5
from backend.pages.helpers import (
    compound_by_code,
    login_redirect,
    page_number,
    parse_id,
    require_user_for_post,
)
from backend.policy import authorize
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.services import bindings as binding_service
from backend.services import compounds as compound_service

FIELD_LIMITS = {"unit": 16, "room": 16, "name": 64}


@h5.get("/c/<code>/bind")
def bind_form(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    authorize(Action.REQUEST_BINDING, compound.id, optional_user_id(), entry_compound_id())
    return render_template("bindings/request.html", compound=compound, buildings=compound_service.list_buildings(compound.id), form={})


@h5.post("/c/<code>/bind")
def bind_submit(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.REQUEST_BINDING, compound.id, user_id, entry_compound_id())
    form = {key: request.form.get(key, "").strip() for key in ("building_id", "unit", "room", "name", "relation")}
    error = None
    if not all(form.values()):
        error = "请填写完整的楼栋、单元、房号、姓名和身份"
    elif any(len(form[key]) > limit for key, limit in FIELD_LIMITS.items()):
        error = "填写内容过长，请检查"
    elif form["relation"] not in {r.value for r in Relation} or parse_id(form["building_id"]) is None:
        error = "请选择楼栋和身份"
    if error is None:
        try:
            binding = binding_service.request_binding(
                user_id=user_id, compound_id=compound.id, building_id=int(form["building_id"]), unit=form["unit"],
                room=form["room"], name=form["name"], relation=Relation(form["relation"]), ip=client_ip(),
            )
        except BindingRefused as exc:
            error = str(exc)
        else:
            if binding.status is BindingStatus.APPROVED:
                flash("手机号与产权名册一致，已自动认证", "success")
            else:
                flash("绑定申请已提交，请等待小区审核", "success")
            return redirect(url_for("h5.compound_home", code=code))
    buildings = compound_service.list_buildings(compound.id)
    return render_template("bindings/request.html", compound=compound, buildings=buildings, form=form, error=error), 422


@h5.get("/c/<code>/bindings")
def binding_list(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    authorize(Action.REVIEW_BINDINGS, compound.id, optional_user_id())
    status_value = request.args.get("status", "pending")
    status = BindingStatus(status_value) if status_value in {s.value for s in BindingStatus} else BindingStatus.PENDING
    page = binding_service.bindings_page(compound.id, status, page_number(), 20)
    return render_template("bindings/review.html", compound=compound, page=page, status=status)


def _decide(binding_id: int, decide) -> object:
    user_id = require_user_for_post()
    compound_id = binding_service.binding_compound_id(binding_id)
    if compound_id is None:
        abort(404)
    access = authorize(Action.REVIEW_BINDINGS, compound_id, user_id)
    try:
        decide(user_id)
    except BindingRefused as exc:
        flash(str(exc), "warn")
    return redirect(url_for("h5.binding_list", code=access.compound.code))


@h5.post("/bindings/<int(min=1, max=2147483647):binding_id>/approve")
def binding_approve(binding_id: int):
    def approve(user_id):
        binding_service.approve_binding(binding_id, user_id, client_ip())
        flash("已通过认证", "success")

    return _decide(binding_id, approve)


@h5.post("/bindings/<int(min=1, max=2147483647):binding_id>/reject")
def binding_reject(binding_id: int):
    reason = request.form.get("reason", "").strip()[:200]

    def reject(user_id):
        if not reason:
            raise BindingRefused("请填写不通过的原因，申请人会看到")
        binding_service.reject_binding(binding_id, user_id, reason, client_ip())
        flash("已驳回，并告知原因", "success")

    return _decide(binding_id, reject)
