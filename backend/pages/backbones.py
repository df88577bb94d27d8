"""治理骨干 pages: the roster (public names by kind and building; keepers confirm, decline and end there), the
keeper's entry form and the resident's 我要当志愿者. What each shows is the presenter's (presenters/backbones.py);
forms are loaded by the API's schemas (schemas/backbones.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.backbones import BackboneAction
from backend.domain.roles import Action
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.policy import authorize
from backend.presenters import backbones as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.backbones import (
    BackboneAddForm,
    BackboneNoteSchema,
    BackboneRosterQuery,
    BackboneVolunteerForm,
)
from backend.services import backbones as service

ADD_FIELDS = ("name", "kind", "skills", "building_id", "since", "phone", "note")
VOLUNTEER_FIELDS = ("name", "kind", "skills", "building_id", "note")


@h5.get("/c/<code>/backbones")
def backbone_roster(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None and entry_compound_id() != compound.id:
        return login_redirect()
    query = load_form(BackboneRosterQuery(), request.args)
    roster = presenter.roster(compound.id, optional_user_id(), entry_compound_id(), query["status"], query["kind"])
    return render_template("backbones/roster.html", compound=compound, roster=roster, tabs=presenter.KEEPER_TABS)


def _add_page(compound, form: dict, error: str | None = None) -> str:
    return render_template("backbones/new.html", compound=compound, form=form, error=error,
                           kinds=presenter.KIND_CHOICES, buildings=presenter.buildings(compound.id))


@h5.get("/c/<code>/backbones/new")
def backbone_add_form(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    authorize(Action.KEEP_BACKBONES, compound.id, optional_user_id())
    return _add_page(compound, {"kind": request.args.get("kind", "")})


@h5.post("/c/<code>/backbones/new")
def backbone_add(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.KEEP_BACKBONES, compound.id, user_id)
    entries = {key: request.form.get(key, "").strip() for key in ADD_FIELDS}
    show_refusal_with(lambda refused: _add_page(compound, entries, refused.message))
    member = service.add_member(compound.id, user_id, ip=client_ip(), **load_form(BackboneAddForm()))
    flash(f"已登记：{member.name}", "success")
    return redirect(url_for("h5.backbone_roster", code=code))


def _volunteer_page(compound, user_id: int, form: dict, error: str | None = None) -> str:
    roster = presenter.roster(compound.id, user_id)
    return render_template("backbones/volunteer.html", compound=compound, form=form, error=error, roster=roster,
                           kinds=presenter.SELF_KIND_CHOICES, buildings=presenter.buildings(compound.id))


@h5.get("/c/<code>/backbones/volunteer")
def backbone_volunteer_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(Action.VOLUNTEER_AS_BACKBONE, compound.id, user_id)
    return _volunteer_page(compound, user_id, {"name": presenter.volunteer_form_name(user_id)})


@h5.post("/c/<code>/backbones/volunteer")
def backbone_volunteer(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.VOLUNTEER_AS_BACKBONE, compound.id, user_id)
    entries = {key: request.form.get(key, "").strip() for key in VOLUNTEER_FIELDS}
    show_refusal_with(lambda refused: _volunteer_page(compound, user_id, entries, refused.message))
    service.volunteer(compound.id, user_id, ip=client_ip(), **load_form(BackboneVolunteerForm()))
    flash("申请已提交，请等待小区党组织确认", "success")
    return redirect(url_for("h5.backbone_volunteer_form", code=code))


_DONE = {BackboneAction.CONFIRM: "已确认", BackboneAction.DECLINE: "已婉拒，并告知申请人", BackboneAction.END: "已退出名册"}


@h5.post("/backbones/<int(min=1, max=2147483647):member_id>/<any(confirm, decline, end):step>")
def backbone_decide(member_id: int, step: str):
    user_id = require_user_for_post()
    access = presenter.keeping(member_id, user_id)
    action = BackboneAction(step)
    service.decide(member_id, user_id, action, load_form(BackboneNoteSchema())["note"], client_ip())
    flash(_DONE[action], "success")
    return redirect(url_for("h5.backbone_roster", code=access.compound.code))
