"""One archive of the database and the photo and file store (`linli backup`), and its return into an empty
database (`linli restore`), each checked against the row counts and checksums the archive carries."""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, make_url, text

from backend.domain.refusals import Kind, Refused
from backend.extensions import db
from backend.integrations.storage import LocalDiskStorage, is_plain_key
from backend.services.photos import photo_storage

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
POSTGRESQL_DUMP = "database.pgdump"
SQLITE_COPY = "database.sqlite3"
FILES = "files"
# The ballots' record: each household's vote, each cast, the tallies. Money tables are found by their `_fen` columns.
VOTE_TABLES = frozenset({"votes", "vote_casts", "ballot_results"})
# LocalDiskStorage writes a file beside its final name first: a half-written upload is no photo.
UPLOAD_IN_PROGRESS = ".upload-"


class BackupRefused(Refused):
    default_kind = Kind.CONFLICT


@dataclass(frozen=True)
class Fingerprint:
    """What a restore must find again: every table's row count, and a checksum of every money and vote table."""

    rows: dict[str, int]
    checksums: dict[str, str]

    def differences(self, other: Fingerprint) -> list[str]:
        tables = sorted(set(self.rows) | set(other.rows))
        changed = [f"{name}: {self.rows.get(name)} → {other.rows.get(name)} 行" for name in tables
                   if self.rows.get(name) != other.rows.get(name)]
        changed += [f"{name}: 校验和不同" for name in sorted(self.checksums)
                    if self.checksums[name] != other.checksums.get(name)]
        return changed


@dataclass(frozen=True)
class BackupWritten:
    path: Path
    fingerprint: Fingerprint
    files: int


@dataclass(frozen=True)
class Restored:
    fingerprint: Fingerprint
    files: int


def fingerprint(conn: Connection) -> Fingerprint:
    """Counts and checksums as the connection's transaction sees them (the backup's snapshot, or the restored data)."""
    inspector = inspect(conn)
    rows, checksums = {}, {}
    for name in sorted(inspector.get_table_names()):
        columns = [column["name"] for column in inspector.get_columns(name)]
        rows[name] = conn.scalar(text(f'SELECT count(*) FROM "{name}"'))
        if name in VOTE_TABLES or any(column.endswith("_fen") for column in columns):
            order = inspector.get_pk_constraint(name)["constrained_columns"] or columns
            checksums[name] = _checksum(conn, name, order)
    return Fingerprint(rows, checksums)


def _checksum(conn: Connection, table: str, order: list[str]) -> str:
    digest = hashlib.sha256()
    ordering = ", ".join(f'"{column}"' for column in order)
    result = conn.execution_options(stream_results=True, yield_per=5_000).execute(
        text(f'SELECT * FROM "{table}" ORDER BY {ordering}')
    )
    for row in result:
        digest.update(repr(tuple(row)).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def write_backup(out: Path) -> BackupWritten:
    """Write the database and then the file store into one tar archive at `out` (made whole or not at all)."""
    dialect = db.engine.dialect.name
    out = Path(out)
    root = _store_root()
    with tempfile.TemporaryDirectory(prefix="linli-backup-") as work:
        work_dir = Path(work)
        if dialect == "postgresql":
            database_file = work_dir / POSTGRESQL_DUMP
            found = _dump_postgresql(database_file)
        elif dialect == "sqlite":
            database_file = work_dir / SQLITE_COPY
            found = _copy_sqlite(database_file)
        else:
            raise BackupRefused(f"不支持备份 {dialect} 数据库")
        manifest = {
            "format": ARCHIVE_FORMAT,
            "database": dialect,
            "made_at": datetime.now(UTC).isoformat(),
            "rows": found.rows,
            "checksums": found.checksums,
        }
        partial = out.with_name(out.name + ".partial")
        # The database first, then the files: a photo is written before its row commits and never deleted once it
        # did, so every file a row in the dump names is on disk by the time the files are read.
        files = 0
        try:
            with tarfile.open(partial, "w") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
                archive.add(database_file, arcname=database_file.name)
                for path in _stored_files(root):
                    archive.add(path, arcname=f"{FILES}/{path.relative_to(root).as_posix()}", recursive=False)
                    files += 1
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupWritten(out, found, files)


def _dump_postgresql(target: Path) -> Fingerprint:
    """pg_dump (custom format) of the snapshot in which the counts and checksums are taken: the archive's
    manifest describes exactly the dump, whatever commits meanwhile."""
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        # The checksums read whole tables: no statement limit for the app's requests applies to a backup.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], db.engine.url)
        return fingerprint(conn)


def _copy_sqlite(target: Path) -> Fingerprint:
    source = _sqlite_path(db.engine.url)
    # SQLite's backup API copies one consistent state of the file, even while the web and the worker write it.
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return fingerprint(conn)
    finally:
        engine.dispose()


def restore_backup(archive_path: Path) -> Restored:
    """Restore an archive of `write_backup` into the app's database, which must hold no table, and its files into
    the file store; then compare what the database holds with the archive's manifest."""
    with tarfile.open(archive_path, "r") as archive:
        manifest = _manifest(archive)
        dialect = db.engine.dialect.name
        if manifest["database"] != dialect:
            raise BackupRefused(f"这是 {manifest['database']} 数据库的备份，不能恢复到 {dialect} 数据库", Kind.INVALID)
        with db.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
        if tables:
            raise BackupRefused(f"目标数据库不是空的（已有 {len(tables)} 张表），只能恢复到空数据库")
        # Every file checked before anything is written: a refused archive leaves the database empty for the next.
        _file_keys(archive)
        database_name = POSTGRESQL_DUMP if dialect == "postgresql" else SQLITE_COPY
        with tempfile.TemporaryDirectory(prefix="linli-restore-") as work:
            database_file = Path(work) / database_name
            _extract(archive, database_name, database_file)
            db.session.remove()
            db.engine.dispose()
            if dialect == "postgresql":
                _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                      str(database_file)], db.engine.url)
            else:
                with closing(sqlite3.connect(database_file)) as copy, \
                        closing(sqlite3.connect(_sqlite_path(db.engine.url))) as live:
                    copy.backup(live)
        files = _restore_files(archive)
    with db.engine.connect() as conn:
        found = fingerprint(conn)
    expected = Fingerprint(manifest["rows"], manifest["checksums"])
    differences = expected.differences(found)
    if differences:
        raise BackupRefused("恢复后的数据与备份不一致: " + "; ".join(differences), Kind.UNAVAILABLE)
    return Restored(found, files)


def _manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError) as exc:
        raise BackupRefused("这不是邻里的备份文件（缺少 manifest.json）", Kind.INVALID) from exc
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise BackupRefused(f"不认识的备份格式 {manifest.get('format')!r}", Kind.INVALID)
    return manifest


def _extract(archive: tarfile.TarFile, name: str, target: Path) -> None:
    member = archive.extractfile(name)
    if member is None:
        raise BackupRefused(f"备份文件缺少 {name}", Kind.INVALID)
    with target.open("wb") as out:
        shutil.copyfileobj(member, out)


def _file_keys(archive: tarfile.TarFile) -> list[tuple[tarfile.TarInfo, str]]:
    """The archive's files and their store keys; refused (nothing written) if one is not a plain file or its name
    would leave the store."""
    found = []
    for member in archive:
        if not member.name.startswith(FILES + "/"):
            continue
        if not member.isfile():
            raise BackupRefused(f"备份中的 {member.name} 不是普通文件", Kind.INVALID)
        key = member.name.removeprefix(FILES + "/")
        if not is_plain_key(key):
            raise BackupRefused(f"备份中的文件名 {member.name} 不可用", Kind.INVALID)
        found.append((member, key))
    return found


def _restore_files(archive: tarfile.TarFile) -> int:
    storage = photo_storage()
    restored = 0
    for member, key in _file_keys(archive):
        # The store refuses a key leaving its root through a symlink (ValueError): nothing is written elsewhere.
        try:
            storage.save(key, archive.extractfile(member).read(), "application/octet-stream")
        except ValueError as exc:
            raise BackupRefused(f"备份中的文件名 {member.name} 不可用", Kind.INVALID) from exc
        restored += 1
    return restored


def _store_root() -> Path:
    storage = photo_storage()
    if not isinstance(storage, LocalDiskStorage):
        raise BackupRefused("照片存放在对象存储中，由其自身备份；linli backup 只备份本地磁盘上的文件")
    return storage.root


def _stored_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(UPLOAD_IN_PROGRESS):
            yield path


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _sqlite_path(url) -> str:
    path = url.database
    if not path or path == ":memory:":
        raise BackupRefused("内存中的 SQLite 数据库无法备份或恢复")
    return path


def _run(command: list[str], url) -> None:
    """Run pg_dump or pg_restore on the app's database; the password goes through the environment, never argv."""
    url = make_url(url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    try:
        subprocess.run([*command, f"--dbname={target}"], env=env, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupRefused(f"找不到 {command[0]}（Debian: apt-get install postgresql-client）",
                            Kind.UNAVAILABLE) from exc
    except subprocess.CalledProcessError as exc:
        raise BackupRefused(f"{command[0]} 失败: {exc.stderr.strip()}", Kind.UNAVAILABLE) from exc
