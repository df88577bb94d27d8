"""Who is asking: the signed-in user (JWT cookie or bearer) and the compound whose QR code they scanned.

The sign-in check (`verify_sign_in`, behind `jwt_required` and `optional_user_id`) takes a token from where
flask-jwt-extended would (its settings, its exceptions, so the error answers stay those of jwt_setup), but
verifies a token's signature once per worker: the claims are kept by the exact token string, and `exp`, the
type, the CSRF double-submit and the token's standing (services/auth_cache: one Redis round trip) are checked
on every request."""
from __future__ import annotations

import re
from functools import wraps
from hmac import compare_digest
from time import time
from urllib.parse import urlsplit

from flask import current_app, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import (
    CSRFError,
    InvalidHeaderError,
    JWTDecodeError,
    JWTExtendedException,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    WrongTokenError,
)
from jwt.exceptions import ExpiredSignatureError, PyJWTError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.urls import iri_to_uri

from backend.domain.auth import TokenStanding
from backend.policy import remember_person_version
from backend.services.auth_cache import standing_of
from backend.services.qr import EntryRefused, verify_entry_token
from backend.shared.lru import LRU

ENTRY_COOKIE = "linli_entry"
ENTRY_HEADER = "X-Entry-Token"
# Cached in the WSGI environ, which lives exactly one request: `g` lives as long as the app context, and a
# test's app context spans many requests by different users.
_USER_KEY = "linli.user_id"
_CLAIMS_KEY = "linli.jwt_claims"
# Claims of tokens whose signature this worker verified, by the exact token string: another string (one
# character changed) is another key, verified afresh. Only what PyJWT accepted is kept.
_VERIFIED_TOKENS = LRU(4096)


def remember_verified_token(claims: dict) -> None:
    """Called once a token has passed every check, so later calls in the request need not decode it again."""
    request.environ[_USER_KEY] = int(claims["sub"])
    request.environ[_CLAIMS_KEY] = claims


def verified_claims() -> dict:
    """The claims of the token verified in this request ({} when signed out)."""
    optional_user_id()
    return request.environ.get(_CLAIMS_KEY, {})


def jwt_required(refresh: bool = False, verify_type: bool = True):
    """flask-jwt-extended's decorator of the same name, through our sign-in check: a view for the signed-in."""

    def wrapper(view):
        @wraps(view)
        def signed_in_view(*args, **kwargs):
            verify_sign_in(refresh=refresh, verify_type=verify_type)
            return view(*args, **kwargs)

        return signed_in_view

    return wrapper


def verify_sign_in(optional: bool = False, refresh: bool = False, verify_type: bool = True) -> dict | None:
    """The verified claims of the request's token, else raise as flask-jwt-extended would (NoAuthorizationError
    when there is none, unless `optional`). Returns None for OPTIONS, which is never checked."""
    config = current_app.config
    if request.method == "OPTIONS":
        return None
    missing = []
    for location in config["JWT_TOKEN_LOCATION"]:
        try:
            token, csrf_value = _token_from_header() if location == "headers" else _token_from_cookie(refresh)
            break
        except NoAuthorizationError as exc:
            missing.append(str(exc))
    else:
        if optional:
            return None
        raise NoAuthorizationError("Missing JWT: " + "; ".join(missing))
    claims = _verified(token)
    if csrf_value is not None:
        if "csrf" not in claims:
            raise JWTDecodeError("Missing claim: csrf")
        # As bytes: compare_digest refuses str out of ASCII (a TypeError, a 500), and the value is the client's.
        if not compare_digest(claims["csrf"].encode(), csrf_value.encode()):
            raise CSRFError("CSRF double submit tokens do not match")
    if verify_type and (claims["type"] == "refresh") != refresh:
        raise WrongTokenError("Only refresh tokens are allowed" if refresh else "Only non-refresh tokens are allowed")
    standing = standing_of(claims)
    if standing.verdict is TokenStanding.REVOKED:
        raise RevokedTokenError({}, claims)
    if standing.verdict is not TokenStanding.GOOD:
        raise UserClaimsVerificationError("User claims verification failed", {}, claims)
    # Only a token that stands names an account, so only its `sub` is surely a user id.
    remember_person_version(int(claims["sub"]), standing.version)
    remember_verified_token(claims)
    return claims


def _verified(token: str) -> dict:
    """The token's claims, its signature verified once per worker; its expiry checked every time."""
    claims = _VERIFIED_TOKENS.get(token)
    if claims is None:
        claims = decode_token(token)  # signature, exp, nbf, iat; raises as PyJWT does
        _VERIFIED_TOKENS.put(token, claims)
    elif claims["exp"] <= time() - current_app.config["JWT_DECODE_LEEWAY"]:
        expired = ExpiredSignatureError("Signature has expired")
        expired.jwt_header, expired.jwt_data = {}, claims
        raise expired
    return dict(claims)


def _token_from_header() -> tuple[str, None]:
    name, kind = current_app.config["JWT_HEADER_NAME"], current_app.config["JWT_HEADER_TYPE"]
    value = request.headers.get(name, "").strip().strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    # The header may carry several comma-separated credentials: exactly one of our type.
    ours = [part for part in re.split(r",\s*", value) if part.split()[:1] == [kind]]
    if len(ours) != 1:
        raise NoAuthorizationError(f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'")
    words = ours[0].split()
    if len(words) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return words[1], None


def _token_from_cookie(refresh: bool) -> tuple[str, str | None]:
    config = current_app.config
    kind = "REFRESH" if refresh else "ACCESS"
    token = request.cookies.get(config[f"JWT_{kind}_COOKIE_NAME"])
    if not token:
        raise NoAuthorizationError(f'Missing cookie "{config[f"JWT_{kind}_COOKIE_NAME"]}"')
    if not (config["JWT_COOKIE_CSRF_PROTECT"] and request.method in config["JWT_CSRF_METHODS"]):
        return token, None
    csrf_value = request.headers.get(config[f"JWT_{kind}_CSRF_HEADER_NAME"])
    if not csrf_value and config["JWT_CSRF_CHECK_FORM"]:
        csrf_value = request.form.get(config[f"JWT_{kind}_CSRF_FIELD_NAME"])
    if not csrf_value:
        raise CSRFError("Missing CSRF token")
    return token, csrf_value


def optional_user_id() -> int | None:
    """The caller's user id, or None. Only an access token signs anyone in: a refresh token is for the refresh
    endpoint and the pages' implicit renewal. A cookie that does not verify (expired, revoked, the wrong type)
    counts as signed out; a bearer token an API client chose to send is refused with 401 instead, as it is on
    endpoints that need sign-in, so the client learns to refresh or sign in again."""
    if _USER_KEY not in request.environ:
        try:
            verified = verify_sign_in(optional=True)
            identity = verified["sub"] if verified else None
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
