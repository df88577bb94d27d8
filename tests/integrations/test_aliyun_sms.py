"""Alibaba Cloud SMS: the RPC signature against the spec, the client against a local stand-in of dysmsapi, the
phone sign-in through it (and what the user sees when the provider fails), and its configuration."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend import integrations
from backend.integrations import sms_sender
from backend.integrations.sms import (
    AliyunSms,
    SandboxSms,
    SmsSendFailed,
    last_sandbox_code,
    percent_encode,
    rpc_signature,
    string_to_sign,
)
from tests.integrations.aliyun_sms_standin import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    SIGN_NAME,
    TEMPLATE_CODE,
    AliyunSmsStandIn,
    running_standin,
)
from tests.support import assert_error_shape

PHONE = "13812345678"
MASKED = "138****5678"
OUTAGE = "短信服务暂时不可用，请稍后再试"


# ---- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standin_server() -> Iterator[AliyunSmsStandIn]:
    with running_standin() as standin:
        yield standin


@pytest.fixture
def standin(standin_server) -> AliyunSmsStandIn:
    standin_server.reset()
    return standin_server


def aliyun_client(url: str, *, key_id: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET) -> AliyunSms:
    return AliyunSms(key_id, secret, SIGN_NAME, TEMPLATE_CODE, endpoint=url)


@pytest.fixture
def aliyun(standin) -> Iterator[AliyunSms]:
    client = aliyun_client(standin.url)
    yield client
    client.http.close()


@pytest.fixture
def use_sender(app, monkeypatch):
    """Make the app send through `sender` for this test; the app's own sender comes back afterwards."""
    return lambda sender: monkeypatch.setitem(app.extensions, "linli_sms", sender)


def request_code(client, phone: str = PHONE):
    return client.post("/api/v1/auth/sms/request", json={"phone": phone})


def verify(client, code: str, phone: str = PHONE):
    return client.post("/api/v1/auth/sms/verify", json={"phone": phone, "code": code})


def signed(params: dict[str, str], secret: str = ACCESS_KEY_SECRET, method: str = "POST") -> dict[str, str]:
    return params | {"Signature": rpc_signature(method, params, secret)}


def send_sms_params(**changes: str) -> dict[str, str]:
    """A complete SendSms request as the spec lists it, for talking to the stand-in directly."""
    return {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "RegionId": "cn-hangzhou",
        "AccessKeyId": ACCESS_KEY_ID, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
        "SignatureNonce": "7d3f9a0c-5b1e-4c2a-9f60-1a2b3c4d5e6f",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "PhoneNumbers": PHONE, "SignName": SIGN_NAME, "TemplateCode": TEMPLATE_CODE,
        "TemplateParam": '{"code":"123456"}',
    } | changes


# ---- the signature, by the spec --------------------------------------------------------------------


def test_signature_of_the_published_example_matches_alibaba_cloud():
    # The worked example of Alibaba Cloud's "signature mechanism" page for RPC APIs (DescribeRegions,
    # AccessKeyId testid, AccessKeySecret testsecret), with the string to sign and signature it publishes.
    params = {
        "Timestamp": "2016-02-23T12:46:24Z", "Format": "XML", "AccessKeyId": "testid",
        "Action": "DescribeRegions", "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26", "SignatureVersion": "1.0",
    }

    assert string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
        "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    assert rpc_signature("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_string_to_sign_for_send_sms_sorts_by_name_and_encodes_twice():
    params = {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "RegionId": "cn-hangzhou",
        "AccessKeyId": "testid", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "Timestamp": "2026-11-02T09:00:00Z",
        "PhoneNumbers": "13800138000", "SignName": "邻里", "TemplateCode": "SMS_153055065",
        "TemplateParam": '{"code":"123456"}', "OutId": "a b*c~d",
    }
    # Derived by hand from the spec:
    # 1. Sort by name, byte order: AccessKeyId, Action, Format, OutId, PhoneNumbers, RegionId, SignName,
    #    SignatureMethod ("SignN" < "Signa": upper case sorts first), SignatureNonce, SignatureVersion,
    #    TemplateCode, TemplateParam, Timestamp, Version.
    # 2. Encode each name and value (RFC 3986, UTF-8): 邻 = E9 82 BB, 里 = E9 87 8C → %E9%82%BB%E9%87%8C;
    #    "a b*c~d" → a%20b%2Ac~d (space %20, * %2A, ~ kept); ":" → %3A;
    #    {"code":"123456"} → %7B%22code%22%3A%22123456%22%7D. Join name=value with &.
    # 3. StringToSign = "POST" & percentEncode("/") = %2F & percentEncode(step 2), which turns = into
    #    %3D, & into %26 and every % of step 2 into %25 (%20 becomes %2520), and keeps ~ - _ . as they are.
    assert string_to_sign("POST", params) == (
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DSendSms%26Format%3DJSON%26OutId%3Da%2520b%252Ac~d"
        "%26PhoneNumbers%3D13800138000%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2582%25BB%25E9%2587%258C"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466"
        "%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_153055065"
        "%26TemplateParam%3D%257B%2522code%2522%253A%2522123456%2522%257D"
        "%26Timestamp%3D2026-11-02T09%253A00%253A00Z%26Version%3D2017-05-25"
    )


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [(" ", "%20"), ("*", "%2A"), ("~", "~"), ("/", "%2F"), ("+", "%2B"), ("=&", "%3D%26"),
     ("-_.AZaz09", "-_.AZaz09"), ("邻", "%E9%82%BB")],
)
def test_percent_encoding_follows_rfc_3986(raw, encoded):
    assert percent_encode(raw) == encoded


# ---- the client against the stand-in ---------------------------------------------------------------


def test_send_code_posts_a_signed_send_sms_the_standin_accepts(aliyun, standin):
    aliyun.send_code(PHONE, "042917")

    [call] = standin.calls
    assert (call.method, call.status) == ("POST", 200)
    assert (call.answer["Code"], call.answer["Message"]) == ("OK", "OK")
    assert call.answer["BizId"] and call.answer["RequestId"]
    params = call.params
    assert {name: params[name] for name in ("Action", "Version", "Format", "RegionId", "AccessKeyId",
                                            "SignatureMethod", "SignatureVersion", "PhoneNumbers", "SignName",
                                            "TemplateCode")} == {
        "Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "RegionId": "cn-hangzhou",
        "AccessKeyId": ACCESS_KEY_ID, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
        "PhoneNumbers": PHONE, "SignName": SIGN_NAME, "TemplateCode": TEMPLATE_CODE,
    }
    assert json.loads(params["TemplateParam"]) == {"code": "042917"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", params["Timestamp"])
    sent_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)
    assert standin.codes_sent_to(PHONE) == ["042917"]


def test_every_send_is_signed_with_a_new_nonce(aliyun, standin):
    aliyun.send_code(PHONE, "111111")
    aliyun.send_code(PHONE, "222222")

    assert [call.answer["Code"] for call in standin.calls] == ["OK", "OK"]
    first, second = (call.params["SignatureNonce"] for call in standin.calls)
    assert first != second
    assert standin.codes_sent_to(PHONE) == ["111111", "222222"]


def test_wrong_secret_raises_signature_does_not_match_without_the_code_or_number(standin):
    wrong = aliyun_client(standin.url, secret="not-the-secret")

    with pytest.raises(SmsSendFailed) as caught:
        wrong.send_code(PHONE, "735102")

    assert caught.value.code == "SignatureDoesNotMatch"
    [call] = standin.calls
    assert call.status == 400 and "735102" in call.answer["Message"]  # the real gateway echoes it too
    assert "735102" not in str(caught.value) and PHONE not in str(caught.value)
    assert MASKED in caught.value.message
    assert standin.messages == []


def test_unknown_access_key_raises_invalid_access_key_id(standin):
    with pytest.raises(SmsSendFailed) as caught:
        aliyun_client(standin.url, key_id="LTAI5tNoSuchKey").send_code(PHONE, "123456")

    assert caught.value.code == "InvalidAccessKeyId.NotFound"
    assert standin.calls[0].status == 404


def test_provider_flow_control_raises_with_its_code(aliyun, standin):
    standin.limit(PHONE)

    with pytest.raises(SmsSendFailed) as caught:
        aliyun.send_code(PHONE, "123456")

    assert caught.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    assert standin.messages == []
    aliyun.send_code(PHONE, "654321")
    assert standin.codes_sent_to(PHONE) == ["654321"]


def test_number_the_carrier_refuses_raises_mobile_number_illegal(aliyun, standin):
    standin.refuse("14512345678")

    with pytest.raises(SmsSendFailed) as caught:
        aliyun.send_code("14512345678", "123456")

    assert caught.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


def test_unreachable_endpoint_raises_sms_send_failed():
    with running_standin() as gone:
        url = gone.url
    offline = aliyun_client(url)

    with pytest.raises(SmsSendFailed) as caught:
        offline.send_code(PHONE, "123456")
    assert caught.value.code == "Unreachable"


def test_answer_that_is_not_json_raises_sms_send_failed(standin):
    # Outside "/" the stand-in answers 404 in plain text, like a proxy's error page.
    misrouted = aliyun_client(standin.url + "/not-sms")

    with pytest.raises(SmsSendFailed) as caught:
        misrouted.send_code(PHONE, "123456")
    assert caught.value.code == "MalformedAnswer"


# ---- the stand-in checks what the gateway checks ---------------------------------------------------


def post(standin, params: dict[str, str]) -> tuple[int, dict]:
    response = httpx.post(standin.url + "/", data=params, timeout=5)
    return response.status_code, response.json()


def test_standin_refuses_a_replayed_request(standin):
    request = signed(send_sms_params())
    assert post(standin, request)[1]["Code"] == "OK"

    status, answer = post(standin, request)

    assert (status, answer["Code"]) == (400, "SignatureNonceUsed")
    assert len(standin.messages) == 1


def test_standin_refuses_a_timestamp_older_than_fifteen_minutes(standin):
    stale = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y-%m-%dT%H:%M:%SZ")

    status, answer = post(standin, signed(send_sms_params(Timestamp=stale)))

    assert (status, answer["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_standin_refuses_a_parameter_changed_after_signing(standin):
    request = signed(send_sms_params()) | {"PhoneNumbers": "13900001111"}

    status, answer = post(standin, request)

    assert (status, answer["Code"]) == (400, "SignatureDoesNotMatch")
    assert standin.messages == []


def test_standin_requires_the_send_sms_parameters(standin):
    params = send_sms_params()
    del params["SignName"]

    status, answer = post(standin, signed(params))

    assert (status, answer["Code"]) == (400, "MissingSignName")


def test_standin_answers_xml_unless_json_is_asked_for(standin):
    params = send_sms_params()
    del params["Format"]

    response = httpx.post(standin.url + "/", data=signed(params), timeout=5)

    assert response.headers["Content-Type"].startswith("text/xml")
    assert "<Code>OK</Code>" in response.text


# ---- phone sign-in through Alibaba Cloud -----------------------------------------------------------


def test_phone_sign_in_through_aliyun_end_to_end(app, client, standin, aliyun, use_sender):
    use_sender(aliyun)

    requested = request_code(client)

    assert requested.status_code == 202 and requested.json == {"expires_in": 300}
    [code] = standin.codes_sent_to(PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert last_sandbox_code(app.extensions["linli_redis"], PHONE) is None
    signed_in = verify(client, code)
    assert signed_in.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {signed_in.json['access_token']}"})
    assert me.json["phone_masked"] == MASKED


def test_provider_outage_is_503_and_the_phone_may_ask_again_at_once(app, client, standin, aliyun, use_sender):
    use_sender(aliyun_client(standin.url, secret="rotated-away"))

    failed = request_code(client)

    assert_error_shape(failed, 503)
    assert failed.json["message"] == OUTAGE
    # The code went out in the refused request; it must not sign in, and nothing of it is kept.
    undelivered = json.loads(standin.calls[0].params["TemplateParam"])["code"]
    assert_error_shape(verify(client, undelivered), 401)
    assert list(app.extensions["linli_redis"].scan_iter("linli:otp:co*")) == []
    use_sender(aliyun)
    assert request_code(client).status_code == 202
    assert verify(client, standin.codes_sent_to(PHONE)[-1]).status_code == 200


def test_unsent_codes_do_not_use_up_the_hourly_five(client, standin, aliyun, use_sender):
    use_sender(aliyun_client(standin.url, key_id="LTAI5tDeleted"))
    for _ in range(5):
        assert_error_shape(request_code(client), 503)

    use_sender(aliyun)

    assert request_code(client).status_code == 202


def test_unreachable_provider_is_503(client, use_sender):
    with running_standin() as gone:
        url = gone.url
    use_sender(aliyun_client(url))

    response = request_code(client)

    assert_error_shape(response, 503)
    assert response.json["message"] == OUTAGE


def test_provider_flow_control_is_429_and_the_phone_may_ask_again(client, standin, aliyun, use_sender):
    use_sender(aliyun)
    standin.limit(PHONE)

    limited = request_code(client)

    assert_error_shape(limited, 429)
    assert limited.json["message"].startswith("验证码发送过于频繁")
    assert int(limited.headers["Retry-After"]) >= 1
    assert request_code(client).status_code == 202


def test_number_the_provider_refuses_is_422_on_phone(client, standin, aliyun, use_sender):
    use_sender(aliyun)
    standin.refuse(PHONE)

    response = request_code(client)

    assert_error_shape(response, 422)
    assert "phone" in response.json["errors"]["json"]


def test_code_and_number_never_reach_the_log(client, standin, aliyun, use_sender, caplog):
    caplog.set_level(logging.DEBUG)
    use_sender(aliyun_client(standin.url, secret="wrong"))
    assert request_code(client).status_code == 503
    use_sender(aliyun)
    assert request_code(client).status_code == 202

    codes = [json.loads(call.params["TemplateParam"])["code"] for call in standin.calls]
    assert len(codes) == 2
    assert "SignatureDoesNotMatch" in caplog.text  # the failure is logged, for the operator
    for secret in [*codes, PHONE]:
        assert secret not in caplog.text


def test_sms_form_shows_the_outage_message_instead_of_failing(client, standin, use_sender):
    use_sender(aliyun_client(standin.url, secret="wrong"))

    page = client.post("/h5/login/sms/request", data={"phone": PHONE})

    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert OUTAGE in html and 'name="phone"' in html and 'name="code"' not in html


def test_sms_form_shows_the_provider_flow_control(client, standin, aliyun, use_sender):
    use_sender(aliyun)
    standin.limit(PHONE)

    page = client.post("/h5/login/sms/request", data={"phone": PHONE})

    assert page.status_code == 429
    assert "验证码发送过于频繁" in page.get_data(as_text=True)


# ---- the sender the app builds ------------------------------------------------------------------


@pytest.fixture
def start_up(app) -> Iterator[Callable[[], None]]:
    """Builds the app's sender from its settings as the app's start does (integrations.init_app); whatever it
    builds is closed and the app's own sender put back afterwards."""
    previous = app.extensions["linli_sms"]

    def build() -> None:
        app.extensions["linli_sms"] = integrations.sms_for(app)

    yield build
    built = app.extensions["linli_sms"]
    if isinstance(built, AliyunSms):
        built.http.close()
    app.extensions["linli_sms"] = previous


def test_configured_aliyun_sender_is_built_once_per_app(app, client, standin, monkeypatch, start_up):
    for name, value in {
        "LINLI_SMS_PROVIDER": "aliyun", "LINLI_ALIYUN_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "LINLI_ALIYUN_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET, "LINLI_ALIYUN_SMS_SIGN_NAME": SIGN_NAME,
        "LINLI_ALIYUN_SMS_TEMPLATE_CODE": TEMPLATE_CODE, "LINLI_ALIYUN_SMS_ENDPOINT": standin.url,
    }.items():
        monkeypatch.setitem(app.config, name, value)
    start_up()

    assert request_code(client).status_code == 202
    assert request_code(client, "13900001111").status_code == 202

    built = app.extensions["linli_sms"]
    assert isinstance(built, AliyunSms)
    assert sms_sender() is built
    assert [message.phone for message in standin.messages] == [PHONE, "13900001111"]


def test_sandbox_sender_is_the_default(app, start_up):
    assert app.config["LINLI_SMS_PROVIDER"] == "sandbox"
    start_up()

    assert isinstance(sms_sender(), SandboxSms)
