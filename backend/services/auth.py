"""Sign-in: staff passwords, phone + one-time code, WeChat (the mini-program and the official account); tokens
issued and revoked.

Revocation lives in the database (`revoked_tokens`), written in the logout's own transaction: a Redis restart
or flush cannot undo a logout, and while Redis is down a revoked token is still refused. Signing out everywhere
starts the person's next token generation (`users.token_generation`, the tokens' `gen` claim). Each request
reads a token's standing through the sign-in cache (services/auth_cache), which hears of every such change."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt.exceptions import PyJWTError
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError

from backend import integrations
from backend.domain.auth import TokenStanding, WeChatApp
from backend.domain.phones import InvalidPhone, mask_phone
from backend.domain.refusals import Kind, Refused
from backend.extensions import db, dialect_insert
from backend.integrations.sms import NUMBER_REFUSED, PROVIDER_LIMITED, SmsSendFailed
from backend.integrations.wechat_login import (
    SandboxWeChatLogin,
    WeChatIdentity,
    WeChatLoginError,
    WeChatLoginProvider,
)
from backend.models import RevokedToken, User, WeChatAccount
from backend.services.auth_cache import standing_of
from backend.services.identity import phone_columns, phone_hash, verify_password
from backend.shared.clock import utcnow

log = logging.getLogger("linli.auth")

CODE_TTL_SECONDS = 300
CODE_RESEND_SECONDS = 60
CODES_PER_PHONE_PER_HOUR = 5
CODE_MAX_ATTEMPTS = 5
# A first WeChat sign-in can lose two races (to the person's unionid, then to the same openid): the third round
# finds both rows.
WECHAT_SIGN_IN_ROUNDS = 3


class SignInFailed(Exception):
    """The message is safe to show: it never says which of username or password was wrong."""


class TooManyRequests(Refused):
    """Another code asked for too soon (`retry_after` seconds to wait)."""

    default_kind = Kind.TOO_MANY


class WeChatSignInFailed(SignInFailed):
    """WeChat did not vouch for the code (used, expired, forged) or did not answer."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__("微信登录失败，请重试")
        self.detail = f"{errcode}: {errmsg}"


class WeChatAppUnavailable(Exception):
    """This instance has no mini-program to sign in through. Safe to show."""


class SmsUnavailable(Refused):
    """The SMS provider is down or refuses us (keys, balance, signature): no fault of the user. Safe to show."""

    default_kind = Kind.UNAVAILABLE


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


def wechat_login(app: WeChatApp) -> WeChatLoginProvider:
    provider = integrations.wechat_login(app)
    if provider is None:
        raise WeChatAppUnavailable("本平台未开通小程序登录")
    return provider


def sign_in_with_wechat_code(app: WeChatApp, code: str) -> User:
    """Sign in with a code WeChat gave the person: an H5 OAuth (snsapi_base) code of the official account, or a
    mini-program `wx.login` code."""
    provider = wechat_login(app)
    try:
        identity = provider.oauth_exchange(code) if app is WeChatApp.OFFICIAL_ACCOUNT else provider.code_to_session(code)
    except WeChatLoginError as exc:
        raise WeChatSignInFailed(exc.errcode, exc.errmsg) from exc
    return sign_in_with_wechat(app, identity)


def wechat_authorize_url(callback_path: str, state: str) -> str:
    """Where the H5 sends the person to sign in through the official account's web OAuth, to come back to
    `callback_path` (the sandbox's stand-in page is ours, so its way back stays a path)."""
    provider = wechat_login(WeChatApp.OFFICIAL_ACCOUNT)
    if isinstance(provider, SandboxWeChatLogin):
        return provider.oauth_authorize_url(callback_path, state)
    return provider.oauth_authorize_url(current_app.config["LINLI_PUBLIC_URL"] + callback_path, state)


def sandbox_browser_id(known: str | None) -> str | None:
    """The stable fake WeChat identity of a browser under the sandbox (a new one for a new browser); None when
    this instance signs in through the real WeChat."""
    if not isinstance(wechat_login(WeChatApp.OFFICIAL_ACCOUNT), SandboxWeChatLogin):
        return None
    return known or SandboxWeChatLogin.new_browser_id()


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
        integrations.sms_sender().send_code(phone, code)
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


def sign_in_with_wechat(app: WeChatApp, identity: WeChatIdentity) -> User:
    """The person behind an openid of `app`: found by that openid, else by their unionid (the same person signed
    in through the other app), else new. The database settles races: two first sign-ins of one person at once
    (one openid twice, or both apps with one unionid) meet a unique constraint, and the loser's next round
    finds the winner's rows."""
    for attempt in range(WECHAT_SIGN_IN_ROUNDS):
        try:
            with db.session.begin_nested():
                user = _wechat_user(app, identity)
            break
        except IntegrityError:
            if attempt == WECHAT_SIGN_IN_ROUNDS - 1:
                raise
    db.session.commit()
    if not user.is_active:
        raise SignInFailed("账号已停用，请联系社区")
    return user


def _wechat_user(app: WeChatApp, identity: WeChatIdentity) -> User:
    now = utcnow()
    account = db.session.scalar(
        select(WeChatAccount).where(WeChatAccount.app == app, WeChatAccount.openid == identity.openid)
    )
    if account is not None:
        account.last_signed_in_at = now
        user = db.session.get(User, account.user_id)
        # WeChat names the unionid once the apps are bound to one Open Platform account, perhaps after this
        # person first came: kept then, so their first sign-in through the other app finds them.
        if identity.unionid and user.wechat_unionid is None and not db.session.scalar(
            select(exists().where(User.wechat_unionid == identity.unionid))
        ):
            user.wechat_unionid = identity.unionid
        db.session.flush()
        return user
    user = None
    if identity.unionid:
        user = db.session.scalar(select(User).where(User.wechat_unionid == identity.unionid))
    if user is None:
        user = User(display_name="", wechat_unionid=identity.unionid)
        db.session.add(user)
        db.session.flush()
    db.session.add(WeChatAccount(user_id=user.id, app=app, openid=identity.openid, created_at=now,
                                 last_signed_in_at=now))
    db.session.flush()
    return user


def wechat_openid(user_id: int, app: WeChatApp) -> str | None:
    """The person's openid in one of our WeChat apps (WeChat Pay JSAPI wants the paying app's)."""
    return db.session.scalar(
        select(WeChatAccount.openid).where(WeChatAccount.user_id == user_id, WeChatAccount.app == app)
        .order_by(WeChatAccount.last_signed_in_at.desc()).limit(1)
    )


def has_wechat(user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(WeChatAccount.user_id == user_id))))


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
    """A refresh token and an access token that names it (`rjti`), so signing out ends both; both of the person's
    current token generation (`gen`), so signing out everywhere ends them too."""
    identity = str(user.id)
    refresh = create_refresh_token(identity=identity, additional_claims={"gen": user.token_generation})
    return access_token_for(identity, decode_token(refresh)["jti"], user.token_generation), refresh


def access_token_for(identity: str, refresh_jti: str, generation: int) -> str:
    return create_access_token(identity=identity, additional_claims={"rjti": refresh_jti, "gen": generation})


def access_token_from_refresh_token(encoded: str) -> str | None:
    """A new access token when the refresh token is genuine, unexpired, not revoked and its account active."""
    try:
        claims = decode_token(encoded)
    except (PyJWTError, JWTExtendedException):
        return None
    if claims.get("type") != "refresh" or standing_of(claims).verdict is not TokenStanding.GOOD:
        return None
    return access_token_for(str(claims["sub"]), claims["jti"], claims.get("gen", 0))


def sign_out(claims: dict, refresh_token: str | None) -> None:
    """Revoke the presented token and its refresh token (the one it names as `rjti`, and any handed in), all in
    one transaction. A refresh token that does not decode is no threat and is ignored."""
    now = datetime.now(UTC)
    user_id = int(claims["sub"])
    revoked = {claims["jti"]: (user_id, datetime.fromtimestamp(claims["exp"], UTC))}
    if claims.get("rjti"):
        # The access token does not carry its refresh token's expiry: this is as late as it can be.
        revoked[claims["rjti"]] = (user_id, now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"])
    if refresh_token:
        try:
            handed_in = decode_token(refresh_token, allow_expired=True)
        except (PyJWTError, JWTExtendedException):
            handed_in = None
        if handed_in is not None:
            revoked[handed_in["jti"]] = (int(handed_in["sub"]), datetime.fromtimestamp(handed_in["exp"], UTC))
    db.session.execute(
        dialect_insert(RevokedToken).on_conflict_do_nothing(index_elements=["jti"]),
        [{"jti": jti, "user_id": owner, "expires_at": expires_at, "revoked_at": now}
         for jti, (owner, expires_at) in revoked.items()],
    )
    db.session.commit()


def sign_out_everywhere(user_id: int) -> None:
    """End every token of the person issued so far, on every device: their next token generation begins. The
    database counts (a concurrent sign-out everywhere cannot be lost); a token issued afterwards carries the new
    generation."""
    db.session.get(User, user_id).token_generation = User.token_generation + 1
    db.session.commit()


def purge_expired_revocations(now: datetime) -> int:
    """Rows of tokens past their expiry: such a token is refused by its own `exp`, so its row can go."""
    deleted = db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now)).rowcount
    db.session.commit()
    return deleted
