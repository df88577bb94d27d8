"""Request and response schemas of the four meetings (四会): the API's bodies and the pages' forms, whose limits and
messages are written here once; the responses dump what presenters/meetings.py builds."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.consultations import MeetingKind, Party
from backend.schemas.actions import Actions
from backend.schemas.common import ID, MAX_ID
from backend.schemas.text import text_field
from backend.services.meetings import InviteeSpec
from backend.shared.clock import beijing_moment

MAX_INVITEES_PER_REQUEST = 100
# Representatives typed one per line, or separated by commas or 、 as people write lists.
NAME_SEPARATORS = re.compile(r"[\n\r,，、;；]+")
# The new-meeting and invite forms: representatives typed by name, under the party they sit for.
NAME_FIELDS = {"merchant_names": Party.MERCHANT, "resident_names": Party.RESIDENT}


# ---- requests ---------------------------------------------------------------------------------------


class InviteeInputSchema(Schema):
    """A person with an account here (user_id), or only a name (a merchant, a residents' representative)."""

    party = fields.Enum(Party, by_value=True, required=True, error_messages={"unknown": "请选择受邀人所属的一方"})
    user_id = fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)
    name = text_field("受邀人姓名", 64, required=False)

    @validates_schema
    def _person_or_name(self, data, **_):
        if data.get("user_id") is None and not data.get("name"):
            raise ValidationError("请填写受邀人姓名或选择本小区成员", "name")

    @post_load
    def _spec(self, data, **_) -> InviteeSpec:
        return InviteeSpec(party=data["party"], user_id=data["user_id"], name=data["name"])


def _invitee_list(required: bool = False) -> fields.List:
    rules = [validate.Length(max=MAX_INVITEES_PER_REQUEST, error=f"一次最多邀请{MAX_INVITEES_PER_REQUEST}人")]
    if required:
        rules.insert(0, validate.Length(min=1, error="请选择或填写要邀请的人"))
    return fields.List(
        fields.Nested(InviteeInputSchema),
        validate=rules,
        **({"required": True, "error_messages": {"required": "请选择或填写要邀请的人"}} if required
           else {"load_default": list}),
    )


def _topic_id(strict: bool) -> fields.Integer:
    # strict in JSON: a 1.5 must not be truncated into topic 1; a form posts every number as text.
    return fields.Integer(
        strict=strict, validate=ID, allow_none=True, load_default=None, error_messages={"invalid": "请选择关联议题"}
    )


class MeetingCreateSchema(Schema):
    kind = fields.Enum(
        MeetingKind, by_value=True, required=True,
        error_messages={"required": "请选择会议类型", "unknown": "请选择会议类型"},
    )
    title = text_field("会议名称", 60)
    agenda = text_field("会议议程", 2000)
    starts_at = fields.AwareDateTime(
        required=True,
        error_messages={"required": "请选择会议日期和时间", "invalid": "请选择会议日期和时间",
                        "invalid_awareness": "会议时间须带时区"},
        metadata={"description": "ISO 8601，须带时区；须晚于现在且在一年以内"},
    )
    place = text_field("会议地点", 100)
    topic_id = _topic_id(strict=True)
    invitees = _invitee_list()


class InviteSchema(Schema):
    invitees = _invitee_list(required=True)


class CheckInSchema(Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=512, error="签到二维码无效，请扫描会场张贴的签到二维码"),
        error_messages={"required": "签到二维码无效，请扫描会场张贴的签到二维码"},
        metadata={"description": "签到二维码中的 t 参数"},
    )


class MinutesSchema(Schema):
    minutes = text_field("会议纪要", 20_000, required=False)
    resolutions = text_field("会议决议", 20_000, required=False)
    publish = fields.Boolean(
        load_default=False, metadata={"description": "公布给全体居民；已公布的纪要不能撤回，修改后仍公开"}
    )


# ---- the pages' forms: the API's bodies, with the widgets a phone shows ------------------------------------


class BeijingDateTime(fields.DateTime):
    """A datetime-local field, read as Beijing time (the form has no time zone to choose)."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = beijing_moment(value) if isinstance(value, str) else None
        if moment is None:
            raise self.make_error("invalid")
        return moment


class _InviteeWidgets:
    """The compound's people ticked as "<party>:<user id>" and representatives typed by name: loaded as the API's
    invitees, by its schemas, so the same limits and messages hold."""

    members = fields.List(fields.String(validate=validate.Length(max=32)), load_default=list)
    merchant_names = text_field("商户代表", 2000, required=False)
    resident_names = text_field("居民代表", 2000, required=False)

    def _invitees(self, data: dict, body_schema: type[Schema]) -> list[InviteeSpec]:
        chosen = []
        for value in data.pop("members"):
            party, _, user_id = value.partition(":")
            # Anything but a ticked box's value is ignored: the service checks who the person is.
            if party in set(Party) and user_id.isascii() and user_id.isdigit() and 0 < int(user_id) <= MAX_ID:
                chosen.append({"party": party, "user_id": int(user_id)})
        named = [
            {"party": party.value, "name": name}
            for field, party in NAME_FIELDS.items()
            for name in NAME_SEPARATORS.split(data.pop(field))
            if name.strip()
        ]
        field = body_schema().fields["invitees"]
        try:
            invitees = field.deserialize(chosen + named)
        except ValidationError as error:
            raise ValidationError(_first_message(error.messages), "invitees") from None
        return invitees


def _first_message(messages) -> str:
    while not isinstance(messages, str):
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return messages


class MeetingFormSchema(_InviteeWidgets, MeetingCreateSchema):
    """The new-meeting page: the API's body, its time in Beijing time and its invitees as ticks and names."""

    class Meta:
        exclude = ("invitees",)

    starts_at = BeijingDateTime(
        required=True, error_messages={"required": "请选择会议日期和时间", "invalid": "请选择会议日期和时间"}
    )
    topic_id = _topic_id(strict=False)

    @post_load
    def _as_api_body(self, data, **_) -> dict:
        invitees = self._invitees(data, MeetingCreateSchema)
        return data | {"invitees": invitees}


class InviteFormSchema(_InviteeWidgets, Schema):
    """The invite form of a meeting's page: the API's invitees as ticks and names."""

    @post_load
    def _as_api_body(self, data, **_) -> dict:
        return {"invitees": self._invitees(data, InviteSchema)}


# ---- responses --------------------------------------------------------------------------------------


class MeetingSchema(Schema):
    """One line of the list."""

    id = fields.Integer()
    compound_id = fields.Integer()
    kind = fields.Enum(MeetingKind, by_value=True)
    kind_label = fields.String()
    title = fields.String()
    starts_at = fields.DateTime()
    place = fields.String()
    convener_id = fields.Integer()
    convener_name = fields.String()
    topic_id = fields.Integer(allow_none=True)
    upcoming = fields.Boolean(metadata={"description": "未开始或签到尚未结束"})
    minutes_published = fields.Boolean()


class MeetingListSchema(Schema):
    items = fields.List(fields.Nested(MeetingSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    actions = Actions("convene：可召集会议")


class InviteeSchema(Schema):
    party = fields.Enum(Party, by_value=True)
    party_label = fields.String()
    user_id = fields.Integer(allow_none=True)
    name = fields.String()


class MeetingDetailSchema(MeetingSchema):
    agenda = fields.String()
    topic_title = fields.String(allow_none=True)
    invitees = fields.List(fields.Nested(InviteeSchema))
    attendance_count = fields.Integer()
    checkin_opens_at = fields.DateTime()
    checkin_closes_at = fields.DateTime()
    my_checked_in_at = fields.DateTime(allow_none=True)
    # Null to residents until published; those who run the meeting see the draft.
    minutes = fields.String(allow_none=True)
    resolutions = fields.String(allow_none=True)
    minutes_published_at = fields.DateTime(allow_none=True)
    can_manage = fields.Boolean(
        metadata={"description": "召集人（或有召集权限的人）：可邀请、填写纪要、打印签到码"}
    )
    actions = Actions(
        "此人可做的事：invite, save_minutes, publish_minutes, print_checkin_poster, renew_checkin_code, "
        "view_attendance（召集人）；check_in（签到时间内尚未签到：扫描会场签到二维码）"
    )
    created_at = fields.DateTime()


class CheckInResultSchema(Schema):
    meeting_id = fields.Integer()
    checked_in_at = fields.DateTime()
    already_checked_in = fields.Boolean()
    message = fields.String()


class AttendeeSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    checked_in_at = fields.DateTime()
