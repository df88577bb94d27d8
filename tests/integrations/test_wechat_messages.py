"""The WeChat subscribe-message client against a local stand-in of api.weixin.qq.com, with the access token
cached in real Redis; and the sandbox that `make run` uses instead."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from backend.integrations.wechat_messages import (
    MINIPROGRAM,
    OFFICIAL_ACCOUNT,
    SANDBOX_OUTBOX_KEY,
    RecipientDeclined,
    SandboxWeChatMessages,
    TemplateDataInvalid,
    WeChatBusy,
    WeChatMessageError,
    WeChatMessages,
)
from tests.integrations.wechat_messages_standin import (
    APPID,
    BIZSEND_PATH,
    SECRET,
    SEND_PATH,
    TOKEN_PATH,
    WeChatMessagesStandIn,
    running_standin,
)

TOKEN_KEY = f"linli:wechat:access_token:{APPID}"
OPENID = "oLinli0Resident0000000000001"
TEMPLATE = "tmpl-repair-accepted-0001"
DATA = {"thing1": "报修已受理", "time2": "2026-11-02 09:00"}


@pytest.fixture(scope="module")
def standin_server() -> Iterator[WeChatMessagesStandIn]:
    with running_standin() as standin:
        yield standin


@pytest.fixture
def wechat(standin_server) -> WeChatMessagesStandIn:
    standin_server.reset()
    return standin_server


@pytest.fixture
def redis_client(app):
    return app.extensions["linli_redis"]


@pytest.fixture
def make_client(wechat, redis_client) -> Iterator:
    made: list[WeChatMessages] = []

    def make(**options) -> WeChatMessages:
        options = {"api_base": wechat.url} | options
        appid, secret = options.pop("appid", APPID), options.pop("secret", SECRET)
        client = WeChatMessages(appid, secret, redis_client, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.http.close()


@pytest.fixture
def messages(make_client) -> WeChatMessages:
    return make_client()


def send_tokens(wechat: WeChatMessagesStandIn) -> list[str]:
    return [call.query.get("access_token") for call in wechat.calls if call.path != TOKEN_PATH]


# ---- the access token --------------------------------------------------------------------------------


def test_token_is_fetched_once_and_reused_across_sends(messages, wechat, redis_client):
    messages.send(OPENID, TEMPLATE, DATA)
    messages.send(OPENID, TEMPLATE, DATA)

    [token_call] = wechat.calls_to(TOKEN_PATH)
    assert token_call.body == {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    token = token_call.answer["access_token"]
    assert send_tokens(wechat) == [token, token]
    assert redis_client.get(TOKEN_KEY).decode() == token
    assert 7200 - 300 - 5 <= redis_client.ttl(TOKEN_KEY) <= 7200 - 300
    assert len(wechat.messages) == 2


def test_another_process_uses_the_token_cached_in_redis(make_client, wechat):
    make_client().send(OPENID, TEMPLATE, DATA)
    make_client().send(OPENID, TEMPLATE, DATA)

    assert wechat.tokens_issued == 1
    assert len(wechat.calls_to(TOKEN_PATH)) == 1


def test_new_token_is_fetched_after_the_cached_one_expires(messages, wechat, redis_client):
    messages.send(OPENID, TEMPLATE, DATA)
    first = redis_client.get(TOKEN_KEY).decode()
    # Two hours later WeChat's token and Redis's copy have both expired (time-machine cannot move a TTL).
    wechat.expire_tokens()
    redis_client.expire(TOKEN_KEY, 0)

    messages.send(OPENID, TEMPLATE, DATA)

    second = redis_client.get(TOKEN_KEY).decode()
    assert second != first
    assert [call.body.get("force_refresh") for call in wechat.calls_to(TOKEN_PATH)] == [None, None]
    assert send_tokens(wechat) == [first, second]
    assert [call.answer["errcode"] for call in wechat.calls_to(SEND_PATH)] == [0, 0]


def test_token_with_little_life_left_is_cached_for_half_of_it(messages, wechat, redis_client):
    wechat.expires_in = 400

    messages.send(OPENID, TEMPLATE, DATA)

    assert 195 <= redis_client.ttl(TOKEN_KEY) <= 200


def test_expired_token_answer_drops_the_cache_and_retries_once_forcing_a_refresh(
    messages, wechat, redis_client
):
    messages.send(OPENID, TEMPLATE, DATA)
    stale = redis_client.get(TOKEN_KEY).decode()
    wechat.expire_tokens()  # WeChat expired it early; our cache still holds it

    messages.send(OPENID, TEMPLATE, DATA)

    fresh = redis_client.get(TOKEN_KEY).decode()
    assert fresh != stale
    assert [call.answer["errcode"] for call in wechat.calls_to(SEND_PATH)] == [0, 42001, 0]
    assert send_tokens(wechat) == [stale, stale, fresh]
    assert [call.body.get("force_refresh") for call in wechat.calls_to(TOKEN_PATH)] == [None, True]
    assert len(wechat.messages) == 2


def test_revoked_token_in_the_cache_is_replaced_after_40001(messages, wechat, redis_client):
    redis_client.set(TOKEN_KEY, "a-token-someone-else-revoked", ex=3600)

    messages.send(OPENID, TEMPLATE, DATA)

    assert [call.answer["errcode"] for call in wechat.calls_to(SEND_PATH)] == [40001, 0]
    assert redis_client.get(TOKEN_KEY).decode() == wechat.calls_to(TOKEN_PATH)[0].answer["access_token"]
    assert len(wechat.messages) == 1


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_each_token_error_gets_exactly_one_retry(messages, wechat, errcode):
    wechat.answer_for(OPENID, errcode, times=1)

    messages.send(OPENID, TEMPLATE, DATA)

    assert [call.answer["errcode"] for call in wechat.calls_to(SEND_PATH)] == [errcode, 0]
    assert len(wechat.messages) == 1


def test_token_refused_again_after_the_refresh_is_transient_and_not_retried_further(messages, wechat):
    wechat.answer_for(OPENID, 40001, times=5)

    with pytest.raises(WeChatBusy) as caught:
        messages.send(OPENID, TEMPLATE, DATA)

    assert caught.value.errcode == 40001 and caught.value.transient
    assert len(wechat.calls_to(SEND_PATH)) == 2
    assert [call.body.get("force_refresh") for call in wechat.calls_to(TOKEN_PATH)] == [None, True]


def test_no_token_is_a_passing_failure_and_nothing_is_sent(make_client, wechat, redis_client):
    """Wrong credentials, a quota or a missing IP whitelist: the message is fine, so it is retried later."""
    with pytest.raises(WeChatBusy) as caught:
        make_client(secret="not-the-secret").send(OPENID, TEMPLATE, DATA)

    assert caught.value.transient
    assert caught.value.errcode == 40125
    assert wechat.calls_to(SEND_PATH) == []
    assert redis_client.get(TOKEN_KEY) is None


def test_busy_token_endpoint_raises_wechat_busy(messages, wechat, redis_client):
    wechat.fail_next(TOKEN_PATH, errcode=-1)

    with pytest.raises(WeChatBusy):
        messages.send(OPENID, TEMPLATE, DATA)

    assert wechat.calls_to(SEND_PATH) == []
    assert redis_client.get(TOKEN_KEY) is None


def test_access_token_stays_out_of_the_log(messages, wechat, caplog):
    with caplog.at_level(logging.INFO, logger="httpx"):
        messages.send(OPENID, TEMPLATE, DATA)

    token = wechat.calls_to(TOKEN_PATH)[0].answer["access_token"]
    # Only our side's lines: the stand-in's own server log is WeChat's, not ours.
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name == "httpx")
    assert "subscribe/send?access_token=*** " in ours
    assert token not in ours


# ---- what each answer means to the caller ------------------------------------------------------------


def test_declined_recipient_raises_recipient_declined_and_is_not_retried(messages, wechat):
    wechat.answer_for(OPENID, 43101)

    with pytest.raises(RecipientDeclined) as caught:
        messages.send(OPENID, TEMPLATE, DATA)

    assert caught.value.errcode == 43101 and not caught.value.transient
    assert len(wechat.calls_to(SEND_PATH)) == 1
    assert wechat.messages == []


def test_template_data_wechat_rejects_raises_and_logs_the_template_not_the_user(messages, wechat, caplog):
    too_long = "小区二号楼三单元电梯停运检修预计周五恢复请注意安全"  # 25 characters; thing.DATA allows 20

    with caplog.at_level(logging.ERROR, logger="linli.wechat"), pytest.raises(TemplateDataInvalid) as caught:
        messages.send(OPENID, TEMPLATE, {"thing1": too_long, "time2": "2026-11-02 09:00"})

    assert caught.value.errcode == 47003 and not caught.value.transient
    assert len(wechat.calls_to(SEND_PATH)) == 1
    [record] = [record for record in caplog.records if record.name == "linli.wechat"]
    assert record.levelno == logging.ERROR
    line = record.getMessage()
    assert TEMPLATE in line and "thing1, time2" in line and "data.thing1.value" in line
    assert OPENID not in line and too_long not in line


def test_configured_47003_answer_raises_template_data_invalid(messages, wechat, caplog):
    wechat.answer_for(OPENID, 47003)

    with caplog.at_level(logging.ERROR, logger="linli.wechat"), pytest.raises(TemplateDataInvalid):
        messages.send(OPENID, TEMPLATE, DATA)

    assert TEMPLATE in caplog.text


def test_busy_answer_raises_wechat_busy_and_the_callers_retry_delivers_once(messages, wechat):
    wechat.answer_for(OPENID, -1, times=1)

    with pytest.raises(WeChatBusy) as caught:
        messages.send(OPENID, TEMPLATE, DATA)
    assert caught.value.errcode == -1 and caught.value.transient
    assert wechat.messages == []

    messages.send(OPENID, TEMPLATE, DATA)

    assert [call.answer["errcode"] for call in wechat.calls_to(SEND_PATH)] == [-1, 0]
    assert len(wechat.messages) == 1


def test_other_errcode_is_a_final_wechat_message_error(messages, wechat):
    with pytest.raises(WeChatMessageError) as caught:
        messages.send(OPENID, "", DATA)

    assert type(caught.value) is WeChatMessageError and not caught.value.transient
    assert (caught.value.errcode, caught.value.errmsg) == (40037, "invalid template_id")


def test_unreachable_host_raises_wechat_busy(redis_client):
    with running_standin() as gone:
        url = gone.url
    offline = WeChatMessages(APPID, SECRET, redis_client, api_base=url)

    with pytest.raises(WeChatBusy) as caught:
        offline.send(OPENID, TEMPLATE, DATA)
    assert caught.value.errcode == -2

    redis_client.set(TOKEN_KEY, "a-cached-token", ex=3600)
    with pytest.raises(WeChatBusy):
        offline.send(OPENID, TEMPLATE, DATA)


def test_timeout_raises_wechat_busy(wechat, redis_client):
    wechat.delay = 0.3
    impatient = WeChatMessages(
        APPID, SECRET, redis_client, http=httpx.Client(base_url=wechat.url, timeout=0.05)
    )

    with pytest.raises(WeChatBusy) as caught:
        impatient.send(OPENID, TEMPLATE, DATA)

    assert "Timeout" in caught.value.errmsg
    impatient.http.close()


def test_gateway_error_page_raises_wechat_busy(messages, wechat):
    messages.send(OPENID, TEMPLATE, DATA)
    wechat.fail_next(SEND_PATH, status=502)

    with pytest.raises(WeChatBusy):
        messages.send(OPENID, TEMPLATE, DATA)
    assert len(wechat.messages) == 1


def test_answer_that_is_not_wechat_json_is_final(make_client, wechat):
    misrouted = make_client(api_base=wechat.url + "/not-wechat")

    with pytest.raises(WeChatMessageError) as caught:
        misrouted.send(OPENID, TEMPLATE, DATA)

    assert type(caught.value) is WeChatMessageError and caught.value.errcode == -2


# ---- request bodies, by the spec ---------------------------------------------------------------------


def test_mini_program_send_posts_the_spec_body(make_client, wechat):
    messages = make_client(miniprogram_state="developer", lang="zh_CN")

    msgid = messages.send(OPENID, TEMPLATE, DATA, page="pages/repairs/detail?id=42")

    [call] = wechat.calls_to(SEND_PATH)
    assert call.query == {"access_token": wechat.calls_to(TOKEN_PATH)[0].answer["access_token"]}
    assert call.body == {
        "touser": OPENID,
        "template_id": TEMPLATE,
        "page": "pages/repairs/detail?id=42",
        "data": {"thing1": {"value": "报修已受理"}, "time2": {"value": "2026-11-02 09:00"}},
        "miniprogram_state": "developer",
        "lang": "zh_CN",
    }
    [message] = wechat.messages
    assert msgid == message.msgid and isinstance(msgid, int)


def test_mini_program_body_leaves_out_what_is_not_given(messages, wechat):
    messages.send(OPENID, TEMPLATE, DATA)

    [call] = wechat.calls_to(SEND_PATH)
    assert set(call.body) == {"touser", "template_id", "data"}


def test_official_account_bizsend_posts_the_spec_body_with_a_web_page(make_client, wechat):
    official = make_client(kind=OFFICIAL_ACCOUNT, miniprogram_state="developer", lang="zh_CN")

    msgid = official.send(OPENID, TEMPLATE, DATA, page="https://linli.example/h5/repairs/42")

    assert wechat.calls_to(SEND_PATH) == []
    [call] = wechat.calls_to(BIZSEND_PATH)
    assert call.body == {
        "touser": OPENID,
        "template_id": TEMPLATE,
        "page": "https://linli.example/h5/repairs/42",
        "data": {"thing1": {"value": "报修已受理"}, "time2": {"value": "2026-11-02 09:00"}},
    }
    assert call.answer == {"errcode": 0, "errmsg": "ok"}
    assert msgid is None
    assert [message.path for message in wechat.messages] == [BIZSEND_PATH]


def test_unknown_kind_is_refused(redis_client):
    with pytest.raises(ValueError, match="kind"):
        WeChatMessages(APPID, SECRET, redis_client, kind="sms")


# ---- the sandbox -------------------------------------------------------------------------------------


def test_sandbox_records_the_message_and_logs_a_masked_openid(redis_client, caplog):
    sandbox = SandboxWeChatMessages(redis_client, kind=MINIPROGRAM)

    with caplog.at_level(logging.WARNING, logger="linli.wechat"):
        assert sandbox.send(OPENID, TEMPLATE, DATA, page="pages/repairs/detail?id=42") is None

    [raw] = redis_client.lrange(SANDBOX_OUTBOX_KEY, 0, -1)
    assert json.loads(raw) == {
        "kind": MINIPROGRAM,
        "touser": OPENID,
        "template_id": TEMPLATE,
        "page": "pages/repairs/detail?id=42",
        "data": {"thing1": {"value": "报修已受理"}, "time2": {"value": "2026-11-02 09:00"}},
    }
    assert "oLin****0001" in caplog.text and OPENID not in caplog.text
    assert TEMPLATE in caplog.text


def test_sandbox_keeps_the_last_100_messages_newest_first(redis_client):
    sandbox = SandboxWeChatMessages(redis_client, kind=OFFICIAL_ACCOUNT)

    for number in range(105):
        sandbox.send(f"oOfficial{number:04d}", TEMPLATE, {"thing1": f"通知{number}"})

    kept = [json.loads(raw) for raw in redis_client.lrange(SANDBOX_OUTBOX_KEY, 0, -1)]
    assert len(kept) == 100
    assert (kept[0]["touser"], kept[-1]["touser"]) == ("oOfficial0104", "oOfficial0005")
    assert {message["kind"] for message in kept} == {OFFICIAL_ACCOUNT}
