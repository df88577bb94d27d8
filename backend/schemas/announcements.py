"""Request and response schemas of announcements (通知公告): the API's multipart bodies and the pages' forms, whose
limits and messages are written here once; the responses dump what presenters/announcements.py builds."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate

from backend.domain.announcements import BODY_LIMIT, CATEGORY_LABELS, MAX_PHOTOS, TITLE_LIMIT, Category
from backend.schemas.actions import Actions
from backend.schemas.common import ID, MAX_ID, PageQuery
from backend.schemas.consultations import Photo
from backend.schemas.text import text_field

PHOTO_COUNT = validate.Length(max=MAX_PHOTOS, error=f"最多上传{MAX_PHOTOS}张照片")
CHOOSE_CATEGORY = "请选择类别"


def photo_url(announcement_id: int, photo_id: int) -> str:
    return f"/api/v1/announcements/{announcement_id}/photos/{photo_id}"


class EndDate(fields.Date):
    """The last day a notice is current, in Beijing; empty (a form's blank box) or null: no end date."""

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, error_messages={"invalid": "请选择结束日期"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
        return super()._deserialize(value, attr, data, **kwargs)


# ---- requests -------------------------------------------------------------------------------------------------


class AnnouncementInputSchema(Schema):
    """A multipart body: the notice, and up to six photos (`photos`, one file each)."""

    title = text_field("标题", TITLE_LIMIT)
    body = text_field("正文", BODY_LIMIT)
    category = fields.Enum(
        Category, by_value=True, required=True,
        error_messages={"required": CHOOSE_CATEGORY, "unknown": CHOOSE_CATEGORY},
        metadata={"description": "；".join(f"{value}：{label}" for value, label in CATEGORY_LABELS.items())},
    )
    pinned = fields.Boolean(load_default=False, metadata={"description": "置顶（结束后不再置顶）"})
    urgent = fields.Boolean(
        load_default=False, metadata={"description": "紧急：立即推送给全部已认证住户，夜间也推送；否则进入消息，推送避开22:00—8:00"},
    )
    ends_on = EndDate(
        load_default=None,
        metadata={"description": "最后一天（北京时间），不早于今天、不晚于一年后；之后不在首页显示，列表中标为已结束。空：不设结束日期"},
    )
    photos = fields.List(Photo(), load_default=list, validate=PHOTO_COUNT)


class AnnouncementPatchSchema(AnnouncementInputSchema):
    """Only what is sent changes; `photos` are added, `remove_photo_ids` (of this notice's photos) removed."""

    remove_photo_ids = fields.List(fields.Integer(validate=ID), validate=validate.Length(max=MAX_PHOTOS))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


def _a_scope(scope: str) -> None:
    """`compound`, or `area:<id>` with an id in the ids' range: an id past it names no area, and must be refused
    rather than read as "this compound"."""
    matched = re.fullmatch(r"compound|area:([1-9][0-9]{0,9})", scope)
    if matched is None or (matched.group(1) and int(matched.group(1)) > MAX_ID):
        raise ValidationError("请选择发布范围")


class AnnouncementFormSchema(AnnouncementInputSchema):
    """The post and edit pages: the API's body, where to post (this compound, or `area:<id>` for an official's every
    compound below an area) and the photos ticked for removal."""

    scope = fields.String(load_default="compound", validate=_a_scope)
    remove_photo_ids = fields.List(fields.Integer(validate=ID), load_default=list,
                                   validate=validate.Length(max=MAX_PHOTOS))


class AnnouncementListQuery(PageQuery):
    include_ended = fields.Boolean(load_default=False, metadata={"description": "也列出已结束的"})


# ---- responses ------------------------------------------------------------------------------------------------


class AnnouncementPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.Function(lambda photo: photo_url(photo.announcement_id, photo.id), metadata={"type": "string"})
    width = fields.Integer()
    height = fields.Integer()


class AnnouncementSchema(Schema):
    """One line of the list."""

    id = fields.Integer()
    compound_id = fields.Integer(allow_none=True, metadata={"description": "发布到的小区；发布到区域时为空"})
    area_id = fields.Integer(allow_none=True, metadata={"description": "发布到的区域（其下全部小区）"})
    source = fields.String(metadata={"description": "发布到哪里：本小区，或区域名称"})
    title = fields.String()
    excerpt = fields.String()
    category = fields.Enum(Category, by_value=True)
    category_label = fields.String()
    pinned = fields.Boolean()
    urgent = fields.Boolean()
    ends_on = fields.Date(allow_none=True)
    active = fields.Boolean(metadata={"description": "未过结束日期"})
    status_label = fields.String(metadata={"description": "已结束，或空"})
    author_name = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    photo_count = fields.Integer()
    read_count = fields.Integer(allow_none=True, metadata={"description": "已读人数：只给可修改它的人；不显示是谁"})


class AnnouncementDetailSchema(AnnouncementSchema):
    body = fields.String()
    photos = fields.List(fields.Nested(AnnouncementPhotoSchema))
    actions = Actions("此人可做的事：edit, delete, view_reads（发布人或有发布权限的人）")


class AnnouncementListSchema(Schema):
    items = fields.List(fields.Nested(AnnouncementSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    include_ended = fields.Boolean()
    actions = Actions("post：可发布通知公告")
