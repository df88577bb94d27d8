"""Sign-in rules: the WeChat apps a person signs in through, which of their openids a push goes to, and
whether a presented token still stands."""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class WeChatApp(enum.StrEnum):
    """Each WeChat app gives the same person an openid of its own; the unionid is the person's across the
    apps bound to one WeChat Open Platform account."""

    MINIPROGRAM = "miniprogram"
    OFFICIAL_ACCOUNT = "official_account"


# The API's WeChat sign-in names the app by where its code came from: `wx.login()` in the mini-program, or
# the official account's web OAuth (snsapi_base) that the H5 pages use inside WeChat.
LOGIN_KIND_APPS = {"miniprogram": WeChatApp.MINIPROGRAM, "oauth": WeChatApp.OFFICIAL_ACCOUNT}


@dataclass(frozen=True)
class WeChatOpenid:
    app: WeChatApp
    openid: str
    last_signed_in_at: datetime


def push_order(openids: Sequence[WeChatOpenid]) -> list[WeChatOpenid]:
    """The openids to try for one push, best first: the app the person signed in through last is the one
    they use, and where they most likely agreed to receive the message (每次订阅只能下发一条)."""
    return sorted(openids, key=lambda item: (item.last_signed_in_at, item.app), reverse=True)


class TokenStanding(enum.StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    NO_ACCOUNT = "no_account"


def token_standing(account_active: bool | None, revoked: bool, token_generation: int,
                   account_generation: int) -> TokenStanding:
    """A genuine, unexpired token stands while it (or the refresh token it came from) is not revoked, it belongs
    to the account's current generation of tokens (signing out everywhere starts a new one), and its account
    exists (`None`: no such account) and is active. A signed-out token says so first."""
    if revoked or token_generation != account_generation:
        return TokenStanding.REVOKED
    if not account_active:
        return TokenStanding.NO_ACCOUNT
    return TokenStanding.GOOD
