"""WeChat Pay API v3, JSAPI payments (JSAPI支付), written to the published spec (pay.weixin.qq.com/doc/v3/merchant:
签名生成, 签名验证, 回调通知, JSAPI下单, 商户订单号查询订单, 关闭订单, JSAPI调起支付), in public-key mode (微信支付公钥):
- every request carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",
  timestamp="…",serial_no="…"`; the signature is SHA256withRSA (PKCS#1 v1.5) with the merchant private key over
  `METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n`, base64; serial_no is the merchant certificate's serial.
- POST /v3/pay/transactions/jsapi {appid, mchid, description, out_trade_no, time_expire (RFC 3339),
  notify_url, amount: {total (fen), currency: "CNY"}, payer: {openid}} → 200 {prepay_id}; errors are
  {code, message} with HTTP 4xx/5xx.
- GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=… → 200 the transaction {out_trade_no, trade_state
  (SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR), transaction_id, success_time, amount, payer
  once paid, …}; 404 ORDER_NOT_EXIST for an order WeChat Pay never received.
- POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close {mchid} → 204 without a body: the order can no
  longer be paid. Only an unpaid order closes; anything else (400 ORDER_CLOSED, a paid order, 202 USER_PAYING)
  is an error, after which the order's state is what a query says.
- answers and notifications are signed by WeChat Pay: Wechatpay-Timestamp, Wechatpay-Nonce, Wechatpay-Signature
  (base64 SHA256withRSA over `TIMESTAMP\\nNONCE\\nBODY\\n`), Wechatpay-Serial (the public key's id, PUB_KEY_ID_…).
  A signed answer without a valid signature is to be treated as forged.
- the payment notification is {id, create_time, event_type: "TRANSACTION.SUCCESS", resource_type:
  "encrypt-resource", summary, resource: {algorithm: "AEAD_AES_256_GCM", ciphertext, associated_data,
  original_type: "transaction", nonce}}: AES-256-GCM with the APIv3 key, nonce and associated_data taken as
  UTF-8 bytes, ciphertext base64 with the 16-byte tag at its end. The plaintext is the transaction
  {out_trade_no, transaction_id, trade_state, success_time, amount: {total, …}, payer: {openid}, …}.
- getBrandWCPayRequest {appId, timeStamp, nonceStr, package: "prepay_id=…", signType: "RSA", paySign}: paySign
  is SHA256withRSA with the merchant private key over `appId\\ntimeStamp\\nnonceStr\\npackage\\n`.
The sandbox plays both sides with keys of its own, so `make run` pays through the same notification path."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.shared.clock import SHANGHAI

API_BASE = "https://api.mch.weixin.qq.com"
JSAPI_PATH = "/v3/pay/transactions/jsapi"
ORDER_PATH = "/v3/pay/transactions/out-trade-no/{out_trade_no}"
CLOSE_PATH = ORDER_PATH + "/close"
AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"
ALGORITHM = "AEAD_AES_256_GCM"
# The spec: refuse an answer or a notification whose timestamp is more than 5 minutes off (replays).
MAX_CLOCK_SKEW = 300
OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
DESCRIPTION_LIMIT = 127
APIV3_KEY_LENGTH = 32
# Our own code for answers WeChat Pay did not give: no connection, a timeout, a gateway error page.
NO_ANSWER = "NO_ANSWER"
# 429 is a rate limit (FREQUENCY_LIMITED): the same order goes through a moment later.
TRANSIENT_STATUSES = frozenset({429})
ORDER_NOT_EXIST = "ORDER_NOT_EXIST"
# The trade states in which the payer's money was taken (转入退款: paid, then a refund began).
PAID_TRADE_STATES = frozenset({"SUCCESS", "REFUND"})

BAD_SIGNATURE = "bad_signature"
STALE = "stale"
UNKNOWN_KEY = "unknown_key"
MALFORMED = "malformed"
UNDECRYPTABLE = "undecryptable"

SIGNATURE_HEADERS = ("wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature", "wechatpay-serial")


class WeChatPayError(Exception):
    """WeChat Pay did not do what was asked (a prepay_id, an order's state, closing it). Final (the same request
    will not pass) unless `transient`."""

    def __init__(self, code: str, message: str, *, status: int | None = None, transient: bool = False):
        super().__init__(f"WeChat Pay {code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.code = code
        self.message = message
        self.status = status
        self.transient = transient


class NotificationRejected(Exception):
    """A notification (or an answer) we cannot trust or read; `reason` is one of BAD_SIGNATURE, STALE,
    UNKNOWN_KEY, MALFORMED, UNDECRYPTABLE."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class JsapiOrder:
    out_trade_no: str
    description: str
    amount_fen: int
    payer_openid: str
    time_expire: datetime
    notify_url: str

    def __post_init__(self):
        if not OUT_TRADE_NO.fullmatch(self.out_trade_no):
            raise ValueError(f"out_trade_no must be 6–32 of [0-9A-Za-z_-|*], not {self.out_trade_no!r}")
        if not 1 <= len(self.description) <= DESCRIPTION_LIMIT:
            raise ValueError(f"description must be 1–{DESCRIPTION_LIMIT} characters")
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int) or self.amount_fen <= 0:
            raise ValueError(f"amount_fen must be a positive integer, not {self.amount_fen!r}")
        if not self.payer_openid:
            raise ValueError("payer_openid is empty")
        if self.time_expire.tzinfo is None or self.time_expire.utcoffset() is None:
            raise ValueError("time_expire must be timezone-aware")
        if not self.notify_url:
            raise ValueError("notify_url is empty")


@dataclass(frozen=True)
class PaidTransaction:
    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount_total_fen: int
    success_time: datetime | None
    payer_openid: str


@dataclass(frozen=True)
class OrderState:
    """What WeChat Pay says of one order (查询订单): its trade_state and, once the money was taken, the
    transaction, as its notification carries it."""

    out_trade_no: str
    trade_state: str
    paid: PaidTransaction | None = None


def rfc3339(moment: datetime) -> str:
    """The form WeChat Pay writes and expects: 2026-01-05T09:30:00+08:00."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def jsapi_order_body(order: JsapiOrder, appid: str, mchid: str) -> dict:
    return {
        "appid": appid,
        "mchid": mchid,
        "description": order.description,
        "out_trade_no": order.out_trade_no,
        "time_expire": rfc3339(order.time_expire),
        "notify_url": order.notify_url,
        "amount": {"total": order.amount_fen, "currency": "CNY"},
        "payer": {"openid": order.payer_openid},
    }


def rsa_sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def request_message(method: str, path_with_query: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{method}\n{path_with_query}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"


def wechatpay_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def _nonce() -> str:
    return secrets.token_hex(16).upper()


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise NotificationRejected(MALFORMED, "a required field is missing or not text")
    return value


def _moment(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(_text(value))
    except ValueError as exc:
        raise NotificationRejected(MALFORMED, f"success_time {value!r} is not RFC 3339") from exc
    if moment.tzinfo is None:
        raise NotificationRejected(MALFORMED, f"success_time {value!r} has no offset")
    return moment


def paid_transaction(transaction: object) -> PaidTransaction:
    if not isinstance(transaction, dict):
        raise NotificationRejected(MALFORMED, "the resource is not a JSON object")
    amount, payer = transaction.get("amount"), transaction.get("payer")
    total = amount.get("total") if isinstance(amount, dict) else None
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise NotificationRejected(MALFORMED, "amount.total is not a whole number of fen")
    return PaidTransaction(
        out_trade_no=_text(transaction.get("out_trade_no")),
        transaction_id=_text(transaction.get("transaction_id")),
        trade_state=_text(transaction.get("trade_state")),
        amount_total_fen=total,
        success_time=_moment(transaction.get("success_time")),
        payer_openid=_text(payer.get("openid") if isinstance(payer, dict) else None),
    )


def order_state(answer: object) -> OrderState:
    """The state in a query's answer; a paid one must carry the whole transaction."""
    if not isinstance(answer, dict):
        raise NotificationRejected(MALFORMED, "the answer is not a JSON object")
    trade_state = _text(answer.get("trade_state"))
    paid = paid_transaction(answer) if trade_state in PAID_TRADE_STATES else None
    return OrderState(out_trade_no=_text(answer.get("out_trade_no")), trade_state=trade_state, paid=paid)


def _out_trade_no(out_trade_no: str) -> str:
    if not OUT_TRADE_NO.fullmatch(out_trade_no):
        raise ValueError(f"out_trade_no must be 6–32 of [0-9A-Za-z_-|*], not {out_trade_no!r}")
    return out_trade_no


def _apiv3_key_bytes(apiv3_key: str) -> bytes:
    if len(apiv3_key) != APIV3_KEY_LENGTH or not apiv3_key.isascii():
        raise ValueError(f"the APIv3 key must be {APIV3_KEY_LENGTH} ASCII characters")
    return apiv3_key.encode("ascii")


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant private key is not an RSA key")
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the WeChat Pay public key is not an RSA key")
    return key


class WeChatPay:
    """The real client for one merchant (mchid) and one app (appid). `api_base` points at a stand-in in tests."""

    provider: str = "wechat"

    def __init__(
        self,
        *,
        appid: str,
        mchid: str,
        apiv3_key: str,
        merchant_serial_no: str,
        merchant_private_key: rsa.RSAPrivateKey,
        public_key_id: str,
        public_key: rsa.RSAPublicKey,
        api_base: str = API_BASE,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ):
        self.appid = appid
        self.mchid = mchid
        self.aesgcm = AESGCM(_apiv3_key_bytes(apiv3_key))
        self.merchant_serial_no = merchant_serial_no
        self.merchant_private_key = merchant_private_key
        self.public_key_id = public_key_id
        self.public_key = public_key
        self.http = http or httpx.Client(base_url=api_base.rstrip("/"), timeout=timeout)

    @classmethod
    def from_files(
        cls, *, appid: str, mchid: str, apiv3_key: str, merchant_serial_no: str, private_key_path: Path,
        public_key_id: str, public_key_path: Path, api_base: str = API_BASE,
    ) -> WeChatPay:
        return cls(
            appid=appid, mchid=mchid, apiv3_key=apiv3_key, merchant_serial_no=merchant_serial_no,
            merchant_private_key=load_private_key(Path(private_key_path).read_bytes()),
            public_key_id=public_key_id, public_key=load_public_key(Path(public_key_path).read_bytes()),
            api_base=api_base,
        )

    def place_jsapi_order(self, order: JsapiOrder) -> str:
        """The prepay_id (valid 2 hours) for `order`. Placing the same order again gives the same prepay_id,
        so a transient failure can be retried with the same out_trade_no."""
        response = self._request("POST", JSAPI_PATH, jsapi_order_body(order, self.appid, self.mchid))
        answer = _json_object(response.content)
        prepay_id = answer.get("prepay_id") if answer else None
        if not isinstance(prepay_id, str) or not prepay_id:
            raise WeChatPayError("NO_PREPAY_ID", "the answer has no prepay_id", status=response.status_code)
        return prepay_id

    def query_order(self, out_trade_no: str) -> OrderState:
        """The order's state now (商户订单号查询订单). An order WeChat Pay never received raises
        WeChatPayError(ORDER_NOT_EXIST, status=404)."""
        response = self._request(
            "GET", ORDER_PATH.format(out_trade_no=_out_trade_no(out_trade_no)), params={"mchid": self.mchid}
        )
        try:
            state = order_state(_json_object(response.content, MALFORMED, "the answer"))
        except NotificationRejected as exc:
            raise WeChatPayError("MALFORMED_ANSWER", f"the order's state is unreadable: {exc}",
                                 status=response.status_code) from exc
        if state.out_trade_no != out_trade_no:
            raise WeChatPayError("MALFORMED_ANSWER", f"asked for {out_trade_no}, told of {state.out_trade_no}",
                                 status=response.status_code)
        return state

    def close_order(self, out_trade_no: str) -> None:
        """Close an unpaid order (关闭订单): once this returns, nobody can pay it. Any other answer raises
        WeChatPayError, and only a query tells what the order is then."""
        response = self._request(
            "POST", CLOSE_PATH.format(out_trade_no=_out_trade_no(out_trade_no)), {"mchid": self.mchid}
        )
        if response.status_code != 204:
            # 202 USER_PAYING: the payer is entering the password; the order is not closed.
            answer = _json_object(response.content) or {}
            raise WeChatPayError(str(answer.get("code") or "NOT_CLOSED"), str(answer.get("message") or ""),
                                 status=response.status_code, transient=True)

    def _request(self, method: str, path: str, payload: dict | None = None,
                 params: dict[str, str] | None = None) -> httpx.Response:
        """Send a signed request; the answer when it is 2xx and signed by WeChat Pay, else WeChatPayError."""
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        request = self.http.build_request(method, path, content=body, params=params, headers=headers)
        request.headers["Authorization"] = self.authorization(
            request.method, request.url.raw_path.decode("ascii"), body
        )
        try:
            response = self.http.send(request)
        except httpx.HTTPError as exc:
            raise WeChatPayError(NO_ANSWER, f"WeChat Pay unreachable: {type(exc).__name__}", transient=True) from exc
        if response.status_code >= 300:
            raise self._error(response)
        # An answer that does not verify is forged: a forged "closed" would let the desk take cash twice.
        try:
            self._verify(response.headers, response.content, datetime.now(UTC))
        except NotificationRejected as exc:
            raise WeChatPayError("UNVERIFIED_ANSWER", f"the answer's signature did not verify: {exc}",
                                 status=response.status_code) from exc
        return response

    def authorization(self, method: str, path_with_query: str, body: bytes) -> str:
        timestamp, nonce = str(int(time.time())), _nonce()
        signature = rsa_sign(self.merchant_private_key,
                             request_message(method, path_with_query, timestamp, nonce, body))
        return (
            f'{AUTH_SCHEME} mchid="{self.mchid}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{self.merchant_serial_no}"'
        )

    def pay_params(self, prepay_id: str) -> dict[str, str]:
        """What the page hands to WeixinJSBridge.invoke("getBrandWCPayRequest", …)."""
        params = {
            "appId": self.appid,
            "timeStamp": str(int(time.time())),
            "nonceStr": _nonce(),
            "package": f"prepay_id={prepay_id}",
        }
        message = "".join(f"{params[name]}\n" for name in ("appId", "timeStamp", "nonceStr", "package"))
        return params | {"signType": "RSA", "paySign": rsa_sign(self.merchant_private_key, message.encode())}

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime | None = None
    ) -> PaidTransaction:
        """The transaction in a payment notification, once its signature, age and encryption check out;
        anything else raises NotificationRejected (answer it with a 4xx so WeChat Pay sends it again)."""
        self._verify(headers, body, now or datetime.now(UTC))
        envelope = _json_object(body)
        resource = envelope.get("resource") if envelope else None
        if not isinstance(resource, dict):
            raise NotificationRejected(MALFORMED, "the body is not a notification with a resource")
        if resource.get("algorithm") != ALGORITHM or resource.get("original_type") != "transaction":
            raise NotificationRejected(
                MALFORMED, f"not an {ALGORITHM} transaction: {resource.get('algorithm')!r}, "
                           f"{resource.get('original_type')!r}"
            )
        return paid_transaction(_json_object(self._decrypt(resource), MALFORMED, "the decrypted resource"))

    def _verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        lowered = {name.lower(): value for name, value in headers.items()}
        missing = [name for name in SIGNATURE_HEADERS if not lowered.get(name)]
        if missing:
            raise NotificationRejected(MALFORMED, "missing " + ", ".join(missing))
        timestamp, nonce = lowered["wechatpay-timestamp"], lowered["wechatpay-nonce"]
        if lowered["wechatpay-serial"] != self.public_key_id:
            raise NotificationRejected(UNKNOWN_KEY, f"signed with {lowered['wechatpay-serial']!r}")
        if not re.fullmatch(r"[0-9]{1,12}", timestamp):
            raise NotificationRejected(MALFORMED, f"Wechatpay-Timestamp {timestamp!r}")
        skew = abs(now.timestamp() - int(timestamp))
        if skew > MAX_CLOCK_SKEW:
            raise NotificationRejected(STALE, f"{int(skew)} s from now")
        try:
            signature = base64.b64decode(lowered["wechatpay-signature"], validate=True)
            self.public_key.verify(signature, wechatpay_message(timestamp, nonce, body),
                                   padding.PKCS1v15(), hashes.SHA256())
        # b64decode raises a bare ValueError (binascii.Error's base) for non-ASCII text.
        except (ValueError, InvalidSignature) as exc:
            raise NotificationRejected(BAD_SIGNATURE) from exc

    def _decrypt(self, resource: dict) -> bytes:
        ciphertext, nonce = resource.get("ciphertext"), resource.get("nonce")
        associated_data = resource.get("associated_data") or ""
        if not all(isinstance(value, str) for value in (ciphertext, nonce, associated_data)):
            raise NotificationRejected(MALFORMED, "ciphertext, nonce or associated_data is not text")
        try:
            return self.aesgcm.decrypt(nonce.encode(), base64.b64decode(ciphertext, validate=True),
                                       associated_data.encode() or None)
        except (binascii.Error, InvalidTag, ValueError) as exc:
            raise NotificationRejected(UNDECRYPTABLE) from exc

    def _error(self, response: httpx.Response) -> WeChatPayError:
        answer = _json_object(response.content)
        code = str(answer.get("code") or NO_ANSWER) if answer else NO_ANSWER
        message = str(answer.get("message") or "") if answer else response.text[:200]
        transient = response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES
        return WeChatPayError(code, message, status=response.status_code, transient=transient)


def _json_object(data: bytes, reason: str | None = None, what: str = "the body") -> dict | None:
    """The JSON object in `data`; otherwise None, or NotificationRejected(reason) when a reason is given."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        value = None
    if isinstance(value, dict):
        return value
    if reason:
        raise NotificationRejected(reason, f"{what} is not a JSON object")
    return None


class SandboxWeChatPay(WeChatPay):
    """No network: WeChat Pay's side is played here. Orders get a made-up prepay_id, `pay` is the payer paying
    (its notification is signed with a "platform" key pair of its own and goes through the real path), and an
    order can be queried and closed. The merchant and platform keys and the APIv3 key live in `key_dir`
    (created once, 0700, files 0600), and each order's state in `key_dir/orders`, one file per step written
    once, so the web and worker processes agree and the first of a payment and a close wins, as at WeChat Pay."""

    provider = "sandbox"
    MCHID = "1900000000"
    MERCHANT_SERIAL_NO = "5A4D1B0C0000000000000000SANDBOX000000000"
    FILES = ("merchant_private_key.pem", "platform_private_key.pem", "apiv3_key")
    ORDERS = "orders"

    def __init__(self, key_dir: Path, *, appid: str):
        key_dir = Path(key_dir)
        if not key_dir.exists():
            _create_sandbox_keys(key_dir, self.FILES)
        merchant_pem, platform_pem, apiv3 = (key_dir / name for name in self.FILES)
        self.platform_private_key = load_private_key(platform_pem.read_bytes())
        public_der = self.platform_private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.apiv3_key = apiv3.read_text().strip()
        self.orders_dir = key_dir / self.ORDERS
        self.orders_dir.mkdir(mode=0o700, exist_ok=True)
        super().__init__(
            appid=appid, mchid=self.MCHID, apiv3_key=self.apiv3_key, merchant_serial_no=self.MERCHANT_SERIAL_NO,
            merchant_private_key=load_private_key(merchant_pem.read_bytes()),
            # Each key dir gets its own id, so a notification from another instance is an unknown key.
            public_key_id="PUB_KEY_ID_SANDBOX_" + hashlib.sha256(public_der).hexdigest()[:20].upper(),
            public_key=self.platform_private_key.public_key(),
            http=httpx.Client(transport=_NO_NETWORK),
        )

    def _order_file(self, out_trade_no: str, step: str) -> Path:
        return self.orders_dir / f"{_out_trade_no(out_trade_no)}.{step}"

    def place_jsapi_order(self, order: JsapiOrder) -> str:
        placed = _write_once(self._order_file(order.out_trade_no, "placed"), {
            "prepay_id": "sandbox_" + secrets.token_hex(16), "amount_fen": order.amount_fen,
            "openid": order.payer_openid,
        })
        if (placed["amount_fen"], placed["openid"]) != (order.amount_fen, order.payer_openid):
            raise WeChatPayError("OUT_TRADE_NO_USED", "商户订单号重复", status=403)
        return placed["prepay_id"]

    def pay(
        self, out_trade_no: str, transaction_id: str, amount_fen: int, openid: str, now: datetime | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The payer pays the order: the notification WeChat Pay sends for it. A closed order cannot be paid
        (WeChatPayError ORDER_CLOSED); an order paid already gives its own notification again."""
        now = now or datetime.now(UTC)
        final = _write_once(self._order_file(out_trade_no, "final"), {
            "trade_state": "SUCCESS",
            "transaction": self._transaction(out_trade_no, transaction_id, amount_fen, openid, now),
        })
        if final["trade_state"] != "SUCCESS":
            raise WeChatPayError("ORDER_CLOSED", "订单已关闭", status=400)
        return self._signed_notification(final["transaction"], now)

    def query_order(self, out_trade_no: str) -> OrderState:
        final = _read_json(self._order_file(out_trade_no, "final"))
        if final is not None and final["trade_state"] == "SUCCESS":
            return OrderState(out_trade_no, "SUCCESS", paid_transaction(final["transaction"]))
        if final is not None:
            return OrderState(out_trade_no, final["trade_state"])
        if self._order_file(out_trade_no, "placed").exists():
            return OrderState(out_trade_no, "NOTPAY")
        raise WeChatPayError(ORDER_NOT_EXIST, "订单不存在", status=404)

    def close_order(self, out_trade_no: str) -> None:
        if not self._order_file(out_trade_no, "placed").exists():
            raise WeChatPayError(ORDER_NOT_EXIST, "订单不存在", status=404)
        mine = secrets.token_hex(8)
        final = _write_once(self._order_file(out_trade_no, "final"), {"trade_state": "CLOSED", "closed_by": mine})
        if final["trade_state"] == "SUCCESS":
            raise WeChatPayError("ORDERPAID", "订单已支付", status=400)
        if final.get("closed_by") != mine:
            raise WeChatPayError("ORDER_CLOSED", "订单已关闭", status=400)

    def signed_notification(
        self, out_trade_no: str, transaction_id: str, amount_fen: int, openid: str, now: datetime | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The headers and body of the TRANSACTION.SUCCESS notification WeChat Pay would send for this payment,
        whatever the order's state here (a late notification of an order closed in the meantime, say)."""
        now = now or datetime.now(UTC)
        return self._signed_notification(self._transaction(out_trade_no, transaction_id, amount_fen, openid, now),
                                         now)

    def _transaction(self, out_trade_no: str, transaction_id: str, amount_fen: int, openid: str,
                     now: datetime) -> dict:
        return {
            "mchid": self.mchid,
            "appid": self.appid,
            "out_trade_no": out_trade_no,
            "transaction_id": transaction_id,
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "attach": "",
            "success_time": rfc3339(now),
            "payer": {"openid": openid},
            "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY"},
        }

    def _signed_notification(self, transaction: dict, now: datetime) -> tuple[dict[str, str], bytes]:
        nonce = secrets.token_urlsafe(9)  # 12 characters, like WeChat Pay's
        plaintext = json.dumps(transaction, ensure_ascii=False, separators=(",", ":")).encode()
        ciphertext = self.aesgcm.encrypt(nonce.encode(), plaintext, b"transaction")
        body = json.dumps({
            "id": str(uuid.uuid4()),
            "create_time": rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": ALGORITHM,
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        }, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp, signing_nonce = str(int(now.timestamp())), _nonce()
        headers = {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": signing_nonce,
            "Wechatpay-Signature": rsa_sign(self.platform_private_key,
                                            wechatpay_message(timestamp, signing_nonce, body)),
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature-Type": AUTH_SCHEME,
            "Content-Type": "application/json",
        }
        return headers, body


def _write_once(path: Path, content: dict) -> dict:
    """Write `content` to `path` unless something is there already; either way, what `path` holds (the first
    writer's). A hard link is created whole or not at all, so no reader ever sees half a file."""
    staging = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(content, file, ensure_ascii=False)
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()
    return _read_json(path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def _refuse_network(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("the sandbox does not call WeChat Pay", request=request)


_NO_NETWORK = httpx.MockTransport(_refuse_network)


def _create_sandbox_keys(key_dir: Path, names: tuple[str, ...]) -> None:
    """Written to a fresh directory and renamed into place, so two processes starting at once end up with
    one set of keys: the loser's rename fails and it reads the winner's."""
    key_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key_dir.name}-", dir=key_dir.parent))
    pems = [
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        for _ in range(2)
    ]
    apiv3 = secrets.token_urlsafe(24)[:APIV3_KEY_LENGTH].encode()
    for name, content in zip(names, [*pems, apiv3], strict=True):
        descriptor = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
    try:
        staging.rename(key_dir)
    except OSError:
        for name in names:
            (staging / name).unlink()
        staging.rmdir()
        if not key_dir.is_dir():
            raise
