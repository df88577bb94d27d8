"""The `actions` a presenter answers (what this person may do here), dumped as a sorted list of names."""
from __future__ import annotations

from marshmallow import fields


class Actions(fields.List):
    """A set of action names, always in one order (a set has none, and clients compare answers)."""

    def __init__(self, description: str, **kwargs):
        super().__init__(fields.String(), metadata={"description": description}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else sorted(str(action) for action in value)
