"""A local stand-in for WeChat Pay API v3 (api.mch.weixin.qq.com) in public-key mode: the JSAPI order endpoint, the
order query and close endpoints, and WeChat Pay's side of the payment notification, as the published spec says.

The stand-in checks our requests from its own copy of the algorithms (so a bug in the client cannot hide here):
- POST /v3/pay/transactions/jsapi: `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
  signature="…",timestamp="…",serial_no="…"`, SHA256withRSA over `METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`,
  verified with the merchant public key; a missing or wrong one is 401 SIGN_ERROR. The body must be
  {appid, mchid, description (1–127), out_trade_no (6–32 of [0-9A-Za-z_-|*]), time_expire (RFC 3339),
  notify_url (https, no query), amount: {total ≥ 1, currency "CNY"}, payer: {openid}}, else 400 PARAM_ERROR;
  another mchid is 400 APPID_MCHID_NOT_MATCH. The same out_trade_no again gets the same prepay_id when the
  order is the same and 403 OUT_TRADE_NO_USED when it differs.
- GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…: the same Authorization (the signed path includes
  the query); another mchid is 400 APPID_MCHID_NOT_MATCH, an order never placed 404 ORDER_NOT_EXIST; else 200
  the transaction {appid, mchid, out_trade_no, trade_type, trade_state, trade_state_desc, amount, …}, with
  transaction_id, success_time, bank_type and payer once paid. trade_state is NOTPAY until `pay` (SUCCESS) or a
  close (CLOSED).
- POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close {mchid}: 204 without a body (signed like every
  answer) for an unpaid order, which can then never be paid; 400 ORDER_CLOSED when closed already, 400 ORDERPAID
  when paid, 404 ORDER_NOT_EXIST.
- answers are signed by the platform key (Wechatpay-Timestamp, -Nonce, -Signature, -Serial = the public key id),
  and errors are {code, message}. A test can make the next answers fail (`fail_next`, with a status and code,
  or a gateway's HTML page), slow (`delay`), or signed wrongly (`answer_signing`).
- `pay(...)` is the payer paying a placed order: the order turns SUCCESS and the notification WeChat Pay would
  POST comes back; `paid_after_close=True` plays WeChat Pay taking the money of an order it said it closed.
- `notification(...)` builds the TRANSACTION.SUCCESS notification WeChat Pay would POST to notify_url, and its
  parts (`transaction`, `encrypt`, `envelope`, `sign`) let a test change any of them."""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from werkzeug.wrappers import Request, Response

from tests.integrations.serving import serving

APPID = "wx5tand1npayapp00"
MCHID = "1900009191"
MERCHANT_SERIAL_NO = "444F4864EA9B34415C7B0F4EF66A3F9FF55C3B6E"
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000091912025010100000000001"
JSAPI_PATH = "/v3/pay/transactions/jsapi"
ORDER_PATH_RE = re.compile(r"^/v3/pay/transactions/out-trade-no/([0-9A-Za-z_\-|*]{6,32})(/close)?$")
SCHEME = "WECHATPAY2-SHA256-RSA2048"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OUT_TRADE_NO_RE = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
AUTH_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
REQUEST_WINDOW = 300


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class PayKeys:
    """One merchant's key material, as the merchant platform hands it out, generated locally."""

    merchant_private_key: rsa.RSAPrivateKey
    platform_private_key: rsa.RSAPrivateKey
    apiv3_key: str
    appid: str = APPID
    mchid: str = MCHID
    merchant_serial_no: str = MERCHANT_SERIAL_NO
    public_key_id: str = PUBLIC_KEY_ID

    @classmethod
    def generate(cls) -> PayKeys:
        return cls(_new_rsa_key(), _new_rsa_key(), secrets.token_hex(16))


@dataclass(frozen=True)
class Call:
    path: str
    authorized: bool
    body: dict | None
    status: int
    answer: dict
    method: str = "POST"


def _sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def sign(private_key: rsa.RSAPrivateKey, body: bytes, *, timestamp: int, serial: str) -> dict[str, str]:
    """The Wechatpay-* headers of an answer or a notification."""
    nonce = secrets.token_hex(16)
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": _sign(private_key, f"{timestamp}\n{nonce}\n".encode() + body + b"\n"),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SCHEME,
    }


def transaction(
    keys: PayKeys, out_trade_no: str, transaction_id: str, amount_fen: int, openid: str, success_time: datetime
) -> dict:
    return {
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "JSAPI",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "CMC",
        "attach": "",
        "success_time": success_time.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "payer": {"openid": openid},
        "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY"},
    }


def encrypt(apiv3_key: str, plaintext: bytes, associated_data: str = "transaction") -> dict:
    """The notification's `resource`: AES-256-GCM, key and nonce as UTF-8, the tag after the ciphertext."""
    nonce = secrets.token_hex(6)
    sealed = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext, associated_data.encode())
    return {
        "original_type": "transaction",
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def envelope(resource: dict, created: datetime) -> bytes:
    return json.dumps({
        "id": str(uuid.uuid4()),
        "create_time": created.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": resource,
    }, ensure_ascii=False).encode()


def notification(
    keys: PayKeys, out_trade_no: str, transaction_id: str, amount_fen: int, openid: str, *, now: datetime
) -> tuple[dict[str, str], bytes]:
    """The headers and body WeChat Pay POSTs to notify_url once the payer has paid."""
    paid = transaction(keys, out_trade_no, transaction_id, amount_fen, openid, now)
    body = envelope(encrypt(keys.apiv3_key, json.dumps(paid, ensure_ascii=False).encode()), now)
    headers = sign(keys.platform_private_key, body, timestamp=int(now.timestamp()), serial=keys.public_key_id)
    return headers | {"Content-Type": "application/json"}, body


@dataclass
class AnswerSigning:
    """How the stand-in signs its answers; a test changes it to see the client refuse them."""

    key: rsa.RSAPrivateKey | None = None  # None: the platform key
    serial: str | None = None  # None: the public key id
    clock_offset: int = 0  # seconds added to the answer's timestamp
    unsigned: bool = False


@dataclass
class _Failure:
    status: int
    code: str
    message: str
    times: int
    endpoint: str | None  # "jsapi", "query", "close", or None for any


class WeChatPayStandIn:
    """The server's state: orders placed, answers a test asked for, and every call."""

    def __init__(self, keys: PayKeys):
        self.keys = keys
        self.url = ""
        self.calls: list[Call] = []
        self.orders: dict[str, tuple[dict, str]] = {}  # out_trade_no → (order body, prepay_id)
        self.paid: dict[str, dict] = {}  # out_trade_no → its transaction
        self.closed: set[str] = set()
        self.delay = 0.0
        self.answer_signing = AnswerSigning()
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.orders.clear()
            self.paid.clear()
            self.closed.clear()
            self.delay = 0.0
            self.answer_signing = AnswerSigning()
            self._failures.clear()

    def pay(self, out_trade_no: str, transaction_id: str, *, now: datetime,
            paid_after_close: bool = False) -> tuple[dict[str, str], bytes]:
        """The payer pays the placed order; the notification WeChat Pay then POSTs to its notify_url."""
        with self._lock:
            order, _ = self.orders[out_trade_no]
            if out_trade_no in self.closed and not paid_after_close:
                raise AssertionError(f"{out_trade_no} is closed: WeChat Pay would not take the payment")
            self.paid[out_trade_no] = transaction(self.keys, out_trade_no, transaction_id, order["amount"]["total"],
                                                  order["payer"]["openid"], now)
        return notification(self.keys, out_trade_no, transaction_id, order["amount"]["total"],
                            order["payer"]["openid"], now=now)

    def calls_to(self, method: str, kind: str) -> list[Call]:
        """The calls of one endpoint: kind is "jsapi", "query" or "close"."""
        return [call for call in self.calls if call.method == method and _endpoint(call.path) == kind]

    def fail_next(self, status: int, code: str = "SYSTEM_ERROR", message: str = "系统错误", times: int = 1,
                  endpoint: str | None = None) -> None:
        """The next `times` calls (of `endpoint` only, when given: "jsapi", "query" or "close") answer `status`
        with {code, message}; 502 and 504 answer a gateway's page."""
        with self._lock:
            self._failures.append(_Failure(status, code, message, times, endpoint))

    def _authorization_error(self, request: Request, body: bytes) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, params = header.partition(" ")
        if scheme != SCHEME:
            return "Authorization 认证类型错误"
        fields = dict(AUTH_PARAM_RE.findall(params))
        if set(fields) != {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}:
            return "Authorization 缺少字段"
        if fields["mchid"] != self.keys.mchid or fields["serial_no"] != self.keys.merchant_serial_no:
            return "商户号或证书序列号错误"
        if not fields["timestamp"].isdigit() or abs(time.time() - int(fields["timestamp"])) > REQUEST_WINDOW:
            return "请求时间戳过期"
        query = request.query_string.decode()
        path = request.path + (f"?{query}" if query else "")
        message = f"{request.method}\n{path}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + body + b"\n"
        try:
            self.keys.merchant_private_key.public_key().verify(
                base64.b64decode(fields["signature"]), message, padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return "签名错误"
        return None

    def _order_error(self, order: object) -> tuple[int, str, str] | None:
        if not isinstance(order, dict):
            return 400, "PARAM_ERROR", "请求体不是 JSON 对象"
        amount, payer = order.get("amount"), order.get("payer")
        checks = [
            (isinstance(order.get("appid"), str) and bool(order["appid"]), "appid"),
            (isinstance(order.get("description"), str) and 1 <= len(order["description"]) <= 127, "description"),
            (isinstance(order.get("out_trade_no"), str) and OUT_TRADE_NO_RE.match(order["out_trade_no"]),
             "out_trade_no"),
            (isinstance(order.get("time_expire"), str) and RFC3339_RE.match(order["time_expire"]), "time_expire"),
            (isinstance(order.get("notify_url"), str) and order["notify_url"].startswith("https://")
             and "?" not in order["notify_url"], "notify_url"),
            (isinstance(amount, dict) and type(amount.get("total")) is int and amount["total"] >= 1
             and amount.get("currency", "CNY") == "CNY", "amount"),
            (isinstance(payer, dict) and isinstance(payer.get("openid"), str) and bool(payer["openid"]), "payer"),
        ]
        for passed, name in checks:
            if not passed:
                return 400, "PARAM_ERROR", f"输入源“/body/{name}”映射到字段失败"
        if order.get("mchid") != self.keys.mchid or order["appid"] != self.keys.appid:
            return 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配"
        placed = self.orders.get(order["out_trade_no"])
        if placed and placed[0] != order:
            return 403, "OUT_TRADE_NO_USED", "商户订单号重复"
        return None

    def _take_failure(self, endpoint: str) -> tuple[int, dict | str] | None:
        failure = next((failure for failure in self._failures if failure.endpoint in (None, endpoint)), None)
        if failure is None:
            return None
        failure.times -= 1
        if failure.times <= 0:
            self._failures.remove(failure)
        if failure.status in (502, 504):
            return failure.status, "<html><body>Bad Gateway</body></html>"
        return failure.status, {"code": failure.code, "message": failure.message}

    def _answer(self, request: Request) -> tuple[int, dict | str | None, dict | None, bool]:
        body = request.get_data()
        try:
            sent = json.loads(body) if body else None
        except ValueError:
            sent = None
        refused = self._authorization_error(request, body)
        if refused:
            return 401, {"code": "SIGN_ERROR", "message": refused}, sent, False
        failure = self._take_failure(_endpoint(request.path))
        if failure:
            return *failure, sent, True
        if request.path == JSAPI_PATH:
            return *self._place(sent), sent, True
        out_trade_no, close = ORDER_PATH_RE.match(request.path).groups()
        if close:
            return *self._close(out_trade_no, sent), sent, True
        return *self._query(out_trade_no, request.args.get("mchid")), sent, True

    def _place(self, order: object) -> tuple[int, dict]:
        error = self._order_error(order)
        if error:
            status, code, message = error
            return status, {"code": code, "message": message}
        placed = self.orders.get(order["out_trade_no"])
        prepay_id = placed[1] if placed else "wx" + datetime.now(SHANGHAI).strftime("%d%H%M%S") + secrets.token_hex(12)
        self.orders[order["out_trade_no"]] = (order, prepay_id)
        return 200, {"prepay_id": prepay_id}

    def _query(self, out_trade_no: str, mchid: str | None) -> tuple[int, dict]:
        if mchid != self.keys.mchid:
            return 400, {"code": "APPID_MCHID_NOT_MATCH", "message": "商户号不匹配"}
        if out_trade_no not in self.orders:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        if out_trade_no in self.paid:
            return 200, self.paid[out_trade_no]
        order, _ = self.orders[out_trade_no]
        closed = out_trade_no in self.closed
        return 200, {
            "appid": self.keys.appid, "mchid": self.keys.mchid, "out_trade_no": out_trade_no, "trade_type": "JSAPI",
            "trade_state": "CLOSED" if closed else "NOTPAY",
            "trade_state_desc": "订单已关闭" if closed else "订单未支付",
            "amount": {"total": order["amount"]["total"], "currency": "CNY"},
        }

    def _close(self, out_trade_no: str, sent: object) -> tuple[int, dict | None]:
        if not isinstance(sent, dict) or sent.get("mchid") != self.keys.mchid:
            return 400, {"code": "PARAM_ERROR", "message": "输入源“/body/mchid”映射到字段失败"}
        if out_trade_no not in self.orders:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        if out_trade_no in self.paid:
            return 400, {"code": "ORDERPAID", "message": "订单已支付"}
        if out_trade_no in self.closed:
            return 400, {"code": "ORDER_CLOSED", "message": "订单已关闭"}
        self.closed.add(out_trade_no)
        return 204, None

    def _signed_headers(self, text: bytes) -> dict[str, str]:
        signing = self.answer_signing
        if signing.unsigned:
            return {}
        return sign(
            signing.key or self.keys.platform_private_key, text,
            timestamp=int(time.time()) + signing.clock_offset, serial=signing.serial or self.keys.public_key_id,
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        time.sleep(self.delay)
        order_path = ORDER_PATH_RE.match(request.path)
        if request.path != JSAPI_PATH and order_path is None:
            return Response('{"code":"NOT_FOUND","message":"无效的请求"}', status=404,
                            content_type="application/json")(environ, start_response)
        expected = "GET" if order_path and not order_path.group(2) else "POST"
        if request.method != expected:
            return Response(status=405)(environ, start_response)
        with self._lock:
            status, answer, sent, authorized = self._answer(request)
            self.calls.append(Call(request.path, authorized, sent, status,
                                   answer if isinstance(answer, dict) else {}, request.method))
        if isinstance(answer, str):
            return Response(answer, status=status, content_type="text/html")(environ, start_response)
        text = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
        headers = self._signed_headers(text) | {"Request-ID": str(uuid.uuid4())}
        if answer is None:
            return Response(status=status, headers=headers)(environ, start_response)
        return Response(text, status=status, headers=headers,
                        content_type="application/json")(environ, start_response)


def _endpoint(path: str) -> str:
    if path == JSAPI_PATH:
        return "jsapi"
    return "close" if path.endswith("/close") else "query"


@contextmanager
def running_standin(keys: PayKeys) -> Iterator[WeChatPayStandIn]:
    """Serve a stand-in on 127.0.0.1 (a free port) in a thread; its `url` is the api_base to use."""
    standin = WeChatPayStandIn(keys)
    with serving(standin) as url:
        standin.url = url
        yield standin
