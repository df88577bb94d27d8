"""Shared fixtures: one app per run on SQLite or PostgreSQL (LINLI_TEST_DATABASE_URL) and real Redis,
a transaction rolled back after every test, factories, sign-in helpers and a query counter.

Every test starts on one fixed clock (`--now`, default TEST_NOW): what passes today passes next week. `make test`
runs the suite at TEST_NOW, again on PostgreSQL at a year's end, and the tests marked `calendar` at a month's end
and at a subsidy tier's boundary.

Tests marked `live` (a real server thread, e.g. Playwright) commit for real and truncate afterwards."""
from __future__ import annotations

import itertools
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import time_machine
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, make_url, text
from werkzeug.serving import make_server

from backend import create_app
from backend.demo import factories
from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Area, Base, Compound, Household, User
from backend.services.identity import hash_password
from backend.shared.clock import utcnow
from tests.support import TEST_PASSWORD, bearer

ARTIFACTS = Path(__file__).parent / "artifacts"
_PASSWORD_HASH = hash_password(TEST_PASSWORD)
_counter = itertools.count(1)
# 10:00 in Beijing on an ordinary Wednesday in the middle of a month.
TEST_NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _worker_number() -> int:
    """0, or n for pytest-xdist's worker gw<n>: each worker has a Redis database and a PostgreSQL database of its
    own (every test flushes its Redis database; the PostgreSQL run drops and makes its schema)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def _redis_url() -> str:
    configured = os.environ.get("LINLI_TEST_REDIS_URL")
    if not configured:
        try:
            redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
            configured = "redis://127.0.0.1:6379/15"
        except redis.RedisError:
            from backend.redis_conn import start_embedded_redis

            return start_embedded_redis(Path(tempfile.mkdtemp(prefix="linli-redis-")))
    base, _, number = configured.rpartition("/")
    if not (_worker_number() and base.startswith("redis") and number.isdigit()):
        return configured
    # Databases 15, 14, 13 … for workers 0, 1, 2 …: Redis has 16 by default.
    return f"{base}/{int(number) - _worker_number()}"


def _database_url(tmp_dir: Path) -> str:
    configured = os.environ.get("LINLI_TEST_DATABASE_URL", "sqlite")
    if configured == "sqlite":
        return f"sqlite:///{tmp_dir / 'test.db'}"
    from backend.config import normalize_database_url

    url = make_url(normalize_database_url(configured))
    if not _worker_number():
        return url.render_as_string(hide_password=False)
    own = url.set(database=f"{url.database}_gw{_worker_number()}")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    return own.render_as_string(hide_password=False)


def pytest_addoption(parser):
    parser.addoption(
        "--now", default=None, type=datetime.fromisoformat,
        help="the moment the run starts at (ISO 8601 with an offset); default 2026-11-25T02:00Z",
    )


def _test_now(config) -> datetime:
    moment = config.getoption("--now") or TEST_NOW
    if moment.tzinfo is None:
        raise pytest.UsageError("--now needs an offset, e.g. 2026-12-31T23:50+08:00")
    return moment


def pytest_configure(config):
    config.addinivalue_line("markers", "live: runs a real server thread; data is committed and truncated after")
    config.addinivalue_line("markers", "postgresql: about PostgreSQL itself; collected only in the PostgreSQL run")
    config.addinivalue_line(
        "markers", "calendar: depends on today's date; `make test` runs it again at month and year ends"
    )
    config.addinivalue_line(
        "markers", "once: the test database plays no part (own processes, files, Redis): only in the SQLite run"
    )


def pytest_collection_modifyitems(config, items):
    other = "once" if os.environ.get("LINLI_TEST_DATABASE_URL", "sqlite") != "sqlite" else "postgresql"
    elsewhere = [item for item in items if item.get_closest_marker(other)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


def pytest_report_header(config):
    return (f"linli database: {os.environ.get('LINLI_TEST_DATABASE_URL', 'sqlite')}, "
            f"clock from {_test_now(config).isoformat()}")


@pytest.fixture(autouse=True)
def _clock(pytestconfig) -> Iterator[datetime]:
    """Every test starts at the same moment, whatever the real date and however long the tests before it
    took; the clock ticks from there, and a test's own time_machine.travel nests inside it. (Processes a
    test starts keep the real clock.)"""
    moment = _test_now(pytestconfig)
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture(scope="session", autouse=True)
def _instance_folder(tmp_path_factory) -> Iterator[Path]:
    """Every app a test makes keeps its instance files (secrets, sandbox keys) in the run's own folder, not in
    the checkout's `make run` one; tests about the instance folder set their own."""
    folder = tmp_path_factory.mktemp("instance")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINLI_INSTANCE_PATH", str(folder))
        yield folder


@pytest.fixture(scope="session")
def app(tmp_path_factory, _instance_folder) -> Iterator[Flask]:
    tmp_dir = tmp_path_factory.mktemp("linli")
    database_url = _database_url(tmp_dir)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "LINLI_REDIS_URL": _redis_url(),
            "LINLI_PUBLIC_URL": "http://linli.test",
            "LINLI_PHOTO_DIR": str(tmp_dir / "photos"),
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_redis(app):
    app.extensions["linli_redis"].flushdb()
    yield


@pytest.fixture(autouse=True)
def _database(request, app, monkeypatch):
    """Each test runs inside a transaction that is rolled back (NOTES: works on PostgreSQL too)."""
    if request.node.get_closest_marker("live"):
        with app.app_context():
            yield
            db.session.remove()
            _truncate_all()
        return
    with app.app_context():
        conn = db.engine.connect()
        outer = conn.begin()
        monkeypatch.setitem(db.engines, None, conn)
        monkeypatch.setitem(db.session.session_factory.kw, "join_transaction_mode", "create_savepoint")
        db.session.remove()
        try:
            yield conn
        finally:
            db.session.remove()
            outer.rollback()
            conn.close()


def _truncate_all() -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def client(app):
    return app.test_client()


# ---- factories -------------------------------------------------------------------------------------


@pytest.fixture
def make_area():
    def make(name: str | None = None, level: AreaLevel = AreaLevel.COMMUNITY, parent: Area | None = None) -> Area:
        area = factories.make_area(name or f"区域{next(_counter)}", level, parent)
        db.session.commit()
        return area

    return make


@pytest.fixture
def area_tree(make_area):
    """city → district → street → community; returns the four areas."""
    city = make_area("攀枝花市", AreaLevel.CITY)
    district = make_area(f"东区{next(_counter)}", AreaLevel.DISTRICT, city)
    street = make_area("炳草岗街道", AreaLevel.STREET, district)
    community = make_area("金沙社区", AreaLevel.COMMUNITY, street)
    return city, district, street, community


@pytest.fixture
def make_compound(make_area):
    def make(
        name: str | None = None,
        area: Area | None = None,
        model: ManagementModel = ManagementModel.MARKET,
        buildings: int = 2,
        households_per_building: int = 4,
    ) -> Compound:
        area = area or make_area()
        number = next(_counter)
        compound = factories.make_compound(f"c{number}", name or f"测试小区{number}", area, model)
        for b in range(1, buildings + 1):
            building = factories.make_building(compound, f"{b}栋")
            factories.make_households(
                building, [("1", f"{h}01", 8000 + h * 125) for h in range(1, households_per_building + 1)]
            )
        db.session.commit()
        return compound

    return make


@pytest.fixture
def make_user():
    def make(
        role: Role | None = None,
        compound: Compound | None = None,
        area: Area | None = None,
        household: Household | None = None,
        phone: str | None = None,
        username: str | None = None,
    ) -> User:
        number = next(_counter)
        user = factories.make_user(username or f"user{number}", f"用户{number}", _PASSWORD_HASH, phone)
        if role is not None:
            factories.grant_role(user, role, compound=compound, area=area, household=household,
                                 verified_at=utcnow() if household else None)
        db.session.commit()
        return user

    return make


@pytest.fixture
def sign_in(client):
    return lambda user: bearer(client, user)


# ---- query counting ------------------------------------------------------------------------------


@pytest.fixture
def count_queries(_database):
    """Counts SQL statements run on the test connection inside the `with` block."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


# ---- a live server for the browser -----------------------------------------------------------------


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
