"""A local stand-in for api.weixin.qq.com's sign-in endpoints, answering as the published spec says.

- GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code
  → {"openid", "session_key", "unionid"?} (mini-program login)
- GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code
  → {"access_token", "expires_in", "refresh_token", "openid", "scope", "unionid"?} (H5 OAuth)

Errors come as {"errcode", "errmsg"} with HTTP 200, like the real service: 40013 bad appid, 40125 bad secret,
40002 bad grant_type, 40029 invalid code, 40163 code already used, 45011 rate limit, -1 system busy.
A test asks for a code with `issue_code` (WeChat hands codes to the phone, not to us) and can make
WeChat busy or rate-limited for that code. Given a mini-program's own appid and secret, the stand-in serves two
apps as WeChat does: jscode2session answers the mini-program's credentials only, OAuth the official account's."""
from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from tests.integrations.serving import serving

APPID = "wx5tand1nappid000"
SECRET = "standin-app-secret-0123456789abcd"
MINIPROGRAM_APPID = "wx5tand1nm1n1prog"
MINIPROGRAM_SECRET = "standin-mini-secret-0123456789abc"

MINIPROGRAM = "miniprogram"
OAUTH = "oauth"
PATHS = {"/sns/jscode2session": (MINIPROGRAM, "js_code"), "/sns/oauth2/access_token": (OAUTH, "code")}


@dataclass
class _Grant:
    kind: str
    openid: str
    unionid: str | None
    busy: int  # answer -1 this many times before the real answer
    errcode: int | None  # answer this error instead (e.g. 45011)
    used: bool = False


@dataclass(frozen=True)
class Call:
    path: str
    query: dict[str, str]
    answer: dict


class WeChatStandIn:
    """The server's state: issued codes and every call received, for assertions."""

    def __init__(self, appid: str = APPID, secret: str = SECRET, miniprogram: tuple[str, str] | None = None):
        self.appid = appid
        self.secret = secret
        # (appid, secret) of a mini-program of its own; without one, both sign-ins take `appid` and `secret`.
        self.miniprogram = miniprogram
        self.url = ""
        self.calls: list[Call] = []
        self.session_keys: list[str] = []
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def issue_code(
        self, openid: str, unionid: str | None = None, *, kind: str = MINIPROGRAM, busy: int = 0,
        errcode: int | None = None,
    ) -> str:
        """A fresh single-use code, as `wx.login()` or the OAuth redirect would give the user."""
        code = secrets.token_hex(16)
        with self._lock:
            self._grants[code] = _Grant(kind, openid, unionid, busy, errcode)
        return code

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.session_keys.clear()
            self._grants.clear()

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    def _answer(self, path: str, query: dict[str, str]) -> dict:
        kind, code_param = PATHS[path]
        appid, secret = self.miniprogram if kind == MINIPROGRAM and self.miniprogram else (self.appid, self.secret)
        if query.get("appid") != appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if query.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        grant = self._grants.get(query.get(code_param, ""))
        if grant is None or grant.kind != kind:
            return {"errcode": 40029, "errmsg": "invalid code"}
        if grant.busy > 0:
            grant.busy -= 1
            return {"errcode": -1, "errmsg": "system error"}
        if grant.errcode is not None:
            return {"errcode": grant.errcode, "errmsg": "api minute-quota reach limit  mustslower  retry next minute"}
        if grant.used:
            return {"errcode": 40163, "errmsg": "code been used"}
        grant.used = True
        if kind == MINIPROGRAM:
            session_key = secrets.token_urlsafe(18)
            self.session_keys.append(session_key)
            answer = {"openid": grant.openid, "session_key": session_key}
        else:
            answer = {
                "access_token": secrets.token_urlsafe(32),
                "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(32),
                "openid": grant.openid,
                "scope": "snsapi_base",
            }
        if grant.unionid:
            answer["unionid"] = grant.unionid
        return answer

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path not in PATHS:
            return Response("not found", status=404)(environ, start_response)
        if request.method != "GET":
            return Response("method not allowed", status=405)(environ, start_response)
        query = request.args.to_dict()
        with self._lock:
            answer = self._answer(request.path, query)
            self.calls.append(Call(request.path, query, answer))
        body = json.dumps(answer, ensure_ascii=False)
        return Response(body, content_type="application/json; encoding=utf-8")(environ, start_response)


@contextmanager
def running_standin(**options) -> Iterator[WeChatStandIn]:
    """Serve a stand-in on 127.0.0.1 (a free port) in a thread; its `url` is the api_base to use."""
    standin = WeChatStandIn(**options)
    with serving(standin) as url:
        standin.url = url
        yield standin
