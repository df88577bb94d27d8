"""flask-jwt-extended wiring: revocation, the project's error shape, and implicit refresh for pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, redirect, render_template, request, url_for
from flask_jwt_extended import decode_token, set_access_cookies

from backend.domain.auth import TokenStanding
from backend.errors import json_error, wants_json
from backend.extensions import jwt
from backend.request_context import current_path, optional_user_id, remember_verified_token, verified_claims
from backend.services.auth import access_token_for, access_token_from_refresh_token, standing_of

REFRESH_WHEN_LEFT = timedelta(minutes=10)
CSRF_MESSAGE = "安全校验失败，请刷新页面后重试"
_RENEWED_KEY = "linli.renewed_access_token"
_STANDING_KEY = "linli.token_standing"


def _standing(payload: dict) -> TokenStanding:
    """Asked by the revocation check, then by the account check: one query answers both, once per request."""
    cached = request.environ.get(_STANDING_KEY)
    if cached is None or cached[0] != payload["jti"]:
        cached = request.environ[_STANDING_KEY] = (payload["jti"], standing_of(payload))
    return cached[1]


def _unauthorized(message: str):
    if wants_json():
        return json_error(401, message)
    return redirect(url_for("h5.login", next=current_path()))


def register_jwt(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload) -> bool:
        return _standing(payload) is TokenStanding.REVOKED

    @jwt.token_verification_loader
    def _check_account_and_remember(_header, payload) -> bool:
        # Runs last, after signature, type and revocation checks: the identity is trusted once the account
        # still exists and is active (False → the 401 of token_verification_failed_loader).
        if _standing(payload) is not TokenStanding.GOOD:
            return False
        remember_verified_token(payload)
        return True

    @jwt.token_verification_failed_loader
    def _inactive_account(_header, _payload):
        return _unauthorized("账号不存在或已停用")

    @jwt.unauthorized_loader
    def _missing(reason: str):
        if "CSRF" in reason:
            if wants_json():
                return json_error(401, CSRF_MESSAGE)
            return render_template("error.html", code=403, message=CSRF_MESSAGE), 403
        return _unauthorized("请先登录")

    @jwt.invalid_token_loader
    def _invalid(reason: str):
        return _unauthorized("登录凭证无效，请重新登录")

    @jwt.expired_token_loader
    def _expired(_header, _payload):
        return _unauthorized("登录已过期，请重新登录")

    @jwt.revoked_token_loader
    def _revoked_response(_header, _payload):
        return _unauthorized("已退出登录，请重新登录")

    @jwt.needs_fresh_token_loader
    def _needs_fresh(_header, _payload):
        return _unauthorized("请重新登录以确认身份")

    @app.before_request
    def _keep_page_session():
        """Page views keep residents signed in. An access cookie with under ten minutes left is replaced
        before the page renders, so its forms carry the new token's CSRF value (POSTs never renew: a
        logout must not hand out a new token). One that has lapsed is renewed from the 30-day refresh
        cookie and the page loaded again."""
        if not _is_page() or request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
            return None
        if optional_user_id() is not None:
            claims = verified_claims()
            left = datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC)
            if left < REFRESH_WHEN_LEFT:
                renewed = access_token_for(claims["sub"], claims.get("rjti", ""))
                request.environ[_RENEWED_KEY] = renewed
                remember_verified_token(decode_token(renewed))
            return None
        refresh_cookie = request.cookies.get(app.config["JWT_REFRESH_COOKIE_NAME"])
        renewed = access_token_from_refresh_token(refresh_cookie) if refresh_cookie else None
        if renewed is None:
            return None
        response = redirect(current_path())
        set_access_cookies(response, renewed)
        return response

    @app.after_request
    def _set_renewed_cookie(response):
        renewed = request.environ.get(_RENEWED_KEY)
        if renewed:
            set_access_cookies(response, renewed)
        return response


def _is_page() -> bool:
    return request.path.startswith("/h5/") and not request.path.startswith("/h5/static/")
