"""Large-text mode (适老化): a cookie for anonymous visitors, a setting on the account once signed in."""
from __future__ import annotations

import re
from pathlib import Path

from backend.extensions import db
from backend.models import User


def body_classes(response) -> list[str]:
    match = re.search(r'<body class="([^"]*)"', response.get_data(as_text=True))
    assert match, "page has no <body class=...>"
    return match.group(1).split()


def toggle(client, enable: bool, next_path: str = "/h5/", csrf: str | None = None):
    data = {"enable": "1" if enable else "0", "next": next_path}
    if csrf:
        data["csrf_token"] = csrf
    return client.post("/h5/settings/large-text", data=data)


def test_pages_start_in_standard_text(client):
    assert "large-text" not in body_classes(client.get("/h5/login"))


def test_anonymous_toggle_sets_cookie_and_enlarges_pages(client):
    response = toggle(client, True, "/h5/login")
    assert response.status_code == 302 and response.headers["Location"] == "/h5/login"
    assert client.get_cookie("linli_large_text").value == "1"

    page = client.get("/h5/login")
    assert "large-text" in body_classes(page)
    # The toggle now offers the way back.
    assert 'name="enable" value="0"' in page.get_data(as_text=True) and "标准字号" in page.get_data(as_text=True)

    toggle(client, False)
    assert "large-text" not in body_classes(client.get("/h5/login"))


def test_large_text_stylesheet_enlarges_the_type():
    css = (Path(__file__).resolve().parents[2] / "h5/static/css/linli.css").read_text()
    rule = re.search(r"body\.large-text\s*\{([^}]*)\}", css)
    assert rule, "linli.css has no body.large-text rule"
    assert int(re.search(r"font-size:\s*(\d+)px", rule.group(1)).group(1)) >= 20


def test_toggle_never_redirects_to_another_site(client):
    for target in ("//evil.example/", "https://evil.example/", "\\\\evil.example"):
        assert toggle(client, True, target).headers["Location"] == "/h5/"


def test_signed_in_choice_persists_on_the_account(app, client, make_user, page_sign_in):
    user = make_user()
    csrf = page_sign_in(client, user)
    assert toggle(client, True, csrf=csrf).status_code == 302
    assert db.session.get(User, user.id).large_text is True

    # Another phone, no cookie from the first one: still large after signing in.
    other_phone = app.test_client()
    assert "large-text" not in body_classes(other_phone.get("/h5/login"))
    page_sign_in(other_phone, user)
    assert other_phone.get_cookie("linli_large_text") is None
    assert "large-text" in body_classes(other_phone.get("/h5/"))

    csrf = other_phone.get_cookie("csrf_access_token").value
    toggle(other_phone, False, csrf=csrf)
    assert "large-text" not in body_classes(app.test_client().get("/h5/login"))
    fresh = app.test_client()
    page_sign_in(fresh, user)
    assert "large-text" not in body_classes(fresh.get("/h5/"))


def test_account_setting_wins_over_a_cookie_left_from_before_sign_in(client, make_user, page_sign_in):
    toggle(client, True)
    page_sign_in(client, make_user())
    assert "large-text" not in body_classes(client.get("/h5/"))


def test_signed_in_toggle_needs_csrf_token(client, make_user, page_sign_in):
    user = make_user()
    page_sign_in(client, user)
    response = toggle(client, True)
    assert response.status_code == 403 and "安全校验失败" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).large_text is False
