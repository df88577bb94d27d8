"""The migrations describe the models exactly (`flask db check`), and go down to nothing and back up again."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from backend import create_app
from backend.extensions import db
from backend.models import Base

MODEL_TABLES = set(Base.metadata.tables)


@pytest.mark.live  # Alembic needs the real engine, not the rolled-back test connection.
def test_models_and_migrations_agree(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])

    assert result.exit_code == 0, (result.output, result.exception)


@pytest.fixture
def throwaway_app(app, tmp_path) -> Iterator:
    """A second app on an empty database of the run's kind: a temp SQLite file, or on PostgreSQL a fresh
    schema beside the session's one."""
    config = {"TESTING": True, "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"]}
    schema = None
    session_url = app.config["SQLALCHEMY_DATABASE_URI"]
    if session_url.startswith("sqlite"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        schema = f"migrations_{uuid.uuid4().hex[:12]}"
        admin_engine = sa.create_engine(session_url, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        config["SQLALCHEMY_DATABASE_URI"] = session_url
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-c search_path={schema}"}}
    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
        if schema:
            with admin_engine.connect() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            admin_engine.dispose()


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_downgrade_to_base_then_upgrade_to_head(throwaway_app):
    with throwaway_app.app_context():
        upgrade()
        assert _tables() == MODEL_TABLES | {"alembic_version"}

        downgrade(revision="base")
        assert _tables() == {"alembic_version"}

        upgrade()
        assert _tables() == MODEL_TABLES | {"alembic_version"}
        result = throwaway_app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code == 0, (result.output, result.exception)
