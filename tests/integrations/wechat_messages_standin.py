"""A local stand-in for api.weixin.qq.com's subscribe-message endpoints, answering as the published spec says.

- POST /cgi-bin/stable_token {grant_type: "client_credential", appid, secret, force_refresh?}
  → {"access_token", "expires_in"}. Normal mode returns the current token with its remaining lifetime
  while it is valid; force_refresh revokes it and issues a new one.
- POST /cgi-bin/message/subscribe/send?access_token=… (mini-program) → {"errcode": 0, "errmsg": "ok", "msgid"}
- POST /cgi-bin/message/subscribe/bizsend?access_token=… (official account) → {"errcode": 0, "errmsg": "ok"}

Errors come as {"errcode", "errmsg"} with HTTP 200, like the real service: 41001 no access token, 40001 an
unknown or revoked token, 42001 an expired one; 40002 / 40013 / 40125 bad grant_type / appid / secret;
47001 a body that is not JSON; 40003 no touser, 40037 no template_id, 47003 a template value that is empty
or (thing.DATA) longer than 20 characters, 41030 a mini-program page that is a web URL. A test can make a
recipient answer 43101, 47003, -1 or any code (`answer_for`), expire every token (`expire_tokens`), or make
the next requests to a path fail (`fail_next`, with an errcode or a gateway error page), or make every
answer slow (`delay`).

Given a mini-program's own appid and secret, the stand-in serves two apps as WeChat does: each has its own
access tokens, the mini-program's send only through subscribe/send and the official account's only through
bizsend (48001 otherwise), and an openid the test names as one app's (`openid_of`) is unknown to the other
app (40003)."""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.wrappers import Request, Response

from tests.integrations.serving import serving

APPID = "wx5tand1nmsgapp00"
SECRET = "standin-msg-secret-0123456789abcd"
MINIPROGRAM_APPID = "wx5tand1nmsgm1n1p"
MINIPROGRAM_SECRET = "standin-msg-mini-secret-012345678"

TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/subscribe/send"
BIZSEND_PATH = "/cgi-bin/message/subscribe/bizsend"
ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40014: "invalid access_token",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    47003: "argument invalid!",
    48001: "api unauthorized",
}
THING_LIMIT = 20


@dataclass(frozen=True)
class Call:
    path: str
    query: dict[str, str]
    body: dict | None
    status: int
    answer: dict


@dataclass(frozen=True)
class Message:
    path: str
    touser: str
    template_id: str
    data: dict
    page: str | None
    msgid: int | None


def _error(errcode: int, errmsg: str | None = None) -> dict:
    return {"errcode": errcode, "errmsg": errmsg or ERRMSGS.get(errcode, "invalid args")}


class WeChatMessagesStandIn:
    """The server's state: tokens issued, answers a test asked for, messages accepted and every call."""

    def __init__(self, appid: str = APPID, secret: str = SECRET, expires_in: int = 7200,
                 miniprogram: tuple[str, str] | None = None):
        self.appid = appid
        self.secret = secret
        # (appid, secret) of a mini-program of its own; without one, `appid` may use both send paths.
        self.miniprogram = miniprogram
        self.expires_in = expires_in
        self.url = ""
        self.calls: list[Call] = []
        self.messages: list[Message] = []
        self.tokens_issued = 0
        self._expiry: dict[str, float] = {}  # valid (not revoked) token → monotonic expiry
        self._token_app: dict[str, str] = {}  # token → the appid it was issued to
        self._current: dict[str, str] = {}  # appid → its current token
        self._openid_apps: dict[str, str] = {}  # openid → the appid that gave it
        self._answers: dict[str, list] = {}  # openid → [errcode, times left or None for always]
        self._failures: dict[str, list] = {}  # path → [errcode, HTTP status, times left]
        self.delay = 0.0  # seconds each answer waits, to run past a client's timeout
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.expires_in = 7200
            self.delay = 0.0
            self.calls.clear()
            self.messages.clear()
            self.tokens_issued = 0
            self._expiry.clear()
            self._token_app.clear()
            self._current.clear()
            self._openid_apps.clear()
            self._answers.clear()
            self._failures.clear()

    def openid_of(self, openid: str, appid: str) -> None:
        """`openid` was given by the app `appid`: the other app does not know it."""
        with self._lock:
            self._openid_apps[openid] = appid

    def answer_for(self, openid: str, errcode: int, times: int | None = None) -> None:
        """Messages to `openid` get `errcode` (`times` times, or always), after the token is checked."""
        with self._lock:
            self._answers[openid] = [errcode, times]

    def fail_next(self, path: str, times: int = 1, *, errcode: int = -1, status: int = 200) -> None:
        """The next `times` requests to `path` answer `errcode`, or a gateway error page when status ≥ 500."""
        with self._lock:
            self._failures[path] = [errcode, status, times]

    def expire_tokens(self) -> None:
        """Every token issued so far has expired (sends answer 42001); stable_token issues a new one."""
        with self._lock:
            self._expiry = dict.fromkeys(self._expiry, time.monotonic())

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    def _credentials(self) -> dict[str, str]:
        return {self.appid: self.secret} | (dict([self.miniprogram]) if self.miniprogram else {})

    def _issue_token(self, appid: str) -> dict:
        if appid in self._current:
            self._expiry.pop(self._current[appid], None)
        token = self._current[appid] = secrets.token_urlsafe(48)
        self._expiry[token] = time.monotonic() + self.expires_in
        self._token_app[token] = appid
        self.tokens_issued += 1
        return {"access_token": token, "expires_in": self.expires_in}

    def _stable_token(self, body: dict) -> dict:
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        appid = body.get("appid")
        if appid not in self._credentials():
            return _error(40013, "invalid appid")
        if body.get("secret") != self._credentials()[appid]:
            return _error(40125, "invalid appsecret")
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            return _error(47001, "data format error")
        current = self._current.get(appid)
        remaining = self._expiry.get(current, 0) - time.monotonic() if current else 0
        if force or remaining <= 0:
            return self._issue_token(appid)
        return {"access_token": current, "expires_in": int(remaining)}

    def _token_error(self, token: str | None) -> dict | None:
        if not token:
            return _error(41001, "access_token missing")
        if token not in self._expiry:
            return _error(40001)
        if self._expiry[token] <= time.monotonic():
            return _error(42001)
        return None

    def _subscribe_send(self, path: str, token: str | None, body: dict) -> dict:
        refused = self._token_error(token)
        if refused:
            return refused
        appid = self._token_app[token]
        if self.miniprogram and (path == SEND_PATH) != (appid == self.miniprogram[0]):
            return _error(48001)
        touser, template_id, data, page = (body.get(key) for key in ("touser", "template_id", "data", "page"))
        if not touser or not isinstance(touser, str) or self._openid_apps.get(touser, appid) != appid:
            return _error(40003)
        if not template_id or not isinstance(template_id, str):
            return _error(40037, "invalid template_id")
        items = data.values() if isinstance(data, dict) else None
        if items is None or not all(isinstance(item, dict) and "value" in item for item in items):
            return _error(47001, "data format error")
        for name, item in data.items():
            value = str(item["value"])
            if not value.strip():
                return _error(47003, f"argument invalid! data.{name}.value is empty")
            if name.startswith("thing") and len(value) > THING_LIMIT:
                return _error(47003, f"argument invalid! data.{name}.value exceeds {THING_LIMIT} characters")
        if path == SEND_PATH and isinstance(page, str) and page.startswith(("http://", "https://")):
            return _error(41030, "invalid page")
        configured = self._answers.get(touser)
        if configured and configured[1] != 0:
            if configured[1] is not None:
                configured[1] -= 1
            return _error(configured[0])
        msgid = secrets.randbelow(10**18) if path == SEND_PATH else None
        self.messages.append(Message(path, touser, template_id, data, page, msgid))
        return {"errcode": 0, "errmsg": "ok"} | ({"msgid": msgid} if msgid is not None else {})

    def _answer(self, request: Request) -> tuple[int, dict | str, dict | None]:
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            body = None
        failure = self._failures.get(request.path)
        if failure and failure[2] > 0:
            failure[2] -= 1
            errcode, status, _ = failure
            if status >= 500:
                return status, "<html><body>502 Bad Gateway</body></html>", body
            return 200, _error(errcode), body
        if not isinstance(body, dict):
            return 200, _error(47001, "data format error"), body
        if request.path == TOKEN_PATH:
            return 200, self._stable_token(body), body
        return 200, self._subscribe_send(request.path, request.args.get("access_token"), body), body

    def __call__(self, environ, start_response):
        request = Request(environ)
        time.sleep(self.delay)
        if request.path not in (TOKEN_PATH, SEND_PATH, BIZSEND_PATH):
            return Response("not found", status=404)(environ, start_response)
        if request.method != "POST":
            return Response("method not allowed", status=405)(environ, start_response)
        with self._lock:
            status, answer, body = self._answer(request)
            recorded = answer if isinstance(answer, dict) else {}
            self.calls.append(Call(request.path, request.args.to_dict(), body, status, recorded))
        if isinstance(answer, str):
            return Response(answer, status=status, content_type="text/html")(environ, start_response)
        text = json.dumps(answer, ensure_ascii=False)
        return Response(text, content_type="application/json; encoding=utf-8")(environ, start_response)


@contextmanager
def running_standin(**options) -> Iterator[WeChatMessagesStandIn]:
    """Serve a stand-in on 127.0.0.1 (a free port) in a thread; its `url` is the api_base to use."""
    standin = WeChatMessagesStandIn(**options)
    with serving(standin) as url:
        standin.url = url
        yield standin
