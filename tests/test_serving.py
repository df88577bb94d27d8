"""Pages served like a product: compressed text, versioned static URLs cached for a year, uncached pages, a
favicon."""
from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from flask import url_for

from backend.serving import IMMUTABLE, static_version

STATIC = Path(__file__).resolve().parents[1] / "h5" / "static"


def stylesheet_url(client) -> str:
    page = client.get("/h5/login").get_data(as_text=True)
    return re.search(r'href="(/h5/static/css/linli\.css\?v=[0-9a-f]+)"', page).group(1)


def test_pages_and_json_are_gzipped_when_the_browser_asks(client):
    page = client.get("/h5/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "邻里" in gzip.decompress(page.data).decode()
    assert "Accept-Encoding" in page.headers["Vary"]

    spec = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.headers["Content-Encoding"] == "gzip" and gzip.decompress(spec.data).startswith(b"{")

    css = client.get(stylesheet_url(client), headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(css.data) == (STATIC / "css/linli.css").read_bytes()


def test_nothing_is_compressed_for_a_client_that_did_not_ask(client):
    page = client.get("/h5/login", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in page.headers and "邻里" in page.get_data(as_text=True)


def test_brotli_is_preferred_where_the_browser_takes_it(client):
    page = client.get("/h5/login", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "br"


def test_versioned_static_is_immutable_and_pages_are_private(client):
    url = stylesheet_url(client)
    assert url.endswith(hashlib.sha256((STATIC / "css/linli.css").read_bytes()).hexdigest()[:12])
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE

    # An old or missing version is never promised for a year: it may name other bytes.
    for stale in ("/h5/static/css/linli.css?v=000000000000", "/h5/static/css/linli.css"):
        assert "immutable" not in client.get(stale).headers["Cache-Control"]

    cache = client.get("/h5/login").headers["Cache-Control"]
    assert "private" in cache and "public" not in cache


def test_vendor_files_are_versioned_too(app):
    with app.test_request_context():
        assert re.search(r"/vendor/weui/weui\.min\.css\?v=[0-9a-f]{12}$", url_for("static", filename="vendor/weui/weui.min.css"))
        # A file that does not exist keeps its plain URL (and answers 404, not a crash).
        assert url_for("static", filename="nope.css") == "/h5/static/nope.css"


def test_a_changed_file_gets_a_new_url(tmp_path):
    (tmp_path / "site.css").write_text("body{color:red}")
    before = static_version(str(tmp_path), "site.css")
    (tmp_path / "site.css").write_text("body{color:blue}")
    # Versions are computed once per process; a deploy (new process) sees the new file.
    assert static_version(str(tmp_path), "site.css") == before
    static_version.cache_clear()
    assert static_version(str(tmp_path), "site.css") not in (None, before)
    assert static_version(str(tmp_path), "../site.css") is None


def test_favicon_answers_and_is_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/x-icon" and icon.data[:4] == b"\x00\x00\x01\x00"
    assert re.search(r'<link rel="icon" href="/h5/static/favicon\.svg\?v=', client.get("/h5/login").get_data(as_text=True))
