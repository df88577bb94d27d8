"""flask-jwt-extended wiring: revocation, the project's error shape, and implicit refresh for pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, redirect, render_template, request, url_for
from flask_jwt_extended import (
    create_access_token,
    get_jwt,
    get_jwt_identity,
    set_access_cookies,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError

from backend.api.errors import json_error, wants_json
from backend.extensions import jwt
from backend.request_context import remember_user_id
from backend.services.auth import active_user, is_token_revoked

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
    def _remember_user(_header, payload) -> bool:
        # Runs last, after signature, type and revocation checks: the identity is now trusted.
        remember_user_id(int(payload["sub"]))
        return True

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

    @jwt.user_lookup_loader
    def _user(_header, payload):
        # None makes every protected endpoint answer 401 (user_lookup_error_loader below), not crash later.
        return active_user(payload["sub"])

    @jwt.revoked_token_loader
    def _revoked_response(_header, _payload):
        return _unauthorized("已退出登录，请重新登录")

    @jwt.needs_fresh_token_loader
    def _needs_fresh(_header, _payload):
        return _unauthorized("请重新登录以确认身份")

    @jwt.user_lookup_error_loader
    def _no_user(_header, _payload):
        return _unauthorized("账号不存在或已停用")

    @app.after_request
    def _refresh_expiring_cookie(response):
        """Pages keep working past the 30-minute access token as long as the browser holds the cookie."""
        if request.path.startswith("/h5/static") or "access_token_cookie" not in request.cookies:
            return response
        try:
            verify_jwt_in_request(optional=True, locations=["cookies"], verify_type=False)
            claims = get_jwt()
        except (JWTExtendedException, PyJWTError):
            return response
        if claims.get("type") == "access" and claims.get("exp"):
            left = datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC)
            if left < REFRESH_WHEN_LEFT:
                set_access_cookies(response, create_access_token(identity=get_jwt_identity()))
        return response
