"""Sign-in: staff passwords, phone + one-time code, WeChat; tokens issued and revoked."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis
from flask import current_app, url_for
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from backend.domain.phones import InvalidPhone, mask_phone
from backend.extensions import db
from backend.integrations.sms import (
    NUMBER_REFUSED,
    PROVIDER_LIMITED,
    AliyunSms,
    SandboxSms,
    SmsSender,
    SmsSendFailed,
)
from backend.integrations.wechat_login import (
    SandboxWeChatLogin,
    WeChatIdentity,
    WeChatLoginClient,
    WeChatLoginProvider,
)
from backend.models import User
from backend.services.identity import phone_columns, phone_hash, verify_password

log = logging.getLogger("linli.auth")

CODE_TTL_SECONDS = 300
CODE_RESEND_SECONDS = 60
CODES_PER_PHONE_PER_HOUR = 5
CODE_MAX_ATTEMPTS = 5


class SignInFailed(Exception):
    """The message is safe to show: it never says which of username or password was wrong."""


class TooManyRequests(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class SignOutIncomplete(Exception):
    """The revocation list is unreachable: the tokens stay valid until they expire. Safe to show."""


class SmsUnavailable(Exception):
    """The SMS provider is down or refuses us (keys, balance, signature): no fault of the user. Safe to show."""


def redis_client() -> redis.Redis:
    return current_app.extensions["linli_redis"]


@contextmanager
def _code_store() -> Iterator[redis.Redis]:
    """One-time codes live in Redis: while it is down, SMS sign-in says so instead of failing with a 500."""
    try:
        yield redis_client()
    except redis.RedisError as exc:
        log.error("one-time code store unreachable: %s", exc)
        raise SmsUnavailable("短信登录暂时不可用，请稍后再试或使用微信登录") from exc


def sms_sender() -> SmsSender:
    sender = current_app.extensions.get("linli_sms")
    if sender is not None:
        return sender
    config = current_app.config
    if config["LINLI_SMS_PROVIDER"] == "aliyun":
        # Built once per app, like the WeChat client: it holds the connection pool.
        sender = AliyunSms(
            config["LINLI_ALIYUN_ACCESS_KEY_ID"],
            config["LINLI_ALIYUN_ACCESS_KEY_SECRET"],
            config["LINLI_ALIYUN_SMS_SIGN_NAME"],
            config["LINLI_ALIYUN_SMS_TEMPLATE_CODE"],
            endpoint=config["LINLI_ALIYUN_SMS_ENDPOINT"],
            notice_template_code=config["LINLI_ALIYUN_SMS_NOTICE_TEMPLATE_CODE"],
        )
    else:
        sender = SandboxSms(redis_client())
    return current_app.extensions.setdefault("linli_sms", sender)


def wechat_login() -> WeChatLoginProvider:
    provider = current_app.extensions.get("linli_wechat_login")
    if provider is not None:
        return provider
    config = current_app.config
    if config["LINLI_WECHAT_PROVIDER"] == "wechat":
        # Built once per app: the client holds the connection pool, which a client per request would leak.
        provider = current_app.extensions["linli_wechat_login"] = WeChatLoginClient(
            config["LINLI_WECHAT_APPID"],
            config["LINLI_WECHAT_SECRET"],
            api_base=config["LINLI_WECHAT_API_BASE"],
            open_base=config["LINLI_WECHAT_OPEN_BASE"],
        )
    else:
        provider = SandboxWeChatLogin(authorize_path=url_for("h5.sandbox_wechat_authorize"))
    return provider


def sign_in_with_password(username: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or not user.is_active:
        raise SignInFailed("用户名或密码错误")
    return user


def _code_digest(phone: str, code: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def request_sms_code(phone: str) -> int:
    """Send a 6-digit code; return its lifetime. One per minute and five per hour per phone.

    When the provider does not take the message, nothing of this request is kept (code, cooldown, hourly
    count), so the user may ask again at once: its rate limit → TooManyRequests, a number it refuses →
    InvalidPhone, anything else (outage, keys, balance) → SmsUnavailable."""
    with _code_store() as r:
        return _send_new_code(r, phone)


def _send_new_code(r: redis.Redis, phone: str) -> int:
    key = phone_hash(phone)
    if not r.set(f"linli:otp:cooldown:{key}", 1, nx=True, ex=CODE_RESEND_SECONDS):
        raise TooManyRequests("验证码已发送，请稍后再试", retry_after=int(r.ttl(f"linli:otp:cooldown:{key}") or 1))
    hourly = f"linli:otp:hourly:{key}"
    sent = r.incr(hourly)
    if sent == 1:
        r.expire(hourly, 3600)
    if sent > CODES_PER_PHONE_PER_HOUR:
        raise TooManyRequests("验证码请求过于频繁，请一小时后再试", retry_after=int(r.ttl(hourly) or 1))
    code = f"{secrets.randbelow(10**6):06d}"
    pipe = r.pipeline()
    pipe.set(f"linli:otp:code:{key}", _code_digest(phone, code), ex=CODE_TTL_SECONDS)
    pipe.delete(f"linli:otp:attempts:{key}")
    pipe.execute()
    try:
        sms_sender().send_code(phone, code)
    except SmsSendFailed as exc:
        pipe = r.pipeline()
        pipe.delete(f"linli:otp:code:{key}", f"linli:otp:cooldown:{key}")
        pipe.decr(hourly)
        if pipe.execute()[1] < 0:
            r.delete(hourly)  # the hour ran out while we waited for the provider: no count without a TTL
        # The provider's code and message, never the one-time code (SmsSendFailed carries none).
        if exc.code == PROVIDER_LIMITED:
            log.warning("SMS to %s refused by the provider's flow control: %s", mask_phone(phone), exc.message)
            # Alibaba Cloud's default flow control for codes: one per number per minute (and 5/hour, 10/day).
            raise TooManyRequests("验证码发送过于频繁，请稍后再试", retry_after=60) from exc
        if exc.code == NUMBER_REFUSED:
            log.warning("SMS to %s refused: not a mobile number to the provider", mask_phone(phone))
            raise InvalidPhone("该手机号无法接收短信，请检查后重试") from exc
        log.error("SMS to %s not sent: %s %s", mask_phone(phone), exc.code, exc.message)
        raise SmsUnavailable("短信服务暂时不可用，请稍后再试") from exc
    return CODE_TTL_SECONDS


def verify_sms_code(phone: str, code: str) -> User:
    """Single use: a right code is consumed; five wrong tries burn the code."""
    with _code_store() as r:
        _consume_code(r, phone, code)
    return _find_or_create(User.phone_hash == phone_hash(phone), phone_columns(phone))


def _consume_code(r: redis.Redis, phone: str, code: str) -> None:
    key = phone_hash(phone)
    attempts = r.incr(f"linli:otp:attempts:{key}")
    r.expire(f"linli:otp:attempts:{key}", CODE_TTL_SECONDS)
    stored = r.get(f"linli:otp:code:{key}")
    if stored is None or attempts > CODE_MAX_ATTEMPTS:
        r.delete(f"linli:otp:code:{key}")
        raise SignInFailed("验证码已失效，请重新获取")
    if not hmac.compare_digest(stored.decode(), _code_digest(phone, code)):
        raise SignInFailed("验证码错误")
    # GETDEL-like: whoever deletes the key first wins, so a code cannot sign in twice concurrently.
    if not r.delete(f"linli:otp:code:{key}"):
        raise SignInFailed("验证码已失效，请重新获取")


def sign_in_with_wechat(identity: WeChatIdentity) -> User:
    return _find_or_create(
        User.wechat_openid == identity.openid, {"wechat_openid": identity.openid, "wechat_unionid": identity.unionid}
    )


def _find_or_create(condition, columns: dict) -> User:
    user = db.session.scalar(select(User).where(condition))
    if user is None:
        user = User(display_name="", **columns)
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            # Two first sign-ins raced; the other one created the user.
            db.session.rollback()
            user = db.session.scalar(select(User).where(condition))
    if not user.is_active:
        raise SignInFailed("账号已停用，请联系社区")
    return user


def issue_tokens(user: User) -> tuple[str, str]:
    """A refresh token and an access token that names it (`rjti`), so signing out ends both."""
    identity = str(user.id)
    refresh = create_refresh_token(identity=identity)
    return access_token_for(identity, decode_token(refresh)["jti"]), refresh


def access_token_for(identity: str, refresh_jti: str) -> str:
    return create_access_token(identity=identity, additional_claims={"rjti": refresh_jti})


# Asked on every signed-in request, so the statement is built once.
_ACTIVE_USER = select(User.id).where(User.id == bindparam("user_id"), User.is_active.is_(True))


def is_active_user(identity: str) -> bool:
    """A token can outlive its account, or the account's activation: both end its use."""
    if not (identity.isascii() and identity.isdigit()):
        return False
    return db.session.scalar(_ACTIVE_USER, {"user_id": int(identity)}) is not None


def access_token_from_refresh_token(encoded: str) -> str | None:
    """A new access token when the refresh token is genuine, unexpired, not revoked and its account active."""
    try:
        claims = decode_token(encoded)
    except (PyJWTError, JWTExtendedException):
        return None
    if claims.get("type") != "refresh" or is_token_revoked(claims["jti"]):
        return None
    identity = str(claims.get("sub", ""))
    return access_token_for(identity, claims["jti"]) if is_active_user(identity) else None


def revoke_refresh_token(encoded: str) -> None:
    """Blocklist a refresh token handed in at logout; one that does not decode is no threat and is ignored."""
    try:
        decoded = decode_token(encoded, allow_expired=True)
    except (PyJWTError, JWTExtendedException):
        return
    revoke_token(decoded["jti"], decoded["exp"])


def sign_out(claims: dict, refresh_token: str | None) -> None:
    """Revoke the presented token and its refresh token: the one it names (`rjti`), and any handed in."""
    try:
        revoke_token(claims["jti"], claims["exp"])
        if claims.get("rjti"):
            refresh_lifetime = current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
            revoke_token(claims["rjti"], int((datetime.now(UTC) + refresh_lifetime).timestamp()))
        if refresh_token:
            revoke_refresh_token(refresh_token)
    except redis.RedisError as exc:
        log.error("sign-out of %s not recorded, revocation list unreachable: %s", claims["sub"], exc)
        raise SignOutIncomplete("退出登录暂时无法完成，请稍后再试") from exc


def revoke_token(jti: str, expires_at: int) -> None:
    """Blocklist a token (by jti) until it would have expired anyway."""
    remaining = max(1, int(expires_at - datetime.now(UTC).timestamp()))
    redis_client().set(f"linli:jwt:revoked:{jti}", "", ex=remaining)


def is_token_revoked(jti: str) -> bool:
    try:
        return bool(redis_client().exists(f"linli:jwt:revoked:{jti}"))
    except redis.RedisError:
        # Fail open: access tokens live 30 minutes, and a Redis outage must not sign everyone out.
        log.warning("revocation list unreachable; accepting token %s", jti)
        return False
