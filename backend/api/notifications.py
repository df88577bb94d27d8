"""My notifications (站内信): the inbox newest first, marking read, and which kinds may push to me."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.domain.notifications import KINDS
from backend.presenters import notifications as presenter
from backend.request_context import jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.notifications import (
    InboxSchema,
    NotificationPreferenceListSchema,
    NotificationPreferenceSchema,
    NotificationPreferenceUpdateSchema,
    NotificationQuery,
    NotificationSchema,
)
from backend.services import notifications as notification_service

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/me", description="我的消息")

# Only the known kinds route (an `any` converter, so the OpenAPI document lists them as an enum).
KIND = f"<any({', '.join(KINDS)}):kind>"


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, InboxSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """My notifications, newest first; `unread=true` for the unread ones only; `unread_count` and `actions`
        (read_all while anything is unread)."""
        return presenter.inbox(optional_user_id(), query["unread"], query["page"], query["page_size"])


@blp.route("/notifications/<int(min=1, max=2147483647):notification_id>/read")
class ReadNotification(MethodView):
    @blp.response(200, NotificationSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, notification_id):
        """Mark one of my notifications read (another person's is not found)."""
        return presenter.opened(optional_user_id(), notification_id)


@blp.route("/notifications/read-all")
class ReadAllNotifications(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def post(self):
        """Mark all my notifications read."""
        notification_service.mark_all_read(optional_user_id())


@blp.route("/notification-preferences")
class Preferences(MethodView):
    @blp.response(200, NotificationPreferenceListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self):
        """Each kind of notification and whether it may push to me (WeChat, SMS); urgent ones always do."""
        return {"items": presenter.push_settings(optional_user_id())}


@blp.route(f"/notification-preferences/{KIND}")
class Preference(MethodView):
    @blp.arguments(NotificationPreferenceUpdateSchema)
    @blp.response(200, NotificationPreferenceSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, kind):
        """Turn a kind's pushes on or off; its notifications still reach my inbox."""
        notification_service.set_kind_enabled(optional_user_id(), kind, body["enabled"])
        return presenter.push_setting(optional_user_id(), kind)
