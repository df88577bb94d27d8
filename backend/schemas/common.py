"""Schemas every feature shares: pagination, the list envelope, the error shape, a page's confirm step."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

MAX_ID = 2_147_483_647
MAX_PAGE = 10_000
ID = validate.Range(min=1, max=MAX_ID)
# Text that is only spaces would be stored empty once stripped.
NOT_BLANK = validate.Regexp(r"\s*\S", error="不能为空")


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ConfirmSchema(Schema):
    """A page's second submit of an action that cannot be undone: the person saw what will happen and confirmed."""

    confirm = fields.Boolean(load_default=False)


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
