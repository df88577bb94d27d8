"""GET /metrics: requests counted and timed per Flask endpoint (never per path), the queues, the failed jobs, the
outbox backlog, payment notifications accepted and refused, SMS and WeChat messages sent; seen from the loopback,
or with the bearer token when one is set, and a 404 in the error shape for anyone else."""
from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue, SimpleWorker

from backend import create_app, integrations
from backend.domain.auth import WeChatApp
from backend.extensions import db
from backend.observability.metrics import MULTIPROCESS_DIR, multiprocess_dir_for, use_multiprocess_dir
from backend.services.queueing import enqueue_after_commit
from tests.api import test_payment_notify as notifications
from tests.integrations import wechat_messages_standin
from tests.support import assert_error_shape

METRICS = "/metrics"
PROMETHEUS_ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}
# The payment notification tests' order: a bill whose owner pressed 缴费.
opened = notifications.opened


def scrape(client, headers: dict | None = None, environ_base: dict | None = None) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} from the exposition, read with prometheus_client's own parser."""
    response = client.get(METRICS, headers=headers, environ_base=environ_base or {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict[tuple, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


TIMED = "linli_http_request_duration_seconds"


def requests_of(samples, endpoint: str, method: str = "GET", status: str = "200") -> float:
    return value(samples, f"{TIMED}_count", endpoint=endpoint, method=method, status=status)


# ---- requests ----------------------------------------------------------------------------------------------


def test_each_request_is_counted_and_timed_under_its_endpoint(client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    after = scrape(client)

    healthz = {"endpoint": "healthz", "method": "GET", "status": "200"}
    assert requests_of(after, "healthz") - requests_of(before, "healthz") == 3
    assert value(after, f"{TIMED}_sum", **healthz) > value(before, f"{TIMED}_sum", **healthz)
    assert value(after, f"{TIMED}_bucket", le="+Inf", **healthz) == requests_of(after, "healthz")
    assert value(after, f"{TIMED}_bucket", le="30.0", **healthz) == requests_of(after, "healthz")


def test_requests_are_labelled_by_endpoint_never_by_path(app, client):
    before = scrape(client)
    for order_id in (7001, 7002, 7003):
        assert client.get(f"/api/v1/work-orders/{order_id}").status_code == 401
    assert client.get("/no/such/page/8004").status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405
    after = scrape(client)

    endpoint = app.url_map.bind("linli.test").match("/api/v1/work-orders/7001")[0]
    assert requests_of(after, endpoint, status="401") - requests_of(before, endpoint, status="401") == 3
    assert requests_of(after, "unmatched", status="404") - requests_of(before, "unmatched", status="404") == 1
    assert requests_of(after, "unmatched", method="OTHER", status="405") == 1 + requests_of(
        before, "unmatched", method="OTHER", status="405")
    label_values = {value for _, labels in after for _, value in labels}
    assert not {text for text in label_values if any(number in text for number in ("7001", "7002", "8004"))}
    assert "BREW" not in label_values


def test_an_unexpected_error_is_counted_as_a_500(app, client, monkeypatch):
    def broken():
        raise RuntimeError("broken on purpose")

    monkeypatch.setitem(app.view_functions, "healthz", broken)
    before = scrape(client)
    assert client.get("/healthz").status_code == 500
    assert requests_of(scrape(client), "healthz", status="500") - requests_of(before, "healthz", status="500") == 1


def test_a_server_start_gives_its_workers_an_empty_counter_directory_in_memory(tmp_path, monkeypatch):
    monkeypatch.setenv(MULTIPROCESS_DIR, "")
    instance = str(tmp_path / "instance")
    directory = multiprocess_dir_for(instance)
    assert directory.parent == Path("/dev/shm") and directory != multiprocess_dir_for(str(tmp_path / "other"))
    directory.mkdir()
    try:
        (directory / "histogram_4242.db").write_bytes(b"a previous run's counters")

        assert use_multiprocess_dir(instance) == os.environ[MULTIPROCESS_DIR] == str(directory)
        assert list(directory.iterdir()) == []
    finally:
        shutil.rmtree(directory)

    named = tmp_path / "run" / "linli-web"
    monkeypatch.setenv(MULTIPROCESS_DIR, str(named))
    assert use_multiprocess_dir(instance) == str(named) and named.is_dir()


# ---- who may see them --------------------------------------------------------------------------------------


def test_without_a_token_only_the_loopback_sees_the_metrics(client):
    assert client.get(METRICS, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    response = client.get(METRICS, environ_base=PROMETHEUS_ELSEWHERE)
    assert_error_shape(response, 404)
    assert b"linli_" not in response.data


def test_with_a_token_only_its_bearer_sees_the_metrics_wherever_they_ask_from(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LINLI_METRICS_TOKEN", "s3cret-metrics-token")

    scrape(client, headers={"Authorization": "Bearer s3cret-metrics-token"}, environ_base=PROMETHEUS_ELSEWHERE)
    assert_error_shape(client.get(METRICS), 404)
    for wrong in ("Bearer s3cret-metrics-toke", "Bearer s3cret-metrics-token2", "s3cret-metrics-token", "Bearer "):
        assert_error_shape(client.get(METRICS, headers={"Authorization": wrong}), 404)


def test_metrics_switched_off_are_not_served(app):
    quiet = create_app({**app.config, "LINLI_METRICS_ENABLED": False})
    response = quiet.test_client().get(METRICS)

    assert response.status_code == 404
    assert b"linli_" not in response.data


# ---- queues, failed jobs, the outbox -----------------------------------------------------------------------


def test_queue_depths_and_failed_jobs_are_read_from_redis(app, client):
    connection = app.extensions["linli_redis"]
    low, high = Queue("low", connection=connection), Queue("high", connection=connection)
    for _ in range(2):
        low.enqueue("backend.jobs.health.heartbeat")
    high.enqueue("backend.jobs.no_such_module.run")
    SimpleWorker([high], connection=connection).work(burst=True, logging_level="WARNING")

    samples = scrape(client)
    assert value(samples, "linli_queue_jobs", queue="low", state="queued") == 2
    assert value(samples, "linli_queue_jobs", queue="high", state="queued") == 0
    assert value(samples, "linli_failed_jobs", queue="high") == 1
    assert value(samples, "linli_failed_jobs", queue="low") == 0
    assert value(samples, "linli_metrics_source_up", source="redis") == 1


def test_jobs_waiting_in_the_outbox_are_counted_with_the_age_of_the_oldest(client):
    assert value(scrape(client), "linli_outbox_unpushed_jobs") == 0
    for _ in range(3):
        enqueue_after_commit("backend.jobs.health.heartbeat", queue="low")
    # Committed and never pushed, as when Redis was down at the commit.
    db.session.commit()

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=3)):
        samples = scrape(client)
    assert value(samples, "linli_outbox_unpushed_jobs") == 3
    assert 180 <= value(samples, "linli_outbox_oldest_unpushed_age_seconds") < 200
    assert value(samples, "linli_metrics_source_up", source="database") == 1


def test_with_redis_out_of_reach_the_scrape_still_answers_and_says_so(app, client, monkeypatch):
    import redis

    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    monkeypatch.setitem(app.extensions, "linli_redis", unreachable)
    samples = scrape(client)

    assert value(samples, "linli_metrics_source_up", source="redis") == 0
    assert not [name for name, _ in samples if name.startswith(("linli_queue_jobs", "linli_failed_jobs"))]
    assert value(samples, "linli_metrics_source_up", source="database") == 1


# ---- payment notifications, messages sent ------------------------------------------------------------------


def notification_count(samples, outcome: str, reason: str = "") -> float:
    return value(samples, "linli_payment_notifications_total", outcome=outcome, reason=reason)


def test_payment_notifications_are_counted_accepted_or_refused_with_the_reason(client, opened):
    before = scrape(client)
    headers, body = notifications.valid(opened)
    for _ in range(2):  # WeChat Pay sends it again: acknowledged again, recorded once
        assert notifications.notify(client, headers, body).status_code == 200
    assert notifications.notify(client, headers, body[:-1] + b" ").status_code == 401
    assert notifications.notify(client, headers, b"not json").status_code == 401
    tampered = notifications.sealed(notifications.transaction(opened, out_trade_no="LL999999999999999"))
    assert notifications.notify(client, notifications.signed(tampered), tampered).status_code == 404
    after = scrape(client)

    assert notification_count(after, "accepted") - notification_count(before, "accepted") == 2
    assert notification_count(after, "refused", "untrusted") - notification_count(before, "refused", "untrusted") == 2
    assert notification_count(after, "refused", "not_found") - notification_count(before, "refused", "not_found") == 1


def test_sms_codes_sent_are_counted(client):
    for phone in ("13800138000", "13900139000"):
        assert client.post("/api/v1/auth/sms/request", json={"phone": phone}).status_code == 202

    assert value(scrape(client), "linli_sms_sends_total", kind="code", outcome="sent") == 2


@pytest.fixture
def wechat_messages_to_standin(app, monkeypatch):
    """The app's WeChat senders built from settings naming the real WeChat (a local stand-in of it), as the
    app's start builds them."""
    with wechat_messages_standin.running_standin() as standin:
        for name, setting in {
            "LINLI_WECHAT_PROVIDER": "wechat", "LINLI_WECHAT_APPID": wechat_messages_standin.APPID,
            "LINLI_WECHAT_SECRET": wechat_messages_standin.SECRET, "LINLI_WECHAT_API_BASE": standin.url,
        }.items():
            monkeypatch.setitem(app.config, name, setting)
        for key in (integrations.SMS, integrations.WECHAT_LOGIN, integrations.WECHAT_MESSAGES):
            monkeypatch.setitem(app.extensions, key, app.extensions[key])
        integrations.init_app(app)
        yield standin


def test_wechat_messages_are_counted_by_outcome(client, wechat_messages_to_standin):
    standin = wechat_messages_to_standin
    standin.answer_for("o-declined", 43101)
    standin.answer_for("o-busy", -1)
    sender = integrations.wechat_messages(WeChatApp.OFFICIAL_ACCOUNT)
    for openid in ("o-one", "o-two", "o-declined", "o-busy"):
        try:
            sender.send(openid, "TEMPLATE-1", {"thing1": "停水通知"})
        except Exception as error:  # noqa: BLE001 - each failure is a WeChatMessageError the caller handles
            assert openid in ("o-declined", "o-busy"), error

    samples = scrape(client)
    wechat = "linli_wechat_message_sends_total"
    assert value(samples, wechat, app="official_account", outcome="sent") == 2
    assert value(samples, wechat, app="official_account", outcome="declined") == 1
    assert value(samples, wechat, app="official_account", outcome="retry") == 1
