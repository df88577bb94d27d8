"""Text no database can store (NUL, lone surrogates) is refused as bad input, never a 500 (found by schemathesis)."""
from __future__ import annotations

import pytest

from backend.domain.roles import Role
from backend.domain.text import unstorable
from tests.support import assert_error_shape, buildings_of


@pytest.mark.parametrize(
    ("value", "refused"),
    [("王秀英", False), ("\U00108ff2", False), ("a\x00b", True), ("\udbe3", True), ({"k": ["x", "\x00"]}, True),
     (["ok"], False), (12, False)],
)
def test_unstorable_finds_nul_and_lone_surrogates_at_any_depth(value, refused):
    assert unstorable(value) is refused


def test_binding_request_with_nul_in_a_field_is_422(client, make_compound, make_user, sign_in):
    compound = make_compound()
    headers = sign_in(make_user(role=Role.ADMIN))
    body = {"building_id": buildings_of(compound)[0].id, "unit": "1", "room": "1\x0001", "name": "王", "relation": "owner"}

    response = client.post(f"/api/v1/compounds/{compound.id}/bindings", json=body, headers=headers)

    assert_error_shape(response, 422)
    assert list(response.json["errors"]["json"]) == ["room"]


def test_password_with_a_lone_surrogate_is_422(client):
    # Written by hand: json.dumps cannot produce the escape of a lone surrogate from a str that has one.
    raw = '{"username": "admin", "password": "\\udbe3"}'

    response = client.post("/api/v1/auth/password", data=raw, content_type="application/json")

    assert_error_shape(response, 422)


def test_nul_in_a_query_string_is_422(client, make_user, sign_in):
    response = client.get("/api/v1/compounds?page=1%00", headers=sign_in(make_user(role=Role.ADMIN)))

    assert_error_shape(response, 422)


def test_nul_in_a_page_form_is_400_not_500(client):
    response = client.post("/h5/login/password", data={"username": "a\x00b", "password": "x"})

    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/h5/c/%00", "/h5/c/%00/work-orders", "/h5/c/a%00b/work-orders/figures"])
def test_nul_in_a_compound_code_is_a_404_page(client, path):
    response = client.get(path)

    assert response.status_code == 404 and response.mimetype == "text/html"
