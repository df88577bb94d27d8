"""A local stand-in for Alibaba Cloud SMS (dysmsapi.aliyuncs.com, SendSms, API version 2017-05-25), answering
as the published spec says.

Parameters come in the query (GET) or as a form (POST), signed with RPC signature version 1.0 (HMAC-SHA1).
The stand-in checks them as the gateway does, from its own secret and its own copy of the algorithm (so a bug
in the client's signing cannot hide here), and answers JSON (XML unless Format=JSON, like the real service):
- gateway errors: MissingXxx (400) for a required parameter, InvalidAction.NotFound (404),
  InvalidAccessKeyId.NotFound (404), InvalidTimeStamp.Format / InvalidTimeStamp.Expired (400, more than
  15 minutes off), SignatureDoesNotMatch (400; the message echoes the server's string to sign, as the real
  one does), SignatureNonceUsed (400). Body: {"RequestId", "HostId", "Code", "Message", "Recommend"}.
- SendSms answers with HTTP 200: {"Code": "OK", "Message": "OK", "BizId", "RequestId"}, or Code
  isv.SMS_SIGNATURE_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL, isv.INVALID_JSON_PARAM, isv.MOBILE_NUMBER_ILLEGAL
  (a malformed number, or one a test marked with `refuse`), isv.BUSINESS_LIMIT_CONTROL (when a test asks
  with `limit`)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from tests.integrations.serving import serving

ACCESS_KEY_ID = "LTAI5tStandInKeyId0001"
ACCESS_KEY_SECRET = "standin-access-key-secret-0123456789"
SIGN_NAME = "邻里"
TEMPLATE_CODE = "SMS_465390001"

REQUIRED = (
    "Action", "Version", "AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp",
    "Signature", "PhoneNumbers", "SignName", "TemplateCode",
)
TIMESTAMP_WINDOW = timedelta(minutes=15)
GATEWAY_ERRORS = {
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
}
# Mainland numbers with the prefixes the spec allows (+86, 0086, 86 or none), comma-separated.
NUMBER_RE = re.compile(r"^(\+86|0086|86)?1[3-9]\d{9}$")


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, str]
    status: int
    answer: dict


@dataclass(frozen=True)
class Message:
    phone: str
    sign_name: str
    template_code: str
    template_param: dict
    biz_id: str


def _gateway_answer(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {
        "RequestId": str(uuid.uuid4()).upper(), "HostId": "dysmsapi.aliyuncs.com", "Code": code,
        "Message": message, "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}",
    }


def _gateway_error(code: str, detail: str = "") -> tuple[int, dict]:
    status, message = GATEWAY_ERRORS[code]
    return _gateway_answer(status, code, message + detail)


def _encode(value: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is %XY of its UTF-8 bytes.
    return quote(value.encode("utf-8"), safe="-_.~")


def expected_signature(method: str, params: dict[str, str], secret: str) -> tuple[str, str]:
    """The string to sign and the signature the gateway computes for these parameters."""
    pairs = sorted((name, value) for name, value in params.items() if name != "Signature")
    canonical = "&".join(_encode(name) + "=" + _encode(value) for name, value in pairs)
    to_sign = method + "&" + _encode("/") + "&" + _encode(canonical)
    mac = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1)
    return to_sign, base64.b64encode(mac.digest()).decode("ascii")


class AliyunSmsStandIn:
    """The server's state: its keys, the nonces seen, messages accepted and every call, for assertions."""

    def __init__(
        self, access_key_id: str = ACCESS_KEY_ID, access_key_secret: str = ACCESS_KEY_SECRET,
        sign_name: str = SIGN_NAME, template_code: str = TEMPLATE_CODE,
    ):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.url = ""
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self._nonces: set[str] = set()
        self._limited: dict[str, int] = {}
        self._refused: set[str] = set()
        self._lock = threading.Lock()

    def limit(self, phone: str, times: int = 1) -> None:
        """The next `times` messages to `phone` hit the flow control (by default one code a minute)."""
        with self._lock:
            self._limited[phone] = times

    def refuse(self, phone: str) -> None:
        """A well-formed number the carrier does not serve (a data-only SIM): isv.MOBILE_NUMBER_ILLEGAL."""
        with self._lock:
            self._refused.add(phone)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self._nonces.clear()
            self._limited.clear()
            self._refused.clear()

    def codes_sent_to(self, phone: str) -> list[str]:
        return [message.template_param.get("code") for message in self.messages if message.phone == phone]

    def _check_request(self, method: str, params: dict[str, str]) -> tuple[int, dict] | None:
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            return _gateway_answer(400, f"Missing{missing[0]}", f"{missing[0]} is mandatory for this action.")
        if (params["Action"], params["Version"]) != ("SendSms", "2017-05-25"):
            return _gateway_error("InvalidAction.NotFound")
        if params["AccessKeyId"] != self.access_key_id:
            return _gateway_error("InvalidAccessKeyId.NotFound")
        try:
            timestamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return _gateway_error("InvalidTimeStamp.Format")
        if abs(datetime.now(UTC) - timestamp) > TIMESTAMP_WINDOW:
            return _gateway_error("InvalidTimeStamp.Expired")
        to_sign, signature = expected_signature(method, params, self.access_key_secret)
        declared = (params["SignatureMethod"], params["SignatureVersion"])
        if declared != ("HMAC-SHA1", "1.0") or not hmac.compare_digest(params["Signature"], signature):
            return _gateway_error("SignatureDoesNotMatch", f" server string to sign is:{to_sign}")
        if params["SignatureNonce"] in self._nonces:
            return _gateway_error("SignatureNonceUsed")
        self._nonces.add(params["SignatureNonce"])
        return None

    def _send(self, params: dict[str, str]) -> dict:
        def answer(code: str, message: str) -> dict:
            return {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()}

        if params["SignName"] != self.sign_name:
            return answer("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if params["TemplateCode"] != self.template_code:
            return answer("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        try:
            template_param = json.loads(params.get("TemplateParam") or "{}")
        except ValueError:
            return answer("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        phones = params["PhoneNumbers"].split(",")
        if not all(NUMBER_RE.match(phone) and phone not in self._refused for phone in phones):
            return answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        limited = [phone for phone in phones if self._limited.get(phone, 0) > 0]
        for phone in limited:
            self._limited[phone] -= 1
        if limited:
            return answer("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
        biz_id = f"{secrets.randbelow(10**18):018d}^0"
        for phone in phones:
            self.messages.append(
                Message(phone, params["SignName"], params["TemplateCode"], template_param, biz_id)
            )
        return answer("OK", "OK") | {"BizId": biz_id}

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path != "/":
            return Response("not found", status=404)(environ, start_response)
        if request.method not in ("GET", "POST"):
            return Response("method not allowed", status=405)(environ, start_response)
        params = request.args.to_dict() | request.form.to_dict()
        with self._lock:
            status, answer = self._check_request(request.method, params) or (200, self._send(params))
            self.calls.append(Call(request.method, params, status, answer))
        if params.get("Format", "XML").upper() == "JSON":
            return Response(json.dumps(answer, ensure_ascii=False), status=status,
                            content_type="application/json;charset=utf-8")(environ, start_response)
        fields = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in answer.items())
        body = f'<?xml version="1.0" encoding="UTF-8"?><SendSmsResponse>{fields}</SendSmsResponse>'
        return Response(body, status=status, content_type="text/xml;charset=utf-8")(environ, start_response)


@contextmanager
def running_standin() -> Iterator[AliyunSmsStandIn]:
    """Serve a stand-in on 127.0.0.1 (a free port) in a thread; its `url` is the endpoint to use."""
    standin = AliyunSmsStandIn()
    with serving(standin) as url:
        standin.url = url
        yield standin
