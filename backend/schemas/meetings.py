"""Request and response schemas of the four meetings (四会) API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.consultations import MEETING_KIND_LABELS, PARTY_LABELS, MeetingKind, Party
from backend.schemas.common import ID, NOT_BLANK
from backend.services.meetings import MAX_INVITEES_PER_REQUEST, InviteeSpec, is_upcoming
from backend.shared.clock import utcnow


def _string() -> dict:
    """What a computed string field is in the OpenAPI document (apispec cannot tell from a function)."""
    return {"metadata": {"type": "string"}}


# ---- requests ---------------------------------------------------------------------------------------


class InviteeInputSchema(Schema):
    """A person with an account here (user_id), or only a name (a merchant, a residents' representative)."""

    party = fields.Enum(Party, by_value=True, required=True)
    user_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)
    name = fields.String(load_default="", validate=validate.Length(max=64))

    @validates_schema
    def _person_or_name(self, data, **_):
        if data.get("user_id") is None and not data.get("name", "").strip():
            raise ValidationError("请填写受邀人姓名或选择本小区成员", "name")

    @post_load
    def _spec(self, data, **_) -> InviteeSpec:
        return InviteeSpec(party=data["party"], user_id=data["user_id"], name=data["name"].strip())


def _invitee_list(required: bool = False) -> fields.List:
    return fields.List(
        fields.Nested(InviteeInputSchema),
        validate=validate.Length(min=1 if required else 0, max=MAX_INVITEES_PER_REQUEST),
        **({"required": True} if required else {"load_default": list}),
    )


class MeetingCreateSchema(Schema):
    kind = fields.Enum(MeetingKind, by_value=True, required=True)
    title = fields.String(required=True, validate=[validate.Length(min=1, max=60), NOT_BLANK])
    agenda = fields.String(required=True, validate=[validate.Length(min=1, max=2000), NOT_BLANK])
    starts_at = fields.AwareDateTime(
        required=True, metadata={"description": "ISO 8601，须带时区；须晚于现在且在一年以内"}
    )
    place = fields.String(required=True, validate=[validate.Length(min=1, max=100), NOT_BLANK])
    topic_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)
    invitees = _invitee_list()


class InviteSchema(Schema):
    invitees = _invitee_list(required=True)


class CheckInSchema(Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=512),
        metadata={"description": "签到二维码中的 t 参数"},
    )


class MinutesSchema(Schema):
    minutes = fields.String(load_default="", validate=validate.Length(max=20_000))
    resolutions = fields.String(load_default="", validate=validate.Length(max=20_000))
    publish = fields.Boolean(
        load_default=False, metadata={"description": "公布给全体居民；已公布的纪要不能撤回，修改后仍公开"}
    )


# ---- responses --------------------------------------------------------------------------------------


class MeetingSchema(Schema):
    """One line of the list."""

    id = fields.Integer()
    compound_id = fields.Integer()
    kind = fields.Enum(MeetingKind, by_value=True)
    kind_label = fields.Function(lambda meeting: MEETING_KIND_LABELS[meeting.kind], **_string())
    title = fields.String()
    starts_at = fields.DateTime()
    place = fields.String()
    convener_id = fields.Integer()
    convener_name = fields.Function(lambda meeting: meeting.convener.display_name or "召集人", **_string())
    topic_id = fields.Integer(allow_none=True)
    upcoming = fields.Function(
        lambda meeting: is_upcoming(meeting, utcnow()),
        metadata={"type": "boolean", "description": "未开始或签到尚未结束"},
    )
    minutes_published = fields.Function(
        lambda meeting: meeting.minutes_published_at is not None, metadata={"type": "boolean"}
    )


class InviteeSchema(Schema):
    party = fields.Enum(Party, by_value=True)
    party_label = fields.Function(lambda line: PARTY_LABELS[line.party], **_string())
    user_id = fields.Integer(allow_none=True)
    name = fields.String()


class MeetingDetailSchema(MeetingSchema):
    agenda = fields.String()
    topic_title = fields.Function(
        lambda detail: detail.topic.title if detail.topic else None,
        metadata={"type": "string", "nullable": True},
    )
    invitees = fields.List(fields.Nested(InviteeSchema))
    attendance_count = fields.Integer()
    checkin_opens_at = fields.DateTime()
    checkin_closes_at = fields.DateTime()
    my_checked_in_at = fields.DateTime(allow_none=True)
    # Null to residents until published; those who run the meeting see the draft.
    minutes = fields.String(attribute="visible_minutes", allow_none=True)
    resolutions = fields.String(attribute="visible_resolutions", allow_none=True)
    minutes_published_at = fields.DateTime(allow_none=True)
    can_manage = fields.Boolean(
        metadata={"description": "召集人（或有召集权限的人）：可邀请、填写纪要、打印签到码"}
    )
    created_at = fields.DateTime()


class CheckInResultSchema(Schema):
    meeting_id = fields.Function(lambda result: result.meeting.id, metadata={"type": "integer"})
    checked_in_at = fields.DateTime()
    already_checked_in = fields.Function(lambda result: result.already, metadata={"type": "boolean"})
    message = fields.Function(lambda result: "已签到" if result.already else "签到成功", **_string())


class AttendeeSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    checked_in_at = fields.DateTime()
