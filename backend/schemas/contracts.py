"""Request and response schemas of the company's life cycle: a selection's candidates, the contract page's one-tap
follow-up, the draft's terms and file, a handover item's finding (multipart, with photos), a signature; and the
dumps of what presenters/contracts.py builds."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from backend.domain.contracts import (
    ITEM_STATE_LABELS,
    MAX_CANDIDATES,
    MAX_PHOTOS,
    NOTE_LIMIT,
    SELECTION_PURPOSE_LABELS,
    SERVICE_LEVEL_LABELS,
    SIDE_LABELS,
    ItemState,
    SelectionPurpose,
    Side,
)
from backend.schemas.actions import Actions
from backend.schemas.consultations import Photo, whole
from backend.schemas.text import text_field


def _choice(enum, labels: dict, message: str, **kwargs) -> fields.Enum:
    return fields.Enum(enum, by_value=True, error_messages={"required": message, "unknown": message, "null": message},
                       metadata={"description": "；".join(f"{value}：{label}" for value, label in labels.items())},
                       **kwargs)


CANDIDATES = validate.Length(max=MAX_CANDIDATES, error=f"候选企业最多{MAX_CANDIDATES}家")


class SelectionInputSchema(Schema):
    candidate_ids = fields.List(whole("请选择候选企业"), required=True, validate=CANDIDATES,
                                error_messages={"required": "请选择候选企业"},
                                metadata={"description": "候选物业服务企业的编号，1至5家"})


class FollowUpInputSchema(Schema):
    purpose = _choice(SelectionPurpose, SELECTION_PURPOSE_LABELS, "请选择续聘、重新选聘或解聘", required=True)
    candidate_ids = fields.List(whole("请选择候选企业"), load_default=list, validate=CANDIDATES,
                                metadata={"description": "重新选聘（hire）时的候选企业；续聘为现企业，解聘不需要"})


class ContractTermsSchema(Schema):
    term_start = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": "请填写正确的日期"})
    term_end = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": "请填写正确的日期"})
    service_level = whole("服务等级须为一级至五级", high=5, load_default=None, allow_none=True,
                          metadata={"description": "；".join(f"{k}：{v}" for k, v in SERVICE_LEVEL_LABELS.items())})
    fee_schedule_id = whole("请选择收费标准", load_default=None, allow_none=True,
                            metadata={"description": "本小区的收费标准（fee schedule）编号"})


class ContractFileUpload(Upload):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("请上传合同的PDF或照片")
        return value


class ContractFileSchema(Schema):
    file = ContractFileUpload(required=True, error_messages={"required": "请上传合同的PDF或照片"})


class HandoverItemInputSchema(Schema):
    """A multipart body: the item's state, a note, up to six photos (`photos`, one file each)."""

    state = _choice(ItemState, ITEM_STATE_LABELS, "请选择查验结果", required=True)
    note = text_field("查验说明", NOTE_LIMIT, required=False)
    photos = fields.List(Photo(), load_default=list,
                         validate=validate.Length(max=MAX_PHOTOS, error=f"最多上传{MAX_PHOTOS}张照片"))


class SignInputSchema(Schema):
    side = _choice(Side, SIDE_LABELS, "请选择签字方", required=True)


# ---- responses ---------------------------------------------------------------------------------------------------


class ContractChoiceSchema(Schema):
    id = fields.Integer()
    label = fields.String()


class HandoverStateSchema(Schema):
    value = fields.String()
    label = fields.String()


class SelectionSchema(Schema):
    id = fields.Integer()
    purpose = fields.String()
    purpose_label = fields.String()
    status = fields.String(metadata={"description": "voting 表决中；decided 已决定；failed 未通过"})
    status_label = fields.String()
    candidates = fields.List(fields.Nested(ContractChoiceSchema))
    topic_id = fields.Integer()
    topic_url = fields.String()
    topic_step_label = fields.String()
    contract_id = fields.Integer(allow_none=True, metadata={"description": "续聘、重新选聘、解聘所针对的合同"})
    decision_note = fields.String()
    decided_at = fields.DateTime(allow_none=True)


class ContractLineSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    company_id = fields.Integer()
    company_name = fields.String()
    status = fields.String(metadata={"description": "draft 待签订；active 履行中；ended 已到期；dismissed 已解聘"})
    status_label = fields.String()
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    url = fields.String()


class InspectionLineSchema(Schema):
    id = fields.Integer()
    direction = fields.String()
    direction_label = fields.String()
    status = fields.String()
    status_label = fields.String()
    open_items = fields.Integer()
    url = fields.String()


class ContractFileViewSchema(Schema):
    url = fields.String()
    content_type = fields.String()
    is_pdf = fields.Boolean()


class ContractDetailSchema(ContractLineSchema):
    compound_name = fields.String()
    service_level = fields.Integer(allow_none=True)
    service_level_label = fields.String()
    fee_schedule_id = fields.Integer(allow_none=True)
    fee_standard_label = fields.String()
    file = fields.Nested(ContractFileViewSchema, allow_none=True)
    activated_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    end_note = fields.String()
    selection_id = fields.Integer()
    reminders_sent = fields.List(fields.Integer(), metadata={"description": "已发送的到期提醒（距到期天数）"})
    inspections = fields.List(fields.Nested(InspectionLineSchema))
    selections = fields.List(fields.Nested(SelectionSchema))
    fee_schedules = fields.List(fields.Nested(ContractChoiceSchema))
    companies = fields.List(fields.Nested(ContractChoiceSchema))
    actions = Actions("edit、activate、start_handover、renew、reselect、dismiss：此人现在可做的")


class CompoundContractsSchema(Schema):
    compound_id = fields.Integer()
    compound_name = fields.String()
    contracts = fields.List(fields.Nested(ContractLineSchema))
    selections = fields.List(fields.Nested(SelectionSchema))
    companies = fields.List(fields.Nested(ContractChoiceSchema))
    actions = Actions("select：可发起选聘")


class HandoverPhotoSchema(Schema):
    id = fields.Integer()
    url = fields.String()


class ItemViewSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    name = fields.String()
    state = fields.String()
    state_label = fields.String()
    note = fields.String()
    is_open = fields.Boolean(metadata={"description": "未查验，或有缺陷/缺失且未整改完毕"})
    checked_by_name = fields.String()
    checked_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    photos = fields.List(fields.Nested(HandoverPhotoSchema))
    actions = Actions("record、resolve")


class SignatureSchema(Schema):
    side = fields.String()
    side_label = fields.String()
    signer_name = fields.String()
    signed_at = fields.DateTime(allow_none=True)


class HandoverDetailSchema(Schema):
    id = fields.Integer()
    contract_id = fields.Integer()
    contract_url = fields.String()
    compound_id = fields.Integer()
    company_name = fields.String()
    direction = fields.String()
    direction_label = fields.String()
    status = fields.String()
    status_label = fields.String()
    open_items = fields.Integer()
    items = fields.List(fields.Nested(ItemViewSchema))
    signatures = fields.List(fields.Nested(SignatureSchema))
    states = fields.List(fields.Nested(HandoverStateSchema))
    closed_at = fields.DateTime(allow_none=True)
    actions = Actions("sign_committee、sign_company：此人现在可签字")
