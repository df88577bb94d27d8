"""Serving (issue 15, item 8), as a reviewer probed it: compression, versioned static files, HEAD and conditional
requests, and odd static URLs (404, never 500)."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from backend.domain.roles import Role
from backend.services.auth import issue_tokens

STATIC = Path(__file__).resolve().parents[1] / "h5" / "static"


def stylesheet_url(client) -> str:
    page = client.get("/h5/login").get_data(as_text=True)
    return re.search(r'href="(/h5/static/css/linli\.css\?v=[0-9a-f]+)"', page).group(1)


@pytest.mark.parametrize("path", ["/h5/static/a%00b.css", "/h5/static/css/%00", "/h5/static/a%00b.css?v=abc"],
                         ids=["nul", "nul-in-folder", "nul-versioned"])
def test_a_static_url_with_a_nul_is_a_404_not_a_500(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/h5/static/../../backend/config.py", "/h5/static/%2e%2e/%2e%2e/pyproject.toml",
                                  "/h5/static/..%2f..%2fpyproject.toml", "/h5/static/css/missing.css?v=0123456789ab",
                                  "/h5/static/css", "/h5/static/" + "a" * 5000 + ".css"],
                         ids=["dotdot", "encoded-dotdot", "encoded-slash", "missing-versioned", "folder", "long"])
def test_static_paths_outside_or_missing_are_404(client, path):
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_head_of_a_page_and_a_stylesheet_answers_like_get_without_a_body(client):
    for url in ("/h5/login", stylesheet_url(client)):
        got = client.get(url, headers={"Accept-Encoding": "gzip"})
        head = client.head(url, headers={"Accept-Encoding": "gzip"})
        assert head.status_code == 200 and head.data == b""
        assert head.headers.get("Content-Encoding") == got.headers.get("Content-Encoding")
        assert head.headers["Content-Length"] == got.headers["Content-Length"]


def test_a_compressed_stylesheet_revalidates_to_a_304(client):
    url = stylesheet_url(client)
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in first.headers["Vary"]
    etag = first.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    # The identity and the gzip bodies are different bytes: they must not share one strong validator.
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.headers.get("ETag") != etag


def test_a_range_of_a_compressed_stylesheet_is_bytes_of_the_file(client):
    url = stylesheet_url(client)
    part = client.get(url, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    whole = (STATIC / "css/linli.css").read_bytes()
    if part.status_code == 206:
        body = gzip.decompress(part.data) if part.headers.get("Content-Encoding") == "gzip" else part.data
        assert body == whole[:100]
    else:
        assert part.status_code == 200 and gzip.decompress(part.data) == whole


def test_the_favicon_varies_on_accept_encoding(client):
    icon = client.get("/favicon.ico", headers={"Accept-Encoding": "gzip"})
    assert icon.status_code == 200 and "Accept-Encoding" in icon.headers.get("Vary", "")


def test_qr_codes_arrive_whole_whatever_the_browser_accepts(client, make_compound, make_user):
    compound = make_compound()
    staff = make_user(Role.STAFF, compound)
    auth = {"Authorization": f"Bearer {issue_tokens(staff)[0]}"}
    plain_png = client.get(f"/api/v1/compounds/{compound.id}/qr.png", headers=auth | {"Accept-Encoding": "identity"})
    png = client.get(f"/api/v1/compounds/{compound.id}/qr.png", headers=auth | {"Accept-Encoding": "gzip, br"})
    assert png.status_code == 200 and "Content-Encoding" not in png.headers and png.data == plain_png.data
    assert png.data.startswith(b"\x89PNG")
    svg = client.get(f"/api/v1/compounds/{compound.id}/qr.svg", headers=auth | {"Accept-Encoding": "gzip"})
    assert svg.status_code == 200
    body = gzip.decompress(svg.data) if svg.headers.get("Content-Encoding") == "gzip" else svg.data
    assert b"<svg" in body and int(svg.headers["Content-Length"]) == len(svg.data)
