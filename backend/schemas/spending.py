"""Request and response schemas of spending requests (支出申请): the API's multipart body and the page's form (amount
in yuan there, fen here; the limits written once), a rejection's reason, and the dumps of what
presenters/spending.py builds."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate
from werkzeug.datastructures import FileStorage

from backend.domain.funds import (
    CATEGORY_LABELS,
    EXPENSE_CATEGORIES,
    SPENDING_PURPOSE_LABELS,
    SPENDING_STATUS_LABELS,
    Category,
    SpendingPurpose,
    SpendingStatus,
)
from backend.domain.spending import (
    DESCRIPTION_LIMIT,
    MAX_AMOUNT_FEN,
    MAX_QUOTES,
    NOTE_LIMIT,
    PAYEE_LIMIT,
    TITLE_LIMIT,
)
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery, envelope
from backend.schemas.consultations import whole
from backend.schemas.fees import Yuan
from backend.schemas.text import text_field
from backend.services.spending import RequestDraft

AMOUNT_MESSAGE = f"金额须在0.01元至{MAX_AMOUNT_FEN // 100}元之间"
CATEGORY_MESSAGE = "请选择支出类别"


def _choice(enum, labels: dict, message: str, **kwargs) -> fields.Enum:
    return fields.Enum(enum, by_value=True, error_messages={"required": message, "unknown": message, "null": message},
                       metadata={"description": "；".join(f"{value}：{label}" for value, label in labels.items())},
                       **kwargs)


class QuoteUpload(Upload):
    """One uploaded quote of a multipart body; a text part under the same name is not a file."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("请上传报价的照片或PDF")
        return value


# ---- requests -------------------------------------------------------------------------------------------------


class SpendingListQuery(PageQuery):
    status = fields.Enum(SpendingStatus, by_value=True, load_default=None,
                         metadata={"description": "；".join(f"{k}：{v}" for k, v in SPENDING_STATUS_LABELS.items())})


class SpendingInputSchema(Schema):
    """A multipart body: the request and up to six quotes (`quotes`, photos or PDFs)."""

    title = text_field("支出事项", TITLE_LIMIT)
    purpose = _choice(SpendingPurpose, SPENDING_PURPOSE_LABELS, "请选择支出用途", required=True)
    amount_fen = whole(AMOUNT_MESSAGE, high=MAX_AMOUNT_FEN, required=True,
                       metadata={"description": "金额（分）；超过本小区审批限额的由业主表决"})
    category = _choice(Category, {c: CATEGORY_LABELS[c] for c in EXPENSE_CATEGORIES}, CATEGORY_MESSAGE,
                       required=True, validate=validate.OneOf(EXPENSE_CATEGORIES, error=CATEGORY_MESSAGE))
    payee = text_field("收款方", PAYEE_LIMIT)
    description = text_field("说明", DESCRIPTION_LIMIT, required=False)
    emergency = fields.Boolean(load_default=False,
                               metadata={"description": "紧急维修：批准前即可支出，事后按同一程序追认"})
    quotes = fields.List(QuoteUpload(), load_default=list,
                         validate=validate.Length(max=MAX_QUOTES, error=f"报价最多上传{MAX_QUOTES}个文件"))

    @post_load
    def _draft(self, data, **kwargs) -> dict:
        quotes = data.pop("quotes")
        return {"draft": RequestDraft(**data), "quotes": quotes}


class SpendingFormSchema(SpendingInputSchema):
    """The page's form: the amount in yuan."""

    amount_fen = Yuan(data_key="amount", required=True,
                      error_messages={"required": "请填写金额（元）", "null": "请填写金额（元）"},
                      validate=validate.Range(min=1, max=MAX_AMOUNT_FEN, error=AMOUNT_MESSAGE))


class RejectInputSchema(Schema):
    note = text_field("不批准的理由", NOTE_LIMIT)


# ---- responses ------------------------------------------------------------------------------------------------


class SpendingQuoteSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    content_type = fields.String()
    is_pdf = fields.Boolean()


class SpendingTopicSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    step = fields.String()
    step_label = fields.String()


class SpendingVoteSchema(Schema):
    kind = fields.String()
    civil_code_item = fields.Integer(allow_none=True)
    label = fields.String()


class SpendingLineSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    title = fields.String()
    purpose = fields.String()
    purpose_label = fields.String()
    amount_fen = fields.Integer()
    category = fields.String()
    category_label = fields.String()
    payee = fields.String()
    status = fields.String()
    status_label = fields.String()
    emergency = fields.Boolean()
    spendable = fields.Boolean(metadata={"description": "现在可以记支出：已批准，或未被否决的紧急维修"})
    requester_name = fields.String()
    created_at = fields.DateTime()


class SpendingDetailSchema(SpendingLineSchema):
    description = fields.String()
    threshold_fen = fields.Integer(metadata={"description": "申请时的审批限额（分）：以上由业主表决"})
    path = fields.String(metadata={"description": "committee 业委会两人审批；owners 业主表决"})
    approvals_needed = fields.Integer()
    approver_names = fields.List(fields.String())
    decided_at = fields.DateTime(allow_none=True)
    decision_note = fields.String()
    quotes = fields.List(fields.Nested(SpendingQuoteSchema))
    vote = fields.Nested(SpendingVoteSchema, allow_none=True,
                         metadata={"description": "用途所定的表决事项（仅业主表决时）"})
    topic = fields.Nested(SpendingTopicSchema, allow_none=True)
    actions = Actions("approve、reject：此人现在可做的")


class SpendingListSchema(envelope(SpendingLineSchema)):
    actions = Actions("request：可提交支出申请")
