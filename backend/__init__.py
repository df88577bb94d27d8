"""Linli (邻里): the Flask application factory."""
from __future__ import annotations

import logging
import select
from pathlib import Path

from flask import Flask, has_request_context, jsonify, redirect, request, url_for
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import Pool
from werkzeug.middleware.proxy_fix import ProxyFix

from backend import integrations, observability
from backend.config import INSTANCE_SECRETS, PROJECT_ROOT, TEST_PASSWORD_COST, Settings, instance_secret
from backend.extensions import api as smorest_api
from backend.extensions import db, jwt, limiter, migrate
from backend.models.base import render_migration_item
from backend.redis_conn import connect, limiter_storage_uri, start_embedded_redis
from backend.serving import init_serving

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# A writer waits this long for another process's write lock (make run: web and worker share one file).
SQLITE_BUSY_TIMEOUT_MS = 15_000
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        # SQLite enforces foreign keys only when asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers go on while one process writes; it is a property of the file, kept once set.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
        # pysqlite's own transaction handling sends no BEGIN before a SELECT and lets RELEASE of the first
        # SAVEPOINT commit for real; SQLAlchemy's pysqlite recipe hands BEGIN to SQLAlchemy instead.
        dbapi_connection.isolation_level = None


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        # A transaction that reads and then writes cannot wait for another writer (SQLite answers "database
        # is locked" at once rather than risk a deadlock): one that may write takes the write lock at BEGIN,
        # where busy_timeout lets it wait its turn. Only page views and API reads begin deferred.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")


def _may_write() -> bool:
    return not has_request_context() or request.method not in _READ_ONLY_METHODS


# Every wait on PostgreSQL is bounded well below gunicorn's 30 s, so a database that is down, hung or locked
# answers 503 (api/errors.py) instead of holding the request until gunicorn kills its worker: a connection
# not made within 5 s, a row lock not granted within 5 s (held for milliseconds here; waiting longer means
# something is stuck), a statement cancelled after LINLI_DB_STATEMENT_TIMEOUT_MS (15 s by default; the longest
# statement of the app, a 5,000-household INSERT … SELECT of bills, takes ≈ 0.2 s).
DB_CONNECT_TIMEOUT_SECONDS = 5
DB_LOCK_TIMEOUT_MS = 5_000


def postgresql_engine_options(statement_timeout_ms: int) -> dict:
    return {
        "connect_args": {
            "connect_timeout": DB_CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={DB_LOCK_TIMEOUT_MS}",
        },
    }


@event.listens_for(Pool, "checkout")
def _replace_dropped_connection(dbapi_connection, _record, _proxy):
    """A pooled PostgreSQL connection the server has dropped (pg_terminate_backend, a restart, an idle timeout) is
    replaced before the request uses it, without the round trip a pre-ping costs every request (≈ 1 ms): an idle
    connection's socket has nothing to read unless the server said goodbye (its FATAL message, then the end of
    the stream). DisconnectionError makes the pool connect afresh and hand that out instead. A connection lost
    silently (no FIN) still fails its first statement, and handle_error's invalidation then renews the pool."""
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    if dbapi_connection.closed or dbapi_connection.broken or _has_unread_data(dbapi_connection.pgconn.socket):
        raise DisconnectionError("the server closed this pooled connection")


def _has_unread_data(socket_fd: int) -> bool:
    poller = select.poll()
    poller.register(socket_fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def create_app(config: dict | None = None) -> Flask:
    settings = Settings.from_env()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "h5" / "templates"),
        static_folder=str(PROJECT_ROOT / "h5" / "static"),
        static_url_path="/h5/static",
    )
    app.config.from_mapping(settings.flask_config())
    app.config.update(config or {})
    if app.testing and "LINLI_PASSWORD_COST" not in (config or {}):
        app.config["LINLI_PASSWORD_COST"] = TEST_PASSWORD_COST
    for name, file_name in INSTANCE_SECRETS.items():
        if not app.config.get(name):
            app.config[name] = instance_secret(Path(app.instance_path) / file_name)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS", postgresql_engine_options(app.config["LINLI_DB_STATEMENT_TIMEOUT_MS"])
        )
    if app.config["LINLI_PROXY_COUNT"]:
        # Behind nginx the client address is in X-Forwarded-For; without this every rate limit would be
        # keyed on the proxy's address and so shared by the whole site.
        count = app.config["LINLI_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    observability.init_app(app)

    redis_url = app.config["LINLI_REDIS_URL"] or start_embedded_redis(Path(app.instance_path))
    app.config["LINLI_REDIS_URL"] = redis_url
    app.config.setdefault("RATELIMIT_STORAGE_URI", limiter_storage_uri(redis_url))
    app.extensions["linli_redis"] = connect(redis_url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True,
        render_item=render_migration_item,
    )
    jwt.init_app(app)
    limiter.init_app(app)
    _register_api(app)
    _register_pages(app)
    init_serving(app)
    integrations.init_app(app)

    from backend.cli import register_cli

    register_cli(app)
    return app


def _register_api(app: Flask) -> None:
    from backend.api import (
        activities,
        announcements,
        auth,
        backbones,
        bindings,
        campaigns,
        compounds,
        consultations,
        contracts,
        dashboard,
        disclosures,
        disputes,
        fees,
        flags,
        fund_statements,
        fund_years,
        funds,
        governance,
        ledger,
        me,
        meetings,
        notifications,
        payments,
        people,
        rating,
        rectifications,
        renovation,
        reports,
        spending,
        subsidies,
        surveys,
        workorders,
    )
    from backend.errors import register_error_handlers
    from backend.jobs.health import last_worker_heartbeat
    from backend.jwt_setup import register_jwt
    from backend.services.queueing import push_committed_jobs

    smorest_api.init_app(app)
    smorest_api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    for module in (auth, me, compounds, bindings, ledger, notifications, workorders, consultations, meetings,
                   fees, payments, subsidies, rating, surveys, announcements, disputes, flags, rectifications,
                   governance, reports, dashboard, funds, fund_statements, spending, disclosures, fund_years,
                   people, backbones, activities, campaigns, renovation, contracts):
        smorest_api.register_blueprint(module.blp)
    register_error_handlers(app)
    register_jwt(app)

    @app.after_request
    def _push_requested_jobs(response):
        # The view's transaction has committed: its jobs go to Redis now (or wait in the outbox).
        push_committed_jobs()
        return response

    @app.get("/healthz")
    def healthz():
        """Database and Redis decide the status; the worker's last heartbeat (cron → queue → worker, every
        minute) is reported so a stopped worker or cron shows, without taking the web server out."""
        checks = {"database": _database_ok(), "redis": _redis_ok(app)}
        heartbeat = last_worker_heartbeat() if checks["redis"] else None
        body = {"ok": all(checks.values()), **checks, "worker_heartbeat": heartbeat}
        return jsonify(body), 200 if all(checks.values()) else 503


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


def _redis_ok(app: Flask) -> bool:
    import redis

    try:
        return bool(app.extensions["linli_redis"].ping())
    except redis.RedisError:
        return False


def _register_pages(app: Flask) -> None:
    from backend.pages import h5

    app.register_blueprint(h5)

    @app.get("/")
    def root():
        return redirect(url_for("h5.index"))
