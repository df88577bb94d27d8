"""The signed-in user: identity, roles, households, binding requests, and the large-text setting."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import bindings as binding_presenter
from backend.request_context import jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.me import MeSchema, MeUpdateSchema
from backend.services import auth as auth_service
from backend.services import bindings as binding_service
from backend.services import people as people_service

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="当前用户")


def _me(user_id: int) -> dict:
    user = people_service.get_user(user_id)
    return {
        "id": user.id,
        "display_name": user.display_name,
        "username": user.username,
        "phone_masked": user.phone_masked,
        "has_wechat": auth_service.has_wechat(user_id),
        "large_text": user.large_text,
        "memberships": binding_service.my_memberships(user_id),
        "bindings": binding_presenter.my_requests(user_id),
    }


@blp.route("")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self):
        """Who I am, my roles and households, and my binding requests."""
        return _me(optional_user_id())

    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def patch(self, body):
        """Change my display name or the large-text mode (适老化), kept for every device."""
        people_service.update_profile(optional_user_id(), **body)
        return _me(optional_user_id())
