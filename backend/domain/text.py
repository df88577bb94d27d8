"""Text a database can store: no NUL (PostgreSQL refuses it) and no lone surrogate (it has no UTF-8 form)."""
from __future__ import annotations

from collections.abc import Mapping


def unstorable(value) -> bool:
    """True when `value`, or any string inside a mapping or list of it, could not be stored."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(unstorable(key) or unstorable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(unstorable(item) for item in value)
    return False
