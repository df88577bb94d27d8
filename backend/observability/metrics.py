"""Prometheus metrics at GET /metrics, for the loopback (a Prometheus on the same machine) or, when
LINLI_METRICS_TOKEN is set, for whoever sends it as a bearer token; anyone else gets a 404.

Three kinds of figures, each kept where its writers can all reach it:
- the web's own (requests per Flask endpoint, their latency, payment notifications): prometheus_client counters
  in this process. Under gunicorn every worker is a process of its own, so `linli serve` names a directory in
  PROMETHEUS_MULTIPROC_DIR where each worker writes its counters (prometheus_client's multiprocess mode) and the
  scrape adds them up; without it (`linli dev`, tests) the figures are this one process's.
- the messages sent (SMS, WeChat subscribe messages): counters in Redis. Most are sent by RQ work horses, a forked
  process per job that lives a few seconds: one multiprocess file each would pile up by the thousand a day.
  Shared by every machine, so any web node reports the whole site's.
- the state of the queues and the outbox: read from Redis and the database at each scrape."""
from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import redis
from flask import Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from backend.domain.refusals import Refused
from backend.errors import json_error
from backend.extensions import DATABASE_UNAVAILABLE, db, limiter
from backend.services.job_admin import queue_depths
from backend.services.queueing import outbox_backlog
from backend.shared.clock import utcnow

log = logging.getLogger("linli.metrics")

# prometheus_client's own setting, read when it is imported: it must be in the environment before the process
# starts (`linli serve` and the systemd unit set it), and emptied at each start of the server.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
# A request that matched no route (a 404 or 405 from routing) has no endpoint; raw paths never become labels.
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STARTED = "linli.metrics.started"
# From a no-op (≈ 1 ms) to gunicorn's 30 s timeout; the targets of docs/benchmarks.md sit at 300 and 500 ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
SENT_MESSAGES_KEY = "linli:metrics:sent_messages"

# The counters of this process; only read directly when there is no multiprocess directory.
PROCESS_REGISTRY = CollectorRegistry()
# One histogram counts and times the requests (its _count is the number answered): a second series for the
# count alone would double the work of every request for a figure the histogram already holds.
REQUEST_SECONDS = Histogram(
    "linli_http_request_duration_seconds",
    "Requests answered, by Flask endpoint, method and status, and their time from the first before-request "
    "hook to the last after-request hook.",
    ["endpoint", "method", "status"], buckets=LATENCY_BUCKETS, registry=PROCESS_REGISTRY,
)
PAYMENT_NOTIFICATIONS = Counter(
    "linli_payment_notifications",
    "WeChat Pay notifications: accepted (acknowledged), refused (its reason, the refusal's kind) or failed "
    "(not answered, e.g. the database down: WeChat Pay sends it again).",
    ["outcome", "reason"], registry=PROCESS_REGISTRY,
)


def init_app(app: Flask) -> None:
    if not app.config["LINLI_METRICS_ENABLED"]:
        return
    # Registered before any other extension's hooks: this one runs first before the request and last after it.
    app.before_request(_start_timer)
    app.after_request(_count_request)
    app.add_url_rule(METRICS_PATH, "metrics", limiter.exempt(scrape))
    if "gunicorn" in os.environ.get("SERVER_SOFTWARE", "") and not os.environ.get(MULTIPROCESS_DIR):
        log.warning("%s is not set: each gunicorn worker reports only its own requests", MULTIPROCESS_DIR)


def multiprocess_dir_for(instance_path: str) -> Path:
    """PROMETHEUS_MULTIPROC_DIR when given (the systemd unit's, under /run), else one of this instance's in
    /dev/shm. Memory, not disk: every request writes its counters into a file mapped in memory, and on ext4 the
    kernel's writeback of those pages cost the ceiling ≈ 30 % (docs/benchmarks.md); on tmpfs nothing measurable."""
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        return Path(given)
    shared_memory = Path("/dev/shm")
    base = shared_memory if shared_memory.is_dir() else Path(instance_path)
    return base / f"linli-prometheus-{hashlib.sha256(str(instance_path).encode()).hexdigest()[:12]}"


def use_multiprocess_dir(instance_path: str) -> str:
    """Before a gunicorn server starts (`linli serve`): the directory its workers write their counters to, emptied
    (or the files of a previous run's workers would be added to this run's) and set in the environment they
    inherit."""
    directory = multiprocess_dir_for(instance_path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(directory)
    return str(directory)


def _start_timer() -> None:
    request.environ[_STARTED] = time.perf_counter()


def _count_request(response: Response) -> Response:
    # Every attribute read through the `request` proxy looks the request up again: once is enough.
    current = request._get_current_object()
    started = current.environ.get(_STARTED)
    if started is None:
        # The request failed before any before-request hook ran (opening its session): nothing was timed.
        return response
    # Any token is a method to werkzeug: a scanner's inventions must not each become a series.
    method = current.method if current.method in _METHODS else "OTHER"
    REQUEST_SECONDS.labels(current.endpoint or UNMATCHED, method, str(response.status_code)).observe(
        time.perf_counter() - started
    )
    return response


def counts_payment_notifications(view: Callable) -> Callable:
    """Wraps the payment notification view: each notification counted by its outcome."""

    @functools.wraps(view)
    def counted(*args, **kwargs):
        try:
            answer = view(*args, **kwargs)
        except Refused as refused:
            PAYMENT_NOTIFICATIONS.labels("refused", refused.kind.name.lower()).inc()
            raise
        except Exception as error:
            PAYMENT_NOTIFICATIONS.labels("failed", type(error).__name__).inc()
            raise
        PAYMENT_NOTIFICATIONS.labels("accepted", "").inc()
        return answer

    return counted


def count_sent_message(redis_client: redis.Redis, channel: str, kind: str, outcome: str) -> None:
    """One message handed to SMS or WeChat (`channel`): its kind (an SMS code or notice, the WeChat app) and
    outcome. Counting never stops a message: without Redis the count is lost, the message is not."""
    try:
        redis_client.hincrby(SENT_MESSAGES_KEY, f"{channel}:{kind}:{outcome}", 1)
    except redis.RedisError as exc:
        log.warning("message not counted, Redis unreachable: %s", type(exc).__name__)


def _may_scrape() -> bool:
    token = current_app.config["LINLI_METRICS_TOKEN"]
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        # Behind nginx, ProxyFix (LINLI_PROXY_COUNT) has put the client's own address here, not nginx's.
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def scrape() -> Response:
    """The figures in Prometheus's text format; a 404 in the error shape for anyone not allowed to see them."""
    if not _may_scrape():
        return json_error(404)
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIR):
        MultiProcessCollector(registry)
    else:
        registry.register(PROCESS_REGISTRY)
    registry.register(_SiteState(current_app.extensions["linli_redis"]))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _SiteState:
    """The queues, the failed jobs, the outbox and the messages sent, read at each scrape. A source out of reach
    leaves its figures out (never a stale or zero figure) and says so in linli_metrics_source_up."""

    def __init__(self, redis_client: redis.Redis):
        self.redis = redis_client

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("linli_metrics_source_up", "1 when the source answered this scrape.", labels=["source"])
        try:
            depths = queue_depths()
            sent = self.redis.hgetall(SENT_MESSAGES_KEY)
        except redis.RedisError:
            up.add_metric(["redis"], 0)
        else:
            up.add_metric(["redis"], 1)
            yield from _queue_families(depths)
            yield from _sent_message_families(sent)
        try:
            backlog = outbox_backlog()
        except DATABASE_UNAVAILABLE:
            db.session.rollback()
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
            unpushed = GaugeMetricFamily(
                "linli_outbox_unpushed_jobs",
                "Jobs committed but not yet pushed to Redis (Redis was down): the relay pushes them every minute.",
                value=backlog.unpushed,
            )
            oldest = backlog.oldest_unpushed_at
            age = GaugeMetricFamily(
                "linli_outbox_oldest_unpushed_age_seconds", "How long the oldest of them has waited (0: none).",
                value=(utcnow() - oldest).total_seconds() if oldest else 0,
            )
            yield from (unpushed, age)
        yield up


def _queue_families(depths) -> Iterator[Metric]:
    jobs = GaugeMetricFamily(
        "linli_queue_jobs", "RQ jobs per queue: queued (waiting for a worker), started, scheduled (for later).",
        labels=["queue", "state"],
    )
    failed = GaugeMetricFamily(
        "linli_failed_jobs", "RQ jobs failed with no retry left, per queue (`linli jobs failed` lists them).",
        labels=["queue"],
    )
    for depth in depths:
        jobs.add_metric([depth.queue, "queued"], depth.queued)
        jobs.add_metric([depth.queue, "started"], depth.started)
        jobs.add_metric([depth.queue, "scheduled"], depth.scheduled)
        failed.add_metric([depth.queue], depth.failed)
    yield from (jobs, failed)


def _sent_message_families(sent: dict[bytes, bytes]) -> Iterator[Metric]:
    families = {
        "sms": CounterMetricFamily(
            "linli_sms_sends", "SMS handed to the provider, by kind (code, notice) and outcome (sent, failed).",
            labels=["kind", "outcome"],
        ),
        "wechat": CounterMetricFamily(
            "linli_wechat_message_sends",
            "WeChat subscribe messages, by app and outcome (sent, declined, retry: WeChat busy, failed).",
            labels=["app", "outcome"],
        ),
    }
    for field, count in sorted(sent.items()):
        channel, kind, outcome = field.decode().split(":")
        families[channel].add_metric([kind, outcome], int(count))
    yield from families.values()
