"""Household binding: request (resident or QR visitor), list and decide (committee, party secretary, staff)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.domain.roles import Action
from backend.policy import authorize
from backend.presenters import bindings as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.bindings import (
    BindingListQuery,
    BindingRejectSchema,
    BindingRequestSchema,
    BindingSchema,
)
from backend.schemas.common import ApiErrorSchema, envelope
from backend.services import bindings as binding_service

blp = Blueprint("bindings", __name__, url_prefix="/api/v1", description="住户绑定房屋")


@blp.route("/compounds/<int(min=1, max=2147483647):compound_id>/bindings")
class CompoundBindings(MethodView):
    @blp.arguments(BindingRequestSchema)
    @blp.response(201, BindingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="找不到该房屋，或已申请、已绑定")
    @jwt_required()
    def post(self, body, compound_id):
        """Ask to be bound to a household. Send the scanned QR token as X-Entry-Token if not yet a member."""
        authorize(Action.REQUEST_BINDING, compound_id, optional_user_id(), entry_compound_id())
        binding = binding_service.request_binding(
            user_id=optional_user_id(), compound_id=compound_id, ip=client_ip(), **body
        )
        return presenter.binding(binding.id)

    @blp.arguments(BindingListQuery, location="query")
    @blp.response(200, envelope(BindingSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Binding requests of the compound, newest first (reviewers only); each with the `actions` this reviewer
        may take (approve and reject a pending request of someone else)."""
        authorize(Action.REVIEW_BINDINGS, compound_id, optional_user_id())
        return presenter.review_queue(
            compound_id, optional_user_id(), query.get("status"), query["page"], query["page_size"]
        )


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
        presenter.reviewing(binding_id, optional_user_id())
        binding_service.approve_binding(binding_id, optional_user_id(), client_ip())
        return presenter.binding(binding_id, optional_user_id())


@blp.route("/bindings/<int(min=1, max=2147483647):binding_id>/reject")
class RejectBinding(MethodView):
    @blp.arguments(BindingRejectSchema)
    @blp.response(200, BindingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, binding_id):
        """Reject with a reason the applicant sees (audited). It cannot be undone and is not asked about here:
        confirm with the user first."""
        presenter.reviewing(binding_id, optional_user_id())
        binding_service.reject_binding(binding_id, optional_user_id(), body["reason"], client_ip())
        return presenter.binding(binding_id, optional_user_id())
