"""A JSON body nested deeper than any of ours is refused with a 400 in the error shape, however deep, never a
500 (found by probing `/auth/sms/request` with 400 levels without signing in)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.api.arguments import MAX_JSON_DEPTH
from backend.domain.text import nested_deeper_than
from tests.support import assert_error_shape


def _nested(depth: int, leaf: str = "13800138000") -> str:
    return "[" * depth + f'"{leaf}"' + "]" * depth


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 400, 5_000, 200_000])
def test_a_phone_nested_deeper_than_the_limit_is_a_400_without_signing_in(client, depth):
    response = client.post("/api/v1/auth/sms/request", data='{"phone": ' + _nested(depth) + "}",
                           content_type="application/json")

    assert_error_shape(response, 400)
    assert str(MAX_JSON_DEPTH) in response.json["message"]


def test_a_body_within_the_limit_reaches_the_schema(client):
    # The object is the first level: 31 lists inside it make 32.
    response = client.post("/api/v1/auth/sms/request", data='{"phone": ' + _nested(MAX_JSON_DEPTH - 1) + "}",
                           content_type="application/json")

    assert_error_shape(response, 422)
    assert list(response.json["errors"]["json"]) == ["phone"]


def test_deep_objects_are_refused_like_deep_lists(client):
    body = '{"a": ' * 600 + "1" + "}" * 600

    response = client.post("/api/v1/auth/password", data=body, content_type="application/json")

    assert_error_shape(response, 400)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_json = st.recursive(st.none() | st.integers() | st.text(max_size=3),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
                     max_leaves=30)


@given(_json, st.integers(min_value=0, max_value=8))
def test_nested_deeper_than_agrees_with_the_recursive_depth(value, limit):
    assert nested_deeper_than(value, limit) is (_depth(value) > limit)


def test_nested_deeper_than_walks_a_million_levels_without_recursing():
    value: list = []
    for _ in range(1_000_000):
        value = [value]

    assert nested_deeper_than(value, MAX_JSON_DEPTH)
