"""Request and response schemas of the fees API: fee schedules, bills, adjustments, offline payments, refunds,
the collection rate and arrears. Money is integer fen; months in query strings are "YYYY-MM"."""

from __future__ import annotations

import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.compounds import HOUSEHOLD_KIND_LABELS, HouseholdKind
from backend.domain.fees import (
    BILL_STATUS_LABELS,
    CYCLE_LABELS,
    EARLIEST_SCHEDULE,
    LATEST_SCHEDULE,
    MAX_DUE_DAY,
    MAX_STANDARD_FEN_PER_M2,
    OFFLINE_METHODS,
    PAYMENT_METHOD_LABELS,
    BillingCycle,
    BillStatus,
    PaymentMethod,
    period_label,
    starts_a_period,
)
from backend.domain.subsidy import format_rate
from backend.schemas.common import ID, MAX_ID, NOT_BLANK, PageQuery
from backend.services.fees import household_label
from backend.services.payments import OnlineOutcome
from backend.shared.clock import beijing_date, utcnow

MAX_REASON = 500
_MONTH = re.compile(r"[12]\d{3}-(0[1-9]|1[0-2])")


def _string() -> dict:
    """What a computed string field is in the OpenAPI document (apispec cannot tell from a function)."""
    return {"metadata": {"type": "string"}}


class MonthField(fields.String):
    """A billing period named by its first month: "2026-07" in, date(2026, 7, 1) out."""

    default_error_messages = {"invalid": "月份格式为 YYYY-MM，如 2026-07"}

    def __init__(self, **kwargs):
        metadata = {"pattern": f"^{_MONTH.pattern}$", "example": "2026-07"} | kwargs.pop("metadata", {})
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _MONTH.fullmatch(text):
            raise self.make_error("invalid")
        return date(int(text[:4]), int(text[5:]), 1)

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else f"{value:%Y-%m}"


def _offline_method() -> fields.String:
    return fields.String(
        required=True, validate=validate.OneOf([method.value for method in OFFLINE_METHODS]),
        metadata={"description": "cash 现金，bank 银行转账"},
    )


def _reason() -> fields.String:
    return fields.String(required=True, validate=[validate.Length(min=1, max=MAX_REASON), NOT_BLANK])


# ---- requests ---------------------------------------------------------------------------------------


class ScheduleCreateSchema(Schema):
    household_kind = fields.Enum(HouseholdKind, by_value=True, required=True)
    standard_fen_per_m2 = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_STANDARD_FEN_PER_M2),
        metadata={"description": "每平方米每月收费标准（分）"},
    )
    effective_from = fields.Date(
        required=True, validate=validate.Range(min=EARLIEST_SCHEDULE, max=LATEST_SCHEDULE),
        metadata={"description": "须是一个计费周期的第一天：按月每月1日，按季1、4、7、10月1日，按年1月1日"},
    )
    cycle = fields.Enum(BillingCycle, by_value=True, required=True)
    due_day = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_DUE_DAY),
        metadata={"description": "每期首月的缴费截止日（1–28日）"},
    )
    charges_fees = fields.Boolean(
        load_default=None, allow_none=True,
        metadata={"description": "是否收费；不填时按管理模式（社区兜底的小区默认不收）"},
    )
    hearing_meeting_id = fields.Integer(
        strict=True, validate=ID, allow_none=True, load_default=None,
        metadata={"description": "讨论这次收费标准的本小区听证会"},
    )
    note = fields.String(load_default="", validate=validate.Length(max=MAX_REASON))

    @validates_schema
    def _starts_a_period(self, data, **_):
        if not starts_a_period(data["effective_from"], data["cycle"]):
            raise ValidationError("生效日期须是一个计费周期的第一天（按月：每月1日；按季：1、4、7、10月1日；按年：1月1日）",
                                  "effective_from")

    @post_load
    def _strip(self, data, **_):
        return data | {"note": data["note"].strip()}


class BillListQuery(PageQuery):
    period = MonthField(metadata={"description": "账期（按首月），如 2026-07"})
    status = fields.Enum(BillStatus, by_value=True)


class CollectionQuery(PageQuery):
    period = MonthField(metadata={"description": "只看这一期；不填时列出每个已出账的账期，最新的在前"})


class AdjustmentSchema(Schema):
    amount_fen = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "调整后的账单金额（分）；0 即减免"},
    )
    reason = _reason()

    @post_load
    def _strip(self, data, **_):
        return data | {"reason": data["reason"].strip()}


class WaiverSchema(Schema):
    reason = _reason()

    @post_load
    def _strip(self, data, **_):
        return data | {"reason": data["reason"].strip()}


class OfflinePaymentSchema(Schema):
    method = _offline_method()
    amount_fen = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "须等于扣除补贴后的应缴金额（分）"},
    )
    offline_receipt_no = fields.String(
        required=True, validate=[validate.Length(min=1, max=32), NOT_BLANK],
        metadata={"description": "纸质收据号（本小区内不能重复）"},
    )

    @post_load
    def _clean(self, data, **_):
        return data | {"method": PaymentMethod(data["method"]),
                       "offline_receipt_no": data["offline_receipt_no"].strip()}


class RefundInputSchema(Schema):
    amount_fen = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))
    method = _offline_method()
    reason = _reason()

    @post_load
    def _clean(self, data, **_):
        return data | {"method": PaymentMethod(data["method"]), "reason": data["reason"].strip()}


# ---- responses --------------------------------------------------------------------------------------


class FeeScheduleSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    household_kind = fields.Enum(HouseholdKind, by_value=True)
    household_kind_label = fields.Function(lambda line: HOUSEHOLD_KIND_LABELS[line.household_kind], **_string())
    standard_fen_per_m2 = fields.Integer()
    effective_from = fields.Date()
    cycle = fields.Enum(BillingCycle, by_value=True)
    cycle_label = fields.Function(lambda line: CYCLE_LABELS[line.cycle], **_string())
    due_day = fields.Integer()
    charges_fees = fields.Boolean()
    hearing_meeting_id = fields.Integer(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()
    in_force = fields.Boolean(metadata={"description": "今天（北京时间）执行的就是这一标准"})


class CreatedScheduleSchema(FeeScheduleSchema):
    hearing_recommended = fields.Boolean(
        metadata={"description": "小区有业委会（或物管会、自管会）而没有关联听证会：调整收费宜先开听证会"}
    )


class BillSchema(Schema):
    """One bill; the payments API answers with it too."""

    id = fields.Integer()
    compound_id = fields.Integer()
    household_id = fields.Integer()
    household_label = fields.Function(
        lambda bill: household_label(bill.household.building.name, bill.household.unit, bill.household.room),
        **_string(),
    )
    period_start = fields.Date()
    period_label = fields.Function(lambda bill: period_label(bill.period_start, bill.months), **_string())
    months = fields.Integer()
    due_date = fields.Date()
    floor_area_centi_m2 = fields.Integer()
    standard_fen_per_m2 = fields.Integer()
    original_amount_fen = fields.Integer(metadata={"description": "出账时的金额；调整后 amount_fen 与之不同"})
    amount_fen = fields.Integer()
    subsidy_fen = fields.Integer(metadata={"description": "已锁定的补贴；未缴账单的估算见账单详情的 subsidy"})
    resident_share_fen = fields.Integer(metadata={"description": "amount_fen − subsidy_fen"})
    paid_fen = fields.Integer(metadata={"description": "已缴金额，扣除退款"})
    outstanding_fen = fields.Integer()
    overpaid_fen = fields.Integer()
    status = fields.Enum(BillStatus, by_value=True)
    status_label = fields.Function(lambda bill: BILL_STATUS_LABELS[bill.status], **_string())
    overdue = fields.Function(
        lambda bill: bill.status is BillStatus.UNPAID and bill.due_date < beijing_date(utcnow()),
        metadata={"type": "boolean", "description": "待缴且已过缴费截止日（北京时间）"},
    )
    issued_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    adjust_reason = fields.String()


class SubsidyMonthSchema(Schema):
    month = fields.String(metadata={"format": "date"})
    amount_fen = fields.Integer()
    rate_bp = fields.Integer()
    rate_label = fields.Function(lambda line: format_rate(line["rate_bp"]), **_string())
    subsidy_fen = fields.Integer()
    resident_fen = fields.Function(
        lambda line: line["amount_fen"] - line["subsidy_fen"], metadata={"type": "integer"}
    )


class SubsidySchema(Schema):
    policy_name = fields.String()
    fixed = fields.Boolean(metadata={"description": "已在缴费时锁定；否则是按当前政策和预算的估算"})
    subsidy_fen = fields.Integer()
    per_month = fields.List(fields.Nested(SubsidyMonthSchema))


class PaymentLineSchema(Schema):
    id = fields.Integer()
    receipt_no = fields.String()
    method = fields.Enum(PaymentMethod, by_value=True)
    method_label = fields.Function(lambda payment: PAYMENT_METHOD_LABELS[payment.method], **_string())
    amount_fen = fields.Integer()
    subsidy_fen = fields.Integer()
    offline_receipt_no = fields.String(allow_none=True)
    paid_at = fields.DateTime()


class PaymentSchema(PaymentLineSchema):
    bill = fields.Nested(BillSchema)


class RefundSchema(Schema):
    id = fields.Integer()
    bill_id = fields.Integer()
    method = fields.Enum(PaymentMethod, by_value=True)
    method_label = fields.Function(lambda refund: PAYMENT_METHOD_LABELS[refund.method], **_string())
    amount_fen = fields.Integer()
    reason = fields.String()
    created_at = fields.DateTime()


class OnlinePaymentSchema(Schema):
    """The bill's live online order: someone of the household may be paying it."""

    id = fields.Integer()
    provider = fields.Enum(PaymentMethod, by_value=True)
    amount_fen = fields.Integer()
    expires_at = fields.DateTime(metadata={"description": "此后无法再支付（UTC）"})
    expired = fields.Boolean(metadata={"description": "已过期：收费台登记收款时会先向微信支付查询并关闭"})


class BillDetailSchema(BillSchema):
    subsidy = fields.Nested(SubsidySchema, allow_none=True)
    payments = fields.List(fields.Nested(PaymentLineSchema))
    refunds = fields.List(fields.Nested(RefundSchema))
    online_payment = fields.Nested(
        OnlinePaymentSchema, allow_none=True,
        metadata={"description": "进行中的线上支付（未支付也未关闭的订单）；没有则为 null"},
    )
    actions = fields.List(
        fields.String(validate=validate.OneOf(
            ["pay", "record_payment", "close_online_payment", "adjust", "waive", "refund"])),
        metadata={"description": "当前用户现在可以做的：pay 缴费，record_payment 登记线下收款，close_online_payment "
                                 "查询并关闭住户的线上支付（之后才能登记收款），adjust 调整，waive 减免，refund 退款"},
    )


class OnlineCheckSchema(Schema):
    outcome = fields.Enum(OnlineOutcome, by_value=True, required=True, metadata={
        "description": "paid 已在线上付清（已入账，无需收款）；closed 已在微信支付关闭，可以收款；open 住户正在支付，"
                       "无法关闭；none 没有进行中的线上支付"})
    message = fields.String(required=True)
    bill = fields.Nested(BillSchema, required=True)
    payment = fields.Nested(PaymentLineSchema, allow_none=True, required=True,
                            metadata={"description": "outcome 为 paid 时，入账的这笔线上支付"})


class CollectionSchema(Schema):
    period = fields.Function(lambda line: f"{line.period_start:%Y-%m}", metadata={"type": "string", "example": "2026-07"})
    period_start = fields.Date()
    billed_households = fields.Integer()
    paid_households = fields.Integer()
    billed_fen = fields.Integer()
    paid_fen = fields.Integer()
    household_rate_bp = fields.Integer(metadata={"description": "户数收缴率（万分比）"})
    fen_rate_bp = fields.Integer(metadata={"description": "金额收缴率（万分比）"})


class ArrearsSchema(Schema):
    household_id = fields.Integer()
    label = fields.String()
    bills = fields.Integer(metadata={"description": "逾期未缴的账单数"})
    outstanding_fen = fields.Integer(metadata={
        "description": "应缴合计：已发起缴费的账单扣除锁定的补贴，其余按全额计（补贴在缴费时扣除）"})
    oldest_due = fields.Date()
    days_overdue = fields.Function(
        lambda line: (beijing_date(utcnow()) - line.oldest_due).days,
        metadata={"type": "integer", "description": "最早一笔逾期的天数"},
    )
