"""The signed-in person (/me) and what they may change about themselves: the API's body and the large-text
switch of every page."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backend.schemas.bindings import BindingSchema
from backend.schemas.common import NOT_BLANK
from backend.schemas.places import MembershipSchema


class MeSchema(Schema):
    id = fields.Integer()
    display_name = fields.String()
    username = fields.String(allow_none=True)
    phone_masked = fields.String(allow_none=True)
    has_wechat = fields.Boolean()
    large_text = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipSchema))
    bindings = fields.List(fields.Nested(BindingSchema))


class MeUpdateSchema(Schema):
    large_text = fields.Boolean()
    display_name = fields.String(validate=[validate.Length(min=1, max=64), NOT_BLANK])
