"""WeChat sign-in, written to the published spec:
- mini-program: GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
- H5 (official account) OAuth: open.weixin.qq.com/connect/oauth2/authorize?...&scope=snsapi_base, then
  GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code
Both answer JSON with `openid` (and `unionid` when bound) or `errcode`/`errmsg`."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

import httpx

# -1 means "system busy": the spec says to retry.
BUSY_ERRCODES = frozenset({-1})


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None = None


class WeChatLoginError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatLoginProvider(Protocol):
    def code_to_session(self, js_code: str) -> WeChatIdentity: ...

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str: ...

    def oauth_exchange(self, code: str) -> WeChatIdentity: ...


class WeChatLoginClient:
    """The real client. `api_base` and `open_base` point at a local stand-in in tests."""

    def __init__(
        self,
        appid: str,
        secret: str,
        api_base: str = "https://api.weixin.qq.com",
        open_base: str = "https://open.weixin.qq.com",
        http: httpx.Client | None = None,
        busy_retries: int = 2,
    ):
        self.appid = appid
        self.secret = secret
        self.open_base = open_base.rstrip("/")
        self.http = http or httpx.Client(base_url=api_base.rstrip("/"), timeout=5.0)
        self.busy_retries = busy_retries

    def _get(self, path: str, params: dict) -> dict:
        for attempt in range(self.busy_retries + 1):
            try:
                response = self.http.get(path, params=params)
                response.raise_for_status()
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeChatLoginError(-2, f"WeChat unreachable or malformed answer: {exc}") from exc
            errcode = data.get("errcode", 0)
            if errcode in BUSY_ERRCODES and attempt < self.busy_retries:
                continue
            if errcode:
                raise WeChatLoginError(int(errcode), str(data.get("errmsg", "")))
            if not data.get("openid"):
                raise WeChatLoginError(-2, "answer without openid")
            return data
        raise AssertionError("unreachable")

    def code_to_session(self, js_code: str) -> WeChatIdentity:
        # session_key is in the answer but never leaves the server; we do not need it to sign in.
        data = self._get(
            "/sns/jscode2session",
            {"appid": self.appid, "secret": self.secret, "js_code": js_code, "grant_type": "authorization_code"},
        )
        return WeChatIdentity(openid=data["openid"], unionid=data.get("unionid"))

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "appid": self.appid,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            }
        )
        return f"{self.open_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_exchange(self, code: str) -> WeChatIdentity:
        data = self._get(
            "/sns/oauth2/access_token",
            {"appid": self.appid, "secret": self.secret, "code": code, "grant_type": "authorization_code"},
        )
        return WeChatIdentity(openid=data["openid"], unionid=data.get("unionid"))


class SandboxWeChatLogin:
    """For `make run` and tests: any code maps to a stable fake openid; 'invalid' codes fail like 40029."""

    def __init__(self, authorize_path: str):
        self.authorize_path = authorize_path

    @staticmethod
    def _identity(code: str, openid_prefix: str) -> WeChatIdentity:
        if not code.startswith("sbx."):
            raise WeChatLoginError(40029, "invalid code (sandbox codes start with 'sbx.')")
        digest = hashlib.sha256(code.encode()).hexdigest()
        # One fake person per code: an openid of each app's own and one unionid, as WeChat gives them for apps
        # bound to one Open Platform account.
        return WeChatIdentity(openid=openid_prefix + digest[:24], unionid="sandbox-union-" + digest[:24])

    def code_to_session(self, js_code: str) -> WeChatIdentity:
        return self._identity(js_code, "sandbox-mp-")

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        return f"{self.authorize_path}?{urlencode({'redirect_uri': redirect_uri, 'state': state})}"

    def oauth_exchange(self, code: str) -> WeChatIdentity:
        return self._identity(code, "sandbox-")

    @staticmethod
    def new_browser_id() -> str:
        return "sbx." + secrets.token_urlsafe(12)
