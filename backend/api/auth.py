"""Sign-in endpoints: password, SMS one-time code, WeChat; refresh, logout, and logout everywhere.

A failed sign-in is 401, which no refusal kind says (who you are was not shown): the views answer it themselves.
Too many codes (429) and the SMS provider or the code store out of reach (503) are refusals like any other."""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_jwt_extended import set_access_cookies, set_refresh_cookies, unset_jwt_cookies
from flask_smorest import Blueprint, abort

from backend.domain.auth import LOGIN_KIND_APPS
from backend.domain.phones import InvalidPhone
from backend.rate_limits import limit_by_address, limit_password_sign_in, limit_phone_sign_in
from backend.request_context import jwt_required, verified_claims
from backend.schemas.auth import (
    LogoutSchema,
    PasswordLoginSchema,
    SmsRequestSchema,
    SmsSentSchema,
    SmsVerifySchema,
    TokenSchema,
    WeChatLoginSchema,
)
from backend.schemas.common import ApiErrorSchema
from backend.services import auth as auth_service
from backend.services.auth import SignInFailed, WeChatAppUnavailable, WeChatSignInFailed

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录与令牌")


def token_response(access: str, refresh: str | None):
    body = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds()),
    }
    if refresh:
        body["refresh_token"] = refresh
    response = jsonify(body)
    set_access_cookies(response, access)
    if refresh:
        set_refresh_cookies(response, refresh)
    return response


def _signed_in(user):
    access, refresh = auth_service.issue_tokens(user)
    return token_response(access, refresh)


@blp.route("/password")
class PasswordLogin(MethodView):
    decorators = [limit_password_sign_in]

    @blp.arguments(PasswordLoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(429, schema=ApiErrorSchema)
    def post(self, body):
        """Staff, committee and officials sign in with a username and password (10 a minute per account, 60
        per client address)."""
        try:
            user = auth_service.sign_in_with_password(body["username"], body["password"])
        except SignInFailed as exc:
            abort(401, message=str(exc))
        return _signed_in(user)


@blp.route("/sms/request")
class SmsRequest(MethodView):
    decorators = [limit_phone_sign_in]

    @blp.arguments(SmsRequestSchema)
    @blp.response(202, SmsSentSchema)
    @blp.alt_response(429, schema=ApiErrorSchema, description="Too soon for this phone, or the provider's limit")
    @blp.alt_response(503, schema=ApiErrorSchema, description="The SMS provider failed; the phone may ask again")
    def post(self, body):
        """Send a six-digit code to a phone (once a minute, five times an hour).

        When the SMS provider does not take the message, no code is kept and the phone may ask again at
        once: 429 when the provider's own rate limit refused it, 422 on `phone` when the provider says it
        is no mobile number, 503 (短信服务暂时不可用) for an outage of the provider, which is no fault of
        the input."""
        try:
            ttl = auth_service.request_sms_code(body["phone"])
        except InvalidPhone as exc:
            # Where the schema would have named the field, had it known the number is none.
            abort(422, errors={"json": {"phone": [str(exc)]}})
        return {"expires_in": ttl}


@blp.route("/sms/verify")
class SmsVerify(MethodView):
    decorators = [limit_phone_sign_in]

    @blp.arguments(SmsVerifySchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(429, schema=ApiErrorSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="The one-time code store is unreachable")
    def post(self, body):
        """Sign in (or sign up) with the phone and its code; a code works once."""
        try:
            user = auth_service.verify_sms_code(body["phone"], body["code"])
        except SignInFailed as exc:
            abort(401, message=str(exc))
        return _signed_in(user)


@blp.route("/wechat")
class WeChatLogin(MethodView):
    decorators = [limit_by_address]

    @blp.arguments(WeChatLoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(429, schema=ApiErrorSchema)
    def post(self, body):
        """Sign in with a mini-program `wx.login` code (`kind` miniprogram, through the mini-program's appid) or
        an H5 OAuth (snsapi_base) code of the official account (`kind` oauth). One person keeps one account
        across both apps when WeChat names their unionid; 422 on `kind` when this instance has no such app."""
        try:
            user = auth_service.sign_in_with_wechat_code(LOGIN_KIND_APPS[body["kind"]], body["code"])
        except WeChatAppUnavailable as exc:
            abort(422, errors={"json": {"kind": [str(exc)]}})
        except WeChatSignInFailed as exc:
            abort(401, message=str(exc), errors={"wechat": [exc.detail]})
        except SignInFailed as exc:
            abort(401, message=str(exc))
        return _signed_in(user)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required(refresh=True)
    def post(self):
        """A new access token from a refresh token (cookie or bearer); the account was checked with the token."""
        claims = verified_claims()
        return token_response(auth_service.access_token_for(claims["sub"], claims["jti"], claims.get("gen", 0)), None)


@blp.route("/logout")
class Logout(MethodView):
    @blp.arguments(LogoutSchema, required=False)
    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    # The one place a refresh token is accepted as the bearer besides /refresh: to end it.
    @jwt_required(verify_type=False)
    def post(self, body):
        """Revoke this token and its refresh token (the one it names, or one given or in a cookie) and clear
        cookies. The revocation is kept in the database: no cache restart brings the tokens back."""
        refresh = (body or {}).get("refresh_token") or request.cookies.get(current_app.config["JWT_REFRESH_COOKIE_NAME"])
        auth_service.sign_out(verified_claims(), refresh)
        response = current_app.response_class(status=204)
        unset_jwt_cookies(response)
        return response


@blp.route("/logout-everywhere")
class LogoutEverywhere(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="The sign-in cache is unreachable; nothing was done")
    @jwt_required(verify_type=False)
    def post(self):
        """End every token of mine issued until now, on every device (a lost phone), and clear cookies; tokens
        issued afterwards work."""
        auth_service.sign_out_everywhere(int(verified_claims()["sub"]))
        response = current_app.response_class(status=204)
        unset_jwt_cookies(response)
        return response
