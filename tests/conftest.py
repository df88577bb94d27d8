"""Shared fixtures: one app per run on SQLite or PostgreSQL (LINLI_TEST_DATABASE_URL) and real Redis,
a transaction rolled back after every test, factories, sign-in helpers and a query counter.

Every test starts on one fixed clock (`--now`, default TEST_NOW): what passes today passes next week. `make test`
runs the suite at TEST_NOW, again on PostgreSQL at a year's end, and the tests marked `calendar` at a month's end
and at a subsidy tier's boundary.

Tests marked `live` (a real server thread, e.g. Playwright) commit for real and truncate afterwards. Tests marked
`pure` (the rules of tests/domain) get no app, database or Redis, and the PostgreSQL run leaves them out. Data
that many tests of a module read is built once for the module (`built_once`), each test in a savepoint of it."""
from __future__ import annotations

import dataclasses
import fnmatch
import inspect
import itertools
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import time_machine
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Connection, Transaction, create_engine, event, make_url, text
from werkzeug.serving import make_server

from backend import create_app
from backend.config import TEST_PASSWORD_COST
from backend.demo import factories, load_demo
from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Area, Base, Compound, Household, User
from backend.services import qr as qr_service
from backend.services.identity import password_hasher
from backend.shared.clock import utcnow
from tests.support import TEST_PASSWORD, bearer

ARTIFACTS = Path(__file__).parent / "artifacts"
# Made at the tests' cost, so signing in (verifying it) is cheap too: see backend.config.TEST_PASSWORD_COST.
_PASSWORD_HASH = password_hasher(TEST_PASSWORD_COST).hash(TEST_PASSWORD)
_counter = itertools.count(1)
# 10:00 in Beijing on an ordinary Wednesday in the middle of a month.
TEST_NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _worker_number() -> int:
    """0, or n for pytest-xdist's worker gw<n>: each worker has a Redis database and a PostgreSQL database of its
    own (every test flushes its Redis database; the PostgreSQL run copies its database from a migrated template)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


@cache
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


def _app_config(database_url: str, tmp_dir: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "LINLI_REDIS_URL": _redis_url(),
        "LINLI_PUBLIC_URL": "http://linli.test",
        "LINLI_PHOTO_DIR": str(tmp_dir / "photos"),
    }


def _migrate(config: dict) -> None:
    app = create_app(config)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


def _database_url(tmp_dir: Path) -> str:
    """A migrated database of this worker's own: a SQLite file, or on PostgreSQL `<name>_gw<n>` beside the
    configured database `<name>` (which is only connected to), copied from `<name>_template`."""
    configured = os.environ.get("LINLI_TEST_DATABASE_URL", "sqlite")
    if configured == "sqlite":
        url = f"sqlite:///{tmp_dir / 'test.db'}"
        _migrate(_app_config(url, tmp_dir))
        return url
    from backend.config import normalize_database_url

    url = make_url(normalize_database_url(configured))
    template, own = f"{url.database}_template", f"{url.database}_gw{_worker_number()}"
    # The workers of one run share its id: the first to get here migrates the template, the others wait for
    # it and copy it (CREATE DATABASE … TEMPLATE copies files; migrating is what took the time).
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": template})
        try:
            made_for = conn.scalar(
                text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :name"),
                {"name": template},
            )
            if made_for != run:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{template}"'))
                conn.execute(text(f'CREATE DATABASE "{template}"'))
                _migrate(_app_config(url.set(database=template).render_as_string(hide_password=False), tmp_dir))
                conn.execute(text(f"COMMENT ON DATABASE \"{template}\" IS '{run}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own}"'))
            conn.execute(text(f'CREATE DATABASE "{own}" TEMPLATE "{template}"'))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": template})
    engine.dispose()
    return url.set(database=own).render_as_string(hide_password=False)


def pytest_addoption(parser):
    parser.addoption(
        "--now", default=None, type=datetime.fromisoformat,
        help="the moment the run starts at (ISO 8601 with an offset); default 2026-11-25T02:00Z",
    )
    parser.addoption(
        "--calendar-at", action="append", default=[], type=datetime.fromisoformat,
        help="run the tests marked `calendar` again at this moment too, in the same run (repeatable)",
    )


def _test_now(config) -> datetime:
    moment = config.getoption("--now") or TEST_NOW
    if any(moment.tzinfo is None for moment in (moment, *config.getoption("--calendar-at"))):
        raise pytest.UsageError("--now and --calendar-at need an offset, e.g. 2026-12-31T23:50+08:00")
    return moment


def pytest_generate_tests(metafunc):
    edges = metafunc.config.getoption("--calendar-at")
    if edges and metafunc.definition.get_closest_marker("calendar"):
        moments = [_test_now(metafunc.config), *edges]
        metafunc.parametrize("_now", moments, indirect=True, ids=[f"at {moment.isoformat()}" for moment in moments])


def pytest_configure(config):
    config.addinivalue_line("markers", "live: runs a real server thread; data is committed and truncated after")
    config.addinivalue_line("markers", "postgresql: about PostgreSQL itself; collected only in the PostgreSQL run")
    config.addinivalue_line(
        "markers", "calendar: depends on today's date; `make test` runs it again at month and year ends"
    )
    config.addinivalue_line(
        "markers", "once: the test database plays no part (own processes, files, Redis): only in the SQLite run"
    )
    config.addinivalue_line(
        "markers", "pure: no app, database or Redis (set by path, PURE); the PostgreSQL run leaves it out"
    )
    config.addinivalue_line("markers", "browser: drives Chromium through Playwright (tests/h5; `make test-fast` skips it)")
    config.addinivalue_line("markers", "fuzz: schemathesis over the OpenAPI document (`make test-fast` skips it)")
    config.addinivalue_line("markers", "slow: takes seconds (set by name, SLOW; `make test-fast` skips it)")
    # pytest-xdist's own, named here for runs without it (-p no:xdist).
    config.addinivalue_line("markers", "xdist_group(name): one pytest-xdist worker runs the group (--dist loadgroup)")


# Set by path (relative to tests/) rather than in each file, so a new test file of these kinds is marked too.
PURE = ("domain/*",)
BROWSER = ("h5/*",)
FUZZ = ("test_openapi_fuzz.py",)
# Tests of several seconds each on the 2-core machine (`--durations`): real processes, servers, threads racing,
# thousands of rows, browsers. Patterns of "<path relative to tests/>::<test name>".
SLOW = (
    "review/test_issue16_review_a.py::test_a_ledger_import_and_governance_changes_at_once_*",
    "test_make_run_burst.py::*",
    "test_database_outage.py::*",
    "test_migrations.py::*",
    "test_migration_*.py::*",
    "test_redis_conn.py::*",
    "test_config.py::test_processes_starting_together_*",
    "jobs/test_worker.py::*",
    "jobs/test_notifications.py::test_while_redis_is_down_*",
    "api/test_*_concurrency.py::*",
    "api/test_payment_races.py::*",
    "domain/test_workorders.py::test_no_sequence_of_actions_reaches_an_invalid_state",
    "services/test_demo.py::test_households_450_*",
    "services/test_demo.py::test_a_larger_count_*",
    "services/test_demo.py::test_work_orders_500_*",
    "services/test_demo.py::test_with_a_bench_compound_*",
    "test_demo_fees.py::test_the_demo_loads_on_any_day_*",
    "api/test_reports.py::test_the_cron_*",
    "test_backup_restore.py::*",
    "test_deploy_config.py::test_nginx_in_front_of_linli_serve_*",
    # Two gunicorn workers boot per test: 13–18 s on a loaded 2-core machine.
    "test_sign_in_workers.py::*",
)
# Modules whose data built once is cheap (a second or two) and whose tests are many: each worker builds its own copy
# and the tests spread over the workers, rather than one worker running the whole module.
SPREAD = ("test_openapi_fuzz.py",)
_MARKED_BY_PATH = {"pure": PURE, "browser": BROWSER, "fuzz": FUZZ}


def _mark(items) -> None:
    tests = Path(__file__).parent
    sharing = {item.path for item in items if _shares_data(item)}
    for item in items:
        path = item.path.relative_to(tests).as_posix()
        for marker, patterns in _MARKED_BY_PATH.items():
            if any(fnmatch.fnmatch(path, pattern) for pattern in patterns):
                item.add_marker(marker)
        if any(fnmatch.fnmatch(f"{path}::{item.originalname}", pattern) for pattern in SLOW):
            item.add_marker("slow")
        if item.path in sharing and not any(fnmatch.fnmatch(path, pattern) for pattern in SPREAD):
            # Under `--dist loadgroup` one pytest-xdist worker runs the module: its data is built once.
            item.add_marker(pytest.mark.xdist_group(path))


def _share_in_turn(items) -> None:
    """In a module with data built once (`built_once`), the tests that share it run one after the other, first,
    a starting moment at a time (--calendar-at): each moment's data is built once, and gone before the
    module's other tests."""
    moments = {}

    def turn(item) -> tuple:
        if not _shares_data(item):
            return (1,)
        return 0, moments.setdefault(_sharing_group(item)[1], len(moments))

    modules: dict = {}
    for item in items:
        modules.setdefault(item.path, []).append(item)
    items[:] = [item for module in modules.values() for item in sorted(module, key=turn)]


def _long_first(items) -> None:
    """The modules with a slow test, then those whose tests share data built once (one worker runs each as a
    whole), then the rest, each module's order kept. pytest-xdist hands out work in this order: a wait of a
    minute or two (a killed worker's retry, `make run`'s burst, gunicorn booting) or a long module started last
    (the top-level test files come last by name) left the other worker idle at the end of the run; started
    first, the short tests fill the other worker meanwhile."""
    modules: dict = {}
    for item in items:
        modules.setdefault(item.path, []).append(item)

    def length(module: list) -> int:
        if any(item.get_closest_marker("slow") for item in module):
            return 0
        return 1 if any(_shares_data(item) for item in module) else 2

    items[:] = [item for module in sorted(modules.values(), key=length) for item in module]


def _left_out(item, postgresql: bool) -> bool:
    if postgresql:
        # A test that touches no database ran on SQLite already; one about the date runs at the year's end too.
        return bool(item.get_closest_marker("once") or (
            item.get_closest_marker("pure") and not item.get_closest_marker("calendar")))
    return bool(item.get_closest_marker("postgresql"))


# First: pytest-xdist's worker reads the xdist_group marks in its own hook of this name to place a module's tests
# on one worker (--dist loadgroup); run after it, the marks came too late and a module's data built once was built
# again on each worker its tests were spread over.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    _mark(items)
    _share_in_turn(items)
    _long_first(items)
    postgresql = os.environ.get("LINLI_TEST_DATABASE_URL", "sqlite") != "sqlite"
    elsewhere = [item for item in items if _left_out(item, postgresql)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not _left_out(item, postgresql)]


def pytest_report_header(config):
    return (f"linli database: {os.environ.get('LINLI_TEST_DATABASE_URL', 'sqlite')}, "
            f"clock from {_test_now(config).isoformat()}")


@pytest.fixture
def _now(request) -> datetime:
    """The moment the test starts at: the run's (`--now`), or for a test marked `calendar` one of `--calendar-at`."""
    return getattr(request, "param", None) or _test_now(request.config)


@pytest.fixture(autouse=True)
def _clock(_now) -> Iterator[datetime]:
    """Every test starts at the same moment, whatever the real date and however long the tests before it
    took; the clock ticks from there, and a test's own time_machine.travel nests inside it. (Processes a
    test starts keep the real clock.)"""
    with time_machine.travel(_now, tick=True):
        yield _now


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
    app = create_app(_app_config(_database_url(tmp_dir), tmp_dir))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_redis(request):
    if not request.node.get_closest_marker("pure"):
        request.getfixturevalue("app").extensions["linli_redis"].flushdb()


def _shares_data(item) -> bool:
    return "built_once" in item.fixturenames


def _sharing_group(item) -> tuple:
    """Consecutive tests that share data built once: those of one module at one starting moment."""
    callspec = getattr(item, "callspec", None)
    return item.path, callspec.params.get("_now") if callspec else None


@dataclasses.dataclass
class _SharedData:
    """What consecutive tests of a module share (`built_once`): a connection whose outer transaction holds it,
    and each build's result and the moment it ended. Open from the first of those tests to the last, and
    rolled back then, before any other test (on SQLite its transaction holds the write lock)."""

    group: tuple
    conn: Connection
    outer: Transaction
    built: dict[Callable, tuple[object, datetime]] = dataclasses.field(default_factory=dict)

    def close(self) -> None:
        self.outer.rollback()
        self.conn.close()


_shared: _SharedData | None = None


def _shared_data(item) -> _SharedData:
    global _shared
    if _shared is None or _shared.group != _sharing_group(item):
        _close_shared_data()
        conn = db.engine.connect()
        _shared = _SharedData(_sharing_group(item), conn, conn.begin())
    return _shared


def _close_shared_data() -> None:
    global _shared
    if _shared is not None:
        _shared, closing = None, _shared
        closing.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if nextitem is None or not _shares_data(nextitem) or _sharing_group(nextitem) != _sharing_group(item):
        _close_shared_data()


@dataclasses.dataclass
class _TestTransaction:
    """What a test writes, rolled back after it: a transaction of its own, or a savepoint in the data it shares."""

    conn: Connection
    shared: _SharedData | None

    def __post_init__(self):
        self.transaction = self.conn.begin_nested() if self.shared else self.conn.begin()

    def keep_for_the_others(self) -> None:
        """What the test wrote so far is shared with the tests after it; what it writes next is not."""
        self.transaction.commit()
        self.transaction = self.conn.begin_nested()


@pytest.fixture(autouse=True)
def _database(request, monkeypatch):
    """Each test runs inside a transaction that is rolled back (NOTES: works on PostgreSQL too); one that shares
    data built once (`built_once`), inside a savepoint of the transaction holding that data."""
    if request.node.get_closest_marker("pure"):
        yield None
        return
    app = request.getfixturevalue("app")
    if request.node.get_closest_marker("live"):
        with app.app_context():
            yield
            db.session.remove()
            _truncate_all()
        return
    with app.app_context():
        shared = _shared_data(request.node) if _shares_data(request.node) else None
        conn = shared.conn if shared else db.engine.connect()
        test = _TestTransaction(conn, shared)
        monkeypatch.setitem(db.engines, None, conn)
        monkeypatch.setitem(db.session.session_factory.kw, "join_transaction_mode", "create_savepoint")
        db.session.remove()
        try:
            yield test
        finally:
            db.session.remove()
            test.transaction.rollback()
            if not shared:
                conn.close()


@pytest.fixture
def built_once(request, _database: _TestTransaction):
    """`built_once(build)`: what `build` returns, built by the first test of the module that asks and kept, rows
    and all, for the module's later tests that ask (at the same moment, see --calendar-at); each test's own
    changes are still rolled back. `build`'s parameters name fixtures, as a fixture's do. The rows it returns
    (in a dataclass, dict, list or tuple) come loaded and detached: read their columns, or get them again in the
    test's session. Tests that do not ask never see the data: the module's tests that ask run first (`_mark`).

    The first test goes on from the moment the build ended; a later test's clock is moved on to that moment
    too, so nothing built (a token's issue time, a payment's) lies in its future."""

    def once(build: Callable):
        built = _database.shared.built
        if build not in built:
            value = build(**{name: request.getfixturevalue(name) for name in inspect.signature(build).parameters})
            db.session.commit()
            rows = list(_rows_in(value))
            for row in rows:
                db.session.refresh(row)
            for row in rows:
                db.session.expunge(row)
            db.session.commit()
            _database.keep_for_the_others()
            built[build] = value, datetime.now(UTC)
        value, ended = built[build]
        if datetime.now(UTC) < ended:
            later = time_machine.travel(ended, tick=True)
            later.start()
            request.addfinalizer(later.stop)
        return value

    return once


def _rows_in(value) -> Iterator[Base]:
    if isinstance(value, Base):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _rows_in(getattr(value, field.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _rows_in(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _rows_in(item)


def _truncate_all() -> None:
    """Empty what a live test committed, and start the ids of those tables at 1 again. Only the tables that hold
    rows, children first: a live test writes to a few of the ~100, and on PostgreSQL a TRUNCATE of them all took
    2.5 s a test (each table and index gets new files), a DELETE of the few milliseconds."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with db.engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        filled = set(conn.scalars(text(" UNION ALL ".join(
            f"SELECT '{table.name}' WHERE EXISTS (SELECT 1 FROM {quote(table.name)})" for table in tables))))
        emptied = [table for table in tables if table.name in filled]
        # Two tables that refer to each other (a foreign key added after both, `use_alter`) have no children-first
        # order: the later reference is cut first.
        for table in emptied:
            for key in table.foreign_keys:
                if key.use_alter and key.parent.nullable:
                    conn.execute(text(f"UPDATE {quote(table.name)} SET {quote(key.parent.name)} = NULL"))
        for table in emptied:
            conn.execute(text(f"DELETE FROM {quote(table.name)}"))
        if conn.dialect.name == "postgresql":
            for table in emptied:
                if "id" in table.c and table.c.id.autoincrement is not False:
                    conn.execute(text("SELECT setval(pg_get_serial_sequence(:name, 'id'), 1, false)"),
                                 {"name": quote(table.name)})


@pytest.fixture
def client(app):
    return app.test_client()


def load_the_demo() -> None:
    """The demo data of `linli demo`; the one place the tests load it."""
    assert load_demo()


@pytest.fixture
def demo(built_once) -> None:
    """The demo data, loaded by the module's first test that asks and kept for its others (`built_once`)."""
    built_once(load_the_demo)


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
def count_queries(app, _database):
    """Counts SQL statements run on the test connection inside the `with` block. The sign-in cache starts
    cold in each block (`cold_sign_in`), so two blocks count the same sign-in work: reading a token's standing
    and the person's roles from the database."""

    @contextmanager
    def counting(cold_sign_in: bool = True) -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                statements.append(statement)

        if cold_sign_in:
            r = app.extensions["linli_redis"]
            for key in r.scan_iter("linli:auth:*"):
                r.delete(key)
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


# ---- pages: enter a compound by its QR link, sign in through the real password form ----------------------------


@pytest.fixture
def scan():
    """Follow the compound's (or a building's) printed QR link, as the phone would after scanning."""

    def scan(client, compound, building=None):
        url = urlsplit(qr_service.entry_url(compound, building))
        response = client.get(f"{url.path}?{url.query}")
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response

    return scan


@pytest.fixture
def page_sign_in():
    """Sign in with the staff password form; returns the CSRF double-submit value forms must carry."""

    def sign_in(client, user) -> str:
        response = client.post("/h5/login/password", data={"username": user.username, "password": TEST_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client.get_cookie("csrf_access_token").value

    return sign_in
