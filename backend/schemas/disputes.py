"""Request and response schemas of dispute mediation (矛盾纠纷调解): the API's bodies and the pages' forms, whose limits
and messages are written here once; the responses dump what presenters/disputes.py builds."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_load, validate
from werkzeug.datastructures import FileStorage

from backend.domain.disputes import (
    DISPUTE_KIND_LABELS,
    LINK_KIND_LABELS,
    MAX_PARTIES,
    NAME_LIMIT,
    NOTE_LIMIT,
    OUTCOME_LABELS,
    PARTY_KIND_LABELS,
    REFERRED_TO_LIMIT,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    DisputeKind,
    DisputeStatus,
    LinkKind,
    Outcome,
    PartyKind,
)
from backend.schemas.actions import Actions
from backend.schemas.common import PageQuery, envelope
from backend.schemas.consultations import whole
from backend.schemas.text import text_field
from backend.services.disputes import CaseDraft, PartyInput


def _choice(enum, labels: dict, message: str, **kwargs) -> fields.Enum:
    return fields.Enum(enum, by_value=True, error_messages={"required": message, "unknown": message, "null": message},
                       metadata={"description": "；".join(f"{value}：{label}" for value, label in labels.items())},
                       **kwargs)


class AgreementUpload(Upload):
    """One uploaded file of a multipart body; a text part under the same name is not a file."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("请上传调解协议的照片或PDF")
        return value


# ---- requests -------------------------------------------------------------------------------------------------


class DisputeListQuery(PageQuery):
    status = fields.Enum(DisputeStatus, by_value=True, load_default=None,
                         metadata={"description": "open 调解中；settled 调解成功；referred 未成功已移交"})


class PartyInputSchema(Schema):
    kind = _choice(PartyKind, PARTY_KIND_LABELS, "请选择当事人类别", required=True)
    name = text_field("当事人名称", NAME_LIMIT, required=False)
    user_id = whole("请选择住户", allow_none=True, load_default=None,
                    metadata={"description": "本小区已认证的住户（业主、邻居）：本人可查看案件"})
    household_id = whole("请选择房屋", allow_none=True, load_default=None,
                         metadata={"description": "本小区的一户（业主、邻居）：该户已认证的住户可查看案件"})

    @post_load
    def _party(self, data, **kwargs) -> PartyInput:
        return PartyInput(**data)


class DisputeInputSchema(Schema):
    title = text_field("案件名称", TITLE_LIMIT)
    summary = text_field("纠纷概况", SUMMARY_LIMIT, required=False)
    kind = _choice(DisputeKind, DISPUTE_KIND_LABELS, "请选择纠纷类型", required=True)
    parties = fields.List(fields.Nested(PartyInputSchema), required=True,
                          validate=validate.Length(min=2, max=MAX_PARTIES, error=f"当事人须有2至{MAX_PARTIES}方"),
                          error_messages={"required": "请填写当事人"})
    mediator_id = whole("请选择调解员", allow_none=True, load_default=None,
                        metadata={"description": "社区或街道工作人员；省略：登记人本人"})
    link_kind = _choice(LinkKind, LINK_KIND_LABELS, "请选择关联类型", allow_none=True, load_default=None)
    link_id = whole("请填写关联编号", allow_none=True, load_default=None,
                    metadata={"description": "本小区的工单、议题或整改事项编号"})

    @post_load
    def _draft(self, data, **kwargs) -> CaseDraft:
        return CaseDraft(**data)


class StepInputSchema(Schema):
    happened_on = fields.Date(required=True, error_messages={"required": "请选择调解日期", "invalid": "请选择调解日期",
                                                             "null": "请选择调解日期"},
                              metadata={"description": "北京时间的日期，不晚于今天"})
    note = text_field("调解记录", NOTE_LIMIT)


class OutcomeInputSchema(Schema):
    """A multipart body: the outcome, and for a settled case optionally the signed agreement (`agreement`)."""

    outcome = _choice(Outcome, OUTCOME_LABELS, "请选择调解结果", required=True)
    referred_to = text_field("移交单位", REFERRED_TO_LIMIT, required=False)
    note = text_field("结果说明", NOTE_LIMIT, required=False)
    agreement = AgreementUpload(load_default=None)


class AgreementInputSchema(Schema):
    agreement = AgreementUpload(required=True, error_messages={"required": "请上传调解协议的照片或PDF"})


class MediatorInputSchema(Schema):
    mediator_id = whole("请选择调解员", required=True)


# ---- responses ------------------------------------------------------------------------------------------------


class DisputePartySchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    kind_label = fields.String()
    name = fields.String()
    # Only to those who mediate or oversee: never one party's number to another.
    phone_masked = fields.String(allow_none=True)
    mine = fields.Boolean(metadata={"description": "这一方是查看者本人（或其房屋）"})


class DisputeStepSchema(Schema):
    id = fields.Integer()
    happened_on = fields.Date()
    note = fields.String()
    author_name = fields.String()
    created_at = fields.DateTime()


class DisputeLinkSchema(Schema):
    kind = fields.String()
    kind_label = fields.String()
    id = fields.Integer()
    title = fields.String()
    url = fields.String(allow_none=True)


class DisputeAgreementSchema(Schema):
    url = fields.String()
    content_type = fields.String()
    uploaded_at = fields.DateTime()


class DisputeLineSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    compound_name = fields.String()
    title = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    status = fields.String()
    status_label = fields.String()
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    mediator_name = fields.String()
    party_names = fields.List(fields.String())


class DisputeDetailSchema(DisputeLineSchema):
    summary = fields.String()
    mediator_area_name = fields.String()
    parties = fields.List(fields.Nested(DisputePartySchema))
    steps = fields.List(fields.Nested(DisputeStepSchema))
    referred_to = fields.String()
    outcome_note = fields.String()
    agreement = fields.Nested(DisputeAgreementSchema, allow_none=True)
    link = fields.Nested(DisputeLinkSchema, allow_none=True)
    actions = Actions("add_step、record_outcome、attach_agreement、change_mediator、view_contacts：此人现在可做的")


class DisputeListSchema(envelope(DisputeLineSchema)):
    actions = Actions("open：可在本小区登记调解案件")
