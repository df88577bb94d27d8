"""治理骨干 roster: the keeper's entry, the volunteer's application, a decision's note, the roster query, and what
presenters/backbones.py answers; limits and Chinese messages are written here once."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from backend.domain.backbones import (
    MAX_SKILLS,
    NAME_LIMIT,
    NOTE_LIMIT,
    SKILL_LIMIT,
    BackboneKind,
    BackboneRefused,
    BackboneStatus,
    skills_of,
)
from backend.schemas.actions import Actions
from backend.schemas.common import ID
from backend.schemas.text import text_field

CHOOSE_KIND = "请选择骨干类别"
CHOOSE_BUILDING = "请选择本小区的楼栋"
ROSTER_STATUSES = ("live", BackboneStatus.ENDED.value, BackboneStatus.DECLINED.value)


def _kind(**kwargs) -> fields.Enum:
    return fields.Enum(BackboneKind, by_value=True, error_messages={
        "required": CHOOSE_KIND, "null": CHOOSE_KIND, "unknown": CHOOSE_KIND}, **kwargs)


def _building_id(strict: bool) -> fields.Integer:
    # strict in JSON: a 1.5 must not be truncated into building 1; a form posts every number as text.
    return fields.Integer(load_default=None, allow_none=True, strict=strict,
                          validate=validate.Range(min=ID.min, max=ID.max, error=CHOOSE_BUILDING),
                          error_messages={"invalid": CHOOSE_BUILDING})


def _skills() -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(max=SKILL_LIMIT, error=f"每项特长不超过{SKILL_LIMIT}个字")),
        load_default=list, validate=validate.Length(max=MAX_SKILLS, error=f"特长最多{MAX_SKILLS}项"),
        metadata={"description": "特长标签，如 水电维修、调解"},
    )


class SkillsText(fields.String):
    """The form's one text box of tags (水电，调解 书法): split and checked by the rule the service applies."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return skills_of(text)
        except BackboneRefused as refused:
            raise ValidationError(refused.message) from None


class BackboneAddSchema(Schema):
    name = text_field("姓名或名称", NAME_LIMIT)
    kind = _kind(required=True)
    skills = _skills()
    building_id = _building_id(strict=True)
    since = fields.Date(load_default=None, allow_none=True, error_messages={"invalid": "请填写正确的日期"},
                        metadata={"description": "任职或加入日期，默认今天"})
    phone = text_field("手机号", 20, required=False)
    note = text_field("备注", NOTE_LIMIT, required=False)


class BackboneAddForm(BackboneAddSchema):
    """The keeper's page: the API's body as a form posts it."""

    skills = SkillsText(load_default=list, validate=validate.Length(max=100))
    building_id = _building_id(strict=False)


class BackboneVolunteerSchema(Schema):
    name = text_field("姓名", NAME_LIMIT)
    kind = _kind(load_default=BackboneKind.VOLUNTEER, metadata={"description": "volunteer、capable 或 party_member"})
    skills = _skills()
    building_id = _building_id(strict=True)
    note = text_field("自我介绍", NOTE_LIMIT, required=False)


class BackboneVolunteerForm(BackboneVolunteerSchema):
    skills = SkillsText(load_default=list, validate=validate.Length(max=100))
    building_id = _building_id(strict=False)


class BackboneNoteSchema(Schema):
    note = text_field("说明", NOTE_LIMIT, required=False)


class BackboneRosterQuery(Schema):
    status = fields.String(load_default="live", validate=validate.OneOf(ROSTER_STATUSES),
                           metadata={"description": "管理人员可查看：live（在册与待确认）、ended、declined"})
    kind = fields.Enum(BackboneKind, by_value=True, load_default=None)


class BackboneMemberSchema(Schema):
    id = fields.Integer()
    compound_id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(BackboneKind, by_value=True)
    kind_label = fields.String()
    skills = fields.List(fields.String())
    building_id = fields.Integer(allow_none=True)
    building_name = fields.String(allow_none=True)
    since = fields.Date()
    status = fields.Enum(BackboneStatus, by_value=True)
    status_label = fields.String()
    has_account = fields.Boolean()
    note = fields.String(metadata={"description": "仅管理人员与本人可见"})
    actions = Actions("管理人员可做的事：confirm、decline（待确认）、end（在册）")


class BackboneGroupSchema(Schema):
    kind = fields.Enum(BackboneKind, by_value=True)
    kind_label = fields.String()
    items = fields.List(fields.Nested(BackboneMemberSchema))


class BackboneRosterSchema(Schema):
    compound_id = fields.Integer()
    compound_name = fields.String()
    keeps = fields.Boolean(metadata={"description": "是否为名册管理人员（党组织书记、社区）"})
    status = fields.String()
    groups = fields.List(fields.Nested(BackboneGroupSchema))
    pending = fields.Integer(metadata={"description": "待确认的申请数（管理人员）"})
    mine = fields.List(fields.Nested(BackboneMemberSchema), metadata={"description": "我自己的登记与申请"})
    actions = Actions("add（管理人员登记）、volunteer（认证住户申请）")


class BackboneKindCountSchema(Schema):
    kind = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class BackboneCountsSchema(Schema):
    total = fields.Integer(required=True)
    by_kind = fields.List(fields.Nested(BackboneKindCountSchema), required=True)


class BackboneAreaSchema(BackboneCountsSchema):
    compounds_with_roster = fields.Integer(required=True)
