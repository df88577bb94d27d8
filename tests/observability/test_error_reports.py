"""With LINLI_SENTRY_DSN set, an unexpected error of a request or a job reaches the Sentry server (a local stand-in
of its envelope endpoint) with what went wrong and where, and without the person's phone, tokens, cookies or
address; without a DSN nothing is sent."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentry_sdk
from flask import Flask
from rq import Queue, SimpleWorker

from backend import create_app
from tests.observability import sentry_standin

PHONE = "13812345678"
# A JWT as our tokens look (header, claims, signature; the claims name person 7).
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJlLW9mLWEtdGVzdA"
CSRF = "csrf-f00dfeed"
SMS_CODE = "864209"


@pytest.fixture
def standin() -> Iterator[sentry_standin.SentryStandIn]:
    with sentry_standin.running_standin() as standin:
        yield standin
    # The SDK is one per process: the suite's other apps report nowhere.
    sentry_sdk.init(dsn=None)


def reporting_app(app: Flask, dsn: str) -> Flask:
    return create_app({**app.config, "LINLI_SENTRY_DSN": dsn})


def test_an_unexpected_error_is_reported_without_anything_private(app, standin):
    reporting = reporting_app(app, standin.dsn)

    def broken():
        raise RuntimeError(f"could not notify {PHONE} holding {TOKEN}")

    reporting.view_functions["healthz"] = broken
    client = reporting.test_client()
    client.set_cookie("access_token_cookie", TOKEN)
    client.set_cookie("csrf_access_token", CSRF)
    response = client.get(f"/healthz?phone={PHONE}&access_token={TOKEN}&code={SMS_CODE}",
                          headers={"Authorization": f"Bearer {TOKEN}", "X-CSRF-TOKEN": CSRF})
    assert response.status_code == 500
    sentry_sdk.flush(timeout=10)

    [event] = standin.events
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "could not notify [Filtered] holding [Filtered]"
    assert event["request"]["url"].endswith("/healthz")
    assert event["environment"] == reporting.config["ENV_NAME"]
    sent = b"".join(standin.envelopes).decode()
    for private in (PHONE, TOKEN, TOKEN.split(".")[1], CSRF, SMS_CODE, "127.0.0.1"):
        assert private not in sent


def test_a_failed_job_is_reported(app, standin):
    reporting = reporting_app(app, standin.dsn)
    connection = reporting.extensions["linli_redis"]
    with reporting.app_context():
        queue = Queue("high", connection=connection)
        queue.enqueue("backend.jobs.no_such_module.run", PHONE)
        SimpleWorker([queue], connection=connection).work(burst=True, logging_level="WARNING")
    sentry_sdk.flush(timeout=10)

    [event] = [event for event in standin.events if "rq-job" in event.get("extra", {})]
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert event["extra"]["rq-job"]["func"] == "backend.jobs.no_such_module.run"
    sent = b"".join(standin.envelopes).decode()
    assert PHONE not in sent


def test_without_a_dsn_nothing_is_sent(app, standin):
    silent = reporting_app(app, "")

    def broken():
        raise RuntimeError("nobody hears this")

    silent.view_functions["healthz"] = broken
    assert silent.test_client().get("/healthz").status_code == 500
    sentry_sdk.flush(timeout=2)
    assert standin.envelopes == []
