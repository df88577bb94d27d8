"""Request and response schemas of 党建+ activities (社区活动) and volunteer hours (志愿服务): the API's bodies and the
pages' forms, whose limits and messages are written here once; the responses dump presenters/activities.py."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backend.domain.activities import (
    KIND_LABELS,
    MAX_CAPACITY,
    MAX_PHOTOS,
    ActivityKind,
    ActivityStatus,
    SignupStatus,
)
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery
from backend.schemas.consultations import Photo
from backend.schemas.meetings import BeijingDateTime
from backend.schemas.text import text_field

CHOOSE_KIND = "请选择活动类型"
CAPACITY = validate.Range(min=1, max=MAX_CAPACITY, error=f"名额须在1到{MAX_CAPACITY}人之间")
PHOTO_COUNT = validate.Length(max=MAX_PHOTOS, error=f"最多上传{MAX_PHOTOS}张照片")


def photo_url(activity_id: int, photo_id: int) -> str:
    return f"/api/v1/activities/{activity_id}/photos/{photo_id}"


def _moment(label: str) -> fields.AwareDateTime:
    return fields.AwareDateTime(
        required=True,
        error_messages={"required": f"请选择{label}", "invalid": f"请选择{label}", "invalid_awareness": f"{label}须带时区"},
        metadata={"description": "ISO 8601，须带时区"},
    )


# ---- requests -------------------------------------------------------------------------------------------------


class ActivityCreateSchema(Schema):
    kind = fields.Enum(
        ActivityKind, by_value=True, required=True, error_messages={"required": CHOOSE_KIND, "unknown": CHOOSE_KIND},
        metadata={"description": "；".join(f"{kind.value}：{label}" for kind, label in KIND_LABELS.items())},
    )
    title = text_field("活动名称", 60)
    description = text_field("活动内容", 2000, required=False)
    starts_at = _moment("开始时间")
    ends_at = _moment("结束时间")
    place = text_field("活动地点", 100)
    organiser = text_field("主办单位", 60)
    capacity = fields.Integer(
        strict=True, required=True, validate=CAPACITY,
        error_messages={"required": "请填写名额", "invalid": "请填写名额"},
    )


class ActivityFormSchema(ActivityCreateSchema):
    """The new-activity page: the API's body with its times in Beijing time (datetime-local boxes)."""

    starts_at = BeijingDateTime(required=True, error_messages={"required": "请选择开始时间", "invalid": "请选择开始时间"})
    ends_at = BeijingDateTime(required=True, error_messages={"required": "请选择结束时间", "invalid": "请选择结束时间"})
    capacity = fields.Integer(required=True, validate=CAPACITY,
                              error_messages={"required": "请填写名额", "invalid": "请填写名额"})


class SignupSchema(Schema):
    as_volunteer = fields.Boolean(
        load_default=False, metadata={"description": "以志愿者身份报名（参与服务，签到后计入志愿服务时长）"}
    )


class ActivityReportSchema(Schema):
    """A multipart body: the report's text and up to nine photos (`photos`, one file each) added to it."""

    report = text_field("活动报道", 5000)
    photos = fields.List(Photo(), load_default=list, validate=PHOTO_COUNT)


class YearQuery(Schema):
    year = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=2000, max=2100, error="年份不正确"),
        metadata={"description": "北京时间的年份；省略为今年"},
    )


class YearPageQuery(PageQuery, YearQuery):
    pass


# ---- responses ------------------------------------------------------------------------------------------------


class ActivitySchema(Schema):
    """One line of the list."""

    id = fields.Integer()
    compound_id = fields.Integer()
    kind = fields.Enum(ActivityKind, by_value=True)
    kind_label = fields.String()
    title = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    place = fields.String()
    organiser = fields.String()
    capacity = fields.Integer()
    confirmed_count = fields.Integer()
    waiting_count = fields.Integer()
    status = fields.Enum(ActivityStatus, by_value=True)
    upcoming = fields.Boolean(metadata={"description": "尚未结束"})


class ActivityListSchema(Schema):
    items = fields.List(fields.Nested(ActivitySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    actions = Actions("organise：可组织活动")


class ActivityPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.Function(lambda photo: photo_url(photo.activity_id, photo.id), metadata={"type": "string"})
    width = fields.Integer()
    height = fields.Integer()


class MySignupSchema(Schema):
    status = fields.Enum(SignupStatus, by_value=True)
    status_label = fields.String()
    as_volunteer = fields.Boolean()
    waiting_position = fields.Integer(allow_none=True, metadata={"description": "候补第几位"})


class ActivityDetailSchema(ActivitySchema):
    compound_code = fields.String()
    compound_name = fields.String()
    description = fields.String()
    checkin_opens_at = fields.DateTime()
    checkin_count = fields.Integer()
    my_signup = fields.Nested(MySignupSchema, allow_none=True)
    my_checked_in_at = fields.DateTime(allow_none=True)
    report = fields.String()
    reported_at = fields.DateTime(allow_none=True)
    photos = fields.List(fields.Nested(ActivityPhotoSchema))
    actions = Actions(
        "此人可做的事：sign_up, cancel_signup, check_in（活动开始前1小时至结束：扫描现场签到二维码）；"
        "view_signups, print_checkin_poster, renew_checkin_code, cancel, post_report（组织者）"
    )
    created_at = fields.DateTime()


class SignupLineSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    status = fields.Enum(SignupStatus, by_value=True)
    status_label = fields.String()
    as_volunteer = fields.Boolean()
    signed_up_at = fields.DateTime()
    checked_in_at = fields.DateTime(allow_none=True)


class SignupResultSchema(Schema):
    activity_id = fields.Integer()
    status = fields.Enum(SignupStatus, by_value=True)
    status_label = fields.String()
    as_volunteer = fields.Boolean()
    waiting_position = fields.Integer(allow_none=True)
    message = fields.String()


class ActivityCheckInResultSchema(Schema):
    activity_id = fields.Integer()
    checked_in_at = fields.DateTime()
    as_volunteer = fields.Boolean()
    already_checked_in = fields.Boolean()
    message = fields.String()


class ServiceLineSchema(Schema):
    activity_id = fields.Integer()
    title = fields.String()
    compound_name = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    minutes = fields.Integer()
    hours = fields.String(metadata={"description": "小时，保留一位小数"})


class VolunteerRecordSchema(Schema):
    year = fields.Integer()
    name = fields.String()
    lines = fields.List(fields.Nested(ServiceLineSchema))
    total_minutes = fields.Integer()
    total_hours = fields.String()


class PersonTotalSchema(Schema):
    user_id = fields.Integer()
    name = fields.String()
    activities = fields.Integer()
    minutes = fields.Integer()
    hours = fields.String()


class VolunteerTotalsSchema(Schema):
    year = fields.Integer()
    items = fields.List(fields.Nested(PersonTotalSchema))
