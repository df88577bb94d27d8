"""Schemas of the governance API: a compound's party organisation and self-governance body with history, area
coverage, first secretaries and their monthly log."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backend.domain.compounds import GovernanceBody, PartyOrgForm
from backend.domain.governance import MAX_GOALS_CHARS, MAX_LOG_CHARS, MAX_MEMBERS

_MEMBERS = validate.Range(0, MAX_MEMBERS)


class GovernanceInputSchema(Schema):
    """The fields to change; a field left out stays as it is."""

    party_org_form = fields.Enum(PartyOrgForm, by_value=True)
    party_secretary_name = fields.String(validate=validate.Length(max=64))
    party_members = fields.Integer(validate=_MEMBERS)
    body = fields.Enum(GovernanceBody, by_value=True)
    body_formed_on = fields.Date(allow_none=True)
    body_term_ends_on = fields.Date(allow_none=True)
    body_members = fields.Integer(validate=_MEMBERS)


class GovernanceStateSchema(Schema):
    party_org_form = fields.Enum(PartyOrgForm, by_value=True, required=True)
    party_org_form_label = fields.String(required=True)
    party_secretary_name = fields.String(required=True)
    party_members = fields.Integer(required=True)
    body = fields.Enum(GovernanceBody, by_value=True, required=True)
    body_label = fields.String(required=True)
    body_formed_on = fields.Date(allow_none=True, required=True)
    body_term_ends_on = fields.Date(allow_none=True, required=True)
    body_members = fields.Integer(required=True)


class GovernanceRecordSchema(GovernanceStateSchema):
    id = fields.Integer(required=True)
    changed = fields.List(fields.String(), required=True)
    changed_labels = fields.List(fields.String(), required=True)
    source = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class FirstSecretarySchema(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True, required=True)
    goals = fields.String(required=True)


class GovernanceSchema(Schema):
    compound_id = fields.Integer(required=True)
    compound_name = fields.String(required=True)
    current = fields.Nested(GovernanceStateSchema, required=True)
    history = fields.List(fields.Nested(GovernanceRecordSchema), required=True)
    first_secretary = fields.Nested(FirstSecretarySchema, allow_none=True, required=True)
    actions = fields.List(fields.String(), required=True)


class CoverageLineSchema(Schema):
    value = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)
    basis_points = fields.Integer(required=True)


class CoverageSchema(Schema):
    area_id = fields.Integer(required=True)
    area_name = fields.String(required=True)
    compounds = fields.Integer(required=True)
    party_forms = fields.List(fields.Nested(CoverageLineSchema), required=True)
    bodies = fields.List(fields.Nested(CoverageLineSchema), required=True)
    with_party_org = fields.Nested(CoverageLineSchema, required=True)
    with_body = fields.Nested(CoverageLineSchema, required=True)


class AssignFirstSecretarySchema(Schema):
    """Who: an existing user's id, or a phone (and a name for someone not yet signed in)."""

    user_id = fields.Integer(validate=validate.Range(1, 2_147_483_647))
    phone = fields.String(validate=validate.Length(max=20))
    name = fields.String(load_default="", validate=validate.Length(max=64))
    started_on = fields.Date(required=True)
    goals = fields.String(required=True, validate=validate.Length(min=1, max=MAX_GOALS_CHARS))

    @validates_schema
    def _someone(self, data, **kwargs):
        if not data.get("user_id") and not data.get("phone"):
            raise ValidationError("请填写用户编号或手机号", "phone")


class LogInputSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_LOG_CHARS))


class LogSchema(Schema):
    month = fields.Date(required=True)
    body = fields.String(required=True)
    editable = fields.Boolean(required=True)
    updated_at = fields.DateTime(required=True)


class LogListSchema(Schema):
    first_secretary = fields.Nested(FirstSecretarySchema, required=True)
    compound_id = fields.Integer(required=True)
    compound_name = fields.String(required=True)
    items = fields.List(fields.Nested(LogSchema), required=True)
    actions = fields.List(fields.String(), required=True)


class AreaLogQuery(Schema):
    month = fields.Date(required=True, metadata={"description": "该月任一天，如 2026-12-01"})


class AreaLogSchema(Schema):
    first_secretary_id = fields.Integer(required=True)
    compound_id = fields.Integer(required=True)
    compound_name = fields.String(required=True)
    secretary_name = fields.String(required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True, required=True)
    goals = fields.String(required=True)
    log = fields.String(allow_none=True, required=True)


class AreaLogListSchema(Schema):
    items = fields.List(fields.Nested(AreaLogSchema), required=True)
