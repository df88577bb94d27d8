"""Request and response schemas of the fees API: fee schedules, bills, adjustments, offline payments, refunds,
the collection rate and arrears. Money is integer fen; months in query strings are "YYYY-MM"."""

from __future__ import annotations

import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.compounds import HouseholdKind
from backend.domain.fees import (
    BILL_STATUS_LABELS,
    EARLIEST_SCHEDULE,
    LATEST_SCHEDULE,
    MAX_DUE_DAY,
    MAX_STANDARD_FEN_PER_M2,
    OFFLINE_METHODS,
    PAYMENT_METHOD_LABELS,
    BillAction,
    BillingCycle,
    BillStatus,
    PaymentMethod,
    format_yuan,
    period_label,
    starts_a_period,
)
from backend.domain.subsidy import format_rate
from backend.schemas.common import ID, MAX_ID, NOT_BLANK, PageQuery
from backend.services.fees import household_label
from backend.services.payments import OnlineOutcome
from backend.shared.clock import beijing_date, utcnow

MAX_REASON = 500
MAX_RECEIPT_NO = 32
# The desk's search: a unit or room number is short.
MAX_ADDRESS_PART = 16
_MONTH = re.compile(r"[12]\d{3}-(0[1-9]|1[0-2])")
# Yuan as people write them: up to 7 digits (an integer column holds 2^31 fen) and at most 2 decimals.
_YUAN = re.compile(r"([0-9]{1,7})(?:\.([0-9]{1,2}))?")


def _string() -> dict:
    """What a computed string field is in the OpenAPI document (apispec cannot tell from a function)."""
    return {"metadata": {"type": "string"}}


class MonthField(fields.String):
    """A billing period named by its first month: "2026-07" in, date(2026, 7, 1) out."""

    default_error_messages = {"invalid": "月份格式应为 YYYY-MM，如 2026-07"}

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


class Yuan(fields.Field):
    """Money as a page's form gives it, in yuan with at most two decimals ("60.94", "100"), loaded as integer fen.
    The API speaks fen (DESIGN §6): a page's form schema puts this field where the API's schema has its integer
    fen, with the same limits."""

    default_error_messages = {"invalid": "请填写金额（元），最多两位小数"}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        match = _YUAN.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return None if value is None else format_yuan(value)


class FormInteger(fields.Integer):
    """A whole number as a page's form or query string gives it: ASCII digits only (int() would also take "０",
    "²" or "1_0"), short enough for int(). A page's form schema puts it where the API's has a strict integer."""

    def _validated(self, value) -> int:
        if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10):
            raise self.make_error("invalid", input=value)
        return int(value)


def _asked(message: str) -> dict:
    """A field's required and unreadable messages: both ask for what the form wants."""
    return {"required": message, "invalid": message, "null": message}


def _offline_method(ask: str) -> dict:
    return {"required": True, "validate": validate.OneOf([method.value for method in OFFLINE_METHODS], error=ask),
            "error_messages": _asked(ask)}


def _not_blank(ask: str) -> validate.Regexp:
    """NOT_BLANK, saying what the form asks for."""
    return validate.Regexp(NOT_BLANK.regex, error=ask)


def _reason(ask: str) -> fields.String:
    return fields.String(
        required=True, error_messages=_asked(ask),
        validate=[validate.Length(min=1, error=ask), _not_blank(ask),
                  validate.Length(max=MAX_REASON, error=f"填写内容过长，最多{MAX_REASON}个字")],
    )


# Each field's limits and messages, written once: the API's schema and the page's form schema both use them.
_STANDARD = {"required": True, "validate": validate.Range(
    min=1, max=MAX_STANDARD_FEN_PER_M2, error="收费标准须在0.01至1000元/平方米/月之间")}
_STANDARD_ASKED = "请填写收费标准（元/平方米/月），最多两位小数"
_DUE_DAY_RULE = f"缴费截止日须是每期第1至{MAX_DUE_DAY}日"
_DUE_DAY = {"required": True, "validate": validate.Range(min=1, max=MAX_DUE_DAY, error=_DUE_DAY_RULE),
            "error_messages": _asked(_DUE_DAY_RULE)}
_HEARING = {"validate": ID, "allow_none": True, "load_default": None,
            "error_messages": _asked("请选择关联的听证会")}
_BILL_AMOUNT = {"required": True, "validate": validate.Range(min=0, max=MAX_ID)}
_OFFLINE_AMOUNT = {"required": True, "validate": validate.Range(min=1, max=MAX_ID)}
_REFUND_AMOUNT = {"required": True, "validate": [validate.Range(min=1, error="退款金额须大于0"),
                                                 validate.Range(max=MAX_ID)]}


# ---- requests ---------------------------------------------------------------------------------------


class ScheduleCreateSchema(Schema):
    household_kind = fields.Enum(HouseholdKind, by_value=True, required=True,
                                 error_messages=_asked("请选择房屋类型") | {"unknown": "请选择房屋类型"})
    standard_fen_per_m2 = fields.Integer(strict=True, metadata={"description": "每平方米每月收费标准（分）"},
                                         **_STANDARD)
    effective_from = fields.Date(
        required=True, error_messages=_asked("请选择生效日期"),
        validate=validate.Range(min=EARLIEST_SCHEDULE, max=LATEST_SCHEDULE, error="生效日期须在2000年至2099年之间"),
        metadata={"description": "须是一个计费周期的第一天：按月每月1日，按季1、4、7、10月1日，按年1月1日"},
    )
    cycle = fields.Enum(BillingCycle, by_value=True, required=True,
                        error_messages=_asked("请选择计费周期") | {"unknown": "请选择计费周期"})
    due_day = fields.Integer(strict=True, metadata={"description": "每期首月的缴费截止日（1–28日）"}, **_DUE_DAY)
    charges_fees = fields.Boolean(
        load_default=None, allow_none=True, error_messages={"invalid": "请选择本小区是否收取物业费"},
        metadata={"description": "是否收费；不填时按管理模式（社区兜底的小区默认不收）"},
    )
    hearing_meeting_id = fields.Integer(strict=True, metadata={"description": "讨论这次收费标准的本小区听证会"},
                                        **_HEARING)
    note = fields.String(load_default="", validate=validate.Length(max=MAX_REASON, error=f"说明最多{MAX_REASON}个字"))

    @validates_schema
    def _starts_a_period(self, data, **_):
        if not starts_a_period(data["effective_from"], data["cycle"]):
            raise ValidationError("生效日期须是一个计费周期的第一天（按月：每月1日；按季：1、4、7、10月1日；按年：1月1日）",
                                  "effective_from")

    @post_load
    def _strip(self, data, **_):
        return data | {"note": data["note"].strip()}


class ScheduleForm(ScheduleCreateSchema):
    """The schedules page's form: the standard in yuan, numbers as text."""

    standard_fen_per_m2 = Yuan(data_key="standard", error_messages=_asked(_STANDARD_ASKED), **_STANDARD)
    due_day = FormInteger(**_DUE_DAY)
    hearing_meeting_id = FormInteger(**_HEARING)


class BillListQuery(PageQuery):
    period = MonthField(metadata={"description": "账期（按首月），如 2026-07"})
    status = fields.Enum(BillStatus, by_value=True)


class CollectionQuery(PageQuery):
    period = MonthField(metadata={"description": "只看这一期；不填时列出每个已出账的账期，最新的在前"})


class AdjustmentSchema(Schema):
    amount_fen = fields.Integer(strict=True, metadata={"description": "调整后的账单金额（分）；0 即减免"},
                                **_BILL_AMOUNT)
    reason = _reason("请填写调整原因")

    @post_load
    def _strip(self, data, **_):
        return data | {"reason": data["reason"].strip()}


class AdjustmentForm(AdjustmentSchema):
    """The bill page's form: the amount in yuan."""

    amount_fen = Yuan(data_key="amount", error_messages=_asked("请填写调整后的金额（元），最多两位小数"),
                      **_BILL_AMOUNT)


class WaiverSchema(Schema):
    reason = _reason("请填写减免原因")

    @post_load
    def _strip(self, data, **_):
        return data | {"reason": data["reason"].strip()}


class OfflinePaymentSchema(Schema):
    method = fields.String(metadata={"description": "cash 现金，bank 银行转账"},
                           **_offline_method("请选择收款方式：现金或银行转账"))
    amount_fen = fields.Integer(strict=True, metadata={"description": "须等于扣除补贴后的应缴金额（分）"},
                                **_OFFLINE_AMOUNT)
    offline_receipt_no = fields.String(
        required=True, error_messages=_asked("请填写纸质收据编号"),
        validate=[validate.Length(min=1, error="请填写纸质收据编号"), _not_blank("请填写纸质收据编号"),
                  validate.Length(max=MAX_RECEIPT_NO, error=f"纸质收据编号最多{MAX_RECEIPT_NO}个字")],
        metadata={"description": "纸质收据号（本小区内不能重复）"},
    )

    @post_load
    def _clean(self, data, **_):
        return data | {"method": PaymentMethod(data["method"]),
                       "offline_receipt_no": data["offline_receipt_no"].strip()}


class OfflinePaymentForm(OfflinePaymentSchema):
    """The desk's form: the amount in yuan."""

    amount_fen = Yuan(data_key="amount", error_messages=_asked("请填写收款金额（元），最多两位小数"),
                      **_OFFLINE_AMOUNT)


# Bills in one desk entry: ten years of monthly bills.
MAX_DESK_BILLS = 120
_DESK_BILLS_ASKED = "请选择要收款的账单"
_DESK_BILLS = {"required": True, "validate": validate.Length(min=1, max=MAX_DESK_BILLS, error=_DESK_BILLS_ASKED),
               "error_messages": _asked(_DESK_BILLS_ASKED),
               "metadata": {"description": f"本户要收款的账单（至多{MAX_DESK_BILLS}个）"}}


class HouseholdOfflinePaymentSchema(OfflinePaymentSchema):
    """Several months of one household at the desk: ONE amount (the bills' total due after their subsidies) and
    ONE paper receipt number."""

    bill_ids = fields.List(fields.Integer(strict=True, validate=ID), **_DESK_BILLS)


class HouseholdOfflinePaymentForm(OfflinePaymentForm):
    """The desk's form for several months: the bills ticked, the amount in yuan."""

    bill_ids = fields.List(FormInteger(validate=ID, error_messages=_asked(_DESK_BILLS_ASKED)), **_DESK_BILLS)


class RefundInputSchema(Schema):
    amount_fen = fields.Integer(strict=True, **_REFUND_AMOUNT)
    method = fields.String(**_offline_method("请选择退款方式：现金或银行转账"))
    reason = _reason("请填写退款原因")

    @post_load
    def _clean(self, data, **_):
        return data | {"method": PaymentMethod(data["method"]), "reason": data["reason"].strip()}


class RefundForm(RefundInputSchema):
    """The bill page's form: the amount in yuan."""

    amount_fen = Yuan(data_key="amount", error_messages=_asked("请填写退款金额（元），最多两位小数"),
                      **_REFUND_AMOUNT)


class DeskSearchQuery(Schema):
    """The desk's household search: by id (from the arrears list), or by building, unit and room."""

    household_id = FormInteger(validate=ID, load_default=None)
    building_id = FormInteger(validate=ID, load_default=None)
    unit = fields.String(load_default="", validate=validate.Length(max=MAX_ADDRESS_PART))
    room = fields.String(load_default="", validate=validate.Length(max=MAX_ADDRESS_PART))


# ---- responses --------------------------------------------------------------------------------------


class FeeScheduleSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    household_kind = fields.Enum(HouseholdKind, by_value=True)
    household_kind_label = fields.String()
    standard_fen_per_m2 = fields.Integer()
    effective_from = fields.Date()
    cycle = fields.Enum(BillingCycle, by_value=True)
    cycle_label = fields.String()
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
    receipt_id = fields.Integer(metadata={"description": "所在电子收据（同一收据可含多期账单）"})
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


class BillLineSchema(BillSchema):
    """A bill as its household and the desk read it: with the subsidy it gets, fixed or what paying now would fix."""

    subsidy = fields.Nested(SubsidySchema, allow_none=True)
    expected_subsidy_fen = fields.Integer(metadata={
        "description": "补贴：已锁定的；未锁定的待缴账单为现在缴费可得的估算（见 subsidy.fixed）；已减免为 0"})
    expected_share_fen = fields.Integer(metadata={
        "description": "应缴：amount_fen − expected_subsidy_fen；已减免为 0"})


class BillDetailSchema(BillLineSchema):
    payments = fields.List(fields.Nested(PaymentLineSchema))
    refunds = fields.List(fields.Nested(RefundSchema))
    online_payment = fields.Nested(
        OnlinePaymentSchema, allow_none=True,
        metadata={"description": "进行中的线上支付（未支付也未关闭的订单）；没有则为 null"},
    )
    actions = fields.List(
        fields.String(validate=validate.OneOf([action.value for action in BillAction])),
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
    days_overdue = fields.Integer(metadata={"description": "最早一笔逾期的天数（北京时间）"})
