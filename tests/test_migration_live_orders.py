"""The one-live-order revision on data from before it: a bill with several unpaid orders keeps its newest one live
and the older ones closed, so the partial unique index can be built; paid orders are left as they were."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from backend import MIGRATIONS_DIR
from backend.extensions import db
from tests.test_migrations import throwaway_app  # noqa: F401  (the fixture)

REVISION = "c12a0pay0001"
BEFORE = ScriptDirectory(str(Path(MIGRATIONS_DIR))).get_revision(REVISION).down_revision
# (id, bill_id, paid): bill 1 has three unpaid orders, bill 2 one, bill 3 a paid one and an unpaid one.
ORDERS = [(1, 1, False), (2, 1, False), (3, 1, False), (4, 2, False), (5, 3, True), (6, 3, False)]


def _insert_orders_without_their_bills() -> None:
    """Only the orders matter here: their bills and payers are left out, with foreign keys off for this one
    connection (SQLite's pragma; PostgreSQL's replica role skips the constraint triggers)."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA foreign_keys=OFF")
        else:
            cursor.execute("SET session_replication_role = replica")
        for order_id, bill_id, paid in ORDERS:
            cursor.execute(
                "INSERT INTO payment_orders (id, out_trade_no, bill_id, compound_id, provider, amount_fen, payer_id,"
                " openid, prepay_id, expires_at, paid_at, created_at) VALUES"
                f" ({order_id}, 'LL{order_id:08d}', {bill_id}, 1, 'sandbox', 100, 1, 'o', 'p',"
                " '2026-01-01 00:15:00', " + ("'2026-01-01 00:10:00'" if paid else "NULL") + ", '2026-01-01 00:00:00')"
            )
        raw.commit()
        if db.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA foreign_keys=ON")
        else:
            cursor.execute("SET session_replication_role = DEFAULT")
    finally:
        raw.close()


def test_the_newest_unpaid_order_of_each_bill_stays_live(throwaway_app):  # noqa: F811
    with throwaway_app.app_context():
        upgrade(revision=BEFORE)
        _insert_orders_without_their_bills()

        upgrade(revision=REVISION)

        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, paid_at IS NOT NULL, closed_at IS NOT NULL FROM payment_orders ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            (1, False, True), (2, False, True), (3, False, False), (4, False, False), (5, True, False),
            (6, False, False)]
        with db.engine.connect() as conn:
            live = conn.execute(sa.text(
                "SELECT bill_id, count(*) FROM payment_orders WHERE paid_at IS NULL AND closed_at IS NULL"
                " GROUP BY bill_id ORDER BY bill_id")).all()
        assert [tuple(row) for row in live] == [(1, 1), (2, 1), (3, 1)]
