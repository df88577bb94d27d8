"""Page-test helpers: enter a compound by its QR link and sign in through the real password form."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from backend.services import qr as qr_service
from tests.support import TEST_PASSWORD


@pytest.fixture
def scan():
    """Follow the compound's (or a building's) printed QR link, as the phone would after scanning."""

    def scan(client, compound, building=None):
        url = urlsplit(qr_service.entry_url(compound, building))
        response = client.get(f"{url.path}?{url.query}")
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response

    return scan


@pytest.fixture
def page_sign_in():
    """Sign in with the staff password form; returns the CSRF double-submit value forms must carry."""

    def sign_in(client, user) -> str:
        response = client.post("/h5/login/password", data={"username": user.username, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client.get_cookie("csrf_access_token").value

    return sign_in
