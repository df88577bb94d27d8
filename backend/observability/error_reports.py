"""Error reports to Sentry (sentry-sdk) when LINLI_SENTRY_DSN is set: unhandled errors of requests and jobs, and
every ERROR log line (the app logs its handled 500s and the jobs' failures there).

Nothing that names or reaches a person leaves the machine: no IP address, cookie, header value of a token, request
body or local variable; every phone number, JWT, bearer token and access_token in a query string found in the
report's text is blanked before it is sent."""
from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import sentry_sdk
from flask import Flask
from sentry_sdk.integrations.flask import FlaskIntegration
from sentry_sdk.integrations.rq import RqIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

FILTERED = "[Filtered]"
# Keys whose values are blanked wherever they appear (headers, cookies, query and form fields, extra data),
# besides the SDK's own list (password, token, authorization, cookie, …): it matches whole keys only.
PRIVATE_KEYS = [
    "access_token", "refresh_token", "access_token_cookie", "refresh_token_cookie", "csrf_access_token",
    "csrf_refresh_token", "x-csrf-token", "x_csrf_token", "phone", "phone_number", "mobile", "code", "openid",
    "unionid", "session_key", "id_card", "wechatpay-signature", "wechatpay_signature",
]
_PRIVATE_TEXT = [
    # Mainland mobile numbers (11 digits from 13x to 19x), with or without +86 and written in groups (WeChat's
    # phoneNumber, a form field), not inside a longer number (an order number).
    re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)"),
    # A JWT: three base64url parts, the first of them a JSON header (`{"` encodes as eyJ).
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
    re.compile(r"(?i)(?<=bearer )[\w.~+/=-]+"),
    re.compile(r"(?<=access_token=)[^&#\s]+"),
]


def init_app(app: Flask) -> None:
    dsn = app.config["LINLI_SENTRY_DSN"]
    if not dsn:
        return
    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["ENV_NAME"],
        release=f"linli@{version('linli')}",
        integrations=[FlaskIntegration(), RqIntegration()],
        # Who asked (IP address, user), bodies, job arguments (ids or personal data) and local variables stay here.
        # (sentry-sdk 2.76's `data_collection` would replace the first, but it switches the key scrubber off.)
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=DEFAULT_DENYLIST + PRIVATE_KEYS, recursive=True),
        before_send=lambda event, _hint: blank_private_text(_without_arguments(event)),
        before_breadcrumb=lambda crumb, _hint: blank_private_text(crumb),
        # Errors only: tracing would add a cost to every request for a view Prometheus already gives.
        traces_sample_rate=None,
    )


def _without_arguments(event: dict) -> dict:
    """The scrubber reads keys, not text: a query string (`?code=…` of a WeChat sign-in, a phone searched for)
    goes whole, and so does RQ's job description, which repeats the job's arguments
    (`backend.jobs.sms.send(13812345678)`)."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("query_string", None)
    job = event.get("extra", {}).get("rq-job")
    if isinstance(job, dict):
        job.pop("description", None)
    return event


def blank_private_text(value: Any) -> Any:
    """`value` (an event or a breadcrumb, as the SDK hands it over) with every private text in it blanked."""
    if isinstance(value, str):
        for pattern in _PRIVATE_TEXT:
            value = pattern.sub(FILTERED, value)
        return value
    if isinstance(value, dict):
        return {key: blank_private_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [blank_private_text(item) for item in value]
    return value
