"""Request and response schemas of problem compounds (问题小区): the flag lists' query, the thresholds' body (the
settings page's form too), and what presenters/flags.py builds."""
from __future__ import annotations

from marshmallow import Schema, fields, post_load

from backend.domain.flags import THRESHOLD_LIMITS, FlagRule, FlagThresholds
from backend.schemas.common import PageQuery, envelope
from backend.schemas.consultations import whole

THRESHOLD_MESSAGES = {
    "collection_min_bp": "收缴率下限须为0–100%（万分比0–10000）",
    "overdue_orders_max": "超时工单上限须为0–10000的整数",
    "satisfaction_min_bp": "满意率下限须为0–100%（万分比0–10000）",
    "low_stars": "星级须为0–5",
    "open_disputes_max": "纠纷上限须为0–10000的整数",
    "overdue_rectifications_max": "逾期整改上限须为0–10000的整数",
}


class FlagQuery(PageQuery):
    rule = fields.Enum(FlagRule, by_value=True, load_default=None,
                       error_messages={"unknown": "没有这种问题类型"},
                       metadata={"description": "只看这一种问题"})
    active = fields.Boolean(load_default=True,
                            metadata={"description": "true：当前标记；false：已解除的历史标记"})


class FlagSchema(Schema):
    id = fields.Integer(required=True)
    compound_id = fields.Integer(required=True)
    compound_name = fields.String(required=True)
    rule = fields.String(required=True)
    rule_label = fields.String(required=True)
    reason = fields.String(required=True)
    raised_at = fields.DateTime(required=True, metadata={"description": "标记时间（since）"})
    cleared_at = fields.DateTime(allow_none=True, metadata={"description": "解除时间；当前标记为空"})
    active = fields.Boolean(required=True)


FlagPageSchema = envelope(FlagSchema)


class CompoundFlagsSchema(Schema):
    compound_id = fields.Integer(required=True)
    compound_name = fields.String(required=True)
    active = fields.List(fields.Nested(FlagSchema), required=True)
    history = fields.List(fields.Nested(FlagSchema), required=True, metadata={"description": "已解除的标记，新的在前"})


class SweepResultSchema(CompoundFlagsSchema):
    raised = fields.Integer(required=True)
    reworded = fields.Integer(required=True)
    cleared = fields.Integer(required=True)


def _threshold(name: str):
    low, high = THRESHOLD_LIMITS[name]
    return whole(THRESHOLD_MESSAGES[name], low=low, high=high, required=True)


class FlagThresholdsSchema(Schema):
    """An area's thresholds: rates in basis points (6000 = 60%), the rest whole counts; "above"/"below" are strict."""

    collection_min_bp = _threshold("collection_min_bp")
    overdue_orders_max = _threshold("overdue_orders_max")
    satisfaction_min_bp = _threshold("satisfaction_min_bp")
    low_stars = _threshold("low_stars")
    open_disputes_max = _threshold("open_disputes_max")
    overdue_rectifications_max = _threshold("overdue_rectifications_max")

    @post_load
    def _thresholds(self, data, **_) -> FlagThresholds:
        return FlagThresholds(**data)


class FlagThresholdsOutSchema(Schema):
    area_id = fields.Integer(required=True)
    area_name = fields.String(required=True)
    source_area_id = fields.Integer(allow_none=True, metadata={"description": "生效标准所属区域；为空时为系统默认"})
    source_area_name = fields.String(allow_none=True)
    inherited = fields.Boolean(required=True)
    defaults = fields.Boolean(required=True, metadata={"description": "本级及上级均未设置，使用系统默认值"})
    may_edit = fields.Boolean(required=True)
    collection_min_bp = fields.Integer(required=True)
    overdue_orders_max = fields.Integer(required=True)
    satisfaction_min_bp = fields.Integer(required=True)
    low_stars = fields.Integer(required=True)
    open_disputes_max = fields.Integer(required=True)
    overdue_rectifications_max = fields.Integer(required=True)
