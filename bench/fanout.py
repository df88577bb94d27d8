"""Fan one notice out to 100,000 recipients through real Redis and two workers (issue 3).

Measures the time from the notify() call to the last inbox row written, and in the same run the raw
ceiling: the same 100,000 rows written by one INSERT … SELECT. Targets: under 60 s, ratio ≤ 3×.
Runs on PostgreSQL when it answers (LINLI_BENCH_DATABASE_URL, default a fresh `linli_bench` database on
127.0.0.1), else on SQLite; Redis is LINLI_REDIS_URL, else 127.0.0.1:6379 db 12, else embedded."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from sqlalchemy import func, insert, literal, select

RECIPIENTS = int(os.environ.get("LINLI_BENCH_RECIPIENTS", "100000"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET_SECONDS, TARGET_RATIO = 60.0, 3.0


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
    from backend.extensions import db
    from backend.models import Compound, Membership, Notice, Notification
    from backend.services.notifications import notify
    from backend.services.queueing import push_committed_jobs
    from backend.shared.clock import utcnow

    workers = [subprocess.Popen([linli, "worker"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    app = create_app()
    try:
        with app.app_context():
            time.sleep(3)  # both workers listening
            recipients = select(Membership.user_id).join(Compound, Compound.id == Membership.compound_id).where(
                Compound.code == "bench"
            )
            user_ids = list(db.session.scalars(recipients))
            assert len(user_ids) == RECIPIENTS, len(user_ids)

            t0 = time.perf_counter()
            notice = notify(user_ids, "bench", "停水通知", "明日 9:00–12:00 停水", dedupe_key="bench-fanout")
            db.session.commit()
            push_committed_jobs()
            called = time.perf_counter() - t0
            written = 0
            while written < RECIPIENTS:
                time.sleep(0.2)
                written = db.session.scalar(select(func.count()).where(Notification.notice_id == notice.id))
                db.session.rollback()
                if time.perf_counter() - t0 > 600:
                    raise SystemExit(f"only {written} of {RECIPIENTS} inbox rows after 10 minutes")
            fan_out = time.perf_counter() - t0

            ceiling_notice = Notice(kind="bench", title="停水通知", urgency="normal", dedupe_key="bench-ceiling")
            db.session.add(ceiling_notice)
            db.session.commit()
            t1 = time.perf_counter()
            db.session.execute(
                insert(Notification).from_select(
                    ["user_id", "notice_id", "dedupe_key", "created_at"],
                    select(Membership.user_id, literal(ceiling_notice.id), literal("bench-ceiling"), literal(utcnow()))
                    .join(Compound, Compound.id == Membership.compound_id).where(Compound.code == "bench"),
                )
            )
            db.session.commit()
            ceiling = time.perf_counter() - t1
            database = db.engine.dialect.name
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)

    ratio = fan_out / ceiling
    print(f"\n{RECIPIENTS} recipients, {database}, real Redis, 2 workers, {os.cpu_count()} cores\n")
    print("| measure | value | target |")
    print("| --- | ---: | ---: |")
    print(f"| notify() call incl. commit and push ({RECIPIENTS // 500} fan-out jobs) | {called:.2f} s | |")
    print(f"| call → last inbox row | {fan_out:.1f} s | < {TARGET_SECONDS:.0f} s |")
    print(f"| notifications per second | {RECIPIENTS / fan_out:.0f} | |")
    print(f"| raw ceiling: one INSERT … SELECT of the same rows | {ceiling:.2f} s | |")
    print(f"| ratio to the ceiling | {ratio:.1f}× | ≤ {TARGET_RATIO:.0f}× |")
    return 0 if fan_out < TARGET_SECONDS and ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
