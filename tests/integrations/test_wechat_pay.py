"""WeChat Pay v3 (JSAPI): placing orders against a local stand-in of api.mch.weixin.qq.com, the
getBrandWCPayRequest parameters, the payment notification's checks, the sandbox `make run` pays through, and
the app's choice between them. Every key is generated here."""
from __future__ import annotations

import base64
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from backend.config import ConfigError
from backend.integrations.wechat_pay import (
    JsapiOrder,
    NotificationRejected,
    OrderState,
    PaidTransaction,
    SandboxWeChatPay,
    WeChatPay,
    WeChatPayError,
    _create_sandbox_keys,
)
from backend.services.payment_provider import SANDBOX_KEY_DIR, wechat_pay
from tests.integrations.wechat_pay_standin import (
    PayKeys,
    WeChatPayStandIn,
    encrypt,
    envelope,
    notification,
    running_standin,
    sign,
    transaction,
)

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
OPENID = "oLinli0Resident0000000000001"
NOTIFY_URL = "https://linli.example.cn/api/v1/payments/wechat/notify"


def an_order(**changes) -> JsapiOrder:
    order = JsapiOrder(
        out_trade_no="B20260300012345",
        description="物业费 2026年3月 3栋2单元401",
        amount_fen=4250,
        payer_openid=OPENID,
        time_expire=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        notify_url=NOTIFY_URL,
    )
    return replace(order, **changes)


def verifies(public_key: rsa.RSAPublicKey, signature: str, message: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# ---- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> PayKeys:
    return PayKeys.generate()


@pytest.fixture(scope="module")
def standin_server(keys) -> Iterator[WeChatPayStandIn]:
    with running_standin(keys) as standin:
        yield standin


@pytest.fixture
def standin(standin_server) -> WeChatPayStandIn:
    standin_server.reset()
    return standin_server


def client_for(keys: PayKeys, api_base: str = "https://api.mch.weixin.qq.com", **changes) -> WeChatPay:
    options = {
        "appid": keys.appid,
        "mchid": keys.mchid,
        "apiv3_key": keys.apiv3_key,
        "merchant_serial_no": keys.merchant_serial_no,
        "merchant_private_key": keys.merchant_private_key,
        "public_key_id": keys.public_key_id,
        "public_key": keys.platform_private_key.public_key(),
        "api_base": api_base,
    }
    return WeChatPay(**(options | changes))


@pytest.fixture
def pay(keys, standin) -> Iterator[WeChatPay]:
    client = client_for(keys, standin.url, timeout=2.0)
    yield client
    client.http.close()


# ---- placing an order ------------------------------------------------------------------------------


def test_placing_an_order_sends_a_signed_request_and_returns_the_prepay_id(pay, standin):
    prepay_id = pay.place_jsapi_order(an_order())

    assert prepay_id.startswith("wx")
    (call,) = standin.calls
    assert call.authorized and call.status == 200
    assert call.body == {
        "appid": "wx5tand1npayapp00",
        "mchid": "1900009191",
        "description": "物业费 2026年3月 3栋2单元401",
        "out_trade_no": "B20260300012345",
        "time_expire": "2026-03-02T10:00:00+08:00",
        "notify_url": NOTIFY_URL,
        "amount": {"total": 4250, "currency": "CNY"},
        "payer": {"openid": OPENID},
    }


def test_placing_the_same_order_again_gets_the_same_prepay_id(pay, standin):
    first = pay.place_jsapi_order(an_order())

    assert pay.place_jsapi_order(an_order()) == first
    with pytest.raises(WeChatPayError) as refused:
        pay.place_jsapi_order(an_order(amount_fen=4251))
    assert (refused.value.code, refused.value.status, refused.value.transient) == ("OUT_TRADE_NO_USED", 403, False)


def test_a_request_signed_with_another_merchant_key_is_refused_for_good(keys, standin):
    client = client_for(keys, standin.url, merchant_private_key=PayKeys.generate().merchant_private_key)

    with pytest.raises(WeChatPayError) as refused:
        client.place_jsapi_order(an_order())

    assert (refused.value.code, refused.value.status, refused.value.transient) == ("SIGN_ERROR", 401, False)
    assert standin.calls[0].authorized is False
    client.http.close()


@pytest.mark.parametrize(
    "signing",
    [
        {"key": "another"},
        {"serial": "PUB_KEY_ID_0119999999999999999999999999999"},
        {"clock_offset": -301},
        {"unsigned": True},
    ],
    ids=["another key", "another key id", "stale", "unsigned"],
)
def test_an_answer_that_does_not_verify_gives_no_prepay_id(pay, standin, signing):
    if signing.get("key") == "another":
        signing = {"key": PayKeys.generate().platform_private_key}
    for name, value in signing.items():
        setattr(standin.answer_signing, name, value)

    with pytest.raises(WeChatPayError) as refused:
        pay.place_jsapi_order(an_order())

    assert refused.value.code == "UNVERIFIED_ANSWER"
    assert refused.value.transient is False


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (400, "PARAM_ERROR", False),
        (403, "NOAUTH", False),
        (404, "ORDER_NOT_EXIST", False),
        (429, "FREQUENCY_LIMITED", True),
        (500, "SYSTEM_ERROR", True),
        (503, "SYSTEM_ERROR", True),
    ],
)
def test_an_error_answer_is_final_for_4xx_and_transient_for_5xx(pay, standin, status, code, transient):
    standin.fail_next(status, code, "出错了")

    with pytest.raises(WeChatPayError) as refused:
        pay.place_jsapi_order(an_order())

    assert (refused.value.code, refused.value.message, refused.value.status) == (code, "出错了", status)
    assert refused.value.transient is transient


def test_a_gateway_error_page_is_transient_and_the_retry_goes_through(pay, standin):
    standin.fail_next(502)

    with pytest.raises(WeChatPayError) as refused:
        pay.place_jsapi_order(an_order())

    assert (refused.value.code, refused.value.status, refused.value.transient) == ("NO_ANSWER", 502, True)
    assert pay.place_jsapi_order(an_order()).startswith("wx")


def test_an_order_the_spec_refuses_is_a_final_error(pay, standin):
    with pytest.raises(WeChatPayError) as refused:
        pay.place_jsapi_order(an_order(notify_url="http://linli.example.cn/notify"))

    assert (refused.value.code, refused.value.status, refused.value.transient) == ("PARAM_ERROR", 400, False)
    assert "notify_url" in refused.value.message


def test_a_timeout_is_transient(keys, standin):
    standin.delay = 1.0
    client = client_for(keys, standin.url, timeout=0.2)

    with pytest.raises(WeChatPayError) as refused:
        client.place_jsapi_order(an_order())

    assert (refused.value.code, refused.value.transient) == ("NO_ANSWER", True)
    client.http.close()


def test_no_connection_is_transient(keys):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = client_for(keys, f"http://127.0.0.1:{port}", timeout=1.0)

    with pytest.raises(WeChatPayError) as refused:
        client.place_jsapi_order(an_order())

    assert (refused.value.code, refused.value.transient) == ("NO_ANSWER", True)
    client.http.close()


@pytest.mark.parametrize(
    "changes",
    [
        {"out_trade_no": "B2026"},
        {"out_trade_no": "B" * 33},
        {"out_trade_no": "B2026-03/0001"},
        {"description": ""},
        {"description": "物" * 128},
        {"amount_fen": 0},
        {"amount_fen": -1},
        {"amount_fen": True},
        {"amount_fen": 42.5},
        {"payer_openid": ""},
        {"time_expire": datetime(2026, 3, 2, 10, 0)},
        {"notify_url": ""},
    ],
)
def test_an_order_outside_the_spec_is_refused_before_it_is_sent(changes):
    with pytest.raises(ValueError):
        an_order(**changes)


def test_order_numbers_use_every_character_the_spec_allows():
    assert an_order(out_trade_no="Ab0_-|*9").out_trade_no == "Ab0_-|*9"
    assert len(an_order(out_trade_no="9" * 32).out_trade_no) == 32
    assert an_order(description="物" * 127).description == "物" * 127


# ---- querying and closing an order ----------------------------------------------------------------


def test_querying_an_unpaid_order_is_a_signed_get_and_says_notpay(pay, standin):
    pay.place_jsapi_order(an_order())

    state = pay.query_order("B20260300012345")

    assert state == OrderState(out_trade_no="B20260300012345", trade_state="NOTPAY", paid=None)
    (query,) = standin.calls_to("GET", "query")
    # The stand-in verified our signature over the path with its query string.
    assert query.authorized and query.status == 200 and query.body is None
    assert query.path == "/v3/pay/transactions/out-trade-no/B20260300012345"


def test_querying_a_paid_order_gives_its_transaction(pay, standin):
    pay.place_jsapi_order(an_order())
    standin.pay("B20260300012345", "4200002026030212345678901234", now=NOW)

    state = pay.query_order("B20260300012345")

    assert state.trade_state == "SUCCESS"
    assert state.paid == PaidTransaction(
        out_trade_no="B20260300012345", transaction_id="4200002026030212345678901234", trade_state="SUCCESS",
        amount_total_fen=4250, success_time=NOW, payer_openid=OPENID,
    )


def test_querying_an_order_never_placed_says_it_does_not_exist(pay, standin):
    with pytest.raises(WeChatPayError) as missing:
        pay.query_order("B20260300099999")

    assert (missing.value.code, missing.value.status, missing.value.transient) == ("ORDER_NOT_EXIST", 404, False)


def test_closing_an_unpaid_order_answers_204_and_it_can_no_longer_be_paid(pay, standin):
    pay.place_jsapi_order(an_order())

    assert pay.close_order("B20260300012345") is None

    (close,) = standin.calls_to("POST", "close")
    assert close.authorized and close.status == 204
    assert (close.path, close.body) == ("/v3/pay/transactions/out-trade-no/B20260300012345/close",
                                        {"mchid": "1900009191"})
    assert pay.query_order("B20260300012345") == OrderState("B20260300012345", "CLOSED")
    with pytest.raises(AssertionError, match="closed"):
        standin.pay("B20260300012345", "4200002026030212345678901234", now=NOW)


@pytest.mark.parametrize(("paid", "code"), [(False, "ORDER_CLOSED"), (True, "ORDERPAID")])
def test_a_closed_or_paid_order_does_not_close(pay, standin, paid, code):
    pay.place_jsapi_order(an_order())
    if paid:
        standin.pay("B20260300012345", "4200002026030212345678901234", now=NOW)
    else:
        pay.close_order("B20260300012345")

    with pytest.raises(WeChatPayError) as refused:
        pay.close_order("B20260300012345")

    assert (refused.value.code, refused.value.status, refused.value.transient) == (code, 400, False)


@pytest.mark.parametrize("signing", [{"unsigned": True}, {"key": "another"}, {"clock_offset": 301}],
                         ids=["unsigned", "another key", "stale"])
@pytest.mark.parametrize("operation", ["query", "close"])
def test_a_query_or_close_answer_that_does_not_verify_is_not_believed(pay, standin, signing, operation):
    pay.place_jsapi_order(an_order())
    if signing.get("key") == "another":
        signing = {"key": PayKeys.generate().platform_private_key}
    for name, value in signing.items():
        setattr(standin.answer_signing, name, value)

    with pytest.raises(WeChatPayError) as refused:
        getattr(pay, f"{operation}_order")("B20260300012345")

    # A forged "closed" (even a bodiless 204) would let the desk take cash for an order still payable.
    assert refused.value.code == "UNVERIFIED_ANSWER" and refused.value.transient is False


@pytest.mark.parametrize("operation", ["query", "close"])
@pytest.mark.parametrize(("status", "code"), [(500, "SYSTEM_ERROR"), (502, "NO_ANSWER"), (429, "FREQUENCY_LIMITED")])
def test_wechat_pay_down_while_querying_or_closing_is_transient(pay, standin, operation, status, code):
    pay.place_jsapi_order(an_order())
    standin.fail_next(status, code)

    with pytest.raises(WeChatPayError) as refused:
        getattr(pay, f"{operation}_order")("B20260300012345")

    assert (refused.value.code, refused.value.status, refused.value.transient) == (code, status, True)
    assert pay.query_order("B20260300012345").trade_state == "NOTPAY"


@pytest.mark.parametrize("operation", ["query", "close"])
def test_an_order_number_outside_the_spec_is_refused_before_it_is_sent(pay, standin, operation):
    with pytest.raises(ValueError):
        getattr(pay, f"{operation}_order")("B2026/../jsapi")

    assert standin.calls_to("GET", "query") == standin.calls_to("POST", "close") == []


# ---- the page's parameters -------------------------------------------------------------------------


def test_pay_params_are_signed_by_the_merchant_key_over_the_four_lines(keys):
    client = client_for(keys)

    params = client.pay_params("wx02093000123456789abcdef0123456789")

    assert params["appId"] == keys.appid
    assert params["package"] == "prepay_id=wx02093000123456789abcdef0123456789"
    assert params["signType"] == "RSA"
    assert abs(int(params["timeStamp"]) - time.time()) < 5
    assert 1 <= len(params["nonceStr"]) <= 32
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    assert verifies(keys.merchant_private_key.public_key(), params["paySign"], message)
    assert not verifies(keys.merchant_private_key.public_key(), params["paySign"], message.replace(b"\n", b"&"))


# ---- the notification ------------------------------------------------------------------------------


def paid(keys: PayKeys, now: datetime = NOW) -> tuple[dict[str, str], bytes]:
    return notification(keys, "B20260300012345", "4200002026030212345678901234", 4250, OPENID, now=now)


def resigned(keys: PayKeys, body: bytes, now: datetime = NOW) -> dict[str, str]:
    return sign(keys.platform_private_key, body, timestamp=int(now.timestamp()), serial=keys.public_key_id)


def test_a_valid_notification_gives_the_paid_transaction(keys):
    headers, body = paid(keys)

    assert client_for(keys).parse_notification(headers, body, now=NOW + timedelta(seconds=2)) == PaidTransaction(
        out_trade_no="B20260300012345",
        transaction_id="4200002026030212345678901234",
        trade_state="SUCCESS",
        amount_total_fen=4250,
        success_time=NOW,
        payer_openid=OPENID,
    )


def test_header_names_are_read_in_any_case(keys):
    headers, body = paid(keys)

    lowered = {name.lower(): value for name, value in headers.items()}

    assert client_for(keys).parse_notification(lowered, body, now=NOW).amount_total_fen == 4250


@pytest.mark.parametrize("seconds", [-300, 300])
def test_a_notification_exactly_five_minutes_off_is_accepted(keys, seconds):
    headers, body = paid(keys)

    assert client_for(keys).parse_notification(headers, body, now=NOW + timedelta(seconds=seconds))


@pytest.mark.parametrize(("seconds", "case"), [(301, "301 s old"), (-301, "301 s ahead")])
def test_a_notification_more_than_five_minutes_off_is_stale(keys, seconds, case):
    headers, body = paid(keys)

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(headers, body, now=NOW + timedelta(seconds=seconds))

    assert rejected.value.reason == "stale", case


def test_a_flipped_byte_in_the_body_is_a_bad_signature(keys):
    headers, body = paid(keys)
    flipped = bytearray(body)
    flipped[len(body) // 2] ^= 0x01

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(headers, bytes(flipped), now=NOW)

    assert rejected.value.reason == "bad_signature"


@pytest.mark.parametrize("signature", ["flipped", "not base64 !", "WECHATPAY/SIGNTEST/" + "A" * 40])
def test_a_signature_that_does_not_verify_is_a_bad_signature(keys, signature):
    headers, body = paid(keys)
    if signature == "flipped":
        raw = bytearray(base64.b64decode(headers["Wechatpay-Signature"]))
        raw[0] ^= 0x01
        signature = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(headers | {"Wechatpay-Signature": signature}, body, now=NOW)

    assert rejected.value.reason == "bad_signature"


def test_a_notification_signed_by_another_key_is_a_bad_signature(keys):
    headers, body = paid(replace(keys, platform_private_key=PayKeys.generate().platform_private_key))

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(headers, body, now=NOW)

    assert rejected.value.reason == "bad_signature"


def test_a_notification_naming_another_key_is_an_unknown_key(keys):
    headers, body = paid(keys)

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(
            headers | {"Wechatpay-Serial": "PUB_KEY_ID_0119999999999999999999999999999"}, body, now=NOW
        )

    assert rejected.value.reason == "unknown_key"


def tampered_ciphertext(keys: PayKeys) -> bytes:
    resource = encrypt(keys.apiv3_key, json.dumps(transaction(keys, "B20260300012345", "42000", 4250, OPENID,
                                                              NOW)).encode())
    sealed = bytearray(base64.b64decode(resource["ciphertext"]))
    sealed[3] ^= 0x01
    return envelope(resource | {"ciphertext": base64.b64encode(bytes(sealed)).decode()}, NOW)


def another_apiv3_key(keys: PayKeys) -> bytes:
    plaintext = json.dumps(transaction(keys, "B20260300012345", "42000", 4250, OPENID, NOW)).encode()
    return envelope(encrypt("0123456789abcdef0123456789abcdef", plaintext), NOW)


def other_associated_data(keys: PayKeys) -> bytes:
    resource = encrypt(keys.apiv3_key, json.dumps(transaction(keys, "B20260300012345", "42000", 4250, OPENID,
                                                              NOW)).encode())
    return envelope(resource | {"associated_data": "refund"}, NOW)


@pytest.mark.parametrize("make_body", [tampered_ciphertext, another_apiv3_key, other_associated_data])
def test_a_resource_that_does_not_decrypt_is_undecryptable(keys, make_body):
    body = make_body(keys)

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(resigned(keys, body), body, now=NOW)

    assert rejected.value.reason == "undecryptable"


def encrypted(keys: PayKeys, resource_changes: dict | None = None, **transaction_changes) -> bytes:
    paid_transaction = transaction(keys, "B20260300012345", "42000", 4250, OPENID, NOW) | transaction_changes
    resource = encrypt(keys.apiv3_key, json.dumps(paid_transaction).encode())
    return envelope(resource | (resource_changes or {}), NOW)


@pytest.mark.parametrize(
    "make_body",
    [
        lambda keys: b"<xml><return_code>SUCCESS</return_code></xml>",
        lambda keys: b"[]",
        lambda keys: json.dumps({"id": "1", "event_type": "TRANSACTION.SUCCESS"}).encode(),
        lambda keys: encrypted(keys, {"algorithm": "AEAD_AES_128_GCM"}),
        lambda keys: encrypted(keys, {"original_type": "refund"}),
        lambda keys: encrypted(keys, amount={"total": "4250"}),
        lambda keys: encrypted(keys, payer={}),
        lambda keys: encrypted(keys, out_trade_no=None),
        lambda keys: encrypted(keys, success_time="2026-03-02 09:30:00"),
        lambda keys: envelope(encrypt(keys.apiv3_key, b"not json"), NOW),
    ],
    ids=["xml", "a list", "no resource", "another algorithm", "a refund", "amount as text", "no openid",
         "no order number", "a time without offset", "plaintext not json"],
)
def test_a_signed_body_that_is_not_a_transaction_notification_is_malformed(keys, make_body):
    body = make_body(keys)

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(resigned(keys, body), body, now=NOW)

    assert rejected.value.reason == "malformed"


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"]
)
def test_a_notification_without_a_signature_header_is_malformed(keys, missing):
    headers, body = paid(keys)

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification({k: v for k, v in headers.items() if k != missing}, body, now=NOW)

    assert rejected.value.reason == "malformed"
    assert missing.lower() in str(rejected.value)


def test_a_timestamp_that_is_not_a_number_is_malformed(keys):
    headers, body = paid(keys)

    with pytest.raises(NotificationRejected) as rejected:
        client_for(keys).parse_notification(headers | {"Wechatpay-Timestamp": "1_772_415_000"}, body, now=NOW)

    assert rejected.value.reason == "malformed"


def test_an_apiv3_key_that_is_not_32_ascii_characters_is_refused(keys):
    for apiv3_key in ("0123456789abcdef", "物" * 32):
        with pytest.raises(ValueError, match="APIv3"):
            client_for(keys, apiv3_key=apiv3_key)


# ---- the sandbox -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("instance") / "wechatpay-sandbox"


@pytest.fixture(scope="module")
def sandbox(sandbox_dir) -> SandboxWeChatPay:
    return SandboxWeChatPay(sandbox_dir, appid="wx00000000sandbox")


def test_the_sandbox_completes_a_payment_through_the_notification_path(sandbox):
    headers, body = sandbox.signed_notification("B20260300012345", "sandbox_tx_0001", 4250, OPENID, now=NOW)

    paid_transaction = sandbox.parse_notification(headers, body, now=NOW)

    assert paid_transaction == PaidTransaction("B20260300012345", "sandbox_tx_0001", "SUCCESS", 4250, NOW, OPENID)
    envelope_sent = json.loads(body)
    assert envelope_sent["event_type"] == "TRANSACTION.SUCCESS"
    assert envelope_sent["resource"]["algorithm"] == "AEAD_AES_256_GCM"
    assert envelope_sent["resource"]["associated_data"] == "transaction"
    assert "B20260300012345" not in body.decode()  # encrypted, like the real one
    assert headers["Wechatpay-Serial"] == sandbox.public_key_id


def test_a_sandbox_notification_is_checked_like_a_real_one(sandbox):
    headers, body = sandbox.signed_notification("B20260300012345", "sandbox_tx_0001", 4250, OPENID, now=NOW)

    with pytest.raises(NotificationRejected) as stale:
        sandbox.parse_notification(headers, body, now=NOW + timedelta(seconds=301))
    with pytest.raises(NotificationRejected) as forged:
        sandbox.parse_notification(headers, body.replace(b"TRANSACTION", b"TRANSACTIOM"), now=NOW)

    assert (stale.value.reason, forged.value.reason) == ("stale", "bad_signature")


def test_the_sandbox_places_orders_without_the_network(sandbox):
    first, again = (sandbox.place_jsapi_order(an_order(out_trade_no="B20260300010001")) for _ in range(2))
    other = sandbox.place_jsapi_order(an_order(out_trade_no="B20260300010002"))

    # As WeChat Pay: the same order placed again keeps its prepay_id.
    assert first.startswith("sandbox_") and again == first and other.startswith("sandbox_") and other != first
    assert sandbox.provider == "sandbox"
    with pytest.raises(WeChatPayError) as reused:
        sandbox.place_jsapi_order(an_order(out_trade_no="B20260300010001", amount_fen=1))
    assert (reused.value.code, reused.value.status) == ("OUT_TRADE_NO_USED", 403)


def test_the_sandbox_pay_params_verify_with_its_merchant_key(sandbox):
    params = sandbox.pay_params("sandbox_0123")

    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n".encode()
    assert params["appId"] == "wx00000000sandbox"
    assert verifies(sandbox.merchant_private_key.public_key(), params["paySign"], message)


def test_sandbox_keys_are_private_files_kept_across_instances(sandbox, sandbox_dir):
    headers, body = sandbox.signed_notification("B20260300012345", "sandbox_tx_0002", 100, OPENID, now=NOW)

    again = SandboxWeChatPay(sandbox_dir, appid="wx00000000sandbox")

    assert again.parse_notification(headers, body, now=NOW).transaction_id == "sandbox_tx_0002"
    assert again.public_key_id == sandbox.public_key_id
    assert stat.S_IMODE(sandbox_dir.stat().st_mode) == 0o700
    for name in SandboxWeChatPay.FILES:
        assert stat.S_IMODE((sandbox_dir / name).stat().st_mode) == 0o600
    assert sorted(os.listdir(sandbox_dir.parent)) == [sandbox_dir.name]  # no staging directory left behind
    merchant_pem = (sandbox_dir / "merchant_private_key.pem").read_bytes()
    assert serialization.load_pem_private_key(merchant_pem, None).key_size == 2048


def test_another_instance_dirs_notification_is_rejected(sandbox, tmp_path):
    other = SandboxWeChatPay(tmp_path / "wechatpay-sandbox", appid="wx00000000sandbox")
    headers, body = other.signed_notification("B20260300012345", "sandbox_tx_0003", 4250, OPENID, now=NOW)

    with pytest.raises(NotificationRejected) as rejected:
        sandbox.parse_notification(headers, body, now=NOW)

    assert rejected.value.reason == "unknown_key"
    assert other.apiv3_key != sandbox.apiv3_key


def test_a_second_process_creating_the_keys_at_the_same_time_uses_the_first_ones(tmp_path):
    key_dir = tmp_path / "wechatpay-sandbox"
    first = SandboxWeChatPay(key_dir, appid="wx00000000sandbox")

    # The second process saw no directory yet, so it generates its own set and loses the rename.
    _create_sandbox_keys(key_dir, SandboxWeChatPay.FILES)
    second = SandboxWeChatPay(key_dir, appid="wx00000000sandbox")

    assert second.public_key_id == first.public_key_id
    assert sorted(os.listdir(tmp_path)) == ["wechatpay-sandbox"]


def test_a_sandbox_order_is_notpay_until_paid_and_then_gives_its_transaction(sandbox):
    sandbox.place_jsapi_order(an_order(out_trade_no="S20260300000001"))
    assert sandbox.query_order("S20260300000001") == OrderState("S20260300000001", "NOTPAY")

    headers, body = sandbox.pay("S20260300000001", "sandbox_tx_1001", 4250, OPENID, now=NOW)

    paid = sandbox.parse_notification(headers, body, now=NOW)
    assert paid == PaidTransaction("S20260300000001", "sandbox_tx_1001", "SUCCESS", 4250, NOW, OPENID)
    assert sandbox.query_order("S20260300000001") == OrderState("S20260300000001", "SUCCESS", paid)
    # Pressed again: the same payment's notification, not a second one.
    headers, body = sandbox.pay("S20260300000001", "sandbox_tx_1002", 4250, OPENID, now=NOW + timedelta(minutes=1))
    assert sandbox.parse_notification(headers, body, now=NOW + timedelta(minutes=1)) == paid
    with pytest.raises(WeChatPayError) as refused:
        sandbox.close_order("S20260300000001")
    assert refused.value.code == "ORDERPAID"


def test_a_closed_sandbox_order_cannot_be_paid(sandbox):
    sandbox.place_jsapi_order(an_order(out_trade_no="S20260300000002"))

    sandbox.close_order("S20260300000002")

    assert sandbox.query_order("S20260300000002") == OrderState("S20260300000002", "CLOSED")
    with pytest.raises(WeChatPayError) as closed_again:
        sandbox.close_order("S20260300000002")
    with pytest.raises(WeChatPayError) as not_paid:
        sandbox.pay("S20260300000002", "sandbox_tx_2001", 4250, OPENID, now=NOW)
    assert (closed_again.value.code, not_paid.value.code) == ("ORDER_CLOSED", "ORDER_CLOSED")


def test_a_sandbox_order_never_placed_does_not_exist(sandbox):
    for operation in (sandbox.query_order, sandbox.close_order):
        with pytest.raises(WeChatPayError) as missing:
            operation("S20260300000003")
        assert (missing.value.code, missing.value.status) == ("ORDER_NOT_EXIST", 404)


def test_a_payment_and_a_close_at_once_in_two_processes_one_wins(sandbox_dir):
    """The web process pays while the worker closes, twenty times over: each order ends paid or closed, and
    what the loser is told agrees with what the order became."""
    web, worker = (SandboxWeChatPay(sandbox_dir, appid="wx00000000sandbox") for _ in range(2))
    numbers = [f"S2026030001{index:04d}" for index in range(20)]
    for number in numbers:
        web.place_jsapi_order(an_order(out_trade_no=number))
    outcomes: dict[str, list[str]] = {number: [] for number in numbers}

    def pay(number: str) -> None:
        try:
            web.pay(number, f"sandbox_tx_{number}", 4250, OPENID, now=NOW)
            outcomes[number].append("paid")
        except WeChatPayError:
            outcomes[number].append("pay refused")

    def close(number: str) -> None:
        try:
            worker.close_order(number)
            outcomes[number].append("closed")
        except WeChatPayError:
            outcomes[number].append("close refused")

    threads = [threading.Thread(target=work, args=(number,)) for number in numbers for work in (pay, close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for number in numbers:
        state = web.query_order(number).trade_state
        assert sorted(outcomes[number]) == (["close refused", "paid"] if state == "SUCCESS"
                                            else ["closed", "pay refused"]), (number, state, outcomes[number])
        assert worker.query_order(number).trade_state == state


# ---- the app's provider ----------------------------------------------------------------------------


@pytest.fixture
def fresh_provider(app, monkeypatch, tmp_path):
    """The app's client is built again, under a throwaway instance dir."""
    monkeypatch.setitem(app.extensions, "linli_wechat_pay", None)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return app


def test_the_app_uses_the_sandbox_unless_the_provider_is_wechat(fresh_provider, tmp_path):
    client = wechat_pay()

    assert isinstance(client, SandboxWeChatPay)
    assert wechat_pay() is client
    assert (tmp_path / SANDBOX_KEY_DIR / "apiv3_key").is_file()


def write_pem(path, pem: bytes) -> str:
    path.write_bytes(pem)
    return str(path)


def test_the_app_builds_the_real_client_from_its_settings(fresh_provider, keys, monkeypatch, tmp_path):
    private_pem = keys.merchant_private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = keys.platform_private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings = {
        "LINLI_WECHAT_PROVIDER": "wechat",
        "LINLI_WECHAT_APPID": keys.appid,
        "LINLI_WECHATPAY_MCHID": keys.mchid,
        "LINLI_WECHATPAY_APIV3_KEY": keys.apiv3_key,
        "LINLI_WECHATPAY_SERIAL_NO": keys.merchant_serial_no,
        "LINLI_WECHATPAY_PRIVATE_KEY_PATH": write_pem(tmp_path / "apiclient_key.pem", private_pem),
        "LINLI_WECHATPAY_PUBLIC_KEY_ID": keys.public_key_id,
        "LINLI_WECHATPAY_PUBLIC_KEY_PATH": write_pem(tmp_path / "pub_key.pem", public_pem),
    }
    for name, value in settings.items():
        monkeypatch.setitem(fresh_provider.config, name, value)

    client = wechat_pay()

    assert type(client) is WeChatPay and client.provider == "wechat"
    assert str(client.http.base_url).rstrip("/") == "https://api.mch.weixin.qq.com"
    headers, body = paid(keys)
    assert client.parse_notification(headers, body, now=NOW).out_trade_no == "B20260300012345"


def test_the_app_refuses_wechat_pay_whose_key_file_is_missing(fresh_provider, keys, monkeypatch, tmp_path):
    for name, value in {
        "LINLI_WECHAT_PROVIDER": "wechat",
        "LINLI_WECHATPAY_APIV3_KEY": keys.apiv3_key,
        "LINLI_WECHATPAY_PRIVATE_KEY_PATH": str(tmp_path / "missing.pem"),
        "LINLI_WECHATPAY_PUBLIC_KEY_PATH": str(tmp_path / "missing_pub.pem"),
    }.items():
        monkeypatch.setitem(fresh_provider.config, name, value)

    with pytest.raises(ConfigError, match="missing.pem"):
        wechat_pay()
