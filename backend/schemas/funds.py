"""Request and response schemas of the journal (日记账): accounts, settings, entries with vouchers and reversals. The
pages load their forms through the same schemas; the responses dump what presenters/funds.py builds."""
from __future__ import annotations

import re
from datetime import date

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from werkzeug.datastructures import FileStorage

from backend.domain.funds import (
    ACCOUNT_KIND_LABELS,
    CATEGORY_LABELS,
    COUNTERPARTY_LIMIT,
    MAX_AMOUNT_FEN,
    MAX_VOUCHERS,
    NEEDS_VOUCHER,
    NOTE_LIMIT,
    REASON_LIMIT,
    AccountKind,
    Category,
)
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery, envelope
from backend.schemas.consultations import whole
from backend.schemas.fees import Yuan
from backend.schemas.text import text_field
from backend.services.funds import AccountDraft, EntryDraft, SettingsDraft

# Year 0000 matches four digits but is no date.
MONTH = re.compile(r"^(?!0000)\d{4}-(0[1-9]|1[0-2])$")


def _choice(enum, labels: dict, message: str, **kwargs) -> fields.Enum:
    return fields.Enum(enum, by_value=True, error_messages={"required": message, "unknown": message, "null": message},
                       metadata={"description": "；".join(f"{value}：{label}" for value, label in labels.items())},
                       **kwargs)


def _fen(message: str, low: int = 1, **kwargs):
    return whole(message, low=low, high=MAX_AMOUNT_FEN, **kwargs)


class MonthField(fields.String):
    """YYYY-MM, loaded as the month's first day."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not MONTH.match(text):
            raise ValidationError("月份格式应为YYYY-MM")
        return date(int(text[:4]), int(text[5:7]), 1)


class VoucherUpload(Upload):
    """One uploaded file; a text part under the same name is not a voucher."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage) or not value.filename and not value.content_length:
            raise ValidationError(NEEDS_VOUCHER)
        return value


# ---- requests -------------------------------------------------------------------------------------------------


class AccountInputSchema(Schema):
    kind = _choice(AccountKind, ACCOUNT_KIND_LABELS, "请选择账户类型", required=True)
    bank_name = text_field("开户行", 60, required=False)
    account_no = fields.String(load_default="", validate=validate.Regexp(
        r"^[0-9 \-]{0,40}$", error="账号只能是数字"), metadata={"description": "只保存后四位"})
    holder = text_field("户名", 60, required=False)
    opening_balance_fen = _fen("期初余额应为0至1亿元的整数（分）", low=0, load_default=0)
    opened_on = fields.Date(required=True, error_messages={"required": "请选择开户日期", "invalid": "请选择开户日期",
                                                           "null": "请选择开户日期"})

    @post_load
    def _draft(self, data, **kwargs) -> AccountDraft:
        return AccountDraft(**data)


class SettingsInputSchema(Schema):
    spending_threshold_fen = _fen("金额应为不小于0的整数（分）", low=0, required=True)
    remuneration_rate_bp = whole("酬金比例应为0至10000（万分之）", low=0, high=10_000, allow_none=True,
                                 load_default=None, metadata={"description": "万分之几，如 1200 即 12%"})
    remuneration_fixed_fen = _fen("金额应为不小于0的整数（分）", low=0, allow_none=True, load_default=None)

    @validates_schema
    def _one_of(self, data, **kwargs):
        if data.get("remuneration_rate_bp") is not None and data.get("remuneration_fixed_fen") is not None:
            raise ValidationError("酬金按比例或按固定金额，二选一", "remuneration_fixed_fen")

    @post_load
    def _draft(self, data, **kwargs) -> SettingsDraft:
        return SettingsDraft(**data)


class EntryListQuery(PageQuery):
    month = MonthField(load_default=None, metadata={"description": "YYYY-MM：只看这个月"})


class EntryInputSchema(Schema):
    """A multipart body: the entry's fields and one to five vouchers (`vouchers`, photos or PDFs)."""

    category = _choice(Category, CATEGORY_LABELS, "请选择类别", required=True)
    amount_fen = _fen("金额应为正整数（分）", required=True)
    entry_date = fields.Date(load_default=None, error_messages={"invalid": "请选择日期"},
                             metadata={"description": "北京时间的日期；省略：今天"})
    account_id = whole("请选择账户", allow_none=True, load_default=None,
                       metadata={"description": "省略：收款账户（信托户、共管户、基本户的顺序）"})
    counterparty = text_field("对方单位或个人", COUNTERPARTY_LIMIT, required=False)
    note = text_field("摘要", NOTE_LIMIT, required=False)
    spending_request_id = whole("请选择支出申请", allow_none=True, load_default=None,
                                metadata={"description": "支出必填：已批准或紧急维修的支出申请"})
    vouchers = fields.List(VoucherUpload(), load_default=list, validate=validate.Length(
        max=MAX_VOUCHERS, error=f"凭证最多{MAX_VOUCHERS}个"))

    @post_load
    def _draft(self, data, **kwargs) -> dict:
        vouchers = data.pop("vouchers")
        return {"draft": EntryDraft(**data), "vouchers": vouchers}


class ReversalInputSchema(Schema):
    """A multipart (or form) body: why, and optionally a voucher."""

    reason = text_field("冲销原因", REASON_LIMIT)
    voucher = VoucherUpload(load_default=None)


# ---- responses ------------------------------------------------------------------------------------------------


class AccountSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    bank_name = fields.String()
    account_no_masked = fields.String()
    holder = fields.String()
    opening_balance_fen = fields.Integer()
    opened_on = fields.Date()
    balance_fen = fields.Integer(metadata={"description": "今天的余额：最近结账月的期末余额加其后的记账"})
    first_open_month = fields.String(metadata={"description": "YYYY-MM：最早未结账的月份"})
    receiving = fields.Boolean(metadata={"description": "物业费、补贴自动入账的账户"})


class AccountListSchema(Schema):
    items = fields.List(fields.Nested(AccountSchema))
    total_balance_fen = fields.Integer()
    actions = Actions("open_account：可开设账户")


class SettingsSchema(Schema):
    spending_threshold_fen = fields.Integer()
    remuneration_rate_bp = fields.Integer(allow_none=True)
    remuneration_fixed_fen = fields.Integer(allow_none=True)
    saved = fields.Boolean(metadata={"description": "false：尚未保存，显示默认值"})
    actions = Actions("update：可修改设置")


class VoucherSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    content_type = fields.String()
    is_photo = fields.Boolean()


class EntryLineSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    account_label = fields.String()
    entry_date = fields.Date()
    month = fields.String()
    category = fields.String()
    category_label = fields.String()
    direction = fields.String()
    direction_label = fields.String()
    amount_fen = fields.Integer(metadata={"description": "收入、支出都是正数；冲销为负数"})
    signed_fen = fields.Integer(metadata={"description": "对余额的影响：收入为正，支出为负"})
    counterparty = fields.String()
    note = fields.String()
    origin = fields.String()
    origin_label = fields.String()
    emergency = fields.Boolean()
    reverses_id = fields.Integer(allow_none=True)
    reversed_by_id = fields.Integer(allow_none=True)
    voucher_count = fields.Integer()


class EntryDetailSchema(EntryLineSchema):
    reason = fields.String()
    spending_request_id = fields.Integer(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    subsidy_grant_id = fields.Integer(allow_none=True)
    refund_id = fields.Integer(allow_none=True)
    posted_by_name = fields.String()
    created_at = fields.DateTime()
    month_closed = fields.Boolean()
    vouchers = fields.List(fields.Nested(VoucherSchema))
    actions = Actions("reverse：可冲销")


class EntryListSchema(envelope(EntryLineSchema)):
    actions = Actions("post：可记账")


# ---- the pages' forms: money in yuan, the rest as the API's ------------------------------------------------------

_YUAN_ASKED = "请填写金额（元），最多两位小数"


def _yuan(data_key: str, low: int, **kwargs) -> Yuan:
    return Yuan(data_key=data_key, validate=validate.Range(min=low, max=MAX_AMOUNT_FEN, error=_YUAN_ASKED),
                error_messages={"invalid": _YUAN_ASKED, "required": _YUAN_ASKED, "null": _YUAN_ASKED}, **kwargs)


class AccountForm(AccountInputSchema):
    opening_balance_fen = _yuan("opening_balance", 0, load_default=0)


class SettingsForm(SettingsInputSchema):
    spending_threshold_fen = _yuan("spending_threshold", 0, required=True)
    remuneration_fixed_fen = _yuan("remuneration_fixed", 0, allow_none=True, load_default=None)


class EntryForm(EntryInputSchema):
    amount_fen = _yuan("amount", 1, required=True)
