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


# The rows the orders refer to, as the schema before the revision has them (migrations check foreign keys).
PARENTS = [
    "INSERT INTO users (id, display_name, large_text, is_active, created_at)"
    " VALUES (1, '业主', false, true, '2026-01-01 00:00:00')",
    "INSERT INTO areas (id, name, level, path) VALUES (1, '金沙社区', 'community', '/1/')",
    "INSERT INTO compounds (id, code, name, address, area_id, management_model, party_org_form, first_secretary_name,"
    " governance_body, renovation_status, open_problems, is_problem_compound, qr_version, created_at)"
    " VALUES (1, 'c1', '甲小区', '', 1, 'market', 'none', '', 'none', 'not_planned', '', false, 1,"
    " '2026-01-01 00:00:00')",
    "INSERT INTO buildings (id, compound_id, name, qr_version) VALUES (1, 1, '1栋', 1)",
    *(f"INSERT INTO households (id, compound_id, building_id, unit, room, floor_area_centi_m2, kind)"
      f" VALUES ({n}, 1, 1, '1', '{n}01', 8000, 'residential')" for n in (1, 2, 3)),
    "INSERT INTO fee_schedules (id, compound_id, household_kind, standard_fen_per_m2, effective_from, cycle, due_day,"
    " charges_fees, note, created_at) VALUES (1, 1, 'residential', 150, '2026-01-01', 'monthly', 15, true, '',"
    " '2026-01-01 00:00:00')",
    *(f"INSERT INTO bills (id, compound_id, household_id, schedule_id, period_start, months, period_end,"
      f" floor_area_centi_m2, standard_fen_per_m2, original_amount_fen, amount_fen, due_date, status, subsidy_fen,"
      f" paid_fen, issued_at, adjust_reason) VALUES ({n}, 1, {n}, 1, '2026-01-01', 1, '2026-02-01', 8000, 150,"
      f" 12000, 12000, '2026-01-15', 'unpaid', 0, 0, '2026-01-01 00:30:00', '')" for n in (1, 2, 3)),
]


def _insert_orders() -> None:
    with db.engine.begin() as conn:
        for statement in PARENTS:
            conn.execute(sa.text(statement))
        for order_id, bill_id, paid in ORDERS:
            conn.execute(sa.text(
                "INSERT INTO payment_orders (id, out_trade_no, bill_id, compound_id, provider, amount_fen, payer_id,"
                " openid, prepay_id, expires_at, paid_at, created_at) VALUES"
                f" ({order_id}, 'LL{order_id:08d}', {bill_id}, 1, 'sandbox', 100, 1, 'o', 'p',"
                " '2026-01-01 00:15:00', " + ("'2026-01-01 00:10:00'" if paid else "NULL") + ", '2026-01-01 00:00:00')"
            ))


def test_the_newest_unpaid_order_of_each_bill_stays_live(throwaway_app):  # noqa: F811
    with throwaway_app.app_context():
        upgrade(revision=BEFORE)
        _insert_orders()

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
