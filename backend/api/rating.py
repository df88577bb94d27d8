"""Company scores and stars (评星定级) API: the per-area rating method, credit records, on-site inspections, rating
rounds (compute → 初审 → 复核 and 公示 → 授牌) with objections and the 红黑榜 export, and the public company page.

Refusals keep the error shape: an area, company or round that is none of the caller's → 404, a role or level that
may not → 403, bad input → 422, a step out of order or taken twice, no rating method → 409."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.presenters import rating as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.rating import (
    CompanyPublicSchema,
    CreditRecordListSchema,
    CreditRecordOutSchema,
    CreditRecordSchema,
    FindingPhotoSchema,
    InspectionOutSchema,
    ObjectionAnswerSchema,
    RatingMethodOutSchema,
    RatingMethodSchema,
    RatingObjectionOutSchema,
    RatingObjectionSchema,
    RoundCreateSchema,
    RoundListSchema,
    RoundSchema,
)
from backend.services import photos as photo_service
from backend.services import rating as service

blp = Blueprint("rating", __name__, url_prefix="/api/v1", description="评星定级")
blp.ARGUMENTS_PARSER = MultipartParser()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
COMPANY_ID = "<int(min=1, max=2147483647):company_id>"
ROUND_ID = "<int(min=1, max=2147483647):round_id>"
OBJECTION_ID = "<int(min=1, max=2147483647):objection_id>"
INSPECTION_ID = "<int(min=1, max=2147483647):inspection_id>"
RECORD_ID = "<int(min=1, max=2147483647):record_id>"
POSITION = "<int(min=1, max=30):position>"


@blp.route(f"/areas/{AREA_ID}/rating-method")
class RatingMethod(MethodView):
    @blp.response(200, RatingMethodOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """The method in force for the area: its own, else the nearest area's above (`inherited`); empty when none
        (officials of the area or above)."""
        return presenter.rating_method(area_id, optional_user_id())

    @blp.arguments(RatingMethodSchema)
    @blp.response(200, RatingMethodOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, area_id):
        """Set the area's own method: weights (percent, adding to 100), stars by score bands or rank cut-offs
        (at most five, increasing), the lowest star given, publicity days. Audited."""
        service.put_method(area_id, optional_user_id(), body, client_ip())
        return presenter.rating_method(area_id, optional_user_id())


@blp.route(f"/companies/{COMPANY_ID}")
class Company(MethodView):
    @blp.response(200, CompanyPublicSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, company_id):
        """Public, no sign-in: the company, its stars from the latest published round, the history of published
        rounds, and the 红色物业 label (★5 with a party organisation)."""
        return presenter.company_page(company_id)


@blp.route(f"/companies/{COMPANY_ID}/credit-records")
class CreditRecords(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(CreditRecordSchema, location="files")
    @blp.response(201, CreditRecordOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, company_id):
        """Record a good or bad record (信用记录), a major accident or a 黑榜 listing, multipart with an optional
        evidence photo; by an official whose area has a compound of the company, occurred today at the latest (it
        counts only in the rounds of that official's area, those above it and those below). Expires a year after by
        default. Audited."""
        evidence = photo_service.prepare_photo(form["evidence"].stream) if form["evidence"] is not None else None
        record = service.add_credit_record(
            company_id, optional_user_id(), form["kind"], form["points_centi"], form["reason"], form["occurred_on"],
            form["expires_on"], evidence, client_ip(),
        )
        return presenter.credit_line(record)

    @blp.response(200, CreditRecordListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, company_id):
        """The company's credit records, latest first (officials whose area has a compound of the company)."""
        return presenter.credit_records(company_id, optional_user_id())


@blp.route(f"/inspections/{INSPECTION_ID}/items/{POSITION}/photo")
class FindingPhoto(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(FindingPhotoSchema, location="files")
    @blp.response(200, InspectionOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, inspection_id, position):
        """The photo of an item's finding (multipart), by those who may inspect the compound; it replaces an
        earlier one."""
        inspection = service.attach_finding_photo(inspection_id, position, optional_user_id(),
                                                  photo_service.prepare_photo(form["photo"].stream))
        return presenter.inspection_view(inspection)

    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, inspection_id, position):
        """The finding's photo (JPEG), for those who may inspect the compound."""
        return photo_service.photo_response(service.finding_photo(inspection_id, position, optional_user_id()),
                                            max_age=3600)


@blp.route(f"/credit-records/{RECORD_ID}/evidence")
class Evidence(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, record_id):
        """A credit record's evidence photo (JPEG), for officials whose area has a compound of the company."""
        return photo_service.photo_response(service.evidence_photo(record_id, optional_user_id()), max_age=3600)


@blp.route("/rating-rounds")
class Rounds(MethodView):
    @blp.response(200, RoundListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self):
        """The rounds of the caller's areas (officials), latest period first, and the areas they may start one in."""
        return presenter.round_list(optional_user_id())

    @blp.arguments(RoundCreateSchema)
    @blp.response(201, RoundSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="没有评星办法，或本期已发起")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body):
        """Start the round of an area for a quarter or a year (an official of the area or above): the method in
        force is frozen into it and the scores are computed by a job."""
        rnd = service.create_round(body["area_id"], optional_user_id(), body["period_kind"], body["period_start"],
                                   client_ip())
        return presenter.round_detail(rnd.id, optional_user_id())


@blp.route(f"/rating-rounds/{ROUND_ID}")
class Round(MethodView):
    @blp.response(200, RoundSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, round_id):
        """The round with its steps, ranking (with each company's compounds), objections and public answers, and
        `actions`. Officials of the area or above and of the streets under it (who review it) see it at every step;
        other officials under it and everyone of its compounds from publicity on."""
        return presenter.round_detail(round_id, optional_user_id())


@blp.route(f"/rating-rounds/{ROUND_ID}.xlsx")
class RoundWorkbook(MethodView):
    @blp.response(200, content_type=XLSX, description="红黑榜：排名，前后各若干名标注红榜、黑榜")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, round_id):
        """The 红黑榜 as .xlsx (officials of the area or above, and of the streets under it)."""
        name, content = presenter.round_workbook(round_id, optional_user_id())
        return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


@blp.route(f"/rating-rounds/{ROUND_ID}/review")
class Review(MethodView):
    @blp.response(200, RoundSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在该步骤，或已完成")
    @jwt_required()
    def post(self, round_id):
        """初审 (an official of a street under the round's area, or of the area itself when it is a street), once,
        after the compute."""
        service.review(round_id, optional_user_id(), client_ip())
        return presenter.round_detail(round_id, optional_user_id())


@blp.route(f"/rating-rounds/{ROUND_ID}/confirm")
class Confirm(MethodView):
    @blp.response(200, RoundSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在该步骤，或已完成")
    @jwt_required()
    def post(self, round_id):
        """复核 (an official of the round's area or above, not the one who reviewed), once; the publicity (公示)
        starts at once and lasts the method's publicity days (7 by default)."""
        service.confirm(round_id, optional_user_id(), client_ip())
        return presenter.round_detail(round_id, optional_user_id())


@blp.route(f"/rating-rounds/{ROUND_ID}/publish")
class Publish(MethodView):
    @blp.response(200, RoundSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在该步骤，或已完成")
    @jwt_required()
    def post(self, round_id):
        """授牌 (an official of the round's area or above), once, after the publicity has ended and every objection
        is answered."""
        service.publish(round_id, optional_user_id(), client_ip())
        return presenter.round_detail(round_id, optional_user_id())


@blp.route(f"/rating-rounds/{ROUND_ID}/objections")
class Objections(MethodView):
    @blp.arguments(RatingObjectionSchema)
    @blp.response(201, RatingObjectionOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="不在公示期内")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, round_id):
        """公示异议: anyone of a compound below the round's area, during publicity, with a reason (and optionally the
        company). The objector is never shown to others; the answer is public."""
        objection = service.object_to(round_id, optional_user_id(), body["company_id"], body["reason"])
        return next(line for line in presenter.round_detail(round_id, optional_user_id())["objections"]
                    if line["id"] == objection.id)


@blp.route(f"/rating-objections/{OBJECTION_ID}/answer")
class Answer(MethodView):
    @blp.arguments(ObjectionAnswerSchema)
    @blp.response(200, RoundSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已答复")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, objection_id):
        """Answer an objection publicly, once (an official of the round's area or above)."""
        objection = service.answer_objection(objection_id, optional_user_id(), body["answer"], client_ip())
        return presenter.round_detail(objection.round_id, optional_user_id())
