"""The real WeChat login client against a local stand-in of api.weixin.qq.com."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from backend.integrations.wechat_login import WeChatIdentity, WeChatLoginClient, WeChatLoginError
from tests.integrations.wechat_standin import APPID, OAUTH, SECRET, WeChatStandIn, running_standin

JSCODE2SESSION = "/sns/jscode2session"
OAUTH_TOKEN = "/sns/oauth2/access_token"


@pytest.fixture(scope="module")
def standin_server() -> Iterator[WeChatStandIn]:
    with running_standin() as standin:
        yield standin


@pytest.fixture
def wechat(standin_server) -> WeChatStandIn:
    standin_server.reset()
    return standin_server


@pytest.fixture
def login(wechat) -> Iterator[WeChatLoginClient]:
    client = WeChatLoginClient(APPID, SECRET, api_base=wechat.url)
    yield client
    client.http.close()


def test_code_to_session_returns_openid_and_unionid(login, wechat):
    code = wechat.issue_code("o-mini-1", "u-person-1")

    assert login.code_to_session(code) == WeChatIdentity(openid="o-mini-1", unionid="u-person-1")
    [call] = wechat.calls_to(JSCODE2SESSION)
    assert call.query == {"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"}


def test_code_to_session_without_unionid_gives_none(login, wechat):
    assert login.code_to_session(wechat.issue_code("o-mini-2")).unionid is None


def test_session_key_is_never_returned(login, wechat):
    identity = login.code_to_session(wechat.issue_code("o-mini-3", "u-3"))

    [session_key] = wechat.session_keys
    assert [field.name for field in dataclasses.fields(identity)] == ["openid", "unionid"]
    assert session_key not in repr(identity)


def test_busy_answer_is_retried_then_succeeds(login, wechat):
    code = wechat.issue_code("o-busy", busy=1)

    assert login.code_to_session(code).openid == "o-busy"
    assert [call.answer.get("errcode") for call in wechat.calls_to(JSCODE2SESSION)] == [-1, None]


def test_busy_gives_up_after_the_retries(login, wechat):
    code = wechat.issue_code("o-always-busy", busy=10)

    with pytest.raises(WeChatLoginError) as caught:
        login.code_to_session(code)
    assert caught.value.errcode == -1
    assert len(wechat.calls_to(JSCODE2SESSION)) == login.busy_retries + 1


def test_invalid_code_raises_with_errcode_40029(login, wechat):
    with pytest.raises(WeChatLoginError) as caught:
        login.code_to_session("not-a-code-wechat-gave")
    assert caught.value.errcode == 40029
    assert caught.value.errmsg == "invalid code"
    assert len(wechat.calls) == 1


def test_used_code_raises_40163(login, wechat):
    code = wechat.issue_code("o-once")
    login.code_to_session(code)

    with pytest.raises(WeChatLoginError) as caught:
        login.code_to_session(code)
    assert caught.value.errcode == 40163


def test_rate_limit_is_not_retried(login, wechat):
    code = wechat.issue_code("o-limited", errcode=45011)

    with pytest.raises(WeChatLoginError) as caught:
        login.code_to_session(code)
    assert caught.value.errcode == 45011
    assert len(wechat.calls) == 1


def test_wrong_secret_raises_40125(wechat):
    wrong = WeChatLoginClient(APPID, "not-the-secret", api_base=wechat.url)

    with pytest.raises(WeChatLoginError) as caught:
        wrong.code_to_session(wechat.issue_code("o-x"))
    assert caught.value.errcode == 40125


def test_unreachable_server_raises_wechat_login_error():
    with running_standin() as gone:
        url = gone.url
    offline = WeChatLoginClient(APPID, SECRET, api_base=url)

    with pytest.raises(WeChatLoginError) as caught:
        offline.code_to_session("any-code")
    assert caught.value.errcode == -2


def test_non_json_answer_raises_wechat_login_error(wechat):
    # The stand-in answers 404 with plain text outside the two spec paths, like a proxy error page.
    misrouted = WeChatLoginClient(APPID, SECRET, api_base=wechat.url + "/not-wechat")

    with pytest.raises(WeChatLoginError) as caught:
        misrouted.code_to_session("any-code")
    assert caught.value.errcode == -2


def test_oauth_exchange_returns_the_openid(login, wechat):
    code = wechat.issue_code("o-h5-1", "u-person-1", kind=OAUTH)

    assert login.oauth_exchange(code) == WeChatIdentity(openid="o-h5-1", unionid="u-person-1")
    [call] = wechat.calls_to(OAUTH_TOKEN)
    assert call.query == {"appid": APPID, "secret": SECRET, "code": code, "grant_type": "authorization_code"}
    assert call.answer["scope"] == "snsapi_base"


def test_oauth_exchange_refuses_a_mini_program_code(login, wechat):
    with pytest.raises(WeChatLoginError) as caught:
        login.oauth_exchange(wechat.issue_code("o-mini-only"))
    assert caught.value.errcode == 40029


def test_oauth_authorize_url_is_silent_snsapi_base_with_wechat_redirect(login):
    url = login.oauth_authorize_url("https://linli.example/h5/auth/wechat/callback?x=1&y=2", "state-123")

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "open.weixin.qq.com", "/connect/oauth2/authorize")
    assert parts.fragment == "wechat_redirect"
    # In the order the spec lists them.
    assert parse_qsl(parts.query) == [
        ("appid", APPID),
        ("redirect_uri", "https://linli.example/h5/auth/wechat/callback?x=1&y=2"),
        ("response_type", "code"),
        ("scope", "snsapi_base"),
        ("state", "state-123"),
    ]
