"""Text fields whose messages name them (请填写会议名称, 会议名称不能超过60个字), for the API's bodies and the pages'
forms alike: a resident reads the same words whichever door they came in by."""
from __future__ import annotations

from marshmallow import fields, validate


class StrippedString(fields.String):
    """Text as it is kept: without the spaces around it (a title of spaces is no title)."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


def text_field(label: str, limit: int, *, required: bool = True, blank: str | None = None) -> fields.String:
    """Required unless told: blank or missing → `blank` (by default 请填写{label}); too long → {label}不能超过{limit}个字."""
    rules = [validate.Length(max=limit, error=f"{label}不能超过{limit}个字")]
    if not required:
        return StrippedString(load_default="", validate=rules)
    blank = blank or f"请填写{label}"
    return StrippedString(
        required=True,
        validate=[validate.Length(min=1, error=blank), *rules],
        error_messages={"required": blank, "null": blank},
    )
