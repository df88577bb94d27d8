"""Request and response schemas of the payments (online payment, WeChat Pay notification, receipts) and the
subsidies (先买后补 policies, the street's settlement) API. Money is integer fen throughout."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from backend.domain.compounds import ManagementModel
from backend.domain.fees import PaymentMethod
from backend.domain.subsidy import BASIS_POINTS, SubsidyTier
from backend.schemas.common import ID, MAX_ID, NOT_BLANK, PageQuery
from backend.schemas.fees import BillSchema, FormInteger, MonthField
from backend.services.subsidies import PolicyDraft

# The columns are 32-bit integers: no amount may pass 2^31 − 1 fen (¥21,474,836.47).
FEN = validate.Range(min=0, max=MAX_ID)
# Bills in one payment: ten years of monthly bills.
MAX_BILLS_AT_ONCE = 120
# Budgets are BIGINT: up to ¥10 billion.
BUDGET_FEN = validate.Range(min=0, max=1_000_000_000_000)
MAX_TIERS = 12
MAX_TIER_MONTHS = 120
# A transition period starting outside these years is a typo; it also keeps month arithmetic far from date's limits.
FIRST_YEAR, LAST_YEAR = 2000, 2100


# ---- payments -----------------------------------------------------------------------------------------


class OrderLineSchema(Schema):
    """One bill of an order."""

    bill_id = fields.Integer(required=True)
    period_label = fields.String(required=True)
    amount_fen = fields.Integer(required=True, metadata={"description": "本订单为该账单支付的金额（扣除补贴后）"})
    subsidy_fen = fields.Integer(required=True, metadata={"description": "该账单已锁定的补贴"})


class OrderSchema(Schema):
    id = fields.Integer(required=True)
    out_trade_no = fields.String(required=True)
    provider = fields.Enum(PaymentMethod, by_value=True, required=True)
    amount_fen = fields.Integer(required=True, metadata={"description": "本次应付：各账单扣除补贴后的合计"})
    subsidy_fen = fields.Integer(required=True, metadata={"description": "各账单已锁定的补贴合计"})
    expires_at = fields.DateTime(required=True, metadata={"description": "订单过期时间（UTC）"})
    lines = fields.List(fields.Nested(OrderLineSchema), required=True, metadata={"description": "订单包含的账单"})


class HouseholdPaymentSchema(Schema):
    """Paying several bills of a household in one order: the ones named, or every unpaid one."""

    bill_ids = fields.List(
        fields.Integer(strict=True, validate=ID), validate=validate.Length(min=1, max=MAX_BILLS_AT_ONCE),
        load_default=None,
        metadata={"description": f"要缴的账单（至多{MAX_BILLS_AT_ONCE}个）；不填 = 本户全部待缴账单"},
    )


class PaymentStartSchema(Schema):
    settled = fields.Boolean(
        required=True, metadata={"description": "补贴已覆盖全部金额，无需支付（账单已缴清）"}
    )
    bill = fields.Nested(BillSchema, required=True, metadata={"description": "所缴账单（多个账单时为最早的一期）"})
    bills = fields.List(fields.Nested(BillSchema), required=True, metadata={"description": "所缴账单，最早的在前"})
    order = fields.Nested(OrderSchema, allow_none=True, required=True)
    pay_params = fields.Dict(
        keys=fields.String(), values=fields.String(), allow_none=True, required=True,
        metadata={"description": "交给 WeixinJSBridge getBrandWCPayRequest 的参数"},
    )
    sandbox = fields.Boolean(required=True, metadata={"description": "模拟支付（本地开发），不经过微信"})


class PayNotificationResourceSchema(Schema):
    """Documentation only: the view reads the raw body, whose signature covers its exact bytes."""

    algorithm = fields.String(metadata={"example": "AEAD_AES_256_GCM"})
    ciphertext = fields.String()
    associated_data = fields.String()
    original_type = fields.String(metadata={"example": "transaction"})
    nonce = fields.String()


class PayNotificationSchema(Schema):
    id = fields.String()
    create_time = fields.String()
    event_type = fields.String(metadata={"example": "TRANSACTION.SUCCESS"})
    resource_type = fields.String(metadata={"example": "encrypt-resource"})
    summary = fields.String()
    resource = fields.Nested(PayNotificationResourceSchema)


class PayNotificationAckSchema(Schema):
    """What WeChat Pay expects back from a notification it may stop sending."""

    code = fields.String(required=True, metadata={"example": "SUCCESS"})
    message = fields.String(required=True)


class ReceiptLineSchema(Schema):
    """One bill on a receipt."""

    payment_id = fields.Integer(attribute="payment.id", required=True)
    bill_id = fields.Integer(attribute="bill.id", required=True)
    period_start = fields.Date(attribute="bill.period_start", required=True)
    period_label = fields.String(required=True)
    bill_amount_fen = fields.Integer(attribute="bill.amount_fen", required=True, metadata={"description": "物业费"})
    subsidy_fen = fields.Integer(attribute="payment.subsidy_fen", required=True,
                                 metadata={"description": "先买后补补贴"})
    amount_fen = fields.Integer(attribute="payment.amount_fen", required=True, metadata={"description": "实缴"})


class ReceiptSchema(Schema):
    """The electronic receipt (电子收据) a payment is a line of: every bill it pays, the payee and the payer. The
    single-bill fields (bill_id … amount_fen) are the asked payment's own line."""

    receipt_id = fields.Integer(attribute="receipt.id", required=True)
    payment_id = fields.Integer(attribute="payment.id", required=True)
    receipt_no = fields.String(attribute="receipt.receipt_no", required=True)
    compound_id = fields.Integer(attribute="receipt.compound_id", required=True)
    compound_name = fields.String(required=True)
    household_id = fields.Integer(attribute="receipt.household_id", required=True)
    household_label = fields.String(required=True)
    payer_household = fields.String(required=True, metadata={"description": "付款房屋，如“1栋1单元101室”"})
    payee_name = fields.String(required=True, metadata={"description": "收款方：缴费时为本小区服务的物业服务企业"})
    payer_name = fields.String(required=True, metadata={"description": "线上付款人（姓名已遮挡）；线下收款为空"})
    bill_id = fields.Integer(attribute="bill.id", required=True)
    period_start = fields.Date(attribute="bill.period_start", required=True)
    period_label = fields.String(required=True, metadata={"description": "收据所缴的全部账期"})
    bill_amount_fen = fields.Integer(attribute="bill.amount_fen", required=True)
    subsidy_fen = fields.Integer(attribute="payment.subsidy_fen", required=True,
                                 metadata={"description": "先买后补补贴"})
    amount_fen = fields.Integer(attribute="payment.amount_fen", required=True, metadata={"description": "实缴"})
    lines = fields.List(fields.Nested(ReceiptLineSchema), required=True, metadata={"description": "所缴各期账单"})
    bill_total_fen = fields.Integer(required=True)
    subsidy_total_fen = fields.Integer(required=True)
    total_fen = fields.Integer(attribute="receipt.amount_fen", required=True, metadata={"description": "实收合计"})
    method = fields.Enum(PaymentMethod, by_value=True, attribute="receipt.method", required=True)
    method_label = fields.String(required=True)
    offline_receipt_no = fields.String(attribute="receipt.offline_receipt_no", allow_none=True, required=True)
    transaction_id = fields.String(attribute="receipt.transaction_id", allow_none=True, required=True,
                                   metadata={"description": "微信支付交易单号"})
    paid_at = fields.DateTime(attribute="receipt.paid_at", required=True)


class PaidBillSchema(Schema):
    bill_id = fields.Integer(attribute="bill.id", required=True)
    period_label = fields.String(required=True)
    amount_fen = fields.Integer(attribute="payment.amount_fen", required=True)
    subsidy_fen = fields.Integer(attribute="payment.subsidy_fen", required=True)


class PaidReceiptSchema(Schema):
    """One receipt of the household's payment history: an online order's payments, or one desk entry's."""

    receipt_id = fields.Integer(attribute="receipt.id", required=True)
    receipt_no = fields.String(attribute="receipt.receipt_no", required=True)
    payment_id = fields.Integer(required=True, metadata={"description": "收据的第一笔，用于 /payments/{id}/receipt"})
    receipt_url = fields.String(required=True, metadata={"description": "电子收据（API）"})
    method = fields.Enum(PaymentMethod, by_value=True, attribute="receipt.method", required=True)
    method_label = fields.String(required=True)
    amount_fen = fields.Integer(attribute="receipt.amount_fen", required=True)
    period_label = fields.String(required=True)
    offline_receipt_no = fields.String(attribute="receipt.offline_receipt_no", allow_none=True, required=True)
    paid_at = fields.DateTime(attribute="receipt.paid_at", required=True)
    lines = fields.List(fields.Nested(PaidBillSchema), required=True)


# ---- subsidy policies ---------------------------------------------------------------------------------


class TierSchema(Schema):
    months = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_TIER_MONTHS))
    rate_bp = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=BASIS_POINTS),
                             metadata={"description": "补贴比例，万分之一（5000 = 50%）"})


class PolicyCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=128), NOT_BLANK])
    area_id = fields.Integer(strict=True, validate=ID, load_default=None)
    compound_id = fields.Integer(strict=True, validate=ID, load_default=None)
    built_before_year = fields.Integer(
        strict=True, validate=validate.Range(min=1900, max=LAST_YEAR), allow_none=True, load_default=None,
        metadata={"description": "只补贴此年份之前建成的小区"},
    )
    management_models = fields.List(
        fields.Enum(ManagementModel, by_value=True), validate=validate.Length(max=len(ManagementModel)),
        load_default=list, metadata={"description": "适用的管理模式；空 = 全部"},
    )
    period_start = fields.Date(required=True, metadata={"description": "过渡期第一个月的1日"})
    tiers = fields.List(fields.Nested(TierSchema), required=True, validate=validate.Length(min=1, max=MAX_TIERS))
    cap_fen_per_month = fields.Integer(strict=True, validate=FEN, allow_none=True, load_default=None,
                                       metadata={"description": "每户每月补贴上限"})
    budget_fen = fields.Integer(strict=True, validate=BUDGET_FEN, allow_none=True, load_default=None,
                                metadata={"description": "补贴总预算；空 = 不限"})

    @validates_schema
    def _valid(self, data, **_):
        if (data.get("area_id") is None) == (data.get("compound_id") is None):
            raise ValidationError("请指定区域或小区之一", "area_id")
        start = data.get("period_start")
        if start is not None and start.day != 1:
            raise ValidationError("过渡期须从某月1日开始", "period_start")
        if start is not None and not FIRST_YEAR <= start.year <= LAST_YEAR:
            raise ValidationError(f"过渡期须在{FIRST_YEAR}—{LAST_YEAR}年之间开始", "period_start")

    @post_load
    def _draft(self, data, **_) -> PolicyDraft:
        return PolicyDraft(
            name=data["name"].strip(), area_id=data["area_id"], compound_id=data["compound_id"],
            built_before_year=data["built_before_year"],
            management_models=sorted({model.value for model in data["management_models"]}),
            period_start=data["period_start"],
            tiers=[SubsidyTier(months=tier["months"], rate_bp=tier["rate_bp"]) for tier in data["tiers"]],
            cap_fen_per_month=data["cap_fen_per_month"], budget_fen=data["budget_fen"],
        )


class PolicyQuery(PageQuery):
    area_id = fields.Integer(validate=ID, load_default=None)
    compound_id = fields.Integer(validate=ID, load_default=None)

    @validates_schema
    def _one_scope(self, data, **_):
        if (data.get("area_id") is None) == (data.get("compound_id") is None):
            raise ValidationError("请指定 area_id 或 compound_id 之一", "area_id")


class PolicySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    area_id = fields.Integer(allow_none=True, required=True)
    compound_id = fields.Integer(allow_none=True, required=True)
    built_before_year = fields.Integer(allow_none=True, required=True)
    management_models = fields.List(fields.String(), required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True, metadata={"description": "过渡期结束后的第一个月"})
    tiers = fields.List(fields.Nested(TierSchema), required=True)
    cap_fen_per_month = fields.Integer(allow_none=True, required=True)
    budget_fen = fields.Integer(allow_none=True, required=True)
    committed_fen = fields.Integer(required=True, metadata={"description": "已锁定与已发放的补贴"})
    budget_left_fen = fields.Integer(allow_none=True, required=True)
    is_active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    eligible = fields.Boolean(allow_none=True, metadata={"description": "按小区查询时：本小区是否符合条件"})
    applies = fields.Boolean(allow_none=True, metadata={"description": "按小区查询时：本小区的账单适用这一项"})
    scope_label = fields.String(metadata={"description": "适用范围：区域名称，或“本小区”"})
    eligibility_label = fields.String(metadata={"description": "条件，如“2000年以前建成”；“不限”"})
    tier_labels = fields.List(fields.String(), metadata={"description": "各阶段，如“第1–12个月 50%”"})


# ---- settlement ---------------------------------------------------------------------------------------


class SettlementQuery(Schema):
    area_id = fields.Integer(required=True, validate=ID)
    month = MonthField(load_default=None, metadata={"description": "结算月份（北京时间），如 2026-07；不填 = 全部月份"})


class SettlementPageQuery(Schema):
    """The settlement page's query string: the area (the caller's own first when none is given) and the month."""

    area_id = FormInteger(validate=ID, load_default=None)
    month = MonthField(load_default=None)


class SettlementRowSchema(Schema):
    month = fields.Date(required=True, metadata={"description": "结算月份（该月1日）"})
    street_id = fields.Integer(allow_none=True, required=True)
    street_name = fields.String(required=True)
    compound_id = fields.Integer(required=True)
    compound_name = fields.String(required=True)
    property_company_id = fields.Integer(allow_none=True, required=True)
    property_company_name = fields.String(required=True)
    grants = fields.Integer(required=True, metadata={"description": "补贴笔数（账单数）"})
    subsidy_fen = fields.Integer(required=True)


class SubtotalSchema(Schema):
    id = fields.Integer(allow_none=True, required=True)
    name = fields.String(required=True)
    grants = fields.Integer(required=True)
    subsidy_fen = fields.Integer(required=True)


class MonthTotalSchema(Schema):
    month = fields.Date(required=True)
    grants = fields.Integer(required=True)
    subsidy_fen = fields.Integer(required=True)


class BudgetSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    budget_fen = fields.Integer(allow_none=True, required=True)
    committed_fen = fields.Integer(required=True)
    granted_fen = fields.Integer(required=True)
    budget_left_fen = fields.Integer(allow_none=True, required=True)


class SettlementSchema(Schema):
    area_id = fields.Integer(required=True)
    area_name = fields.String(required=True)
    month = fields.Date(allow_none=True, required=True)
    rows = fields.List(fields.Nested(SettlementRowSchema), required=True)
    total_fen = fields.Integer(required=True)
    grants = fields.Integer(required=True)
    by_month = fields.List(fields.Nested(MonthTotalSchema), required=True)
    by_street = fields.List(fields.Nested(SubtotalSchema), required=True)
    by_compound = fields.List(fields.Nested(SubtotalSchema), required=True)
    by_property_company = fields.List(fields.Nested(SubtotalSchema), required=True)
    policies = fields.List(fields.Nested(BudgetSchema), required=True,
                           metadata={"description": "本区域涉及的补贴政策及预算余额"})
