"""Request and response schemas of inspections and rectification (整改台账): the API's bodies and the pages' forms,
whose limits and messages are written here once; the responses dump what presenters/rectifications.py builds."""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.rectifications import (
    CHECKLIST_ITEM_LIMIT,
    CHECKLIST_MAX_ITEMS,
    FINDING_LIMIT,
    MAX_FINDINGS,
    MAX_PHOTOS,
    NOTE_LIMIT,
    RECTIFICATION_STATUS_LABELS,
    RESPONSIBLE_PARTY_LABELS,
    URGENCY_LABELS,
    RectificationStatus,
    RectificationUrgency,
    ResponsibleParty,
)
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery, envelope
from backend.schemas.consultations import Photo, text, whole
from backend.schemas.rating import MAX_ITEM_POINTS, InspectionItemSchema, InspectionSchema
from backend.schemas.text import text_field
from backend.services.rating import ItemInput
from backend.services.rectifications import FindingInput

PHOTO_COUNT = validate.Length(max=MAX_PHOTOS, error=f"最多上传{MAX_PHOTOS}张照片")


def _described(labels: dict) -> str:
    return "；".join(f"{value}：{label}" for value, label in labels.items())


@dataclass(frozen=True)
class CheckedItem:
    """A checklist item looked at in a supervision inspection (no points)."""

    name: str


class CheckedItemSchema(InspectionItemSchema):
    """An item of the inspection: with points (满分, 得分) for a scored inspection (评分检查), without for a
    supervision inspection (监督检查), whose names come from the compound's checklist."""

    max_points = whole("满分须为1–1000", high=MAX_ITEM_POINTS, load_default=None)
    points = whole("得分须为0–1000", low=0, high=MAX_ITEM_POINTS, load_default=None)

    @validates_schema
    def _both_or_neither(self, data, **_):
        if (data.get("points") is None) != (data.get("max_points") is None):
            raise ValidationError("满分和得分须同时填写，或都不填", "points")

    @post_load
    def _item(self, data, **_) -> ItemInput | CheckedItem:
        if data["points"] is None:
            return CheckedItem(name=data["name"])
        return ItemInput(**data)


class InspectionFindingSchema(Schema):
    """A finding (问题) of a supervision inspection: it becomes a rectification item."""

    item = text_field("检查项目", CHECKLIST_ITEM_LIMIT, blank="请选择问题所属的检查项目")
    finding = text_field("问题描述", FINDING_LIMIT)
    responsible_party = fields.Enum(
        ResponsibleParty, by_value=True, required=True,
        error_messages={"required": "请选择责任方", "unknown": "请选择责任方"},
        metadata={"description": _described(RESPONSIBLE_PARTY_LABELS)},
    )
    deadline = fields.Date(required=True, error_messages={"required": "请选择整改期限", "invalid": "请选择整改期限"},
                           metadata={"description": "整改期限（北京时间的日期，含当天），不早于今天、不晚于一年后"})
    urgency = fields.Enum(RectificationUrgency, by_value=True, load_default=RectificationUrgency.NORMAL,
                          error_messages={"unknown": "请选择紧急程度"},
                          metadata={"description": _described(URGENCY_LABELS)})

    @post_load
    def _finding(self, data, **_) -> FindingInput:
        return FindingInput(**data)


class InspectionInputSchema(InspectionSchema):
    """An inspection of the compound. Scored (评分检查, every item with points; the district's housing official or
    an appointed evaluator; counts in the rating) or supervision (监督检查, items without points from the compound's
    checklist, with `findings`; a street's or the housing department's official). Photos of a finding are added
    with POST /rectifications/<id>/photos."""

    items = fields.List(fields.Nested(CheckedItemSchema), required=True,
                        validate=validate.Length(min=1, max=CHECKLIST_MAX_ITEMS,
                                                 error=f"检查项目须为1–{CHECKLIST_MAX_ITEMS}项"),
                        error_messages={"required": "请勾选检查项目"})
    findings = fields.List(fields.Nested(InspectionFindingSchema), load_default=list,
                           validate=validate.Length(max=MAX_FINDINGS, error=f"一次最多登记{MAX_FINDINGS}个问题"),
                           metadata={"description": "监督检查发现的问题：每个问题成为一项整改，通知责任方"})

    @validates_schema
    def _one_kind(self, data, **_):
        items = data.get("items") or []
        scored = [isinstance(item, ItemInput) for item in items]
        if any(scored) and not all(scored):
            raise ValidationError("评分检查每项都要打分；监督检查各项都不打分", "items")
        if any(scored) and data.get("findings"):
            raise ValidationError("评分检查不登记整改问题；请另行记录监督检查", "findings")


class InspectionChecklistSchema(Schema):
    items = fields.List(text_field("检查项目", CHECKLIST_ITEM_LIMIT), required=True,
                        validate=validate.Length(min=1, max=CHECKLIST_MAX_ITEMS,
                                                 error=f"检查清单须为1–{CHECKLIST_MAX_ITEMS}项"),
                        error_messages={"required": "请填写检查清单"})


class RectificationAnswerSchema(Schema):
    """A multipart body: what was done, with up to six photos (`photos`, one file each)."""

    note = text_field("整改情况", NOTE_LIMIT)
    photos = fields.List(Photo(), load_default=list, validate=PHOTO_COUNT)


class RectificationPhotosSchema(Schema):
    photos = fields.List(Photo(), required=True, validate=[validate.Length(min=1, error="请选择照片"), PHOTO_COUNT],
                         error_messages={"required": "请选择照片"})


class RectificationAcceptSchema(Schema):
    note = text(NOTE_LIMIT, name="验收意见")


class RectificationReturnSchema(Schema):
    reason = text_field("退回原因", NOTE_LIMIT)


class RectificationListQuery(PageQuery):
    status = fields.Enum(RectificationStatus, by_value=True, load_default=None,
                         metadata={"description": _described(RECTIFICATION_STATUS_LABELS)})
    overdue = fields.Boolean(load_default=False, metadata={"description": "只列出超期未销号的"})


# ---- responses ------------------------------------------------------------------------------------------------


class RectificationPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class RectificationEventSchema(Schema):
    action = fields.String(metadata={"description": "record, answer, return, accept, escalate"})
    label = fields.String()
    note = fields.String()
    actor_name = fields.String()
    created_at = fields.DateTime()
    photos = fields.List(fields.Nested(RectificationPhotoSchema))


class RectificationSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    compound_name = fields.String()
    inspection_id = fields.Integer()
    item = fields.String()
    finding = fields.String()
    responsible_party = fields.Enum(ResponsibleParty, by_value=True)
    responsible_party_label = fields.String()
    urgency = fields.Enum(RectificationUrgency, by_value=True)
    urgency_label = fields.String()
    deadline = fields.Date()
    status = fields.Enum(RectificationStatus, by_value=True)
    status_label = fields.String()
    overdue = fields.Boolean(metadata={"description": "未销号且已过整改期限（北京时间）"})
    escalation_label = fields.String(metadata={"description": "已采取的最后一步督办，或空"})
    inspector_name = fields.String()
    created_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    actions = Actions("此人可做的事：answer（责任方）, accept, return, add_photos（记录检查的工作人员）")


class RectificationDetailSchema(RectificationSchema):
    events = fields.List(fields.Nested(RectificationEventSchema))


class RectificationLedgerSchema(envelope(RectificationSchema)):
    overdue_count = fields.Integer(metadata={"description": "本范围内超期未销号的项数"})


class InspectionItemViewSchema(Schema):
    position = fields.Integer()
    name = fields.String()
    max_points = fields.Integer(allow_none=True)
    points = fields.Integer(allow_none=True)
    finding = fields.String()
    has_photo = fields.Boolean(metadata={"description": "评分检查：照片见 GET /inspections/<id>/items/<position>/photo"})


class InspectionViewSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "scored（评分检查）或 supervision（监督检查）"})
    compound_id = fields.Integer()
    company_id = fields.Integer(allow_none=True)
    inspected_on = fields.Date()
    points = fields.Integer(allow_none=True)
    max_points = fields.Integer(allow_none=True)
    score_centi = fields.Integer(allow_none=True)
    note = fields.String()
    inspector_name = fields.String()
    items = fields.List(fields.Nested(InspectionItemViewSchema))
    rectifications = fields.List(fields.Nested(RectificationSchema))


InspectionPageSchema = envelope(InspectionViewSchema)


class InspectionChecklistOutSchema(Schema):
    area_id = fields.Integer()
    area_name = fields.String()
    items = fields.List(fields.String())
    source_area_id = fields.Integer(allow_none=True, metadata={"description": "清单来自哪个区域；空：默认清单"})
    source_label = fields.String()
    may_edit = fields.Boolean(metadata={"description": "此人可修改本区域的清单（街道及以上工作人员）"})
