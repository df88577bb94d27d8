"""Sending SMS one-time codes: an interface, a sandbox (to the log and Redis), and Alibaba Cloud SMS.

Alibaba Cloud (dysmsapi `SendSms`, API version 2017-05-25) is an RPC-style API signed with signature
version 1.0: the parameters, sorted by name and percent-encoded per RFC 3986, form the
CanonicalizedQueryString; StringToSign = HTTPMethod & percentEncode("/") & percentEncode(that string);
Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)). It answers JSON
{"Code": "OK", "Message", "BizId", "RequestId"} or another Code (isv.BUSINESS_LIMIT_CONTROL, …)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import quote

import httpx
import redis

from backend.domain.phones import mask_phone

log = logging.getLogger("linli.sms")

SANDBOX_OUTBOX_KEY = "linli:sandbox:sms"
ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com"

# Codes the sign-in service answers differently from an outage.
PROVIDER_LIMITED = "isv.BUSINESS_LIMIT_CONTROL"
NUMBER_REFUSED = "isv.MOBILE_NUMBER_ILLEGAL"


class SmsSendFailed(Exception):
    """The provider did not accept the message: its error code, or ours for a transport failure."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None: ...

    def send_notice(self, phone: str, title: str) -> None: ...


class SandboxSms:
    """Nothing leaves the machine: the code is logged and kept (last 100) so demos and tests can read it."""

    def __init__(self, redis_client: redis.Redis):
        self.redis = redis_client

    def send_code(self, phone: str, code: str) -> None:
        log.warning("sandbox SMS to %s: 【邻里】验证码 %s，5分钟内有效。", mask_phone(phone), code)
        pipe = self.redis.pipeline()
        pipe.lpush(SANDBOX_OUTBOX_KEY, json.dumps({"phone": phone, "code": code}))
        pipe.ltrim(SANDBOX_OUTBOX_KEY, 0, 99)
        pipe.execute()

    def send_notice(self, phone: str, title: str) -> None:
        log.warning("sandbox SMS to %s: 【邻里】%s", mask_phone(phone), title)
        pipe = self.redis.pipeline()
        pipe.lpush(SANDBOX_OUTBOX_KEY, json.dumps({"phone": phone, "notice": title}, ensure_ascii=False))
        pipe.ltrim(SANDBOX_OUTBOX_KEY, 0, 99)
        pipe.execute()


def last_sandbox_code(redis_client: redis.Redis, phone: str) -> str | None:
    for raw in redis_client.lrange(SANDBOX_OUTBOX_KEY, 0, 99):
        message = json.loads(raw)
        if message["phone"] == phone and "code" in message:
            return message["code"]
    return None


def percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: only A-Z a-z 0-9 - _ . ~ stay as they are (so space is %20 and * is %2A)."""
    return quote(value, safe="~")


def string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(method: str, params: dict[str, str], access_key_secret: str) -> str:
    """Signature version 1.0; `params` are all request parameters except Signature itself."""
    digest = hmac.new(f"{access_key_secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode()


class AliyunSms:
    """Alibaba Cloud SMS through one approved template with the variable ${code}. Tests set `endpoint`."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        endpoint: str = ALIYUN_ENDPOINT,
        http: httpx.Client | None = None,
        notice_template_code: str = "",
    ):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        # A second approved template with the variable ${title}, for urgent notices (e.g. 停水通知).
        self.notice_template_code = notice_template_code
        self.http = http or httpx.Client(base_url=endpoint.rstrip("/"), timeout=5.0)

    def send_code(self, phone: str, code: str) -> None:
        self._send(phone, self.template_code, {"code": code}, secret=code)

    def send_notice(self, phone: str, title: str) -> None:
        if not self.notice_template_code:
            raise SmsSendFailed("NoNoticeTemplate", "LINLI_ALIYUN_SMS_NOTICE_TEMPLATE_CODE is not set")
        self._send(phone, self.notice_template_code, {"title": title[:20]}, secret=None)

    def _send(self, phone: str, template_code: str, template_param: dict, secret: str | None) -> None:
        params = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "RegionId": "cn-hangzhou",
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": phone,
            "SignName": self.sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(template_param, ensure_ascii=False, separators=(",", ":")),
        }
        # POST with a form body, not GET: httpx logs each request's URL, and the code must stay out of logs.
        params["Signature"] = rpc_signature("POST", params, self.access_key_secret)
        try:
            response = self.http.post("/", data=params)
            answer = response.json()
        except httpx.HTTPError as exc:
            raise SmsSendFailed("Unreachable", type(exc).__name__) from exc
        except ValueError as exc:
            raise SmsSendFailed("MalformedAnswer", f"HTTP {response.status_code}, not JSON") from exc
        if not isinstance(answer, dict) or answer.get("Code") != "OK":
            error = answer if isinstance(answer, dict) else {}
            # SignatureDoesNotMatch echoes the server's string to sign, code and number included.
            message = str(error.get("Message", "")).replace(phone, mask_phone(phone))
            if secret:
                message = message.replace(secret, "******")
            raise SmsSendFailed(str(error.get("Code") or "MalformedAnswer"), message)
