"""My notifications (站内信): the inbox newest first, marking read, and which kinds may push to me."""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from backend.domain.notifications import KINDS, Urgency
from backend.request_context import optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.services import notifications as notification_service
from backend.services.notifications import UnknownNotification

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/me", description="我的消息")

# Only the known kinds route (an `any` converter, so the OpenAPI document lists them as an enum).
KIND = f"<any({', '.join(KINDS)}):kind>"


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String()
    urgency = fields.Enum(Urgency, by_value=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationQuery(PageQuery):
    unread = fields.Boolean(load_default=False)


class NotificationPreferenceSchema(Schema):
    kind = fields.String()
    label = fields.String()
    enabled = fields.Boolean()


class NotificationPreferenceListSchema(Schema):
    items = fields.List(fields.Nested(NotificationPreferenceSchema), required=True)


class NotificationPreferenceUpdateSchema(Schema):
    enabled = fields.Boolean(required=True)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, envelope(NotificationSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """My notifications, newest first; `unread=true` for the unread ones only."""
        page = notification_service.inbox_page(optional_user_id(), query["unread"], query["page"], query["page_size"])
        return page.__dict__


@blp.route("/notifications/<int(min=1, max=2147483647):notification_id>/read")
class ReadNotification(MethodView):
    @blp.response(200, NotificationSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, notification_id):
        """Mark one of my notifications read (another person's is not found)."""
        try:
            return notification_service.mark_read(optional_user_id(), notification_id)
        except UnknownNotification:
            abort(404)


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
        return {"items": notification_service.kind_preferences(optional_user_id())}


@blp.route(f"/notification-preferences/{KIND}")
class Preference(MethodView):
    @blp.arguments(NotificationPreferenceUpdateSchema)
    @blp.response(200, NotificationPreferenceSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, kind):
        """Turn a kind's pushes on or off; its notifications still reach my inbox."""
        user_id = optional_user_id()
        notification_service.set_kind_enabled(user_id, kind, body["enabled"])
        return next(item for item in notification_service.kind_preferences(user_id) if item["kind"] == kind)
