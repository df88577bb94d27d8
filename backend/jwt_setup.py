"""flask-jwt-extended wiring: revocation, the project's error shape, and implicit refresh for pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, redirect, render_template, request, url_for
from flask_jwt_extended import create_access_token, set_access_cookies

from backend.api.errors import json_error, wants_json
from backend.extensions import jwt
from backend.request_context import optional_user_id, remember_verified_token, verified_claims
from backend.services.auth import is_active_user, is_token_revoked, user_id_from_refresh_token

REFRESH_WHEN_LEFT = timedelta(minutes=10)
CSRF_MESSAGE = "安全校验失败，请刷新页面后重试"


def _unauthorized(message: str):
    if wants_json():
        return json_error(401, message)
    return redirect(url_for("h5.login", next=request.full_path))


def register_jwt(app: Flask) -> None:
    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload) -> bool:
        return is_token_revoked(payload["jti"])

    @jwt.token_verification_loader
    def _check_account_and_remember(_header, payload) -> bool:
        # Runs last, after signature, type and revocation checks: the identity is trusted once the account
        # still exists and is active (False → the 401 of token_verification_failed_loader).
        if not is_active_user(payload["sub"]):
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
    def _renew_expired_page_session():
        """The 30-minute access cookie has lapsed but the 30-day refresh cookie is good: on a page view,
        issue a new access cookie and load the page again, so residents stay signed in for weeks."""
        if not _is_page() or request.method not in ("GET", "HEAD") or optional_user_id() is not None:
            return None
        refresh_cookie = request.cookies.get(app.config["JWT_REFRESH_COOKIE_NAME"])
        user_id = user_id_from_refresh_token(refresh_cookie) if refresh_cookie else None
        if user_id is None:
            return None
        response = redirect(request.full_path.rstrip("?"))
        set_access_cookies(response, create_access_token(identity=str(user_id)))
        return response

    @app.after_request
    def _refresh_expiring_cookie(response):
        """A cookie token with under ten minutes left is replaced, using the claims already verified."""
        claims = verified_claims() if "access_token_cookie" in request.cookies else {}
        if claims.get("type") != "access" or "Authorization" in request.headers:
            return response
        left = datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC)
        if left < REFRESH_WHEN_LEFT:
            set_access_cookies(response, create_access_token(identity=claims["sub"]))
        return response


def _is_page() -> bool:
    return request.path.startswith("/h5/") and not request.path.startswith("/h5/static/")
