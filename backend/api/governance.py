"""Governance API: a compound's party organisation and self-governance body (with history), area coverage figures,
first secretaries (第一书记) and their monthly logs. Strangers 404, roles that may not 403, bad input 422."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import governance as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.governance import (
    AreaLogListSchema,
    AreaLogQuery,
    AssignFirstSecretarySchema,
    CoverageSchema,
    GovernanceInputSchema,
    GovernanceSchema,
    LogInputSchema,
    LogListSchema,
)
from backend.services import first_secretaries as secretary_service
from backend.services import governance as service

blp = Blueprint("governance", __name__, url_prefix="/api/v1", description="党组织与自治组织、第一书记")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
ASSIGNMENT_ID = "<int(min=1, max=2147483647):assignment_id>"


@blp.route(f"/compounds/{COMPOUND_ID}/governance")
class Governance(MethodView):
    @blp.response(200, GovernanceSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """Current party organisation and self-governance body, every change before it, the first secretary.
        The compound's committee and party secretary, officials over it and admins."""
        return presenter.governance(compound_id, optional_user_id())

    @blp.arguments(GovernanceInputSchema)
    @blp.response(200, GovernanceSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, compound_id):
        """Change it (officials over the compound, admins): a change appends to the history and is audited;
        the same values again change nothing."""
        service.update(compound_id, optional_user_id(), body, ip=client_ip())
        return presenter.governance(compound_id, optional_user_id())


@blp.route(f"/areas/{AREA_ID}/coverage")
class Coverage(MethodView):
    @blp.response(200, CoverageSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """How many compounds below the area have each party organisation form and each self-governance body, and
        their share in basis points (officials of the area or above, admins)."""
        return presenter.coverage(area_id, optional_user_id())


@blp.route(f"/compounds/{COMPOUND_ID}/first-secretary")
class FirstSecretary(MethodView):
    @blp.arguments(AssignFirstSecretarySchema)
    @blp.response(201, GovernanceSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="该小区已有第一书记")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Send a first secretary (district or city officials over the compound, admins): they become its party
        secretary at once."""
        secretary_service.assign(compound_id, optional_user_id(), user_id=body.get("user_id"),
                                 phone=body.get("phone"), name=body["name"], started_on=body["started_on"],
                                 goals=body["goals"], ip=client_ip())
        return presenter.governance(compound_id, optional_user_id())

    @blp.response(200, GovernanceSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def delete(self, compound_id):
        """End the current assignment today; their party secretary membership goes, the logs stay."""
        secretary_service.end(compound_id, optional_user_id(), ip=client_ip())
        return presenter.governance(compound_id, optional_user_id())


@blp.route(f"/first-secretaries/{ASSIGNMENT_ID}/logs")
class Logs(MethodView):
    @blp.response(200, LogListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, assignment_id):
        """The monthly log, newest month first: the secretary, officials over the compound, admins."""
        return presenter.log_list(assignment_id, optional_user_id())

    @blp.arguments(LogInputSchema)
    @blp.response(200, LogListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, assignment_id):
        """Write or correct this month's entry (the secretary of a current assignment)."""
        secretary_service.write_log(assignment_id, optional_user_id(), body["body"])
        return presenter.log_list(assignment_id, optional_user_id())


@blp.route(f"/areas/{AREA_ID}/first-secretary-logs")
class AreaLogs(MethodView):
    @blp.arguments(AreaLogQuery, location="query")
    @blp.response(200, AreaLogListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, area_id):
        """Every first secretary below the area during the month, with that month's log (officials, admins)."""
        return presenter.area_logs(area_id, optional_user_id(), query["month"])
