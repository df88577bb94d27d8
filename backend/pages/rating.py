"""Company scores and stars (评星定级) pages: officials' rounds of their areas, a round with its steps, ranking and
objections (and residents' objection form during publicity), credit records, the on-site inspection checklist, and
the public company page. What each shows is the presenter's (presenters/rating.py); forms are loaded by the API's
schemas (schemas/rating.py)."""
from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for

from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.presenters import rating as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.rating import (
    CreditRecordSchema,
    InspectionSchema,
    ObjectionAnswerSchema,
    RatingMethodSchema,
    RatingObjectionSchema,
    RoundCreateSchema,
)
from backend.services import photos as photo_service
from backend.services import rating as service
from backend.shared.clock import beijing_date, utcnow

ROUND_ID = "<int(min=1, max=2147483647):round_id>"
COMPANY_ID = "<int(min=1, max=2147483647):company_id>"
OBJECTION_ID = "<int(min=1, max=2147483647):objection_id>"
STEP_DONE = {"review": "初审已完成", "confirm": "复核已完成，公示开始", "publish": "已授牌公布"}


def _round_redirect(round_id: int):
    return redirect(url_for("h5.rating_round", round_id=round_id))


# ---- rounds -------------------------------------------------------------------------------------------------------


@h5.get("/rating")
def rating_rounds():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rating/rounds.html", listing=presenter.round_list(user_id),
                           default_start=presenter.default_period_start(beijing_date(utcnow())))


@h5.post("/rating/rounds")
def rating_round_create():
    user_id = require_user_for_post()
    body = load_form(RoundCreateSchema())
    rnd = service.create_round(body["area_id"], user_id, body["period_kind"], body["period_start"], client_ip())
    flash("评星已发起，正在计算得分", "success")
    return _round_redirect(rnd.id)


@h5.get(f"/rating/rounds/{ROUND_ID}")
def rating_round(round_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rating/round.html", round=presenter.round_detail(round_id, user_id))


def _step(round_id: int, name: str, action):
    user_id = require_user_for_post()
    action(round_id, user_id, client_ip())
    flash(STEP_DONE[name], "success")
    return _round_redirect(round_id)


@h5.post(f"/rating/rounds/{ROUND_ID}/review")
def rating_round_review(round_id: int):
    return _step(round_id, "review", service.review)


@h5.post(f"/rating/rounds/{ROUND_ID}/confirm")
def rating_round_confirm(round_id: int):
    return _step(round_id, "confirm", service.confirm)


@h5.post(f"/rating/rounds/{ROUND_ID}/publish")
def rating_round_publish(round_id: int):
    return _step(round_id, "publish", service.publish)


@h5.post(f"/rating/rounds/{ROUND_ID}/objections")
def rating_objection(round_id: int):
    user_id = require_user_for_post()
    body = load_form(RatingObjectionSchema())
    service.object_to(round_id, user_id, body["company_id"], body["reason"])
    flash("异议已提交，答复将在本页公开", "success")
    return _round_redirect(round_id)


@h5.post(f"/rating/objections/{OBJECTION_ID}/answer")
def rating_objection_answer(objection_id: int):
    user_id = require_user_for_post()
    objection = service.answer_objection(objection_id, user_id, load_form(ObjectionAnswerSchema())["answer"],
                                         client_ip())
    flash("答复已公开", "success")
    return _round_redirect(objection.round_id)


# ---- the rating method -----------------------------------------------------------------------------------------

AREA_ID = "<int(min=1, max=2147483647):area_id>"


def _hundredfold(value: str) -> str:
    """Officials type whole points and percents; the schema takes centi-points and basis points. Anything but
    digits goes to the schema as typed, which refuses it with its message."""
    value = value.strip()
    return str(int(value) * 100) if value.isascii() and value.isdigit() and len(value) <= 5 else value


@h5.get(f"/rating/areas/{AREA_ID}/method")
def rating_method(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rating/method.html", method=presenter.rating_method(area_id, user_id),
                           area_name=service.area_name(area_id))


@h5.post(f"/rating/areas/{AREA_ID}/method")
def rating_method_save(area_id: int):
    user_id = require_user_for_post()
    bands = [{"min_score_centi": _hundredfold(request.form.get(f"band_{stars}", "")), "stars": str(stars)}
             for stars in range(5, 0, -1) if request.form.get(f"band_{stars}", "").strip()]
    cutoffs = [_hundredfold(value) for value in request.form.getlist("cutoff") if value.strip()]
    body = load_form(RatingMethodSchema(), bands=bands, cutoffs_bp=cutoffs)
    service.put_method(area_id, user_id, body, client_ip())
    flash("评星办法已保存", "success")
    return redirect(url_for("h5.rating_method", area_id=area_id))


# ---- credit records and inspections -------------------------------------------------------------------------------


@h5.get(f"/rating/companies/{COMPANY_ID}/credit")
def rating_credit(company_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rating/credit.html", records=presenter.credit_records(company_id, user_id))


@h5.post(f"/rating/companies/{COMPANY_ID}/credit")
def rating_credit_create(company_id: int):
    user_id = require_user_for_post()
    upload = request.files.get("evidence")
    body = load_form(CreditRecordSchema(), evidence=upload if upload and upload.filename else None)
    evidence = photo_service.prepare_photo(body["evidence"].stream) if body["evidence"] is not None else None
    service.add_credit_record(company_id, user_id, body["kind"], body["points_centi"], body["reason"],
                              body["occurred_on"], body["expires_on"], evidence, client_ip())
    flash("信用记录已保存", "success")
    return redirect(url_for("h5.rating_credit", company_id=company_id))


@h5.get("/c/<code>/inspection")
def rating_inspection(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("rating/inspection.html", form=presenter.inspection_form(compound.id, user_id),
                           today=beijing_date(utcnow()))


@h5.post("/c/<code>/inspection")
def rating_inspection_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    columns = [request.form.getlist(name) for name in ("item_name", "item_max_points", "item_points", "item_finding")]
    # A file box left empty still posts its part (without a filename): the photos line up with the items.
    photos = request.files.getlist("item_photo")
    rows = [(row, photos[index] if index < len(photos) and photos[index].filename else None)
            for index, row in enumerate(zip(*columns, strict=False)) if row[0].strip()]
    items = [{"name": name, "max_points": max_points, "points": points, "finding": finding}
             for (name, max_points, points, finding), _ in rows]
    body = load_form(InspectionSchema(), items=items)
    body["items"] = [
        replace(item, photo=photo_service.prepare_photo(upload.stream)) if upload is not None else item
        for item, (_, upload) in zip(body["items"], rows, strict=True)
    ]
    service.inspect(compound.id, user_id, body["inspected_on"], body["note"], body["items"], client_ip())
    flash("检查结果已保存", "success")
    return redirect(url_for("h5.rating_inspection", code=code))


# ---- the public company page ---------------------------------------------------------------------------------------


@h5.get(f"/companies/{COMPANY_ID}")
def company_page(company_id: int):
    return render_template("rating/company.html", company=presenter.company_page(company_id))
