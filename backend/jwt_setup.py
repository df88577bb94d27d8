"""flask-jwt-extended wiring: the project's error shape for its exceptions (request_context's sign-in check raises
them too), the sign-in cache's session events, and implicit refresh for pages."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, redirect, render_template, request, url_for
from flask_jwt_extended import decode_token, set_access_cookies

from backend.errors import json_error, wants_json
from backend.extensions import jwt
from backend.request_context import current_path, optional_user_id, remember_verified_token, verified_claims
from backend.services.auth import access_token_for, access_token_from_refresh_token
from backend.services.auth_cache import watch_standing_changes

REFRESH_WHEN_LEFT = timedelta(minutes=10)
CSRF_MESSAGE = "安全校验失败，请刷新页面后重试"
_RENEWED_KEY = "linli.renewed_access_token"


def _unauthorized(message: str):
    if wants_json():
        return json_error(401, message)
    return redirect(url_for("h5.login", next=current_path()))


def register_jwt(app: Flask) -> None:
    watch_standing_changes()

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
                renewed = access_token_for(claims["sub"], claims.get("rjti", ""), claims.get("gen", 0))
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
