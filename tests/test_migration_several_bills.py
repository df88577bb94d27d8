"""The several-bills revision on data from before it: every order becomes an order with one line (its bill and
amount, live as the order is), every payment gets a receipt of its own carrying its number, paper receipt number
and transaction, and the rule "a bill in at most one live order" still holds, now over the lines."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from backend import MIGRATIONS_DIR
from backend.extensions import db
from tests.test_migration_live_orders import PARENTS
from tests.test_migrations import throwaway_app  # noqa: F401  (the fixture)

REVISION = "f15b0multipay"
BEFORE = ScriptDirectory(str(Path(MIGRATIONS_DIR))).get_revision(REVISION).down_revision
# The parents' rows are written as they were before the compounds gained their phone columns (f15c0workbench).
PARENTS_AT = "e14a0evaluate"
# (id, bill_id, amount, paid, closed): bill 1 paid online, bill 2 an order closed and one live, bill 3 none.
ORDERS = [(1, 1, 6000, True, False), (2, 2, 6000, False, True), (3, 2, 6000, False, False)]
# (id, receipt_no, bill_id, order_id, transaction_id, offline_receipt_no, amount)
PAYMENTS = [(1, "R20260105AAAAAAAAAA", 1, 1, "4200000001", None, 6000),
            (2, "R20260106BBBBBBBBBB", 3, None, None, "SJ-0001", 12000)]


def _insert_parents() -> None:
    with db.engine.begin() as conn:
        for statement in PARENTS:
            conn.execute(sa.text(statement))


def _insert_rows() -> None:
    with db.engine.begin() as conn:
        for order_id, bill_id, amount, paid, closed in ORDERS:
            conn.execute(sa.text(
                "INSERT INTO payment_orders (id, out_trade_no, bill_id, compound_id, provider, amount_fen, payer_id,"
                " openid, prepay_id, expires_at, paid_at, closed_at, created_at) VALUES"
                f" ({order_id}, 'LL{order_id:08d}', {bill_id}, 1, 'sandbox', {amount}, 1, 'o', 'p',"
                " '2026-01-05 00:15:00', " + ("'2026-01-05 00:10:00'" if paid else "NULL") + ", "
                + ("'2026-01-05 00:20:00'" if closed else "NULL") + ", '2026-01-05 00:00:00')"
            ))
        for payment_id, number, bill_id, order_id, transaction, paper, amount in PAYMENTS:
            conn.execute(sa.text(
                "INSERT INTO payments (id, receipt_no, bill_id, compound_id, household_id, method, amount_fen,"
                " subsidy_fen, order_id, transaction_id, offline_receipt_no, recorded_by_id, paid_at) VALUES"
                f" ({payment_id}, '{number}', {bill_id}, 1, {bill_id}, '{'sandbox' if order_id else 'cash'}',"
                f" {amount}, 0, {order_id or 'NULL'}, {repr(transaction) if transaction else 'NULL'},"
                f" {repr(paper) if paper else 'NULL'}, {'NULL' if order_id else 1}, '2026-01-05 00:10:00')"
            ))


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql)).all()]


def test_orders_become_one_line_each_and_payments_get_their_receipts(throwaway_app):  # noqa: F811
    with throwaway_app.app_context():
        upgrade(revision=PARENTS_AT)
        _insert_parents()
        upgrade(revision=BEFORE)
        _insert_rows()

        upgrade(revision=REVISION)

        assert _rows("SELECT id, household_id, live FROM payment_orders ORDER BY id") == [
            (1, 1, False), (2, 2, False), (3, 2, True)]
        assert _rows("SELECT order_id, bill_id, amount_fen, live FROM payment_order_bills ORDER BY order_id") == [
            (1, 1, 6000, False), (2, 2, 6000, False), (3, 2, 6000, True)]
        assert _rows("SELECT receipt_no, household_id, method, amount_fen, order_id, transaction_id,"
                     " offline_receipt_no, payer_id FROM receipts ORDER BY receipt_no") == [
            ("R20260105AAAAAAAAAA", 1, "sandbox", 6000, 1, "4200000001", None, 1),
            ("R20260106BBBBBBBBBB", 3, "cash", 12000, None, None, "SJ-0001", None)]
        assert _rows("SELECT payments.id, receipts.receipt_no FROM payments JOIN receipts"
                     " ON receipts.id = payments.receipt_id ORDER BY payments.id") == [
            (1, "R20260105AAAAAAAAAA"), (2, "R20260106BBBBBBBBBB")]
        # The rule holds over the lines: a second live order of bill 2 is refused by the database.
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO payment_orders (id, out_trade_no, compound_id, household_id, provider, amount_fen,"
                " payer_id, openid, prepay_id, expires_at, live, created_at) VALUES (4, 'LL00000004', 1, 2,"
                " 'sandbox', 6000, 1, 'o', '', '2026-01-05 01:15:00', true, '2026-01-05 01:00:00')"))
            conn.execute(sa.text("INSERT INTO payment_order_bills (order_id, bill_id, amount_fen, live)"
                                 " VALUES (4, 2, 6000, true)"))
        # Closing the live order frees its bill, through the cascading key.
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE payment_orders SET closed_at = '2026-01-05 01:00:00', live = false"
                                 " WHERE id = 3"))
        assert _rows("SELECT live FROM payment_order_bills WHERE order_id = 3") == [(False,)]
