"""`linli backup` and `linli restore`: the demo's backup, restored into an empty database, holds the same rows, the
same money and votes and the same files; a database that holds anything is never restored into.

Both run on scratch databases of their own (files on SQLite, databases beside the test one on PostgreSQL): a backup
sees only what was committed, which the tests' rolled-back transactions never are."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect, make_url, text

from backend import create_app
from backend.config import normalize_database_url
from backend.demo import DEMO_PASSWORD
from backend.extensions import db

# The demo fills each of these: payments and their receipts, bills, the funds' books, and two ballots' votes.
MONEY_TABLES = ("bills", "payments", "receipts", "payment_orders", "payment_order_bills", "subsidy_grants",
                "fund_accounts", "fund_entries", "fund_months", "compound_month_figures", "spending_requests")
VOTE_TABLES = ("votes", "vote_casts", "ballot_results")


@pytest.fixture
def scratch_app(app, tmp_path) -> Iterator[Callable[[str], Flask]]:
    """`scratch_app(name)`: an app on a new empty database and photo folder of its own, dropped after the test."""
    configured = os.environ.get("LINLI_TEST_DATABASE_URL", "sqlite")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    made: list[tuple[Flask, str | None]] = []
    admin = None
    if configured != "sqlite":
        base = make_url(normalize_database_url(configured))
        admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def make(name: str) -> Flask:
        if admin is None:
            url, database = f"sqlite:///{tmp_path / f'{name}.db'}", None
        else:
            database = f"{admin.url.database}_backup_{name}_{worker}"
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            url = admin.url.set(database=database).render_as_string(hide_password=False)
        scratch = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"],
            "LINLI_PUBLIC_URL": "http://linli.test",
            "LINLI_PHOTO_DIR": str(tmp_path / f"{name}-photos"),
        })
        made.append((scratch, database))
        return scratch

    yield make
    for scratch, database in made:
        with scratch.app_context():
            db.session.remove()
            db.engine.dispose()
        if database:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    if admin is not None:
        admin.dispose()


def _invoke(scratch: Flask, *args: str):
    # The CLI runs in the app context it finds (the test's own app's): the scratch app's must be the current one.
    with scratch.app_context():
        return scratch.test_cli_runner().invoke(args=list(args))


def _cli(scratch: Flask, *args: str) -> str:
    result = _invoke(scratch, *args)
    assert result.exit_code == 0, result.output
    return result.output


def _row_counts(scratch: Flask) -> dict[str, int]:
    with scratch.app_context(), db.engine.connect() as conn:
        return {name: conn.scalar(text(f'SELECT count(*) FROM "{name}"')) for name in inspect(conn).get_table_names()}


def _checksums(scratch: Flask, tables: tuple[str, ...]) -> dict[str, str]:
    """sha256 over each table's rows, every column, in primary-key order: computed here, apart from the backup's own."""
    sums = {}
    with scratch.app_context(), db.engine.connect() as conn:
        for table in tables:
            key = ", ".join(inspect(conn).get_pk_constraint(table)["constrained_columns"])
            rows = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {key}')).all()
            sums[table] = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    return sums


def _stored_files(scratch: Flask) -> dict[str, bytes]:
    root = Path(scratch.config["LINLI_PHOTO_DIR"])
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


def test_the_demos_backup_restores_into_an_empty_database_with_the_same_rows_money_votes_and_files(
    scratch_app, tmp_path
):
    city = scratch_app("city")
    _cli(city, "init-db")
    _cli(city, "demo")
    archive = tmp_path / "city.tar"

    _cli(city, "backup", "--out", str(archive))
    again = scratch_app("again")
    output = _cli(again, "restore", str(archive))

    counts = _row_counts(city)
    assert _row_counts(again) == counts
    assert all(counts[table] > 0 for table in MONEY_TABLES + VOTE_TABLES)
    assert _checksums(again, MONEY_TABLES + VOTE_TABLES) == _checksums(city, MONEY_TABLES + VOTE_TABLES)
    files = _stored_files(city)
    assert files and _stored_files(again) == files
    assert f"{len(files)} 个文件" in output
    # The secrets live outside the archive; a restored database serves whoever the app's own secrets sign in.
    client = again.test_client()
    signed_in = client.post("/api/v1/auth/password", json={"username": "owner", "password": DEMO_PASSWORD})
    assert signed_in.status_code == 200, signed_in.json
    compounds = client.get("/api/v1/compounds", headers={"Authorization": f"Bearer {signed_in.json['access_token']}"})
    assert compounds.status_code == 200 and compounds.json["items"], compounds.json


def test_restore_refuses_a_database_that_holds_tables_and_leaves_it_as_it_was(scratch_app, tmp_path):
    source = scratch_app("source")
    _cli(source, "init-db")
    _cli(source, "backup", "--out", str(tmp_path / "empty-schema.tar"))
    busy = scratch_app("busy")
    _cli(busy, "init-db")
    with busy.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO areas (name, level, path) VALUES ('测试市', 'city', '/1')"))
    before = _row_counts(busy)

    result = _invoke(busy, "restore", str(tmp_path / "empty-schema.tar"))

    assert result.exit_code == 1
    assert "目标数据库不是空的" in result.output
    assert _row_counts(busy) == before


def test_restore_refuses_a_file_that_is_no_backup(scratch_app, tmp_path):
    target = scratch_app("target")
    not_a_backup = tmp_path / "photos.tar"
    with tarfile.open(not_a_backup, "w") as archive:
        archive.add(__file__, arcname="test.py")

    result = _invoke(target, "restore", str(not_a_backup))

    assert result.exit_code == 1
    assert "这不是邻里的备份文件" in result.output
    assert _row_counts(target) == {}


def test_restore_says_so_when_the_restored_rows_differ_from_the_backups_manifest(scratch_app, tmp_path):
    source = scratch_app("source")
    _cli(source, "init-db")
    _cli(source, "backup", "--out", str(tmp_path / "schema.tar"))
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(tmp_path / "schema.tar") as original, tarfile.open(tampered, "w") as copy:
        for member in original:
            data = original.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                manifest["rows"]["areas"] = 1
                data = json.dumps(manifest).encode()
                member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    target = scratch_app("target")

    result = _invoke(target, "restore", str(tampered))

    assert result.exit_code == 1
    assert "恢复后的数据与备份不一致: areas: 1 → 0 行" in result.output


def test_a_backup_taken_while_the_site_writes_restores_to_exactly_what_its_manifest_counted(scratch_app, tmp_path):
    source = scratch_app("busy-site")
    _cli(source, "init-db")
    writer = create_engine(source.config["SQLALCHEMY_DATABASE_URI"])
    written, backing_up = [], threading.Event()

    def write_areas() -> None:
        # Each insert its own transaction, as requests commit: the dump and the counts must see the same ones.
        while not written or backing_up.is_set():
            with writer.begin() as conn:
                conn.execute(text("INSERT INTO areas (name, level, path) VALUES (:name, 'city', '/')"),
                             {"name": f"市{len(written)}"})
            written.append(datetime.now(UTC))

    backing_up.set()
    thread = threading.Thread(target=write_areas)
    thread.start()
    try:
        while not written:
            time.sleep(0.01)
        started = datetime.now(UTC)
        _cli(source, "backup", "--out", str(tmp_path / "busy.tar"))
        ended = datetime.now(UTC)
    finally:
        backing_up.clear()
        thread.join()
        writer.dispose()
    target = scratch_app("restored-busy-site")

    result = _invoke(target, "restore", str(tmp_path / "busy.tar"))

    assert result.exit_code == 0, result.output
    assert any(started < moment < ended for moment in written)
    assert 0 < _row_counts(target)["areas"] < len(written)
