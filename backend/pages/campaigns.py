"""Environment campaign (卫生评比, 垃圾分类) pages: my campaigns and starting one, a campaign with its rounds, a round's
ranking (红旗楼栋), scoring a building with findings and photos, a finding turned into a work order or a rectification
item, and a compound's board. What each shows is the presenter's (presenters/campaigns.py); forms are loaded by the
API's schemas."""
from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for

from backend.domain.campaigns import CAMPAIGN_KIND_LABELS, DEFAULT_CHECKLIST
from backend.domain.rectifications import RESPONSIBLE_PARTY_LABELS
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.presenters import campaigns as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.campaigns import (
    CampaignCreateSchema,
    CampaignRoundCreateSchema,
    EvaluatorAppointSchema,
    RectificationFromFindingSchema,
    ScoreInputSchema,
)
from backend.services import campaigns as service
from backend.services.photos import photo_response, prepare_photo

ID = "(min=1, max=2147483647)"
AREA_ID = f"<int{ID}:area_id>"
CAMPAIGN_ID = f"<int{ID}:campaign_id>"
ROUND_ID = f"<int{ID}:round_id>"
BUILDING_ID = f"<int{ID}:building_id>"
FINDING_ID = f"<int{ID}:finding_id>"


def _files(name: str) -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist(name) if item.filename]


def _checklist_lines(text: str) -> list[dict]:
    """"楼道堆物 20" per line; a line without points keeps its name and leaves the points for the schema to refuse."""
    items = []
    for line in text.splitlines():
        name, _, points = line.strip().rpartition(" ")
        if line.strip():
            items.append({"name": name or points, "max_points": points if name else ""})
    return items


@h5.get("/campaigns")
def campaigns_mine():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("campaigns/mine.html", listing=presenter.mine(user_id))


def _new_page(area_id: int, refused=None):
    return render_template("campaigns/new.html", area_id=area_id, area_name=service.area_name(area_id),
                           kinds=CAMPAIGN_KIND_LABELS, checklist=DEFAULT_CHECKLIST, typed=request.form,
                           error=refused.message if refused else None)


@h5.get(f"/areas/{AREA_ID}/campaigns/new")
def campaign_new(area_id: int):
    if optional_user_id() is None:
        return login_redirect()
    return _new_page(area_id)


@h5.post(f"/areas/{AREA_ID}/campaigns/new")
def campaign_create(area_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _new_page(area_id, refused))
    body = load_form(CampaignCreateSchema(), checklist=_checklist_lines(request.form.get("checklist_lines", "")))
    campaign = service.create_campaign(area_id, user_id, title=body["title"], kind=body["kind"],
                                       checklist=body["checklist"], red_flag_count=body["red_flag_count"],
                                       compound_ids=body["compound_ids"], ip=client_ip())
    flash("评比已发起", "success")
    return redirect(url_for("h5.campaign_page", campaign_id=campaign.id))


def _campaign_page(campaign_id: int, user_id: int, refused=None):
    return render_template("campaigns/detail.html", campaign=presenter.campaign(campaign_id, user_id),
                           today=service.today(), error=refused.message if refused else None)


@h5.get(f"/campaigns/{CAMPAIGN_ID}")
def campaign_page(campaign_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _campaign_page(campaign_id, user_id)


@h5.post(f"/campaigns/{CAMPAIGN_ID}/rounds")
def campaign_round_create(campaign_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _campaign_page(campaign_id, user_id, refused))
    body = load_form(CampaignRoundCreateSchema())
    held = service.add_round(campaign_id, user_id, body["inspected_on"], ip=client_ip())
    flash(f"第{held.number}轮检查已开始", "success")
    return redirect(url_for("h5.campaign_round_page", round_id=held.id))


@h5.post(f"/campaigns/{CAMPAIGN_ID}/evaluators")
def campaign_appoint(campaign_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _campaign_page(campaign_id, user_id, refused))
    body = load_form(EvaluatorAppointSchema())
    service.appoint_evaluator(campaign_id, user_id, body["phone"], body["name"], ip=client_ip())
    flash("评比员已指定", "success")
    return redirect(url_for("h5.campaign_page", campaign_id=campaign_id))


@h5.post(f"/campaigns/{CAMPAIGN_ID}/close")
def campaign_close(campaign_id: int):
    user_id = require_user_for_post()
    service.close_campaign(campaign_id, user_id, ip=client_ip())
    flash("评比已结束", "success")
    return redirect(url_for("h5.campaign_page", campaign_id=campaign_id))


@h5.get(f"/campaign-rounds/{ROUND_ID}")
def campaign_round_page(round_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("campaigns/round.html", held=presenter.round_view(round_id, user_id))


def _score_page(round_id: int, building_id: int, user_id: int, refused=None):
    form = presenter.score_form(round_id, building_id, user_id)
    errors = {key: messages[0] for key, messages in refused.errors.items()} if refused is not None else {}
    return render_template("campaigns/score.html", form=form, error=refused.message if refused else None,
                           errors=errors)


@h5.get(f"/campaign-rounds/{ROUND_ID}/buildings/{BUILDING_ID}/score")
def campaign_score_form(round_id: int, building_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _score_page(round_id, building_id, user_id)


@h5.post(f"/campaign-rounds/{ROUND_ID}/buildings/{BUILDING_ID}/score")
def campaign_score_save(round_id: int, building_id: int):
    user_id = require_user_for_post()
    form = presenter.score_form(round_id, building_id, user_id)
    show_refusal_with(lambda refused: _score_page(round_id, building_id, user_id, refused))
    rows = list(enumerate(form["items"]))
    written = [index for index, _ in rows if request.form.get(f"finding_{index}", "").strip()]
    body = load_form(ScoreInputSchema(),
                     points=[{"item": item["name"], "points": request.form.get(f"points_{index}", "")}
                             for index, item in rows],
                     findings=[{"item": form["items"][index]["name"], "note": request.form.get(f"finding_{index}")}
                               for index in written])
    findings = [replace(finding, photos=[prepare_photo(upload.stream) for upload in _files(f"finding_{index}_photos")])
                for finding, index in zip(body["findings"], written, strict=True)]
    service.record_score(round_id, building_id, user_id, body["points"], body["note"], findings, ip=client_ip())
    flash(f"{form['building_name']}评分已保存", "success")
    return redirect(url_for("h5.campaign_round_page", round_id=round_id))


def _finding_page(finding_id: int, user_id: int, refused=None):
    return render_template("campaigns/finding.html", finding=presenter.finding(finding_id, user_id),
                           parties=RESPONSIBLE_PARTY_LABELS, today=service.today(),
                           error=refused.message if refused else None)


@h5.get(f"/campaign-findings/{FINDING_ID}")
def campaign_finding_page(finding_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _finding_page(finding_id, user_id)


@h5.post(f"/campaign-findings/{FINDING_ID}/work-order")
def campaign_finding_work_order(finding_id: int):
    user_id = require_user_for_post()
    service.finding_to_work_order(finding_id, user_id, ip=client_ip())
    flash("已转为报修工单", "success")
    # Back to the finding, which links the order: an evaluator without a role in the compound cannot open it.
    return redirect(url_for("h5.campaign_finding_page", finding_id=finding_id))


@h5.post(f"/campaign-findings/{FINDING_ID}/rectification")
def campaign_finding_rectification(finding_id: int):
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _finding_page(finding_id, user_id, refused))
    body = load_form(RectificationFromFindingSchema())
    item_id = service.finding_to_rectification(finding_id, user_id, body["responsible_party"], body["deadline"],
                                               ip=client_ip())
    flash("已转为整改事项", "success")
    return redirect(url_for("h5.rectification_page", rectification_id=item_id))


@h5.get(f"/campaign-findings/{FINDING_ID}/photos/<int{ID}:photo_id>")
def campaign_finding_photo(finding_id: int, photo_id: int):
    return photo_response(presenter.photo(finding_id, photo_id, optional_user_id()), max_age=3600)


@h5.get("/c/<code>/campaigns")
def compound_campaigns(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    entry = entry_compound_id()
    if user_id is None and entry != compound.id:
        return login_redirect()
    return render_template("campaigns/board.html", compound=compound,
                           board=presenter.compound_board(compound.id, user_id, entry))
