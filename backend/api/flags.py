"""Problem compounds (问题小区) API: an area's flags with their reasons and since when (and the history), a compound's
flags, a sweep of one compound on demand, and the area's thresholds.

Officials only: an area or compound that is none of the caller's → 404; residents, staff and the company → 403 (or
404 when they hold nothing there); thresholds are set by officials of a district or the city (403 below that)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import flags as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.flags import (
    CompoundFlagsSchema,
    FlagPageSchema,
    FlagQuery,
    FlagThresholdsOutSchema,
    FlagThresholdsSchema,
    SweepResultSchema,
)
from backend.services import flags as service

blp = Blueprint("flags", __name__, url_prefix="/api/v1", description="问题小区")

AREA_ID = "<int(min=1, max=2147483647):area_id>"
COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"


@blp.route(f"/areas/{AREA_ID}/flags")
class AreaFlags(MethodView):
    @blp.arguments(FlagQuery, location="query")
    @blp.response(200, FlagPageSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, area_id):
        """The active flags of every compound below the area, grouped by compound, each with its reason and since
        when; `active=false` gives the cleared ones (the history, newest cleared first); `rule` keeps one kind."""
        return presenter.area_flags(area_id, optional_user_id(), query["rule"], query["active"], query["page"],
                                    query["page_size"])


@blp.route(f"/compounds/{COMPOUND_ID}/flags")
class CompoundFlags(MethodView):
    @blp.response(200, CompoundFlagsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """The compound's active flags and its history (officials over it)."""
        return presenter.compound_flags(compound_id, optional_user_id())


@blp.route(f"/compounds/{COMPOUND_ID}/flags/sweep")
class CompoundSweep(MethodView):
    @blp.response(200, SweepResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, compound_id):
        """Judge the compound again now (the nightly sweep, for one compound): raises, rewords and clears its flags;
        running it again changes nothing."""
        user_id = optional_user_id()
        count = service.sweep_compound(compound_id, user_id)
        return presenter.swept(compound_id, user_id, count)


@blp.route(f"/areas/{AREA_ID}/flag-thresholds")
class FlagThresholds(MethodView):
    @blp.response(200, FlagThresholdsOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """The thresholds in force for the area: its own, else the nearest area's above (`inherited`), else the
        defaults (`defaults`: 收缴率 60%, 超时工单 5, 满意率 60%, ★2, 纠纷 2, 逾期整改 0)."""
        return presenter.thresholds(area_id, optional_user_id())

    @blp.arguments(FlagThresholdsSchema)
    @blp.response(200, FlagThresholdsOutSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, area_id):
        """Set the area's own thresholds (officials of a district or the city over it; audited). They apply from
        the next sweep."""
        service.put_thresholds(area_id, optional_user_id(), body, client_ip())
        return presenter.thresholds(area_id, optional_user_id())
