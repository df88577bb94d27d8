"""Satisfaction surveys (满意度测评) API: campaigns, my household's sheet and receipt, paper sheets by appointed
surveyors, the close, the results.

Refusals keep the error shape: a campaign none of the caller's compounds is in → 404 (its existence stays hidden),
a role that may not (a tenant where only owners answer, a company asking to run it) → 403, bad input → 422,
answering before the opening or after the close, or changing questions under answers → 409."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.roles import Action
from backend.domain.surveys import SurveyRefused
from backend.policy import authorize, authorize_area
from backend.presenters import surveys as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.surveys import (
    EvaluatorLineSchema,
    EvaluatorSchema,
    PaperSheetSchema,
    ReceiptQuery,
    ResultsSchema,
    SheetSchema,
    SurveyCreateSchema,
    SurveyDetailSchema,
    SurveyEditSchema,
    SurveyListSchema,
    SurveyReceiptSchema,
)
from backend.services import photos as photo_service
from backend.services import surveys as service
from backend.services.surveys import CampaignDraft

blp = Blueprint("surveys", __name__, url_prefix="/api/v1", description="满意度测评")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
SURVEY_ID = "<int(min=1, max=2147483647):survey_id>"


@blp.route("/surveys")
class Surveys(MethodView):
    @blp.arguments(SurveyCreateSchema)
    @blp.response(201, SurveyDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body):
        """Start a campaign: an official over an area (every compound below it), or the committee of its own
        compound. The template's six dimensions and the comment come first, then `questions`."""
        user_id = optional_user_id()
        if body["area_id"] is not None:
            authorize_area(Action.RUN_SURVEYS, body["area_id"], user_id)
        else:
            authorize(Action.RUN_SURVEYS, body["compound_id"], user_id)
        survey = service.create_campaign(CampaignDraft(**body), user_id, client_ip())
        return presenter.survey_detail(survey.id, user_id)


@blp.route(f"/surveys/{SURVEY_ID}")
class SurveyDetail(MethodView):
    @blp.response(200, SurveyDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, survey_id):
        """The campaign with its questions, my households (may answer, answered) and what I may do."""
        return presenter.survey_detail(survey_id, optional_user_id())

    @blp.arguments(SurveyEditSchema)
    @blp.response(200, SurveyDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已有住户作答，问卷不能再修改")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def patch(self, body, survey_id):
        """Change the title, times, comment publication or the campaign's own questions, until the first answer."""
        user_id = optional_user_id()
        presenter.require(survey_id, user_id, runs=True)
        service.edit_campaign(survey_id, user_id, ip=client_ip(), **body)
        return presenter.survey_detail(survey_id, user_id)


@blp.route(f"/compounds/{COMPOUND_ID}/surveys")
class CompoundSurveys(MethodView):
    @blp.response(200, SurveyListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """The compound's running campaigns (answer them) and closed ones with results, latest first."""
        return presenter.compound_surveys(compound_id, optional_user_id(), entry_compound_id())


@blp.route(f"/surveys/{SURVEY_ID}/response")
class MySheet(MethodView):
    @blp.arguments(SheetSchema)
    @blp.response(200, SurveyReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="只允许业主作答时的租户")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="测评尚未开始或已结束")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, survey_id):
        """My household's sheet (a verified owner or resident), new or changed until the close; one per
        household, the last counts. Answers with the receipt."""
        user_id = optional_user_id()
        written = service.submit_sheet(survey_id, user_id, body["household_id"], body["answers"])
        return presenter.receipt_of(survey_id, written)

    @blp.arguments(ReceiptQuery, location="query")
    @blp.response(200, SurveyReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, survey_id):
        """My household's receipt: the sheet that counts and its revision; its answers only for those who may
        answer for the household (a tenant where only owners answer sees that it answered and when). Nobody
        else's: 404."""
        return presenter.receipt(survey_id, optional_user_id(), query["household_id"])


@blp.route(f"/surveys/{SURVEY_ID}/paper-responses")
class PaperSheets(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(PaperSheetSchema, location="files")
    @blp.response(201, SurveyDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="测评尚未开始或已结束，或该户已在线作答")
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, survey_id):
        """入户测评: an appointed surveyor's paper sheet for a household of the campaign, with the photo of the paper;
        marked paper, it replaces only an earlier paper sheet (a household that answered online: 409). Answers with
        the campaign (a surveyor has no receipt of the household's answers)."""
        user_id = optional_user_id()
        service.enter_paper_sheet(survey_id, user_id, form["household_id"], form["answers"],
                                  photo_service.prepare_photo(form["photo"].stream), ip=client_ip())
        return presenter.survey_detail(survey_id, user_id)


@blp.route(f"/surveys/{SURVEY_ID}/evaluators")
class Evaluators(MethodView):
    @blp.arguments(EvaluatorSchema)
    @blp.response(201, EvaluatorLineSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="测评已结束")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, survey_id):
        """Appoint a third-party surveyor by phone (an official over the campaign); they sign in by SMS."""
        user_id = optional_user_id()
        presenter.require(survey_id, user_id, appoints=True)
        user = service.appoint_evaluator(survey_id, user_id, body["phone"], body["name"], client_ip())
        return {"user_id": user.id, "name": user.display_name, "phone_masked": user.phone_masked}


@blp.route(f"/surveys/{SURVEY_ID}/close")
class Close(MethodView):
    @blp.response(200, SurveyDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="测评已结束或尚未开始")
    @jwt_required()
    def post(self, survey_id):
        """Close early (the creator's side) and tally; results are published at once."""
        user_id = optional_user_id()
        presenter.require(survey_id, user_id, runs=True)
        if not service.close(survey_id, user_id, ip=client_ip()):
            raise SurveyRefused("测评已结束")
        return presenter.survey_detail(survey_id, user_id)


@blp.route(f"/surveys/{SURVEY_ID}/results")
class Results(MethodView):
    @blp.response(200, ResultsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, survey_id):
        """While running: each compound's response-rate bar against the minimum. Once closed: valid answers,
        response rate, 满意率 and score per dimension and overall, or 样本不足. Residents see their compound, the
        company its own, officials everything under their area; comments (text only) when published."""
        return presenter.results(survey_id, optional_user_id())


@blp.route("/me/surveys")
class MySurveys(MethodView):
    @blp.response(200, SurveyListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self):
        """A surveyor's assigned campaigns; an official's campaigns of their areas; a committee's own."""
        return presenter.my_surveys(optional_user_id())
