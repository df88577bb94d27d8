"""Sign-in rules: which openid a push tries first, and whether a token still stands (every combination)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.auth import (
    LOGIN_KIND_APPS,
    TokenStanding,
    WeChatApp,
    WeChatOpenid,
    push_order,
    token_standing,
)

MOMENT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_the_app_signed_in_through_last_is_tried_first():
    web = WeChatOpenid(WeChatApp.OFFICIAL_ACCOUNT, "o-web", MOMENT)
    mini = WeChatOpenid(WeChatApp.MINIPROGRAM, "o-mini", MOMENT + timedelta(seconds=1))

    assert push_order([web, mini]) == [mini, web]
    assert push_order([mini, web]) == [mini, web]
    assert push_order([web]) == [web]
    assert push_order([]) == []


def test_two_apps_signed_in_at_the_same_instant_keep_one_order_whatever_they_came_in():
    web = WeChatOpenid(WeChatApp.OFFICIAL_ACCOUNT, "o-web", MOMENT)
    mini = WeChatOpenid(WeChatApp.MINIPROGRAM, "o-mini", MOMENT)

    assert push_order([web, mini]) == push_order([mini, web])


@pytest.mark.parametrize(
    ("account_active", "revoked", "standing"),
    [
        (True, False, TokenStanding.GOOD),
        (True, True, TokenStanding.REVOKED),
        (False, False, TokenStanding.NO_ACCOUNT),
        (False, True, TokenStanding.REVOKED),
        (None, False, TokenStanding.NO_ACCOUNT),
        (None, True, TokenStanding.REVOKED),
    ],
)
def test_a_token_stands_only_unrevoked_with_an_active_account(account_active, revoked, standing):
    assert token_standing(account_active, revoked, 3, 3) is standing


@pytest.mark.parametrize("account_active", [True, False, None])
@pytest.mark.parametrize("token_generation", [0, 2])
def test_a_token_of_an_earlier_generation_is_signed_out(account_active, token_generation):
    """Signing out everywhere started generation 1: tokens of 0 are out, and so is any other than the current."""
    assert token_standing(account_active, False, token_generation, 1) is TokenStanding.REVOKED


def test_each_sign_in_kind_of_the_api_names_one_app():
    assert LOGIN_KIND_APPS == {"miniprogram": WeChatApp.MINIPROGRAM, "oauth": WeChatApp.OFFICIAL_ACCOUNT}
