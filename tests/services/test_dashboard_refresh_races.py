"""Two refreshes of the same compounds at once, on PostgreSQL, each in its own thread and connection: one row per
compound and month is left, and it equals a refresh run alone (the upsert on the key, never check-then-insert)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from backend.domain.roles import Role
from backend.domain.workorders import Urgency
from backend.extensions import db
from backend.models import CompoundFigures, CompoundMonthFigures
from backend.services import dashboard
from backend.services import workorders as workorder_service
from backend.shared.clock import utcnow
from tests.support import first_household


def _rows() -> tuple[list[tuple], list[tuple]]:
    db.session.expire_all()
    figures = [tuple(row) for row in db.session.execute(
        select(CompoundFigures.__table__).order_by(CompoundFigures.compound_id)).all()]
    months = [tuple(row) for row in db.session.execute(
        select(CompoundMonthFigures.__table__).order_by(CompoundMonthFigures.compound_id, CompoundMonthFigures.month)
    ).all()]
    return figures, months


@pytest.mark.postgresql
@pytest.mark.live
def test_two_refreshes_at_once_leave_one_correct_row(app, make_compound, make_user):
    compounds = [make_compound(buildings=1, households_per_building=3) for _ in range(3)]
    owner = make_user(Role.OWNER, compounds[0], household=first_household(compounds[0]))
    workorder_service.submit_order(user_id=owner.id, compound_id=compounds[0].id, category="其他",
                                   description="楼道灯坏了", urgency=Urgency.NORMAL, location_text="东门")
    ids = [compound.id for compound in compounds]
    now = utcnow()
    db.session.remove()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                dashboard.refresh(ids, now=now)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - the main thread fails the test with it
            errors.append(exc)

    for _ in range(3):
        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        raced = _rows()
        dashboard.refresh(ids, now=now)
        assert _rows() == raced
        assert [row[0] for row in raced[0]] == ids and len(raced[1]) == 3 * 12
    assert db.session.get(CompoundFigures, ids[0]).orders_open == 1
