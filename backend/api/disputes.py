"""Dispute mediation (矛盾纠纷调解) API: a compound's cases and opening one, an area's cases for its officials, one's own
cases, a case with its parties and steps, adding a step, recording the outcome, the signed agreement and changing
the mediator.

Who: officials over the compound open cases (the committee and the company are often a side, so never); the
mediator (a community or street official) and officials above them record steps and the outcome; parties who are
residents read their own case. Refusals keep the error shape: a case neither over nor of the caller → 404; a reader
acting → 403; a step or outcome on a closed case → 409; bad input (a link to another compound's row too) → 422; a
file over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.presenters import disputes as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery
from backend.schemas.disputes import (
    AgreementInputSchema,
    DisputeDetailSchema,
    DisputeInputSchema,
    DisputeListQuery,
    DisputeListSchema,
    MediatorInputSchema,
    OutcomeInputSchema,
    StepInputSchema,
)
from backend.services import disputes as service
from backend.serving import evidence_response

blp = Blueprint("disputes", __name__, url_prefix="/api/v1", description="矛盾纠纷调解")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
DISPUTE_ID = "<int(min=1, max=2147483647):dispute_id>"


@blp.route(f"/compounds/{COMPOUND_ID}/disputes")
class CompoundDisputes(MethodView):
    @blp.arguments(DisputeListQuery, location="query")
    @blp.response(200, DisputeListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Officials over the compound: every case, newest first (`status` filters); a resident: only the cases
        they (or their household) are a party to. Staff and the committee as such: 403. `actions`: `open`."""
        return presenter.compound_list(compound_id, optional_user_id(), query["status"], query["page"],
                                       query["page_size"])

    @blp.arguments(DisputeInputSchema)
    @blp.response(201, DisputeDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Open a case (an official over the compound). The mediator is `mediator_id` or the opener, an official
        of the compound's community or street; `link_kind` + `link_id` name where it arose, in this compound."""
        case = service.open_case(compound_id, optional_user_id(), body, ip=client_ip())
        return presenter.detail(case.id, optional_user_id())


@blp.route(f"/areas/{AREA_ID}/disputes")
class AreaDisputes(MethodView):
    @blp.arguments(DisputeListQuery, location="query")
    @blp.response(200, DisputeListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, area_id):
        """Every case of the compounds below the area, newest first: for officials of the area or above."""
        return presenter.area_list(area_id, optional_user_id(), query["status"], query["page"], query["page_size"])


@blp.route("/me/disputes")
class MyDisputes(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, DisputeListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """我的调解: the cases the caller (or a household where they are verified) is a party to."""
        return presenter.my_list(optional_user_id(), query["page"], query["page_size"])


@blp.route(f"/disputes/{DISPUTE_ID}")
class Dispute(MethodView):
    @blp.response(200, DisputeDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, dispute_id):
        """The case with its parties (phones only to those who mediate or oversee), steps, outcome and agreement."""
        return presenter.detail(dispute_id, optional_user_id())


@blp.route(f"/disputes/{DISPUTE_ID}/steps")
class DisputeSteps(MethodView):
    @blp.arguments(StepInputSchema)
    @blp.response(201, DisputeDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="案件已有调解结果")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, dispute_id):
        """A mediation record (调解记录): the mediator or an official above them; the resident parties are told."""
        service.add_step(dispute_id, optional_user_id(), body["happened_on"], body["note"], ip=client_ip())
        return presenter.detail(dispute_id, optional_user_id())


@blp.route(f"/disputes/{DISPUTE_ID}/outcome")
class DisputeOutcome(MethodView):
    decorators = [limit_photo_upload(1)]

    @blp.arguments(OutcomeInputSchema, location="files")
    @blp.response(200, DisputeDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="案件已有调解结果")
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, dispute_id):
        """Close the case (multipart): `settled` (调解成功, optionally with the signed agreement as a photo or PDF)
        or `referred` to `referred_to`. Once: a second outcome is 409. The resident parties are told."""
        service.record_outcome(dispute_id, optional_user_id(), form["outcome"], form["referred_to"], form["note"],
                               form["agreement"].stream if form["agreement"] else None, ip=client_ip())
        return presenter.detail(dispute_id, optional_user_id())


@blp.route(f"/disputes/{DISPUTE_ID}/agreement")
class DisputeAgreement(MethodView):
    decorators = [limit_photo_upload(1)]

    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="application/pdf，或照片时 image/jpeg；总是作为下载")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, dispute_id):
        """The signed agreement, to whoever may read the case."""
        found = service.agreement_file(dispute_id, optional_user_id())
        return evidence_response(found.data, found.content_type, found.filename, inline_photo=False)

    @blp.arguments(AgreementInputSchema, location="files")
    @blp.response(200, DisputeDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="案件未成功，无需协议")
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, dispute_id):
        """Attach (or replace) the signed agreement (multipart `agreement`: a JPG/PNG/WebP/HEIC photo, re-encoded
        without metadata, or a PDF without scripts or attachments) while open or once settled."""
        service.attach_agreement(dispute_id, optional_user_id(), form["agreement"].stream, ip=client_ip())
        return presenter.detail(dispute_id, optional_user_id())


@blp.route(f"/disputes/{DISPUTE_ID}/mediator")
class DisputeMediator(MethodView):
    @blp.arguments(MediatorInputSchema)
    @blp.response(200, DisputeDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, dispute_id):
        """Hand the open case to another mediator of the compound's community or street: officials above the
        mediator's area only."""
        service.change_mediator(dispute_id, optional_user_id(), body["mediator_id"], ip=client_ip())
        return presenter.detail(dispute_id, optional_user_id())
