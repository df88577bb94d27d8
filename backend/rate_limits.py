"""Sign-in rate limits, kept by flask-limiter in Redis: per client address, per account and per phone.

A whole meeting of residents can share one address (carrier-grade NAT, the community's WiFi), so the limit per
address is generous; guessing one account's password or one phone's code is held back by the limits per
account and per phone, which count every attempt on it whatever address it comes from, through the API and the
pages alike."""
from __future__ import annotations

from collections.abc import Callable

from flask import request

from backend.domain.phones import InvalidPhone, normalize_phone
from backend.extensions import limiter
from backend.services.identity import phone_hash

# Per client address and endpoint, on every sign-in endpoint of the API and the pages.
SIGN_IN_PER_ADDRESS = "60 per minute"
# Per account (its username) and per phone (its keyed hash: no number in Redis keys), on all their endpoints.
SIGN_IN_PER_ACCOUNT = "10 per minute"
SIGN_IN_PER_PHONE = "10 per minute"


def _field(name: str) -> str:
    """A text field of the sign-in request: the JSON body of the API, the form of the pages ("" if none)."""
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            body = None  # nested past the decoder's depth: the request is refused with a 400 (api/common.py)
        value = body.get(name) if isinstance(body, dict) else None
    else:
        value = request.form.get(name)
    return value if isinstance(value, str) else ""


def account_key() -> str:
    # Usernames are looked up exactly, but "Zhang.Wei" must not be a fresh bucket for "zhang.wei".
    username = _field("username").strip().lower()[:64]
    return f"account:{username}" if username else ""


def phone_key() -> str:
    try:
        return "phone:" + phone_hash(normalize_phone(_field("phone")[:20]))
    except InvalidPhone:
        return ""


def limit_by_address(view: Callable) -> Callable:
    return limiter.limit(SIGN_IN_PER_ADDRESS)(view)


def limit_password_sign_in(view: Callable) -> Callable:
    """A request without a username (a 422 anyway) counts against its address only."""
    per_account = limiter.shared_limit(
        SIGN_IN_PER_ACCOUNT, scope="sign-in-account", key_func=account_key, exempt_when=lambda: not account_key()
    )
    return limit_by_address(per_account(view))


def limit_phone_sign_in(view: Callable) -> Callable:
    """Asking for a code and entering it share the phone's count; the code itself also has its own limits."""
    per_phone = limiter.shared_limit(
        SIGN_IN_PER_PHONE, scope="sign-in-phone", key_func=phone_key, exempt_when=lambda: not phone_key()
    )
    return limit_by_address(per_phone(view))
