"""Request and response schemas of the notice board (公示栏): the posting form (a multipart body, for the API and the
page alike) and what presenters/disclosures.py builds for the board, the history and one posting."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate
from werkzeug.datastructures import FileStorage

from backend.domain.disclosures import BODY_LIMIT, STAFF_LIMIT, STAFF_LINE_LIMIT, TITLE_LIMIT
from backend.domain.funds import DISCLOSURE_KIND_LABELS, DisclosureKind
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery, envelope
from backend.schemas.text import text_field
from backend.services.disclosures import Draft

_KIND_MESSAGE = "请选择公示类别"


def _kind(**kwargs) -> fields.Enum:
    return fields.Enum(DisclosureKind, by_value=True,
                       error_messages={"required": _KIND_MESSAGE, "unknown": _KIND_MESSAGE, "null": _KIND_MESSAGE},
                       metadata={"description": "；".join(f"{kind}：{label}"
                                                         for kind, label in DISCLOSURE_KIND_LABELS.items())},
                       **kwargs)


class DocumentUpload(Upload):
    """One uploaded file of a multipart body; a text part under the same name is not a file."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("请上传PDF或照片")
        return value


# ---- requests -------------------------------------------------------------------------------------------------


class DisclosureListQuery(PageQuery):
    kind = _kind(load_default=None, required=False)


class DisclosureInputSchema(Schema):
    """A multipart body. `period`: 2026Q3 for the public-income statement (the quarter must have ended), 2025 for the
    audit report, either or none for the maintenance fund, none otherwise. `staff`: one person per value (staff on
    duty only). `file`: a PDF or photo (the audit report must have one; the maintenance fund may)."""

    kind = _kind(required=True)
    period = text_field("期间", 8, required=False)
    title = text_field("标题", TITLE_LIMIT, required=False)
    body = text_field("内容", BODY_LIMIT, required=False)
    staff = fields.List(fields.String(validate=validate.Length(max=STAFF_LINE_LIMIT,
                                                               error=f"每行不能超过{STAFF_LINE_LIMIT}个字")),
                        load_default=list,
                        validate=validate.Length(max=STAFF_LIMIT, error=f"在岗人员最多{STAFF_LIMIT}行"))
    file = DocumentUpload(load_default=None)

    @post_load
    def _draft(self, data, **kwargs) -> dict:
        upload = data.pop("file")
        return {"draft": Draft(**data), "file": upload}


# ---- responses ------------------------------------------------------------------------------------------------


class DisclosureFileSchema(Schema):
    url = fields.String()
    content_type = fields.String()


class DisclosureLineSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    period = fields.String()
    period_label = fields.String()
    title = fields.String()
    posted_at = fields.DateTime()
    posted_by_name = fields.String()
    current = fields.Boolean(metadata={"description": "公示栏上现行的一份（该类别最新期间的最新一份）"})
    superseded = fields.Boolean(metadata={"description": "同类别同期间已有更新的一份（更正）"})
    file = fields.Nested(DisclosureFileSchema, allow_none=True)


class DisclosureDetailSchema(DisclosureLineSchema):
    body = fields.String()
    staff = fields.List(fields.String())
    figures = fields.Dict(allow_none=True, metadata={"description": "发布时由收费标准或日记账生成并冻结的数字（分）"})


class DueSchema(Schema):
    quarter = fields.String()
    quarter_label = fields.String()
    due_on = fields.Date()
    posted = fields.Boolean()
    overdue = fields.Boolean()


class BoardItemSchema(Schema):
    kind = fields.String()
    kind_label = fields.String()
    current = fields.Nested(DisclosureLineSchema, allow_none=True)


class DisclosureBoardSchema(envelope(DisclosureLineSchema)):
    board = fields.List(fields.Nested(BoardItemSchema), metadata={"description": "每个类别现行的一份"})
    public_income_due = fields.Nested(DueSchema, allow_none=True,
                                      metadata={"description": "上季度公共收益公示：应公示日期（次季首月15日）"})
    actions = Actions("post：可发布公示")
