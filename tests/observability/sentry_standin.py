"""A local stand-in for a Sentry server's envelope endpoint: POST /api/<project id>/envelope/, the body an envelope
(one JSON header line, then per item a JSON header line and its payload), compressed as the Content-Encoding says
(gzip or br). It keeps every envelope as received (decompressed) and the events in them."""
from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import brotli
from werkzeug.wrappers import Request, Response

from tests.integrations.serving import serving

PROJECT_ID = 42
PUBLIC_KEY = "0123456789abcdef0123456789abcdef"


class SentryStandIn:
    def __init__(self):
        self.envelopes: list[bytes] = []
        self.dsn = ""
        self._lock = threading.Lock()

    @property
    def events(self) -> list[dict]:
        """The payloads of the `event` items, in the order they came."""
        found = []
        with self._lock:
            envelopes = list(self.envelopes)
        for envelope in envelopes:
            lines = envelope.split(b"\n")
            index = 1
            while index + 1 < len(lines):
                item = json.loads(lines[index])
                if item.get("type") == "event":
                    found.append(json.loads(lines[index + 1]))
                index += 2
        return found

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.method != "POST" or request.path != f"/api/{PROJECT_ID}/envelope/":
            return Response("not found", status=404)(environ, start_response)
        if f"sentry_key={PUBLIC_KEY}" not in request.headers.get("X-Sentry-Auth", ""):
            return Response("unauthorized", status=401)(environ, start_response)
        body = request.get_data()
        encoding = request.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        with self._lock:
            self.envelopes.append(body)
        return Response('{"id": "standin"}', content_type="application/json")(environ, start_response)


@contextmanager
def running_standin() -> Iterator[SentryStandIn]:
    """Serve a stand-in on 127.0.0.1 (a free port) in a thread; its `dsn` names it."""
    standin = SentryStandIn()
    with serving(standin) as url:
        standin.dsn = url.replace("http://", f"http://{PUBLIC_KEY}@") + f"/{PROJECT_ID}"
        yield standin
