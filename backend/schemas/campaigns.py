"""Request and response schemas of environment campaigns (卫生评比, 垃圾分类): the API's bodies and the pages' forms,
whose limits and messages are written here once; the responses dump what presenters/campaigns.py builds."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.campaigns import (
    CAMPAIGN_KIND_LABELS,
    DEFAULT_RED_FLAGS,
    ITEM_LIMIT,
    MAX_FINDINGS,
    MAX_ITEM_POINTS,
    MAX_ITEMS,
    MAX_PHOTOS,
    MAX_RED_FLAGS,
    NOTE_LIMIT,
    TITLE_LIMIT,
    CampaignKind,
    CampaignStatus,
    ChecklistItem,
)
from backend.domain.rectifications import RESPONSIBLE_PARTY_LABELS, ResponsibleParty
from backend.schemas.actions import Actions
from backend.schemas.auth import PhoneField
from backend.schemas.common import ID
from backend.schemas.consultations import Photo, whole
from backend.schemas.text import text_field
from backend.services.campaigns import FindingDraft

PHOTO_COUNT = validate.Length(max=MAX_PHOTOS, error=f"最多上传{MAX_PHOTOS}张照片")


def _described(labels: dict) -> str:
    return "；".join(f"{value}：{label}" for value, label in labels.items())


class ChecklistItemSchema(Schema):
    name = text_field("检查项名称", ITEM_LIMIT)
    max_points = whole(f"每项满分须为1–{MAX_ITEM_POINTS}分", high=MAX_ITEM_POINTS, required=True)

    @post_load
    def _item(self, data, **_) -> ChecklistItem:
        return ChecklistItem(**data)


class CampaignCreateSchema(Schema):
    """A campaign over the area's compounds (all of them, or `compound_ids`); without `checklist`, the default one
    (楼道堆物, 垃圾分类准确, 车辆乱停, 飞线充电, 小广告; 20 points each)."""

    title = text_field("评比名称", TITLE_LIMIT)
    kind = fields.Enum(CampaignKind, by_value=True, required=True,
                       error_messages={"required": "请选择评比类型", "unknown": "请选择评比类型"},
                       metadata={"description": _described(CAMPAIGN_KIND_LABELS)})
    checklist = fields.List(fields.Nested(ChecklistItemSchema), load_default=list,
                            validate=validate.Length(max=MAX_ITEMS, error=f"检查项最多{MAX_ITEMS}项"))
    red_flag_count = whole(f"红旗楼栋数须为0–{MAX_RED_FLAGS}", low=0, high=MAX_RED_FLAGS,
                           load_default=DEFAULT_RED_FLAGS,
                           metadata={"description": "每轮前几名为红旗楼栋（并列的都算）"})
    compound_ids = fields.List(fields.Integer(validate=ID), load_default=list,
                               validate=validate.Length(max=500, error="最多选择500个小区"),
                               metadata={"description": "不填：区域内全部小区"})


class EvaluatorAppointSchema(Schema):
    phone = PhoneField(required=True, validate=validate.Length(max=20), error_messages={"required": "请输入手机号"},
                       metadata={"example": "13800138000"})
    name = text_field("评比员姓名", 32, required=False)


class CampaignRoundCreateSchema(Schema):
    inspected_on = fields.Date(required=True, error_messages={"required": "请选择检查日期", "invalid": "请选择检查日期"},
                               metadata={"description": "检查日期（北京时间），不晚于今天"})


class PointsSchema(Schema):
    item = text_field("检查项", ITEM_LIMIT)
    points = whole(f"得分须为0–{MAX_ITEM_POINTS}分", low=0, high=MAX_ITEM_POINTS, required=True)


class FindingInputSchema(Schema):
    """A failed checklist item (问题) of the building: it may become a work order or a rectification item. Its
    photos are added with POST /campaign-findings/<id>/photos (the page takes them with the form)."""

    item = text_field("检查项", ITEM_LIMIT)
    note = text_field("问题描述", NOTE_LIMIT)

    @post_load
    def _draft(self, data, **_) -> FindingDraft:
        return FindingDraft(**data)


class ScoreInputSchema(Schema):
    """A building's score in the round: every checklist item's points once. A second entry replaces the first."""

    points = fields.List(fields.Nested(PointsSchema), required=True,
                         validate=validate.Length(min=1, max=MAX_ITEMS, error=f"须为1–{MAX_ITEMS}项打分"),
                         error_messages={"required": "请为各检查项打分"})
    note = text_field("备注", NOTE_LIMIT, required=False)
    findings = fields.List(fields.Nested(FindingInputSchema), load_default=list,
                           validate=validate.Length(max=MAX_FINDINGS, error=f"最多记录{MAX_FINDINGS}条问题"))

    @validates_schema
    def _each_item_once(self, data, **_):
        names = [each["item"] for each in data.get("points") or []]
        if len(set(names)) != len(names):
            raise ValidationError("同一检查项只能打一次分", "points")

    @post_load
    def _as_dict(self, data, **_) -> dict:
        return data | {"points": {each["item"]: each["points"] for each in data["points"]}}


class FindingPhotosSchema(Schema):
    photos = fields.List(Photo(), required=True, validate=[validate.Length(min=1, error="请选择照片"), PHOTO_COUNT],
                         error_messages={"required": "请选择照片"})


class RectificationFromFindingSchema(Schema):
    responsible_party = fields.Enum(
        ResponsibleParty, by_value=True, required=True,
        error_messages={"required": "请选择责任方", "unknown": "请选择责任方"},
        metadata={"description": _described(RESPONSIBLE_PARTY_LABELS)})
    deadline = fields.Date(required=True, error_messages={"required": "请选择整改期限", "invalid": "请选择整改期限"},
                           metadata={"description": "整改期限（北京时间），不早于今天、不晚于一年后"})


# ---- responses ----------------------------------------------------------------------------------------------------


class CampaignBriefSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.Enum(CampaignKind, by_value=True)
    kind_label = fields.String()
    status = fields.Enum(CampaignStatus, by_value=True)
    status_label = fields.String()
    red_flag_count = fields.Integer()
    max_total = fields.Integer()


class ChecklistItemViewSchema(Schema):
    name = fields.String()
    max_points = fields.Integer()


class NamedSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class RoundBriefSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    inspected_on = fields.Date()


class CampaignSchema(CampaignBriefSchema):
    area_name = fields.String()
    checklist = fields.List(fields.Nested(ChecklistItemViewSchema))
    compounds = fields.List(fields.Nested(NamedSchema))
    evaluators = fields.List(fields.String())
    rounds = fields.List(fields.Nested(RoundBriefSchema))
    created_at = fields.DateTime()
    actions = Actions("appoint, add_round, score, close, to_work_order, to_rectification")


class CampaignPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    width = fields.Integer()
    height = fields.Integer()


class FindingSchema(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    building_id = fields.Integer()
    item = fields.String()
    note = fields.String()
    work_order_id = fields.Integer(allow_none=True)
    rectification_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    photos = fields.List(fields.Nested(CampaignPhotoSchema))
    actions = Actions("to_work_order, to_rectification (each once)")


class FindingDetailSchema(FindingSchema):
    campaign = fields.Nested(CampaignBriefSchema)


class PointsViewSchema(Schema):
    item = fields.String()
    points = fields.Integer()


class RankedSchema(Schema):
    building_id = fields.Integer()
    building_name = fields.String()
    compound_id = fields.Integer()
    compound_name = fields.String()
    rank = fields.Integer(metadata={"description": "并列同名次，下一名次跳过（1, 1, 3）"})
    total = fields.Integer()
    red_flag = fields.Boolean()
    points = fields.List(fields.Nested(PointsViewSchema))
    note = fields.String()
    findings = fields.List(fields.Nested(FindingSchema))


class UnscoredSchema(Schema):
    building_id = fields.Integer()
    building_name = fields.String()
    compound_name = fields.String()


class CampaignRoundSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    inspected_on = fields.Date()
    campaign = fields.Nested(CampaignBriefSchema)
    checklist = fields.List(fields.Nested(ChecklistItemViewSchema))
    ranking = fields.List(fields.Nested(RankedSchema))
    unscored = fields.List(fields.Nested(UnscoredSchema))
    actions = Actions("score")


class CampaignListSchema(Schema):
    items = fields.List(fields.Nested(CampaignBriefSchema))
    areas = fields.List(fields.Nested(NamedSchema), metadata={"description": "可发起评比的区域"})


class BoardBuildingSchema(Schema):
    building_id = fields.Integer()
    building_name = fields.String()
    rank = fields.Integer()
    total = fields.Integer()
    red_flag = fields.Boolean()


class BoardRoundSchema(Schema):
    number = fields.Integer()
    inspected_on = fields.Date()


class BoardCampaignSchema(CampaignBriefSchema):
    round = fields.Nested(BoardRoundSchema, allow_none=True, metadata={"description": "最近一轮已评分的检查"})
    ranked = fields.Integer(metadata={"description": "本轮参与排名的楼栋数（全部小区）"})
    red_flags = fields.Integer(metadata={"description": "本轮红旗楼栋数（全部小区）"})
    buildings = fields.List(fields.Nested(BoardBuildingSchema), metadata={"description": "只列本小区的楼栋"})


class CompoundBoardSchema(Schema):
    compound_id = fields.Integer()
    campaigns = fields.List(fields.Nested(BoardCampaignSchema))


class WorkLinkSchema(Schema):
    finding_id = fields.Integer()
    work_order_id = fields.Integer(allow_none=True)
    rectification_id = fields.Integer(allow_none=True)

