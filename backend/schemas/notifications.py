"""My notifications (站内信) and push settings: the query, the setting's body, and what presenters/notifications.py
answers."""
from __future__ import annotations

from marshmallow import Schema, fields

from backend.domain.notifications import Urgency
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String()
    urgency = fields.Enum(Urgency, by_value=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class InboxSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    unread_count = fields.Integer(metadata={"description": "全部未读的条数（不只本页）"})
    actions = Actions("read_all：有未读消息时可全部标为已读")


class NotificationQuery(PageQuery):
    unread = fields.Boolean(load_default=False)


class NotificationPreferenceSchema(Schema):
    kind = fields.String()
    label = fields.String()
    enabled = fields.Boolean()
    actions = Actions("turn_on 或 turn_off：开启或关闭这类消息的微信提醒")


class NotificationPreferenceListSchema(Schema):
    items = fields.List(fields.Nested(NotificationPreferenceSchema), required=True)


class NotificationPreferenceUpdateSchema(Schema):
    enabled = fields.Boolean(required=True, error_messages={"required": "请选择开启或关闭提醒"})
