"""Sign-in pages: WeChat (silent snsapi_base OAuth), phone + code, staff password; sign-out."""
from __future__ import annotations

import hmac
import secrets

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_jwt_extended import set_access_cookies, set_refresh_cookies, unset_jwt_cookies
from itsdangerous import BadSignature, URLSafeTimedSerializer

from backend.domain.auth import WeChatApp
from backend.domain.phones import InvalidPhone
from backend.domain.refusals import Kind
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import require_user_for_post, safe_next
from backend.rate_limits import limit_by_address, limit_password_sign_in, limit_phone_sign_in
from backend.request_context import verified_claims
from backend.schemas.auth import PasswordLoginSchema, SmsRequestSchema, SmsVerifySchema
from backend.services import auth as auth_service
from backend.services.auth import SignInFailed

SANDBOX_BROWSER_COOKIE = "linli_sandbox_wxid"
OAUTH_NONCE_COOKIE = "linli_oauth_nonce"
OAUTH_STATE_SECONDS = 600


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="linli-wechat-oauth-state")


def _signed_in_redirect(user, next_path: str):
    access, refresh = auth_service.issue_tokens(user)
    response = redirect(safe_next(next_path))
    set_access_cookies(response, access)
    set_refresh_cookies(response, refresh)
    return response


def _login_body(**context) -> str:
    context.setdefault("next_path", safe_next(request.values.get("next")))
    context.setdefault("wechat_browser", "MicroMessenger" in request.headers.get("User-Agent", ""))
    return render_template("auth/login.html", **context)


def _login_page(status: int = 200, **context):
    return _login_body(**context), status


def _typed(field: str) -> str:
    """What was typed, to show the form again (no longer than any such field can be)."""
    return request.form.get(field, "").strip()[:64]


@h5.get("/login")
def login():
    return _login_page()


@h5.post("/login/password")
@limit_password_sign_in
def login_password():
    username = _typed("username")
    show_refusal_with(lambda refused: _login_body(password_error=refused.message, username=username))
    body = load_form(PasswordLoginSchema())
    try:
        user = auth_service.sign_in_with_password(body["username"], body["password"])
    except SignInFailed as exc:
        return _login_page(401, password_error=str(exc), username=username)
    return _signed_in_redirect(user, request.form.get("next"))


@h5.post("/login/sms/request")
@limit_phone_sign_in
def login_sms_request():
    raw = _typed("phone")
    # Asked again too soon: the code sent before is still on its way, so its box stays.
    show_refusal_with(
        lambda refused: _login_body(sms_error=refused.message, phone=raw, code_sent=refused.kind is Kind.TOO_MANY)
    )
    phone = load_form(SmsRequestSchema())["phone"]
    try:
        auth_service.request_sms_code(phone)
    except InvalidPhone as exc:
        return _login_page(422, sms_error=str(exc), phone=raw)
    return _login_page(sms_notice="验证码已发送，5分钟内有效", phone=phone, code_sent=True)


@h5.post("/login/sms/verify")
@limit_phone_sign_in
def login_sms_verify():
    raw = _typed("phone")
    show_refusal_with(lambda refused: _login_body(sms_error=refused.message, phone=raw, code_sent=True))
    body = load_form(SmsVerifySchema())
    try:
        user = auth_service.verify_sms_code(body["phone"], body["code"])
    except SignInFailed as exc:
        return _login_page(401, sms_error=str(exc), phone=raw, code_sent=True)
    return _signed_in_redirect(user, request.form.get("next"))


@h5.get("/auth/wechat/start")
def wechat_start():
    """The H5 signs in through the official account's web OAuth (the pages open inside it)."""
    # The state is bound to this browser by a nonce cookie: a callback link made in someone else's
    # browser cannot sign this one in as them (login CSRF).
    nonce = secrets.token_urlsafe(16)
    state = _state_serializer().dumps({"next": safe_next(request.args.get("next")), "nonce": nonce})
    response = redirect(auth_service.wechat_authorize_url(url_for("h5.wechat_callback"), state))
    response.set_cookie(OAUTH_NONCE_COOKIE, nonce, max_age=OAUTH_STATE_SECONDS, httponly=True, samesite="Lax",
                        secure=current_app.config["JWT_COOKIE_SECURE"])
    return response


@h5.get("/auth/wechat/callback")
@limit_by_address
def wechat_callback():
    try:
        state = _state_serializer().loads(request.args.get("state", ""), max_age=OAUTH_STATE_SECONDS)
    except BadSignature:
        return _login_page(400, wechat_error="登录已超时，请重新点击微信登录")
    nonce = request.cookies.get(OAUTH_NONCE_COOKIE, "")
    if not (isinstance(state, dict) and nonce and hmac.compare_digest(str(state.get("nonce", "")), nonce)):
        return _login_page(400, wechat_error="登录已超时，请重新点击微信登录")
    next_path = safe_next(state.get("next"))
    code = request.args.get("code", "")[:128]
    if not code:
        return _login_page(400, wechat_error="您取消了微信授权")
    try:
        user = auth_service.sign_in_with_wechat_code(WeChatApp.OFFICIAL_ACCOUNT, code)
    except SignInFailed:
        return _login_page(401, wechat_error="微信登录失败，请重试或使用手机号登录")
    response = _signed_in_redirect(user, next_path)
    response.delete_cookie(OAUTH_NONCE_COOKIE)
    return response


@h5.get("/sandbox/wechat/authorize")
def sandbox_wechat_authorize():
    """Stands in for open.weixin.qq.com in development: one stable fake WeChat identity per browser."""
    browser_id = auth_service.sandbox_browser_id(request.cookies.get(SANDBOX_BROWSER_COOKIE))
    if browser_id is None:
        abort(404)
    if request.args.get("redirect_uri", "") != url_for("h5.wechat_callback"):
        abort(400)
    target = url_for("h5.wechat_callback", code=browser_id, state=request.args.get("state", ""))
    response = make_response(redirect(target))
    response.set_cookie(SANDBOX_BROWSER_COOKIE, browser_id, max_age=365 * 86400, httponly=True, samesite="Lax")
    return response


@h5.post("/logout")
def logout():
    require_user_for_post()
    auth_service.sign_out(verified_claims(), request.cookies.get(current_app.config["JWT_REFRESH_COOKIE_NAME"]))
    response = redirect(url_for("h5.index"))
    unset_jwt_cookies(response)
    return response
