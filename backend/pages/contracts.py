"""The company's life-cycle pages (选聘, 物业服务合同, 承接查验): a compound's contracts and selections with the
committee's 选聘 form, one contract with its terms form, file, activation and one-tap 续聘 / 重新选聘 / 解聘, and one
handover inspection with each item's finding and photos and both sides' signatures. What each shows is the
presenter's (presenters/contracts.py); forms are loaded by the API's schemas (schemas/contracts.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.contracts import SelectionPurpose
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, require_user_for_post
from backend.presenters import contracts as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.contracts import (
    ContractTermsSchema,
    FollowUpInputSchema,
    HandoverItemInputSchema,
    SelectionInputSchema,
    SignInputSchema,
)
from backend.services import contracts as service
from backend.services.documents import prepare_document
from backend.services.photos import photo_response, prepare_photo
from backend.serving import evidence_response

MAX_ID = 2147483647
COMPOUND_ID = f"<int(min=1, max={MAX_ID}):compound_id>"
CONTRACT_ID = f"<int(min=1, max={MAX_ID}):contract_id>"
INSPECTION_ID = f"<int(min=1, max={MAX_ID}):inspection_id>"
ITEM_ID = f"<int(min=1, max={MAX_ID}):item_id>"
PHOTO_ID = f"<int(min=1, max={MAX_ID}):photo_id>"
FOLLOW_UP_MESSAGES = {
    SelectionPurpose.RENEW: "已发起续聘表决，等待确定议题",
    SelectionPurpose.HIRE: "已发起重新选聘表决，等待确定议题",
    SelectionPurpose.DISMISS: "已发起解聘表决，等待确定议题",
}


def _files(name: str) -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist(name) if item.filename]


def _error(refused) -> str | None:
    return refused.message if refused is not None else None


# ---- the compound's contracts ------------------------------------------------------------------------------------


def _compound_page(compound_id: int, user_id: int, refused=None):
    return render_template("contracts/compound.html", view=presenter.compound_contracts(compound_id, user_id),
                           error=_error(refused))


@h5.get(f"/compounds/{COMPOUND_ID}/contracts")
def contracts_compound(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _compound_page(compound_id, user_id)


@h5.post(f"/compounds/{COMPOUND_ID}/company-selections")
def contracts_select(compound_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _compound_page(compound_id, user_id, refused))
    body = load_form(SelectionInputSchema())
    service.start_selection(compound_id, user_id, body["candidate_ids"], ip=client_ip())
    flash("已发起选聘表决，等待确定议题", "success")
    return redirect(url_for("h5.contracts_compound", compound_id=compound_id))


# ---- one contract ------------------------------------------------------------------------------------------------


def _contract_page(contract_id: int, user_id: int, refused=None):
    return render_template("contracts/contract.html", item=presenter.contract_detail(contract_id, user_id),
                           error=_error(refused))


def _to_contract(contract_id: int):
    return redirect(url_for("h5.contract_page", contract_id=contract_id))


@h5.get(f"/contracts/{CONTRACT_ID}")
def contract_page(contract_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _contract_page(contract_id, user_id)


@h5.post(f"/contracts/{CONTRACT_ID}/terms")
def contract_terms(contract_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _contract_page(contract_id, user_id, refused))
    body = load_form(ContractTermsSchema())
    files = _files("file")
    document = prepare_document(files[0].stream) if files else None
    service.update_terms(contract_id, user_id, ip=client_ip(), **body)
    if document is not None:
        service.attach_file(contract_id, user_id, document, ip=client_ip())
    flash("合同信息已保存", "success")
    return _to_contract(contract_id)


@h5.post(f"/contracts/{CONTRACT_ID}/activation")
def contract_activate(contract_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _contract_page(contract_id, user_id, refused))
    service.activate(contract_id, user_id, ip=client_ip())
    flash("合同已生效，小区物业服务企业已更新", "success")
    return _to_contract(contract_id)


@h5.post(f"/contracts/{CONTRACT_ID}/follow-up")
def contract_follow_up(contract_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _contract_page(contract_id, user_id, refused))
    body = load_form(FollowUpInputSchema())
    service.follow_up_contract(contract_id, user_id, body["purpose"], body["candidate_ids"], ip=client_ip())
    flash(FOLLOW_UP_MESSAGES[body["purpose"]], "success")
    return _to_contract(contract_id)


@h5.post(f"/contracts/{CONTRACT_ID}/handovers")
def contract_handover_start(contract_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _contract_page(contract_id, user_id, refused))
    inspection = service.start_handover(contract_id, user_id, ip=client_ip())
    flash("承接查验已开始，请逐项查验", "success")
    return redirect(url_for("h5.handover_page", inspection_id=inspection.id))


@h5.get(f"/contracts/{CONTRACT_ID}/file")
def contract_file(contract_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    found = presenter.contract_file(contract_id, user_id)
    return evidence_response(found.data, found.content_type, found.filename)


# ---- handover inspections ----------------------------------------------------------------------------------------


def _handover_page(inspection_id: int, user_id: int, refused=None):
    return render_template("contracts/handover.html", item=presenter.handover_detail(inspection_id, user_id),
                           error=_error(refused))


def _to_handover(inspection_id: int, anchor: str = ""):
    return redirect(url_for("h5.handover_page", inspection_id=inspection_id) + anchor)


@h5.get(f"/handovers/{INSPECTION_ID}")
def handover_page(inspection_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _handover_page(inspection_id, user_id)


@h5.post(f"/handovers/{INSPECTION_ID}/items/{ITEM_ID}")
def handover_item_record(inspection_id: int, item_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _handover_page(inspection_id, user_id, refused))
    service.inspection_seen(inspection_id, user_id)
    body = load_form(HandoverItemInputSchema(), photos=_files("photos"))
    photos = [prepare_photo(upload.stream) for upload in body["photos"]]
    service.record_item(inspection_id, item_id, user_id, body["state"], body["note"], photos, ip=client_ip())
    flash("已记录", "success")
    return _to_handover(inspection_id, f"#item-{item_id}")


@h5.post(f"/handovers/{INSPECTION_ID}/items/{ITEM_ID}/resolution")
def handover_item_resolve(inspection_id: int, item_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _handover_page(inspection_id, user_id, refused))
    service.resolve_item(inspection_id, item_id, user_id, ip=client_ip())
    flash("已整改销项", "success")
    return _to_handover(inspection_id, f"#item-{item_id}")


@h5.post(f"/handovers/{INSPECTION_ID}/signatures")
def handover_sign(inspection_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _handover_page(inspection_id, user_id, refused))
    body = load_form(SignInputSchema())
    service.sign(inspection_id, user_id, body["side"], ip=client_ip())
    flash("已签字", "success")
    return _to_handover(inspection_id)


@h5.get(f"/handovers/{INSPECTION_ID}/photos/{PHOTO_ID}")
def handover_photo(inspection_id: int, photo_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return photo_response(presenter.photo(inspection_id, photo_id, user_id), max_age=3600)
