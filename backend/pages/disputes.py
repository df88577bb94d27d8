"""Dispute mediation (矛盾纠纷调解) pages: a compound's cases and an area's (officials), 我的调解 (a resident party's
own), opening a case, a case with its steps timeline, outcome, agreement and link, and the mediator's forms (a step,
the outcome with the agreement, the agreement alone, another mediator). What each shows is the presenter's
(presenters/disputes.py); forms are loaded by the API's schemas (schemas/disputes.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.disputes import DisputeStatus
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.presenters import disputes as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.disputes import (
    AgreementInputSchema,
    DisputeInputSchema,
    MediatorInputSchema,
    OutcomeInputSchema,
    StepInputSchema,
)
from backend.services import disputes as service
from backend.serving import evidence_response

PAGE_SIZE = 20
# The open form offers this many party rows; empty ones are left out.
PARTY_ROWS = 4
DISPUTE_ID = "<int(min=1, max=2147483647):dispute_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
TYPED = ("title", "summary", "kind", "mediator_id", "link_kind", "link_id")


def _status() -> DisputeStatus | None:
    """?status= as the API reads it; anything else lists every case."""
    status = request.args.get("status", "")
    return DisputeStatus(status) if status in set(DisputeStatus) else None


def _to_detail(case_id: int):
    return redirect(url_for("h5.dispute_detail", dispute_id=case_id))


def _chosen(name: str):
    upload = request.files.get(name)
    # A file input left empty still sends one part with no file name.
    return upload if upload is not None and upload.filename else None


# ---- lists --------------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/disputes")
def dispute_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    listing = presenter.compound_list(compound.id, user_id, _status(), page_number(), PAGE_SIZE)
    return render_template("disputes/list.html", listing=listing, heading=compound.name, compound=compound,
                           endpoint="h5.dispute_list", endpoint_args={"code": code})


@h5.get(f"/areas/{AREA_ID}/disputes")
def dispute_area_list(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    listing = presenter.area_list(area_id, user_id, _status(), page_number(), PAGE_SIZE)
    return render_template("disputes/list.html", listing=listing, heading=service.area_name(area_id),
                           compound=None, endpoint="h5.dispute_area_list", endpoint_args={"area_id": area_id})


@h5.get("/disputes/mine")
def dispute_mine():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    listing = presenter.my_list(user_id, page_number(), PAGE_SIZE)
    return render_template("disputes/list.html", listing=listing, heading="我的调解", compound=None,
                           endpoint="h5.dispute_mine", endpoint_args={})


# ---- opening a case -----------------------------------------------------------------------------------------------


def _typed() -> dict:
    typed = {field: request.form.get(field, "").strip() for field in TYPED}
    typed["parties"] = [{key: request.form.get(f"party_{key}_{index}", "").strip()
                         for key in ("kind", "name", "household")} for index in range(PARTY_ROWS)]
    return typed


def _parties(typed: dict) -> list[dict]:
    """The rows filled in, as the API's parties: a household chosen names a resident, else the name typed."""
    parties = []
    for row in typed["parties"]:
        if not (row["kind"] or row["name"] or row["household"]):
            continue
        party = {"kind": row["kind"], "name": row["name"]}
        if row["household"]:
            party["household_id"] = row["household"]
        parties.append(party)
    return parties


def _form_page(compound, choices, form: dict, refused=None):
    errors: dict[str, str] = {}
    if refused is not None:
        for key, messages in refused.errors.items():
            errors.setdefault(key if key.startswith("parties") else key.split(".")[0], messages[0])
    error = refused.message if refused is not None else None
    return render_template("disputes/form.html", compound=compound, choices=choices, form=form, errors=errors,
                           error=error, party_rows=range(PARTY_ROWS))


@h5.get("/c/<code>/disputes/new")
def dispute_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    choices = presenter.opening_form(compound.id, user_id)
    blank = {field: "" for field in TYPED} | {
        "parties": [{"kind": "", "name": "", "household": ""} for _ in range(PARTY_ROWS)]}
    return _form_page(compound, choices, blank)


@h5.post("/c/<code>/disputes/new")
def dispute_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    choices = presenter.opening_form(compound.id, user_id)
    typed = _typed()
    show_refusal_with(lambda refused: _form_page(compound, choices, typed, refused))
    draft = load_form(DisputeInputSchema(), parties=_parties(typed))
    case = service.open_case(compound.id, user_id, draft, ip=client_ip())
    flash("调解案件已登记", "success")
    return _to_detail(case.id)


# ---- one case -----------------------------------------------------------------------------------------------------


def _detail_page(case_id: int, user_id: int, refused=None, form: str = ""):
    case = presenter.detail(case_id, user_id)
    return render_template("disputes/detail.html", case=case, today=service.today(),
                           error=refused.message if refused is not None else None, failed_form=form)


@h5.get(f"/disputes/{DISPUTE_ID}")
def dispute_detail(dispute_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _detail_page(dispute_id, user_id)


@h5.post(f"/disputes/{DISPUTE_ID}/steps")
def dispute_step(dispute_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _detail_page(dispute_id, user_id, refused, "step"))
    body = load_form(StepInputSchema())
    service.add_step(dispute_id, user_id, body["happened_on"], body["note"], ip=client_ip())
    flash("调解记录已添加，已通知当事住户", "success")
    return _to_detail(dispute_id)


@h5.post(f"/disputes/{DISPUTE_ID}/outcome")
def dispute_outcome(dispute_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _detail_page(dispute_id, user_id, refused, "outcome"))
    body = load_form(OutcomeInputSchema(), agreement=_chosen("agreement"))
    upload = body["agreement"].stream if body["agreement"] is not None else None
    service.record_outcome(dispute_id, user_id, body["outcome"], body["referred_to"], body["note"], upload,
                           ip=client_ip())
    flash("调解结果已记录，案件已结案", "success")
    return _to_detail(dispute_id)


@h5.post(f"/disputes/{DISPUTE_ID}/agreement")
def dispute_agreement_upload(dispute_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _detail_page(dispute_id, user_id, refused, "agreement"))
    body = load_form(AgreementInputSchema(), **({"agreement": _chosen("agreement")} if _chosen("agreement") else {}))
    service.attach_agreement(dispute_id, user_id, body["agreement"].stream, ip=client_ip())
    flash("调解协议已上传", "success")
    return _to_detail(dispute_id)


@h5.post(f"/disputes/{DISPUTE_ID}/mediator")
def dispute_mediator(dispute_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _detail_page(dispute_id, user_id, refused, "mediator"))
    body = load_form(MediatorInputSchema())
    service.change_mediator(dispute_id, user_id, body["mediator_id"], ip=client_ip())
    flash("调解员已更换", "success")
    return _to_detail(dispute_id)


@h5.get(f"/disputes/{DISPUTE_ID}/agreement")
def dispute_agreement(dispute_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    found = service.agreement_file(dispute_id, user_id)
    return evidence_response(found.data, found.content_type, found.filename)

