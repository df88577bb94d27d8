"""Sessions on pages end when they should and are renewed only when they should, and no link or form
from another site can steer them (findings of the foundation review, each proved before it was fixed)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BindingRequest
from tests.support import TEST_PASSWORD, first_household

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def new_access_cookie(response) -> str | None:
    """The access token a response hands out ('' when it clears the cookie, None when it does not touch it)."""
    for line in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(line)
        if "access_token_cookie" in cookie:
            return cookie["access_token_cookie"].value
    return None


@pytest.fixture
def committee(make_compound, make_user):
    compound = make_compound()
    return compound, make_user(role=Role.COMMITTEE, compound=compound, username="li.committee")


def sign_in_page(client, username="li.committee"):
    response = client.post("/h5/login/password", data={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_logout_in_the_last_minutes_of_a_token_hands_out_no_new_one(client, committee):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in_page(client)
        traveller.shift(timedelta(minutes=25))
        csrf = client.get_cookie("csrf_access_token").value

        response = client.post("/h5/logout", data={"csrf_token": csrf})

        assert response.status_code == 302
        assert new_access_cookie(response) == ""
        assert client.get("/api/v1/me").status_code == 401


def test_a_form_rendered_in_the_renewal_window_still_posts(client, committee, make_user):
    compound, _ = committee
    applicant = make_user()
    binding = BindingRequest(user_id=applicant.id, compound_id=compound.id, household_id=first_household(compound).id,
                             claimed_name="王芳", relation="owner", status="pending")
    db.session.add(binding)
    db.session.commit()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in_page(client)
        traveller.shift(timedelta(minutes=25))
        page = client.get(f"/h5/c/{compound.code}/bindings")
        assert new_access_cookie(page)  # renewed before rendering
        csrf = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]

        decided = client.post(f"/h5/bindings/{binding.id}/approve", data={"csrf_token": csrf})

        assert decided.status_code == 302
        assert db.session.get(BindingRequest, binding.id).status == "approved"


def test_api_logout_with_the_access_token_alone_also_ends_its_refresh_token(client, committee):
    tokens = client.post("/api/v1/auth/password", json={"username": "li.committee", "password": TEST_PASSWORD}).json
    client.delete_cookie("access_token_cookie")
    client.delete_cookie("refresh_token_cookie")

    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 204

    refreshed = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refreshed.status_code == 401


@pytest.mark.parametrize("next_path", ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "//evil.example"])
def test_sign_in_never_redirects_off_site(client, committee, next_path):
    response = client.post("/h5/login/password",
                           data={"username": "li.committee", "password": TEST_PASSWORD, "next": next_path})
    location = response.headers["Location"]
    assert response.status_code == 302
    # Stays on this site: a path, with nothing a browser would read as a second slash.
    assert location.startswith("/") and not location.startswith("//") and location.isascii()
    assert not any(character in location for character in "\\\t\n\r")


def test_options_with_a_sign_in_cookie_is_not_an_error(client, committee):
    sign_in_page(client)
    for path in ("/h5/", "/api/v1/me", "/healthz"):
        assert client.open(path, method="OPTIONS").status_code < 500


def test_a_line_break_in_a_path_renewed_from_the_refresh_cookie_is_not_an_error(client, committee):
    with time_machine.travel(START, tick=False) as traveller:
        sign_in_page(client)
        traveller.shift(timedelta(hours=2))
        response = client.get("/h5/c/a%0Ab")
        assert response.status_code < 500


def test_a_form_posted_from_another_site_is_refused(client, committee):
    cross = client.post("/h5/login/password", data={"username": "li.committee", "password": TEST_PASSWORD},
                        headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "安全校验失败" in cross.get_data(as_text=True)
    fetch_metadata = client.post("/h5/login/password", data={"username": "li.committee", "password": TEST_PASSWORD},
                                 headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch_metadata.status_code == 403
    same_site = client.post("/h5/login/password", data={"username": "li.committee", "password": TEST_PASSWORD},
                            headers={"Origin": "http://localhost"})
    assert same_site.status_code == 302


def test_a_wechat_callback_link_from_another_browser_does_not_sign_this_one_in(app):
    attacker, victim = app.test_client(), app.test_client()
    start = attacker.get("/h5/auth/wechat/start?next=/h5/")
    callback = attacker.get(start.headers["Location"]).headers["Location"]
    assert parse_qs(urlsplit(callback).query)["code"]

    response = victim.get(callback)

    assert response.status_code == 400 and "登录已超时" in response.get_data(as_text=True)
    assert victim.get("/api/v1/me").status_code == 401
    assert attacker.get(callback).status_code == 302  # the browser that started it is signed in


def test_poster_with_a_building_id_too_large_for_the_database_is_404(client, committee):
    compound, _ = committee
    sign_in_page(client)
    assert client.get(f"/h5/c/{compound.code}/poster?building_id=9223372036854775808").status_code == 404
