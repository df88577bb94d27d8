"""Inspections and rectification (整改台账, 限期销号) API: recording an inspection of a compound (scored, or a
supervision inspection whose findings become rectification items), the compound's inspections and items, the
area's ledger (overdue first), an item with its history, the party's answer (multipart, with photos), the
inspector's 销号 or return, finding photos, and the area's checklist.

Refusals keep the error shape: a compound, area or item that is none of the caller's → 404; a role that may not
do it (a resident, a community official recording, another official accepting) → 403; an item whose status does
not allow it → 409; bad input → 422; a photo over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.rectifications import MAX_PHOTOS
from backend.presenters import rating as rating_presenter
from backend.presenters import rectifications as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery
from backend.schemas.rectifications import (
    InspectionChecklistOutSchema,
    InspectionChecklistSchema,
    InspectionInputSchema,
    InspectionPageSchema,
    InspectionViewSchema,
    RectificationAcceptSchema,
    RectificationAnswerSchema,
    RectificationDetailSchema,
    RectificationLedgerSchema,
    RectificationListQuery,
    RectificationPhotosSchema,
    RectificationReturnSchema,
)
from backend.services import photos as photo_service
from backend.services import rating as rating_service
from backend.services import rectifications as service
from backend.services.rating import ItemInput

blp = Blueprint("rectifications", __name__, url_prefix="/api/v1", description="监督检查与整改台账")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
INSPECTION_ID = "<int(min=1, max=2147483647):inspection_id>"
RECTIFICATION_ID = "<int(min=1, max=2147483647):rectification_id>"
PHOTO_ID = "<int(min=1, max=2147483647):rectification_photo_id>"


def _prepared(rectification_id: int, uploads) -> list:
    # Only those who may see the item get their files read: a stranger learns nothing from a refused upload.
    service.seen_by(rectification_id, optional_user_id())
    return [photo_service.prepare_photo(upload.stream) for upload in uploads]


@blp.route(f"/compounds/{COMPOUND_ID}/inspections")
class CompoundInspections(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, InspectionPageSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The compound's supervision inspections, latest first, with their rectification items (the company,
        the committee and the officials over the compound)."""
        return presenter.inspections(compound_id, optional_user_id(), query["page"], query["page_size"])

    @blp.arguments(InspectionInputSchema)
    @blp.response(201, InspectionViewSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="评分检查：该小区没有物业服务企业")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Record an inspection, dated today at the latest (Beijing). Scored (every item with points): by the
        district's (or the city's) housing official, an admin or an appointed evaluator; counts in the rating.
        Supervision (items from the compound's checklist without points, `findings`): by a street's, district's or
        city's official over the compound (a community's gets 403); each finding becomes a rectification item and
        its party is told."""
        user_id = optional_user_id()
        if all(isinstance(item, ItemInput) for item in body["items"]):
            inspection = rating_service.inspect(compound_id, user_id, body["inspected_on"], body["note"],
                                                body["items"], client_ip())
            return rating_presenter.inspection_view(inspection) | {"kind": "scored"}
        inspection = service.record_inspection(compound_id, user_id, body["inspected_on"], body["note"],
                                               [item.name for item in body["items"]], body["findings"],
                                               ip=client_ip())
        return presenter.inspection(inspection.id, user_id)


@blp.route(f"/inspections/{INSPECTION_ID}")
class InspectionDetail(MethodView):
    @blp.response(200, InspectionViewSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, inspection_id):
        """A supervision inspection with its items and rectification items."""
        return presenter.inspection(inspection_id, optional_user_id())


@blp.route(f"/compounds/{COMPOUND_ID}/rectifications")
class CompoundRectifications(MethodView):
    @blp.arguments(RectificationListQuery, location="query")
    @blp.response(200, RectificationLedgerSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The compound's rectification items: overdue first, then by deadline, 已销号 last."""
        return presenter.compound_list(compound_id, optional_user_id(), query["status"], query["overdue"],
                                       query["page"], query["page_size"])


@blp.route(f"/areas/{AREA_ID}/rectifications")
class AreaRectifications(MethodView):
    @blp.arguments(RectificationListQuery, location="query")
    @blp.response(200, RectificationLedgerSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, area_id):
        """The area's 整改台账: every item of every compound below it, overdue first (officials of the area or above)."""
        return presenter.area_list(area_id, optional_user_id(), query["status"], query["overdue"], query["page"],
                                   query["page_size"])


@blp.route(f"/areas/{AREA_ID}/inspection-checklist")
class AreaChecklist(MethodView):
    @blp.response(200, InspectionChecklistOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """The checklist in force: the area's own, else the nearest area's above it, else the default."""
        return presenter.checklist(area_id, optional_user_id())

    @blp.arguments(InspectionChecklistSchema)
    @blp.response(200, InspectionChecklistOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, area_id):
        """Set the area's checklist (officials of the area or above); compounds below without a nearer one follow it."""
        service.set_area_checklist(area_id, optional_user_id(), body["items"], ip=client_ip())
        return presenter.checklist(area_id, optional_user_id())


@blp.route(f"/rectifications/{RECTIFICATION_ID}")
class RectificationDetail(MethodView):
    @blp.response(200, RectificationDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, rectification_id):
        """The item with its history and photos; `actions` are this person's."""
        return presenter.detail(rectification_id, optional_user_id())


def _decision_responses(view):
    for status in (401, 403, 404, 409, 422):
        view = blp.alt_response(status, schema=ApiErrorSchema)(view)
    return view


@blp.route(f"/rectifications/{RECTIFICATION_ID}/answer")
class Answer(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(RectificationAnswerSchema, location="files")
    @blp.response(200, RectificationDetailSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @_decision_responses
    @jwt_required()
    def post(self, form, rectification_id):
        """The responsible party answers an open item (multipart: `note`, up to six `photos`): the company's
        manager or staff, the committee or party secretary, or the community's officials. The inspector is told."""
        service.answer(rectification_id, optional_user_id(), form["note"],
                       _prepared(rectification_id, form["photos"]), ip=client_ip())
        return presenter.detail(rectification_id, optional_user_id())


@blp.route(f"/rectifications/{RECTIFICATION_ID}/accept")
class Accept(MethodView):
    @blp.arguments(RectificationAcceptSchema)
    @blp.response(200, RectificationDetailSchema)
    @_decision_responses
    @jwt_required()
    def post(self, body, rectification_id):
        """销号: the official who recorded the inspection accepts the answer (nobody else, not even the same
        street's other officials). Final; the party is told."""
        service.accept(rectification_id, optional_user_id(), body["note"], ip=client_ip())
        return presenter.detail(rectification_id, optional_user_id())


@blp.route(f"/rectifications/{RECTIFICATION_ID}/return")
class Return(MethodView):
    @blp.arguments(RectificationReturnSchema)
    @blp.response(200, RectificationDetailSchema)
    @_decision_responses
    @jwt_required()
    def post(self, body, rectification_id):
        """The inspector returns the answer with a reason: the item is open again (same deadline); the party is told."""
        service.send_back(rectification_id, optional_user_id(), body["reason"], ip=client_ip())
        return presenter.detail(rectification_id, optional_user_id())


@blp.route(f"/rectifications/{RECTIFICATION_ID}/photos")
class FindingPhotos(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(RectificationPhotosSchema, location="files")
    @blp.response(200, RectificationDetailSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @_decision_responses
    @jwt_required()
    def post(self, form, rectification_id):
        """The inspector adds photos of the finding (multipart `photos`, six in all) while the item waits for its answer."""
        service.add_photos(rectification_id, optional_user_id(), _prepared(rectification_id, form["photos"]))
        return presenter.detail(rectification_id, optional_user_id())


@blp.route(f"/rectifications/{RECTIFICATION_ID}/photos/{PHOTO_ID}")
class RectificationPhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, rectification_id, rectification_photo_id):
        """A photo of the finding or of an answer (JPEG), to those who may see the item."""
        photo = presenter.photo(rectification_id, rectification_photo_id, optional_user_id())
        return photo_service.photo_response(photo, max_age=3600)
