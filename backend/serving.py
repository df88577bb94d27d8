"""How pages and files travel to a phone on 3G: compressed, static files under versioned URLs cached for a year,
HTML never cached by anyone but the signed-in person's own browser, and a favicon."""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Flask, Response, request, send_from_directory
from flask_compress import Compress

compress = Compress()

# What is worth compressing: text. Photos and the QR PNGs are compressed already.
COMPRESSED_MIMETYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon",
]
# Below about one TCP packet the header and the CPU cost more than the bytes saved.
COMPRESS_MIN_SIZE = 1024
# A versioned URL names one content for ever: browsers keep it a year without asking again.
IMMUTABLE = "public, max-age=31536000, immutable"
# An unversioned static URL (a link kept from an older page) may change: ask each time.
REVALIDATE = "public, no-cache"
# Pages carry the signed-in person's data: no shared cache may keep them, and the browser asks each time.
PRIVATE_PAGE = "private, no-cache"
VERSION_ARG = "v"
FAVICON = "favicon.ico"


@functools.lru_cache(maxsize=1024)
def static_version(folder: str, filename: str) -> str | None:
    """A short hash of the file's bytes, computed once per process (a deploy restarts the process); None for a
    file that does not exist, so its URL stays as asked."""
    path = Path(folder) / filename
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        # ValueError: a NUL in the name (a crafted URL); it names no file.
        return None
    if not resolved.is_file() or not resolved.is_relative_to(Path(folder).resolve()):
        return None
    return hashlib.sha256(resolved.read_bytes()).hexdigest()[:12]


def init_serving(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_MIMETYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", COMPRESS_MIN_SIZE)
    # Brotli where the browser takes it (every WeChat and Chromium does), gzip for the rest. Nothing is
    # compressed as a stream: flask-compress streams only with algorithms curl and old clients lack.
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    compress.init_app(app)

    @app.url_defaults
    def _version_static_urls(endpoint: str, values: dict) -> None:
        # Every url_for("static", filename=…) in templates and code gets the file's content hash, so a changed
        # file gets a new URL and the old one may be cached for a year.
        if endpoint == "static" and "filename" in values and VERSION_ARG not in values:
            version = static_version(app.static_folder, values["filename"])
            if version:
                values[VERSION_ARG] = version

    @app.after_request
    def _cache_headers(response: Response) -> Response:
        if request.endpoint == "static":
            current = static_version(app.static_folder, (request.view_args or {}).get("filename", ""))
            asked = request.args.get(VERSION_ARG)
            response.headers["Cache-Control"] = IMMUTABLE if asked and asked == current else REVALIDATE
            if response.mimetype in COMPRESSED_MIMETYPES and response.status_code == 200:
                # Read the (small, text) file into memory so it is compressed whole; this hook runs before
                # flask-compress's, which skips a response still streamed from the file.
                response.direct_passthrough = False
                response.make_sequence()
        elif response.mimetype == "text/html" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = PRIVATE_PAGE
        return response

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for /favicon.ico whatever the page links; it cannot be versioned, so a day's cache.
        return send_from_directory(app.static_folder, FAVICON, mimetype="image/x-icon", max_age=86400)


def evidence_response(data: bytes, content_type: str, filename: str, inline_photo: bool = True) -> Response:
    """An evidence file (an agreement, a voucher, a quote, a posted report) for the one person who may read it. A
    photo may show in the page; a PDF is only ever downloaded, and opened from here it runs nothing of ours (no
    script, no same-origin rights)."""
    response = Response(data, mimetype=content_type)
    disposition = "inline" if inline_photo and content_type.startswith("image/") else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
