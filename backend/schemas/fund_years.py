"""Request and response schemas of the year's result and surplus (年度收支与结余) and the officials' account coverage:
the decision form (API body and page form alike) and the responses presenters/fund_years.py builds."""
from __future__ import annotations

from marshmallow import Schema, fields

from backend.domain.fund_years import NOTE_LIMIT
from backend.domain.funds import SURPLUS_USE_LABELS, SurplusUse
from backend.schemas.actions import Actions
from backend.schemas.consultations import whole
from backend.schemas.text import text_field

CHOOSE_USE = "请选择结余的用途"


class FundYearDecisionInputSchema(Schema):
    use = fields.Enum(SurplusUse, by_value=True, required=True,
                      error_messages={"required": CHOOSE_USE, "unknown": CHOOSE_USE, "null": CHOOSE_USE},
                      metadata={"description": "；".join(f"{use}：{label}" for use, label in SURPLUS_USE_LABELS.items())})
    note = text_field("决定说明", NOTE_LIMIT, required=False)
    topic_id = whole("请选择本小区的议题", allow_none=True, load_default=None,
                     metadata={"description": "业主作出决定的议题（本小区）"})


# ---- responses ------------------------------------------------------------------------------------------------


class FundYearCategorySchema(Schema):
    category = fields.String()
    label = fields.String()
    direction = fields.String()
    direction_label = fields.String()
    amount_fen = fields.Integer(metadata={"description": "净额（含红字冲销）"})


class FundYearDecisionSchema(Schema):
    use = fields.String()
    use_label = fields.String()
    note = fields.String()
    topic_id = fields.Integer(allow_none=True)
    topic_url = fields.String(allow_none=True)
    income_fen = fields.Integer()
    expense_fen = fields.Integer()
    remuneration_fen = fields.Integer()
    surplus_fen = fields.Integer()
    recorded_by_name = fields.String()
    recorded_at = fields.DateTime()


class FundYearRefundSchema(Schema):
    household_id = fields.Integer()
    place = fields.String()
    area_centi_m2 = fields.Integer(metadata={"description": "建筑面积，0.01平方米"})
    amount_fen = fields.Integer()
    mine = fields.Boolean(metadata={"description": "查看者本人的房屋"})


class FundYearSchema(Schema):
    compound_id = fields.Integer()
    year = fields.Integer()
    management_model = fields.String()
    income_fen = fields.Integer()
    expense_fen = fields.Integer(metadata={"description": "酬金以外的支出"})
    remuneration_fen = fields.Integer()
    surplus_fen = fields.Integer(metadata={"description": "收入 − 支出 − 酬金；已决定的年度为决定时冻结的数"})
    by_category = fields.List(fields.Nested(FundYearCategorySchema))
    closed = fields.Boolean(metadata={"description": "本年度各账户的月份都已结账"})
    months_open = fields.List(fields.String(), metadata={"description": "尚未结账的月份 YYYY-MM"})
    blocked_reason = fields.String(allow_none=True)
    decision = fields.Nested(FundYearDecisionSchema, allow_none=True)
    my_refunds = fields.List(fields.Nested(FundYearRefundSchema))
    actions = Actions("record_decision：可记录业主对结余用途的决定；see_refunds：可查看各户退还金额")


class FundYearRefundListSchema(Schema):
    year = fields.Integer()
    surplus_fen = fields.Integer()
    total = fields.Integer()
    total_fen = fields.Integer()
    items = fields.List(fields.Nested(FundYearRefundSchema))


class FundCoverageKindSchema(Schema):
    kind = fields.String()
    label = fields.String()
    count = fields.Integer()


class FundCoverageRowSchema(Schema):
    compound_id = fields.Integer()
    compound_name = fields.String()
    management_model = fields.String()
    management_model_label = fields.String()
    accounts = fields.List(fields.Nested(FundCoverageKindSchema))
    has_account = fields.Boolean()


class FundCoverageSchema(Schema):
    area_id = fields.Integer()
    area_name = fields.String()
    compounds = fields.Integer()
    with_account = fields.Integer()
    by_kind = fields.List(fields.Nested(FundCoverageKindSchema), metadata={"description": "开设该类账户的小区数"})
    items = fields.List(fields.Nested(FundCoverageRowSchema))
