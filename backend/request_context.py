"""Who is asking: the signed-in user (JWT cookie or bearer) and the compound whose QR code they scanned."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request
from flask_jwt_extended import verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.urls import iri_to_uri

from backend.services.qr import EntryRefused, verify_entry_token

ENTRY_COOKIE = "linli_entry"
ENTRY_HEADER = "X-Entry-Token"
# Cached in the WSGI environ, which lives exactly one request: `g` lives as long as the app context, and a
# test's app context spans many requests by different users.
_USER_KEY = "linli.user_id"
_CLAIMS_KEY = "linli.jwt_claims"


def remember_verified_token(claims: dict) -> None:
    """Called once a token has passed every check, so later calls in the request need not decode it again."""
    request.environ[_USER_KEY] = int(claims["sub"])
    request.environ[_CLAIMS_KEY] = claims


def verified_claims() -> dict:
    """The claims of the token verified in this request ({} when signed out)."""
    optional_user_id()
    return request.environ.get(_CLAIMS_KEY, {})


def optional_user_id() -> int | None:
    """The caller's user id, or None. Only an access token signs anyone in: a refresh token is for the refresh
    endpoint and the pages' implicit renewal. A cookie that does not verify (expired, revoked, the wrong type)
    counts as signed out; a bearer token an API client chose to send is refused with 401 instead, as it is on
    endpoints that need sign-in, so the client learns to refresh or sign in again."""
    if _USER_KEY not in request.environ:
        try:
            # Returns None for OPTIONS, where flask-jwt-extended checks nothing (and get_jwt_identity raises).
            verified = verify_jwt_in_request(optional=True)
            identity = verified[1]["sub"] if verified else None
        except (JWTExtendedException, PyJWTError):
            request.environ[_USER_KEY] = None
            if request.path.startswith("/api/") and "Authorization" in request.headers:
                raise
            identity = None
        except RequestEntityTooLarge:
            # A body over the limit cannot be read for the form's CSRF field: signed out for this request,
            # so its 413 page renders instead of failing again inside the error handler.
            identity = None
        request.environ[_USER_KEY] = int(identity) if identity else None
    return request.environ[_USER_KEY]


# A same-site path: one slash, then printable ASCII only. Browsers drop tabs and line breaks from URLs,
# so "/\t/evil.example" would become "//evil.example", another site.
_SAME_SITE_PATH = re.compile(r"/(?![/\\])[!-~]*")


def same_site_path(target: str | None) -> str | None:
    """`target` as an ASCII URI path when it stays on this site, else None."""
    if not target:
        return None
    uri = iri_to_uri(target)
    return uri if _SAME_SITE_PATH.fullmatch(uri) else None


def referring_page() -> str | None:
    """The path and query of the page of ours this request came from (the Referer), else None."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.scheme not in ("http", "https"):
        return None
    return same_site_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


def current_path() -> str:
    """This request's path and query, safe to put in a Location header or a ?next= value."""
    return same_site_path(request.full_path.rstrip("?")) or "/h5/"


def entry_compound_id() -> int | None:
    """The compound of a current QR entry token sent as header (API) or cookie (pages)."""
    token = request.headers.get(ENTRY_HEADER) or request.cookies.get(ENTRY_COOKIE)
    if not token:
        return None
    try:
        return verify_entry_token(token).compound_id
    except EntryRefused:
        return None


def client_ip() -> str | None:
    return request.remote_addr
