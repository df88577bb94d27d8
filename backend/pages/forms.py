"""A page's form is loaded by the feature's own marshmallow schema, the one its API uses: limits, required fields
and messages are written once. Templates read a field's length limit from the schema (`maxlength`)."""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from flask import request
from marshmallow import Schema, ValidationError, class_registry, fields, validate

from backend.domain.refusals import Kind, Refused
from backend.domain.text import unstorable


def form_values(schema: Schema, form: Mapping | None = None) -> dict:
    """The posted fields the schema knows, as its API body would carry them: a list field takes every value
    given, an empty entry of a non-text field counts as not given (the schema's default applies)."""
    form = request.form if form is None else form
    values: dict = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List):
            if key in form:
                values[key] = [item for item in form.getlist(key) if item != ""]
        elif key in form:
            value = form[key]
            if isinstance(field, fields.String) or value.strip():
                values[key] = value.strip()
    return values


def load_form(schema: Schema, form: Mapping | None = None, **extra) -> dict:
    """`request.form` (or `form`) loaded by `schema`, with `extra` values the page adds (ids from the URL, files).
    Refused(INVALID) with the first message, and every field's in `errors`, when the schema refuses it."""
    values = form_values(schema, form) | extra
    bad = sorted(key for key, value in values.items() if isinstance(value, str) and unstorable(value))
    if bad:
        raise Refused("含有无法保存的字符（如 NUL）", Kind.INVALID, errors={key: ["含有无法保存的字符"] for key in bad})
    try:
        return schema.load(values)
    except ValidationError as error:
        errors = _flat(error.messages)
        raise Refused(next(iter(errors.values()))[0], Kind.INVALID, errors=errors) from None


def _flat(messages, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {prefix or "_schema": [str(item) for item in messages if not isinstance(item, dict)]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        flat |= _flat(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


@cache
def maxlength(schema_name: str, field_name: str) -> int | None:
    """The length limit of a schema's text field, for a template's maxlength attribute."""
    field = class_registry.get_class(schema_name)().fields[field_name]
    limits = [rule.max for rule in _validators(field) if isinstance(rule, validate.Length) and rule.max is not None]
    return min(limits) if limits else None


def _validators(field: fields.Field) -> list:
    inner = field.inner if isinstance(field, fields.List) else None
    return list(field.validators) + (list(inner.validators) if inner is not None else [])
