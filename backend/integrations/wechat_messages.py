"""WeChat subscribe messages (订阅消息), written to the published spec:
- access token: POST /cgi-bin/stable_token {grant_type: "client_credential", appid, secret, force_refresh?}
  → {access_token, expires_in}. In normal mode every caller gets the same token while it is valid (with
  its remaining lifetime); force_refresh revokes it and issues a new one.
- mini-program: POST /cgi-bin/message/subscribe/send?access_token=… {touser, template_id, page?, data,
  miniprogram_state?, lang?} → {errcode, errmsg, msgid}; page is a path inside the mini-program.
- official account (公众号订阅通知): POST /cgi-bin/message/subscribe/bizsend?access_token=… {touser,
  template_id, page?, data} → {errcode, errmsg}; page is a web URL.
`data` is {"thing1": {"value": "…"}, …}. Each consent the user gives allows one message."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Protocol

import httpx
import redis

log = logging.getLogger("linli.wechat")

MINIPROGRAM = "miniprogram"
OFFICIAL_ACCOUNT = "official_account"
SEND_PATHS = {
    MINIPROGRAM: "/cgi-bin/message/subscribe/send",
    OFFICIAL_ACCOUNT: "/cgi-bin/message/subscribe/bizsend",
}
TOKEN_PATH = "/cgi-bin/stable_token"
TOKEN_KEY = "linli:wechat:access_token:{appid}"
SANDBOX_OUTBOX_KEY = "linli:sandbox:wechat_messages"
# The spec: keep the token until shortly before it expires, and fetch a new one then.
REFRESH_MARGIN = 300
# 40001 invalid or not the latest token, 40014 invalid token, 42001 expired token.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
DECLINED, BAD_TEMPLATE_DATA, BUSY = 43101, 47003, -1
# Our own code for answers WeChat did not give: no connection, a timeout, a gateway error page.
NO_ANSWER = -2


class WeChatMessageError(Exception):
    """WeChat did not deliver the message. Final (do not send it again) unless `transient`."""

    transient = False

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class RecipientDeclined(WeChatMessageError):
    """43101: the user has not subscribed to this template, or withdrew; sending again cannot help."""


class TemplateDataInvalid(WeChatMessageError):
    """47003: our data does not fit the template (empty, too long, wrong type): a bug on our side."""


class WeChatBusy(WeChatMessageError):
    """-1, a timeout, no connection or a failing gateway: send again later, with backoff."""

    transient = True


class SubscribeMessageSender(Protocol):
    def send(
        self, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None
    ) -> int | None:
        """Deliver one message; returns WeChat's msgid when it gives one, raises WeChatMessageError."""
        ...


def message_body(
    kind: str, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None,
    miniprogram_state: str | None = None, lang: str | None = None,
) -> dict:
    body: dict = {
        "touser": openid,
        "template_id": template_id,
        "data": {name: {"value": value} for name, value in data.items()},
    }
    # Without a page the card opens nothing, as the spec allows.
    if page:
        body["page"] = page
    if kind == MINIPROGRAM:
        optional = {"miniprogram_state": miniprogram_state, "lang": lang}
        body.update({name: value for name, value in optional.items() if value})
    return body


def mask_openid(openid: str) -> str:
    return f"{openid[:4]}****{openid[-4:]}" if len(openid) > 8 else "****"


_TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&#\s]+")


class _HideAccessToken(logging.Filter):
    """httpx logs every request URL at INFO, and WeChat wants the access token in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1***", str(arg)) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


def _hide_access_tokens_from_httpx_log() -> None:
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(existing, _HideAccessToken) for existing in httpx_log.filters):
        httpx_log.addFilter(_HideAccessToken())


class WeChatMessages:
    """The real client for one app (its appid decides the kind: a mini-program or an official account).
    The access token is shared through Redis by every process. `api_base` points at a stand-in in tests."""

    def __init__(
        self,
        appid: str,
        secret: str,
        redis_client: redis.Redis,
        *,
        kind: str = MINIPROGRAM,
        api_base: str = "https://api.weixin.qq.com",
        http: httpx.Client | None = None,
        miniprogram_state: str | None = None,
        lang: str | None = None,
    ):
        if kind not in SEND_PATHS:
            raise ValueError(f"kind must be one of {', '.join(SEND_PATHS)}, not {kind!r}")
        self.appid = appid
        self.secret = secret
        self.redis = redis_client
        self.kind = kind
        self.miniprogram_state = miniprogram_state
        self.lang = lang
        self.token_key = TOKEN_KEY.format(appid=appid)
        self.http = http or httpx.Client(base_url=api_base.rstrip("/"), timeout=5.0)
        _hide_access_tokens_from_httpx_log()

    def send(
        self, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None
    ) -> int | None:
        body = message_body(self.kind, openid, template_id, data, page, self.miniprogram_state, self.lang)
        answer = self._post(SEND_PATHS[self.kind], body, self._access_token())
        if answer.get("errcode") in TOKEN_ERRCODES:
            self.redis.delete(self.token_key)
            answer = self._post(SEND_PATHS[self.kind], body, self._fetch_token(force_refresh=True))
            if answer.get("errcode") in TOKEN_ERRCODES:
                # A token refused right after a forced refresh: another process refreshed in between.
                # Nothing is wrong with the message, so the caller tries again later.
                raise WeChatBusy(answer["errcode"], str(answer.get("errmsg", "")))
        errcode = int(answer.get("errcode") or 0)
        errmsg = str(answer.get("errmsg", ""))
        if errcode == 0:
            return answer.get("msgid")
        if errcode == BAD_TEMPLATE_DATA:
            # errmsg names the offending field; the user and the values stay out of the log.
            log.error(
                "WeChat rejected the data for template %s (fields %s): %s",
                template_id, ", ".join(sorted(data)), errmsg,
            )
        error = {DECLINED: RecipientDeclined, BAD_TEMPLATE_DATA: TemplateDataInvalid, BUSY: WeChatBusy}
        raise error.get(errcode, WeChatMessageError)(errcode, errmsg)

    def _access_token(self) -> str:
        cached = self.redis.get(self.token_key)
        return cached.decode() if cached else self._fetch_token(force_refresh=False)

    def _fetch_token(self, *, force_refresh: bool) -> str:
        body: dict = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        if force_refresh:
            body["force_refresh"] = True
        answer = self._post(TOKEN_PATH, body)
        errcode = int(answer.get("errcode") or 0)
        if errcode or not answer.get("access_token"):
            # Without a token no message is wrong: quota, rate limit, an IP not yet whitelisted or wrong
            # credentials all pass or get fixed, so the push is retried (and lands in the failed jobs).
            errmsg = str(answer.get("errmsg", "answer without access_token"))
            raise WeChatBusy(errcode or NO_ANSWER, f"no access token: {errmsg}")
        token, expires_in = str(answer["access_token"]), int(answer.get("expires_in") or 0)
        # Normal mode hands out the current token with its remaining life, which can be under the margin:
        # keep such a token for half of that, so a burst of sends does not ask for a token each time.
        ttl = expires_in - REFRESH_MARGIN if expires_in > 2 * REFRESH_MARGIN else expires_in // 2
        if ttl > 0:
            self.redis.set(self.token_key, token, ex=ttl)
        return token

    def _post(self, path: str, body: dict, access_token: str | None = None) -> dict:
        params = {"access_token": access_token} if access_token else None
        try:
            response = self.http.post(path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise WeChatBusy(NO_ANSWER, f"WeChat unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise WeChatBusy(NO_ANSWER, f"HTTP {response.status_code} from the WeChat gateway")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise WeChatMessageError(NO_ANSWER, f"HTTP {response.status_code}, not a WeChat JSON answer")
        return answer


class SandboxWeChatMessages:
    """Nothing leaves the machine: each message is logged and kept (last 100) for demos and the inbox."""

    def __init__(self, redis_client: redis.Redis, *, kind: str = MINIPROGRAM):
        if kind not in SEND_PATHS:
            raise ValueError(f"kind must be one of {', '.join(SEND_PATHS)}, not {kind!r}")
        self.redis = redis_client
        self.kind = kind

    def send(
        self, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None
    ) -> int | None:
        body = message_body(self.kind, openid, template_id, data, page)
        log.warning(
            "sandbox WeChat %s message to %s: template %s, %s",
            self.kind, mask_openid(openid), template_id, json.dumps(body["data"], ensure_ascii=False),
        )
        pipe = self.redis.pipeline()
        pipe.lpush(SANDBOX_OUTBOX_KEY, json.dumps({"kind": self.kind} | body, ensure_ascii=False))
        pipe.ltrim(SANDBOX_OUTBOX_KEY, 0, 99)
        pipe.execute()
        return None
