"""Subsidy policies (先买后补) and the street's settlement of granted subsidies, as JSON and as .xlsx.

Policies are set by officials (and admins) over the area they belong to, or over a compound's area; the
committee and the property side read the policies covering their compound. The settlement is for officials over
the area. Strangers get 404, people with a role below the area but not this power 403, bad input 422."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort

from backend.domain.roles import Action
from backend.domain.subsidy import period_end
from backend.extensions import db
from backend.models import Compound, SubsidyPolicy
from backend.policy import authorize, authorize_area
from backend.request_context import client_ip, optional_user_id
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


def policy_view(policy: SubsidyPolicy, eligible: bool | None = None, applies: bool | None = None) -> dict:
    tiers = service.policy_tiers(policy)
    return {
        "id": policy.id, "name": policy.name, "area_id": policy.area_id, "compound_id": policy.compound_id,
        "built_before_year": policy.built_before_year, "management_models": policy.management_models,
        "period_start": policy.period_start, "period_end": period_end(policy.period_start, tiers),
        "tiers": [{"months": tier.months, "rate_bp": tier.rate_bp} for tier in tiers],
        "cap_fen_per_month": policy.cap_fen_per_month, "budget_fen": policy.budget_fen,
        "committed_fen": policy.committed_fen, "budget_left_fen": policy.budget_left_fen,
        "is_active": policy.is_active, "created_at": policy.created_at, "eligible": eligible, "applies": applies,
    }


def _compound(compound_id: int) -> Compound:
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        abort(404)
    return compound


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
            area = authorize_area(Action.VIEW_SETTLEMENT, query["area_id"], user_id)
            views = [policy_view(policy) for policy in service.policies_for_area(area)]
        else:
            authorize(Action.VIEW_BILLS, query["compound_id"], user_id)
            compound = _compound(query["compound_id"])
            chosen = service.applicable_policy(compound)
            views = [
                policy_view(policy, eligible=service.policy_covers(policy, compound),
                            applies=chosen is not None and policy.id == chosen.id)
                for policy in service.covering_policies(compound)
            ]
        page, size = query["page"], query["page_size"]
        return {"items": views[(page - 1) * size:page * size], "total": len(views), "page": page,
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
        area_id = draft.area_id if draft.area_id is not None else _compound(draft.compound_id).area_id
        authorize_area(Action.MANAGE_SUBSIDIES, area_id, user_id)
        return policy_view(service.create_policy(draft, user_id, client_ip())), 201


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
