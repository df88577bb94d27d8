"""Request and response schemas of the 公共账本 statements: closing a month (the bank's month-end balance per account,
in fen; the page's form in yuan), explaining a difference, and the overview, months and statement the presenter
builds."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backend.schemas.common import ID, envelope
from backend.schemas.fees import Yuan
from backend.schemas.text import text_field

NOTE_LIMIT = 300
# A bank balance in fen: the bound keeps it a BIGINT on both databases and far above any compound's money.
_FEN = validate.Range(min=0, max=10**13)


class BankBalanceSchema(Schema):
    account_id = fields.Integer(required=True, strict=True, validate=ID)
    bank_balance_fen = fields.Integer(required=True, strict=True, validate=_FEN)


class CloseInputSchema(Schema):
    """The bank's balance at the month's end for each account with a bank (an account 未开设 gives none)."""

    bank_balances = fields.List(fields.Nested(BankBalanceSchema), load_default=list,
                                validate=validate.Length(max=50))


class CloseFormSchema(Schema):
    """The page's close form: one `bank_<account id>` field in yuan per account (read by the page into this)."""

    account_id = fields.Integer(required=True, validate=ID)
    bank_balance_fen = Yuan(required=True, error_messages={"required": "请填写银行月末余额（元）"})


class ExplanationInputSchema(Schema):
    account_id = fields.Integer(required=True, validate=ID)
    note = text_field("差额说明", NOTE_LIMIT)


class CategoryAmountSchema(Schema):
    category = fields.String(required=True)
    label = fields.String(required=True)
    direction = fields.String(required=True)
    direction_label = fields.String(required=True)
    amount_fen = fields.Integer(required=True)


class AccountBalanceSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    kind_label = fields.String(required=True)
    label = fields.String(required=True)
    balance_fen = fields.Integer(required=True)


class MonthFiguresSchema(Schema):
    month = fields.String(required=True)
    income_fen = fields.Integer(required=True)
    expense_fen = fields.Integer(required=True)
    closing_fen = fields.Integer(required=True)


class ThisMonthSchema(Schema):
    month = fields.String(required=True)
    income_fen = fields.Integer(required=True)
    expense_fen = fields.Integer(required=True)
    by_category = fields.List(fields.Nested(CategoryAmountSchema), required=True)


class LatestEntrySchema(Schema):
    id = fields.Integer(required=True)
    entry_date = fields.Date(required=True)
    category = fields.String(required=True)
    category_label = fields.String(required=True)
    direction = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    origin = fields.String(required=True)
    origin_label = fields.String(required=True)
    counterparty = fields.String(required=True)
    note = fields.String(required=True)
    voucher_ids = fields.List(fields.Integer(), required=True)


class FundSummarySchema(Schema):
    compound_id = fields.Integer(required=True)
    today = fields.Date(required=True)
    balance_fen = fields.Integer(required=True)
    accounts = fields.List(fields.Nested(AccountBalanceSchema), required=True)
    this_month = fields.Nested(ThisMonthSchema, required=True)
    latest_closed = fields.List(fields.Nested(MonthFiguresSchema), required=True)
    latest_entries = fields.List(fields.Nested(LatestEntrySchema), allow_none=True,
                                 metadata={"description": "null for those who see statements only (tenants, staff)"})
    actions = fields.List(fields.String(), required=True)


class MonthLineSchema(Schema):
    month = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "open | closable | waiting | closed"})
    status_label = fields.String(required=True)
    income_fen = fields.Integer(allow_none=True)
    expense_fen = fields.Integer(allow_none=True)
    closing_fen = fields.Integer(allow_none=True)


class MonthListSchema(envelope(MonthLineSchema)):
    pass


class StatementFiguresSchema(Schema):
    opening_fen = fields.Integer(required=True)
    income_fen = fields.Integer(required=True)
    expense_fen = fields.Integer(required=True)
    closing_fen = fields.Integer(required=True)
    by_category = fields.List(fields.Nested(CategoryAmountSchema), required=True)


class StatementAccountSchema(StatementFiguresSchema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    kind_label = fields.String(required=True)
    label = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    entry_count = fields.Integer(required=True)
    needs_bank_balance = fields.Boolean(required=True)
    bank_balance_fen = fields.Integer(allow_none=True)
    difference_fen = fields.Integer(allow_none=True)
    difference_note = fields.String(required=True)
    needs_explanation = fields.Boolean(required=True)


class StatementSchema(Schema):
    compound_id = fields.Integer(required=True)
    month = fields.String(required=True)
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    accounts = fields.List(fields.Nested(StatementAccountSchema), required=True)
    total = fields.Nested(StatementFiguresSchema, required=True)
    actions = fields.List(fields.String(), required=True, metadata={"description": "close | explain"})
    see_entries = fields.Boolean(required=True)
