"""Household binding: request (resident or QR visitor), list and decide (committee, party secretary, staff)."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from backend.domain.bindings import BindingRefused, BindingStatus, Relation
from backend.domain.roles import Action
from backend.policy import authorize
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.common import ID, NOT_BLANK, ApiErrorSchema, PageQuery, envelope
from backend.schemas.places import BindingSchema
from backend.services import bindings as binding_service

blp = Blueprint("bindings", __name__, url_prefix="/api/v1", description="住户绑定房屋")


class BindingRequestSchema(Schema):
    # strict: a JSON 1.5 must not be truncated into building 1.
    building_id = fields.Integer(required=True, strict=True, validate=ID)
    unit = fields.String(required=True, validate=validate.Length(min=1, max=16))
    room = fields.String(required=True, validate=validate.Length(min=1, max=16))
    name = fields.String(required=True, validate=[validate.Length(min=1, max=64), NOT_BLANK])
    relation = fields.Enum(Relation, by_value=True, required=True)


class BindingListQuery(PageQuery):
    status = fields.Enum(BindingStatus, by_value=True)


class RejectSchema(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=1, max=200), NOT_BLANK])


def _refused(exc: BindingRefused):
    abort(409, message=str(exc))


@blp.route("/compounds/<int(min=1, max=2147483647):compound_id>/bindings")
class CompoundBindings(MethodView):
    @blp.arguments(BindingRequestSchema)
    @blp.response(201, BindingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Ask to be bound to a household. Send the scanned QR token as X-Entry-Token if not yet a member."""
        authorize(Action.REQUEST_BINDING, compound_id, optional_user_id(), entry_compound_id())
        try:
            return binding_service.request_binding(
                user_id=optional_user_id(), compound_id=compound_id, ip=client_ip(), **body
            )
        except BindingRefused as exc:
            _refused(exc)

    @blp.arguments(BindingListQuery, location="query")
    @blp.response(200, envelope(BindingSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Binding requests of the compound, newest first (reviewers only)."""
        authorize(Action.REVIEW_BINDINGS, compound_id, optional_user_id())
        return binding_service.bindings_page(compound_id, query.get("status"), query["page"], query["page_size"]).__dict__


def _authorize_decision(binding_id: int) -> None:
    compound_id = binding_service.binding_compound_id(binding_id)
    if compound_id is None:
        abort(404)
    authorize(Action.REVIEW_BINDINGS, compound_id, optional_user_id())


@blp.route("/bindings/<int(min=1, max=2147483647):binding_id>/approve")
class ApproveBinding(MethodView):
    @blp.response(200, BindingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, binding_id):
        """Approve: the applicant becomes a verified owner or resident of the household (audited)."""
        _authorize_decision(binding_id)
        try:
            return binding_service.approve_binding(binding_id, optional_user_id(), client_ip())
        except BindingRefused as exc:
            _refused(exc)


@blp.route("/bindings/<int(min=1, max=2147483647):binding_id>/reject")
class RejectBinding(MethodView):
    @blp.arguments(RejectSchema)
    @blp.response(200, BindingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, binding_id):
        """Reject with a reason the applicant sees (audited)."""
        _authorize_decision(binding_id)
        try:
            return binding_service.reject_binding(binding_id, optional_user_id(), body["reason"], client_ip())
        except BindingRefused as exc:
            _refused(exc)
