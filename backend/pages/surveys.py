"""Satisfaction survey (满意度测评) pages: the compound's campaigns, the one-screen answer form with large buttons,
my household's receipt, the results with their charts, a surveyor's paper entry, and the officials' and the
committee's campaigns (start, close, appoint a surveyor). What each shows is the presenter's
(presenters/surveys.py); forms are loaded by the API's schemas (schemas/surveys.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.rating import QuestionKind
from backend.domain.roles import Action
from backend.domain.surveys import MIN_HOUSEHOLDS_FLOOR, MIN_RESPONSE_BP_FLOOR
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.policy import authorize, authorize_area
from backend.presenters import surveys as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.surveys import (
    EvaluatorSchema,
    PaperSheetFormSchema,
    QuestionInputSchema,
    ReceiptQuery,
    SheetSchema,
    SurveyFormSchema,
)
from backend.services import photos as photo_service
from backend.services import surveys as service
from backend.services.surveys import CampaignDraft

SURVEY_ID = "<int(min=1, max=2147483647):survey_id>"
# The new-campaign form starts at the city's sample rule, which is also the least it accepts.
FLOOR = {"min_percent": str(MIN_RESPONSE_BP_FLOOR // 100), "min_households": str(MIN_HOUSEHOLDS_FLOOR)}


def _detail_redirect(survey_id: int):
    return redirect(url_for("h5.survey_detail", survey_id=survey_id))


def _chosen() -> dict[str, str]:
    """The answers as the form left them, to show it again after a refusal."""
    return {key: value for key, value in request.form.items() if key.startswith("q")}


def _answers(survey, form) -> list[dict]:
    """The form's radio buttons and text boxes (q<question id>) as the API body's answers."""
    answers = []
    for question in survey.questions:
        value = form.get(f"q{question.id}", "").strip()
        if not value:
            continue
        if question.kind is QuestionKind.TEXT:
            answers.append({"question_id": question.id, "text": value})
        else:
            answers.append({"question_id": question.id, "value": value})
    return answers


# ---- the compound's campaigns ----------------------------------------------------------------------------


@h5.get("/c/<code>/surveys")
def survey_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and entry_compound_id() != compound.id:
        return login_redirect()
    listing = presenter.compound_surveys(compound.id, user_id, entry_compound_id())
    return render_template("surveys/list.html", compound=compound, listing=listing)


@h5.get("/me/surveys")
def my_surveys():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("surveys/mine.html", listing=presenter.my_surveys(user_id),
                           choices=presenter.campaign_choices(user_id))


# ---- a campaign and its answer form ------------------------------------------------------------------------


def _detail_page(survey_id: int, chosen: dict | None = None, error: str | None = None) -> str:
    user_id = optional_user_id()
    survey = presenter.survey_detail(survey_id, user_id)
    if chosen is None:
        chosen = presenter.previous_answers(survey, user_id)
    return render_template("surveys/detail.html", survey=survey, chosen=chosen, error=error)


@h5.get(f"/surveys/{SURVEY_ID}")
def survey_detail(survey_id: int):
    if optional_user_id() is None:
        return login_redirect()
    return _detail_page(survey_id)


@h5.post(f"/surveys/{SURVEY_ID}/answer")
def survey_answer(survey_id: int):
    user_id = require_user_for_post()
    survey = presenter.survey_detail(survey_id, user_id)
    show_refusal_with(lambda refused: _detail_page(survey_id, _chosen(), refused.message))
    body = load_form(SheetSchema(), answers=_answers(survey, request.form))
    written = service.submit_sheet(survey_id, user_id, body["household_id"], body["answers"])
    flash("提交成功，感谢您的评价", "success")
    return redirect(url_for("h5.survey_receipt", survey_id=survey_id, household_id=written.response.household_id))


@h5.get(f"/surveys/{SURVEY_ID}/receipt")
def survey_receipt(survey_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    household_id = load_form(ReceiptQuery(), request.args)["household_id"]
    return render_template("surveys/receipt.html", receipt=presenter.receipt(survey_id, user_id, household_id))


@h5.get(f"/surveys/{SURVEY_ID}/results")
def survey_results(survey_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("surveys/results.html", results=presenter.results(survey_id, user_id),
                           survey=presenter.survey_detail(survey_id, user_id))


# ---- the creator's side --------------------------------------------------------------------------------------


def _new_page(form: dict, error: str | None = None) -> str:
    return render_template("surveys/new.html", form=form, error=error, floor=FLOOR,
                           choices=presenter.campaign_choices(optional_user_id()))


@h5.get("/surveys/new")
def survey_form():
    if optional_user_id() is None:
        return login_redirect()
    return _new_page(dict(FLOOR))


@h5.post("/surveys/new")
def survey_create():
    user_id = require_user_for_post()
    show_refusal_with(lambda refused: _new_page(request.form.to_dict(), refused.message))
    body = load_form(SurveyFormSchema(), place=request.form.get("place", ""))
    if body["area_id"] is not None:
        authorize_area(Action.RUN_SURVEYS, body["area_id"], user_id)
    else:
        authorize(Action.RUN_SURVEYS, body["compound_id"], user_id)
    survey = service.create_campaign(CampaignDraft(**body), user_id, client_ip())
    flash("测评已发布", "success")
    return _detail_redirect(survey.id)


@h5.post(f"/surveys/{SURVEY_ID}/close")
def survey_close(survey_id: int):
    user_id = require_user_for_post()
    presenter.require(survey_id, user_id, runs=True)
    if service.close(survey_id, user_id, ip=client_ip()):
        flash("测评已结束，结果已公布", "success")
    return redirect(url_for("h5.survey_results", survey_id=survey_id))


@h5.post(f"/surveys/{SURVEY_ID}/evaluators")
def survey_appoint(survey_id: int):
    user_id = require_user_for_post()
    presenter.require(survey_id, user_id, appoints=True)
    show_refusal_with(lambda refused: _detail_page(survey_id, error=refused.message))
    body = load_form(EvaluatorSchema())
    service.appoint_evaluator(survey_id, user_id, body["phone"], body["name"], client_ip())
    flash("已委托测评员，对方用手机号短信登录即可", "success")
    return _detail_redirect(survey_id)


@h5.post(f"/surveys/{SURVEY_ID}/questions")
def survey_questions(survey_id: int):
    """Add a question of the campaign's own, or remove one, until the first answer."""
    user_id = require_user_for_post()
    survey = presenter.require(survey_id, user_id, runs=True)
    show_refusal_with(lambda refused: _detail_page(survey_id, error=refused.message))
    questions = service.extra_questions(survey)
    remove = request.form.get("remove", "")
    if remove.isascii() and remove.isdigit():
        questions = [question for index, question in enumerate(questions) if index != int(remove)]
    else:
        lines = [line.strip() for line in request.form.get("option_lines", "").splitlines() if line.strip()]
        questions.append(load_form(QuestionInputSchema(), options=lines))
    service.edit_campaign(survey_id, user_id, questions=questions, ip=client_ip())
    flash("问卷已修改", "success")
    return _detail_redirect(survey_id)


# ---- the surveyor's paper entry ------------------------------------------------------------------------------


def _paper_page(survey_id: int, form: dict | None = None, error: str | None = None) -> str:
    return render_template("surveys/paper.html", paper=presenter.paper_form(survey_id, optional_user_id()),
                           form=form or {}, chosen=(form or {}), error=error)


@h5.get(f"/surveys/{SURVEY_ID}/paper")
def survey_paper_form(survey_id: int):
    if optional_user_id() is None:
        return login_redirect()
    return _paper_page(survey_id)


@h5.post(f"/surveys/{SURVEY_ID}/paper")
def survey_paper(survey_id: int):
    user_id = require_user_for_post()
    paper = presenter.paper_form(survey_id, user_id)
    show_refusal_with(lambda refused: _paper_page(survey_id, request.form.to_dict(), refused.message))
    body = load_form(PaperSheetFormSchema(), answers=_answers(paper.survey, request.form),
                     photo=request.files.get("photo"))
    household_id = service.find_household(survey_id, body["building_id"], body["unit"], body["room"])
    service.enter_paper_sheet(survey_id, user_id, household_id, body["answers"],
                              photo_service.prepare_photo(body["photo"].stream), ip=client_ip())
    [household] = service.households_of([household_id])
    flash(f"已录入 {service.household_label(household)} 的纸质问卷", "success")
    return redirect(url_for("h5.survey_paper_form", survey_id=survey_id))
