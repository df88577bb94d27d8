"""The officials' dashboard API: an area's totals, child areas and charts, and the compound table below it.
Officials of the area or above and admins; another area's official → 404, residents and staff → 403/404."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import dashboard as presenter
from backend.request_context import jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.dashboard import AreaDashboardSchema, CompoundTableQuery, DashboardCompoundTableSchema

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1/areas", description="辖区看板")

AREA_ID = "<int(min=1, max=2147483647):area_id>"


@blp.route(f"/{AREA_ID}/dashboard")
class AreaDashboard(MethodView):
    @blp.response(200, AreaDashboardSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """The area's totals, each child area's subtotals (drill-down), and the charts' series, from the figures
        the refresh jobs keep (`refreshed_at`: the oldest compound's refresh)."""
        return presenter.area_dashboard(area_id, optional_user_id())


@blp.route(f"/{AREA_ID}/compounds")
class AreaCompounds(MethodView):
    @blp.arguments(CompoundTableQuery, location="query")
    @blp.response(200, DashboardCompoundTableSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, args, area_id):
        """Every compound below the area with its ledger fields and figures: filter by management model, child
        area (`area_id`, or `street`), active flag (`any` or a rule); sort; page."""
        return presenter.compound_table(area_id, optional_user_id(), presenter.table_query(args))
