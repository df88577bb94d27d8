"""Fan one notice out to 100,000 recipients through real Redis and two workers (issue 3).

Measures, in the same run, the raw ceiling (the same 100,000 rows written by one INSERT … SELECT, first, while the
workers wait idle) and the time from the notify() call to the last inbox row written. Targets: under 60 s, ratio
≤ 3×, and one inbox row and one planned push per recipient, none attempted twice.
Runs on PostgreSQL when it answers (LINLI_BENCH_DATABASE_URL, default a fresh `linli_bench` database on
127.0.0.1), else on SQLite; Redis is LINLI_REDIS_URL, else 127.0.0.1:6379 db 12, else embedded."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis
from sqlalchemy import func, insert, literal, select

from bench.targets import record

RECIPIENTS = int(os.environ.get("LINLI_BENCH_RECIPIENTS", "100000"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_SECONDS, TARGET_RATIO = 60.0, 3.0
SEND_WINDOW = 10.0


def fresh_database_url(instance: Path, name: str = "linli_bench") -> str:
    """LINLI_BENCH_DATABASE_URL, else a new PostgreSQL database `name` on 127.0.0.1, else SQLite in `instance`."""
    if os.environ.get("LINLI_BENCH_DATABASE_URL"):
        return os.environ["LINLI_BENCH_DATABASE_URL"]
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:5432/{name}"
    except psycopg.Error:
        return f"sqlite:///{instance / 'bench.db'}"


def _redis_url(instance: Path) -> str:
    if os.environ.get("LINLI_REDIS_URL"):
        return os.environ["LINLI_REDIS_URL"]
    try:
        client = redis.Redis.from_url("redis://127.0.0.1:6379/12", socket_connect_timeout=1)
        client.flushdb()
        return "redis://127.0.0.1:6379/12"
    except redis.RedisError:
        from backend.redis_conn import start_embedded_redis

        return start_embedded_redis(instance)


def _wait_until(what: str, reached, started: float, limit: float) -> float:
    """Poll `reached()` every 0.1 s; seconds from `started` until it holds."""
    while not reached():
        if time.perf_counter() - started > limit:
            raise SystemExit(f"{what}: not reached after {limit:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def _idle(connection: redis.Redis) -> bool:
    """No job due waits in the outbox to reach Redis, none is queued and none is running. (Jobs of an earlier run
    that reached a Redis flushed since then stay open in the outbox until the relay's 10 minutes: not waited for.)"""
    from rq import Queue
    from rq.registry import StartedJobRegistry
    from sqlalchemy import or_

    from backend.extensions import db
    from backend.models import OutboxJob
    from backend.services.queueing import QUEUES
    from backend.shared.clock import utcnow

    open_jobs = db.session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.pushed_at.is_(None), OutboxJob.done_at.is_(None), OutboxJob.failed_at.is_(None),
        or_(OutboxJob.run_at.is_(None), OutboxJob.run_at <= utcnow())))
    db.session.rollback()
    return not open_jobs and not any(
        Queue(name, connection=connection).count or StartedJobRegistry(name, connection=connection).count
        for name in QUEUES)


def _stop(workers: list[subprocess.Popen]) -> None:
    """Stop the workers without waiting for the pushes still queued: a second SIGTERM is RQ's cold shutdown
    (the delivery job running is stopped; the bench's Redis keeps what is left)."""
    for signal_number in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal_number)
        try:
            for worker in workers:
                worker.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def main() -> int:
    instance = Path(tempfile.mkdtemp(prefix="linli-fanout-"))
    os.environ.update(
        LINLI_INSTANCE_PATH=str(instance), LINLI_DATABASE_URL=fresh_database_url(instance),
        LINLI_REDIS_URL=_redis_url(instance),
    )
    linli = str(Path(sys.executable).with_name("linli"))
    subprocess.run([linli, "init-db"], check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([linli, "demo", "--households", str(RECIPIENTS)], check=True, capture_output=True)
    print(f"demo data with {RECIPIENTS} recipients: {time.perf_counter() - started:.1f} s")

    from backend import create_app
    from backend.domain.notifications import FAN_OUT_BATCH, DeliveryStatus
    from backend.extensions import db
    from backend.models import Compound, Delivery, Membership, Notice, Notification
    from backend.services.notifications import notify
    from backend.services.queueing import push_committed_jobs
    from backend.shared.clock import utcnow

    # A database kept from an earlier run (LINLI_BENCH_DATABASE_URL) already holds that run's notices.
    run = uuid.uuid4().hex[:12]
    load = os.getloadavg()[0]
    workers = [subprocess.Popen([linli, "worker"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    app = create_app()
    try:
        with app.app_context():
            # The demo asked for notices of its own (announcements, bills…), which the workers relay from the outbox
            # when they start: measured behind those jobs, the fan-out would time the demo's pushes too. So first
            # every job due has ended and nothing is queued or running.
            time.sleep(3)
            _wait_until("the demo's own jobs done", lambda: _idle(app.extensions["linli_redis"]),
                        time.perf_counter(), 900)
            recipients = select(Membership.user_id).join(Compound, Compound.id == Membership.compound_id).where(
                Compound.code == "bench"
            )
            user_ids = list(db.session.scalars(recipients))
            assert len(user_ids) == RECIPIENTS, len(user_ids)

            # The ceiling first, while both workers wait idle: measured after the fan-out, it would share the
            # machine with the push planning and sending still running then.
            ceiling_notice = Notice(kind="bench", title="停水通知", urgency="normal", dedupe_key=f"ceiling-{run}")
            db.session.add(ceiling_notice)
            db.session.commit()
            t1 = time.perf_counter()
            db.session.execute(
                insert(Notification).from_select(
                    ["user_id", "notice_id", "dedupe_key", "created_at"],
                    select(Membership.user_id, literal(ceiling_notice.id), literal(ceiling_notice.dedupe_key),
                           literal(utcnow())).join(Compound, Compound.id == Membership.compound_id)
                    .where(Compound.code == "bench"),
                )
            )
            db.session.commit()
            ceiling = time.perf_counter() - t1

            t0 = time.perf_counter()
            notice = notify(user_ids, "bench", "停水通知", "明日 9:00–12:00 停水", dedupe_key=f"fanout-{run}")
            db.session.commit()
            push_committed_jobs()
            called = time.perf_counter() - t0
            mine = Notification.notice_id == notice.id

            def count(query) -> int:
                found = db.session.scalar(query)
                db.session.rollback()
                return found

            def pushes(*where) -> int:
                return count(select(func.count()).select_from(Delivery)
                             .join(Notification, Notification.id == Delivery.notification_id).where(mine, *where))

            inbox_rows = select(func.count()).select_from(Notification).where(mine)
            fan_out = _wait_until("inbox rows", lambda: count(inbox_rows) >= RECIPIENTS, t0, 600)
            planned = _wait_until("pushes planned", lambda: pushes() >= RECIPIENTS, t0, 600)
            # Sending all 100,000 pushes takes minutes (one at a time, each committed): time a window of it.
            sent_before = pushes(Delivery.status != DeliveryStatus.PENDING)
            time.sleep(SEND_WINDOW)
            sent_rate = (pushes(Delivery.status != DeliveryStatus.PENDING) - sent_before) / SEND_WINDOW
            # Nothing lost, nothing doubled: one inbox row per recipient, one push per row, none sent twice.
            rows, people = db.session.execute(
                select(func.count(), func.count(func.distinct(Notification.user_id))).where(mine)).one()
            total_pushes = pushes()
            pushed_rows = count(select(func.count(func.distinct(Delivery.notification_id)))
                                .join(Notification, Notification.id == Delivery.notification_id).where(mine))
            resent = pushes(Delivery.attempts > 1)
            database = db.engine.dialect.name
    finally:
        _stop(workers)

    ratio = fan_out / ceiling
    exact = rows == people == total_pushes == pushed_rows == RECIPIENTS and resent == 0
    jobs = -(-RECIPIENTS // FAN_OUT_BATCH)
    print(f"\n{RECIPIENTS} recipients, {database}, real Redis, 2 workers, {os.cpu_count()} cores, "
          f"load average {load:.1f} before the run\n")
    print("| measure | value | target |")
    print("| --- | ---: | ---: |")
    print(f"| raw ceiling: one INSERT … SELECT of the same rows (workers idle) | {ceiling:.2f} s | |")
    print(f"| notify() call incl. commit and push ({jobs} fan-out jobs of ≤ {FAN_OUT_BATCH}) | {called:.2f} s | |")
    print(f"| call → last inbox row | {fan_out:.2f} s | < {TARGET_SECONDS:.0f} s |")
    print(f"| inbox rows per second | {RECIPIENTS / fan_out:.0f} | |")
    print(f"| **ratio to the ceiling** | **{ratio:.2f}×** | ≤ {TARGET_RATIO:.0f}× |")
    print(f"| call → every push planned (one WeChat push per row) | {planned:.1f} s | |")
    print(f"| pushes sent per second afterwards ({SEND_WINDOW:.0f} s window, sandbox WeChat) | {sent_rate:.0f} | |")
    print(f"| inbox rows / distinct people / pushes / rows pushed | {rows} / {people} / {total_pushes} / "
          f"{pushed_rows} | {RECIPIENTS} each |")
    print(f"| pushes attempted more than once | {resent} | 0 |")
    met = record("fan-out of 100,000: call → last inbox row", fan_out, TARGET_SECONDS, at_least=False, unit=" s")
    met &= record("fan-out ÷ raw INSERT … SELECT", ratio, TARGET_RATIO, at_least=False, unit="×")
    return 0 if met and exact else 1


if __name__ == "__main__":
    sys.exit(main())
