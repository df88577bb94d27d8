"""Household binding (住户绑定): the request body and the bind form, the review query and the rejection, and
what presenters/bindings.py answers; limits and Chinese messages are written here once."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backend.domain.bindings import BindingStatus, Relation
from backend.schemas.actions import Actions
from backend.schemas.common import ID, PageQuery
from backend.schemas.text import text_field

CHOOSE_BUILDING = "请选择楼栋"


def _building_id(strict: bool) -> fields.Integer:
    # strict in JSON: a 1.5 must not be truncated into building 1; a form posts every number as text.
    return fields.Integer(
        required=True, strict=strict, validate=validate.Range(min=ID.min, max=ID.max, error=CHOOSE_BUILDING),
        error_messages={"required": CHOOSE_BUILDING, "null": CHOOSE_BUILDING, "invalid": CHOOSE_BUILDING},
    )


class BindingRequestSchema(Schema):
    building_id = _building_id(strict=True)
    unit = text_field("单元", 16)
    room = text_field("房号", 16)
    name = text_field("姓名", 64)
    relation = fields.Enum(
        Relation, by_value=True, required=True,
        error_messages={"required": "请选择身份", "null": "请选择身份", "unknown": "请选择身份"},
    )


class BindingFormSchema(BindingRequestSchema):
    """The bind page: the API's body as a form posts it."""

    building_id = _building_id(strict=False)


class BindingListQuery(PageQuery):
    status = fields.Enum(BindingStatus, by_value=True)


class BindingRejectSchema(Schema):
    reason = text_field("不通过的原因", 200, blank="请填写不通过的原因，申请人会看到")


class BindingHouseholdSchema(Schema):
    id = fields.Integer()
    building_name = fields.String()
    unit = fields.String()
    room = fields.String()
    floor_area_centi_m2 = fields.Integer()


class BindingSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    household = fields.Nested(BindingHouseholdSchema)
    address = fields.String(metadata={"description": "如：1栋1单元201室"})
    claimed_name = fields.String()
    relation = fields.Enum(Relation, by_value=True)
    relation_label = fields.String()
    status = fields.Enum(BindingStatus, by_value=True)
    status_label = fields.String()
    reason = fields.String()
    applicant_phone_masked = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    actions = Actions("审核人可做的事：approve, reject（待审核且不是自己的申请）")
