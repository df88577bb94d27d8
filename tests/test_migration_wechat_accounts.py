"""The migration to per-app WeChat openids keeps everyone's openid (as the official account's), keeps a shared
unionid on one user only, and goes back down to one openid per user."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from backend import MIGRATIONS_DIR
from backend.extensions import db
from tests.test_migrations import throwaway_app  # noqa: F401  (the fixture)

REVISION = "c12b0auth001"
BEFORE = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(REVISION).down_revision


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_openids_move_to_the_official_account_and_come_back(throwaway_app):  # noqa: F811
    with throwaway_app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, display_name, wechat_openid, wechat_unionid, large_text, is_active, created_at)"
                " VALUES (1, '甲', 'o-web-1', 'u-shared', false, true, '2026-01-01 00:00:00'),"
                " (2, '乙', 'o-web-2', 'u-shared', false, true, '2026-02-01 00:00:00'),"
                " (3, '丙', NULL, NULL, false, true, '2026-03-01 00:00:00')"
            ))

        upgrade(revision=REVISION)

        assert _rows("SELECT user_id, app, openid FROM wechat_accounts ORDER BY user_id") == [
            (1, "official_account", "o-web-1"), (2, "official_account", "o-web-2")]
        assert _rows("SELECT id, wechat_unionid FROM users ORDER BY id") == [(1, "u-shared"), (2, None), (3, None)]
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO wechat_accounts (user_id, app, openid, created_at, last_signed_in_at)"
                " VALUES (3, 'miniprogram', 'o-mini-3', '2026-03-01 00:00:00', '2026-03-01 00:00:00'),"
                " (1, 'miniprogram', 'o-mini-1', '2026-03-01 00:00:00', '2026-03-01 00:00:00')"
            ))

        downgrade(revision=BEFORE)

        assert _rows("SELECT id, wechat_openid FROM users ORDER BY id") == [
            (1, "o-web-1"), (2, "o-web-2"), (3, "o-mini-3")]
