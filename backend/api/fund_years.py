"""The year's result and surplus (年度收支与结余) API: a trust compound's year (income, expense, remuneration, surplus),
the owners' decision about the surplus recorded once by the bookkeepers, the refunds per household by floor area;
and the officials' account coverage of an area.

Who: whoever sees the compound's statements reads the year (and their own household's refund); those who see the
entries read every household's refund; the bookkeepers record the decision. Refusals keep the error shape: a
visitor or stranger → 404; a reader recording → 403; not a trust compound, months still open, decided twice → 409;
bad input (a topic of another compound, a refund without surplus) → 422."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import fund_years as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.fund_years import (
    FundCoverageSchema,
    FundYearDecisionInputSchema,
    FundYearRefundListSchema,
    FundYearSchema,
)
from backend.services import fund_years as service
from backend.services.fund_access import fund_access, require

blp = Blueprint("fund_years", __name__, url_prefix="/api/v1", description="年度收支与结余")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
YEAR = "<int(min=2000, max=2100):year>"


@blp.route(f"/compounds/{COMPOUND_ID}/fund-years/{YEAR}")
class CompoundFundYear(MethodView):
    @blp.response(200, FundYearSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id, year):
        """The year's income, expense, remuneration and surplus from the journal (frozen once decided), the months
        still to close, the decision and the caller's own refund. `actions`: `record_decision`, `see_refunds`."""
        return presenter.year(compound_id, year, optional_user_id(), entry_compound_id())

    @blp.arguments(FundYearDecisionInputSchema)
    @blp.response(201, FundYearSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="非信托制小区、本年度尚有月份未结账或已决定")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id, year):
        """Record the owners' decision about the year's surplus (the bookkeepers of a trust compound, once every
        month of the year is closed; once per year). `refund` splits the surplus by floor area among the
        households."""
        access = fund_access(compound_id, optional_user_id(), entry_compound_id())
        require(access, "keep_books")
        service.record_decision(access, year, body["use"], body["note"], body["topic_id"], ip=client_ip())
        return presenter.year(compound_id, year, optional_user_id(), entry_compound_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-years/{YEAR}/refunds")
class FundYearRefunds(MethodView):
    @blp.response(200, FundYearRefundListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id, year):
        """Every household's refund (they add up to the surplus): for those who see the entries; 404 unless the
        year's surplus was refunded."""
        return presenter.refunds(compound_id, year, optional_user_id(), entry_compound_id())


@blp.route(f"/areas/{AREA_ID}/fund-coverage")
class FundCoverage(MethodView):
    @blp.response(200, FundCoverageSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """The compounds below the area with their accounts counted by kind: officials of the area or above."""
        return presenter.coverage(area_id, optional_user_id())
