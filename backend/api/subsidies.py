"""Subsidy policies (先买后补) and the street's settlement of granted subsidies, as JSON and as .xlsx.

Policies are set by officials (and admins) over the area they belong to, or over a compound's area; the
committee and the property side read the policies covering their compound. The settlement is for officials over
the area. Strangers get 404, people with a role below the area but not this power 403, bad input 422."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.domain.roles import Action
from backend.policy import authorize, authorize_area
from backend.presenters import payments as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, envelope
from backend.schemas.payments import (
    PolicyCreateSchema,
    PolicyQuery,
    PolicySchema,
    SettlementQuery,
    SettlementSchema,
)
from backend.services import settlement_export
from backend.services import subsidies as service
from backend.services.subsidies import PolicyDraft

blp = Blueprint("subsidies", __name__, url_prefix="/api/v1", description="先买后补补贴")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/subsidy-policies")
class SubsidyPolicies(MethodView):
    @blp.arguments(PolicyQuery, location="query")
    @blp.response(200, envelope(PolicySchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """By `area_id` (officials over the area): the policies of the area, of the areas above and below it,
        and of the compounds below it, newest first. By `compound_id` (those who see its bills): the active
        policies covering the compound, the most specific first, with whether it is `eligible` and the one
        that `applies` to its bills."""
        user_id = optional_user_id()
        if query["area_id"] is not None:
            lines = presenter.area_policies(authorize_area(Action.VIEW_SETTLEMENT, query["area_id"], user_id))
        else:
            lines = presenter.compound_policies(authorize(Action.VIEW_BILLS, query["compound_id"], user_id).compound)
        page, size = query["page"], query["page_size"]
        return {"items": lines[(page - 1) * size:page * size], "total": len(lines), "page": page,
                "page_size": size}

    @blp.arguments(PolicyCreateSchema)
    @blp.response(201, PolicySchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, draft: PolicyDraft):
        """Set up a subsidy policy for an area (every compound below it) or one compound (officials over the
        area, or over the compound's area): eligibility, the transition period's tiers month by month, an
        optional cap per household per month and an optional total budget. An audit event."""
        user_id = optional_user_id()
        authorize_area(Action.MANAGE_SUBSIDIES, service.policy_area_id(draft), user_id)
        return presenter.policy_line(service.create_policy(draft, user_id, client_ip())), 201


@blp.route("/subsidies/settlement")
class SettlementFigures(MethodView):
    @blp.arguments(SettlementQuery, location="query")
    @blp.response(200, SettlementSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """Subsidy granted in the compounds below the area, per settlement month (Beijing time of payment),
        street, compound and property company, with subtotals and each policy's budget left."""
        area = authorize_area(Action.VIEW_SETTLEMENT, query["area_id"], optional_user_id())
        return settlement_export.settlement_report(area, query["month"])


@blp.route("/subsidies/settlement.xlsx")
class SettlementWorkbook(MethodView):
    @blp.arguments(SettlementQuery, location="query")
    @blp.response(200, content_type=XLSX, description="与 JSON 相同的明细与合计（元和分各一列）")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """The settlement as an .xlsx download: the same rows and totals as the JSON. Audited."""
        user_id = optional_user_id()
        area = authorize_area(Action.VIEW_SETTLEMENT, query["area_id"], user_id)
        content, name = settlement_export.export_settlement(area, query["month"], user_id, client_ip())
        return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)
