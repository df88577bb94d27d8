"""The admin's hand on accounts: deactivate a person, remove one of their roles."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.services import people as people_service

blp = Blueprint("people", __name__, url_prefix="/api/v1", description="账号与角色（管理员）")

USER_ID = "<int(min=1, max=2147483647):user_id>"
MEMBERSHIP_ID = "<int(min=1, max=2147483647):membership_id>"


@blp.route(f"/users/{USER_ID}/deactivation")
class Deactivation(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="An admin's own account")
    @blp.alt_response(503, schema=ApiErrorSchema, description="The sign-in cache is unreachable; nothing was done")
    @jwt_required()
    def post(self, user_id: int):
        """Deactivate a person (admin only): they cannot sign in, and every token of theirs is refused from the
        next request on."""
        people_service.deactivate(user_id, optional_user_id(), ip=client_ip())


@blp.route(f"/memberships/{MEMBERSHIP_ID}")
class MembershipItem(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="An admin's own admin role")
    @blp.alt_response(503, schema=ApiErrorSchema, description="The sign-in cache is unreachable; nothing was done")
    @jwt_required()
    def delete(self, membership_id: int):
        """Remove a role (admin only): what it allowed is refused from the person's next request on."""
        people_service.remove_membership(membership_id, optional_user_id(), ip=client_ip())
