"""Schemas every API module shares: pagination, the list envelope, the error shape."""
from __future__ import annotations

from collections.abc import Mapping

from flask_smorest import abort
from marshmallow import Schema, ValidationError, fields, validate
from webargs import core
from webargs.flaskparser import FlaskParser

from backend.domain.text import nested_deeper_than, unstorable

MAX_ID = 2_147_483_647
MAX_PAGE = 10_000
ID = validate.Range(min=1, max=MAX_ID)
# Text that is only spaces would be stored empty once stripped.
NOT_BLANK = validate.Regexp(r"\s*\S", error="不能为空")
# No body of ours nests more than a few levels; a deeper one is an attack on the decoder or the validators.
MAX_JSON_DEPTH = 32


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ApiErrorSchema(Schema):
    code = fields.Integer(required=True)
    status = fields.String(required=True)
    message = fields.String(required=True)
    errors = fields.Dict()


_envelopes: dict[str, type[Schema]] = {}


def envelope(item_schema: type[Schema]) -> type[Schema]:
    """The list envelope {items, total, page, page_size} around one item schema (one OpenAPI component each)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _envelopes:
        _envelopes[name] = type(
            name,
            (Schema,),
            {
                "items": fields.List(fields.Nested(item_schema), required=True),
                "total": fields.Integer(required=True),
                "page": fields.Integer(required=True),
                "page_size": fields.Integer(required=True),
            },
        )
    return _envelopes[name]


class ArgumentsParser(FlaskParser):
    """webargs' parser, refusing a JSON body nested too deep with a 400 and unstorable text in any argument
    with a 422, before a schema sees them."""

    def load_json(self, req, schema):
        try:
            data = super().load_json(req, schema)
        except RecursionError:
            data = None  # the decoder itself gave up: deeper than anything the check below would let through
        else:
            if data is core.missing or not nested_deeper_than(data, MAX_JSON_DEPTH):
                return data
        abort(400, message=f"JSON 嵌套层数过多（最多{MAX_JSON_DEPTH}层）")

    def pre_load(self, location_data, *, schema, req, location):
        if not isinstance(location_data, Mapping):
            return location_data  # a JSON list or scalar: the schema itself reports the wrong type
        bad = [key for key, value in location_data.items() if unstorable(key) or unstorable(value)]
        if bad:
            raise ValidationError(
                {("_schema" if unstorable(key) else key): ["含有无法保存的字符（如 NUL）"] for key in bad}
            )
        return location_data
