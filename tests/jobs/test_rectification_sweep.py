"""The overdue sweep (督办) in parallel on PostgreSQL: two sweeps started together take each escalation step once
(one row per item and step, one notice each), and the cron slot queues the daily sweep once."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.notifications import RECTIFICATION_OVERDUE
from backend.domain.rectifications import ESCALATION_INTERVAL, RectificationUrgency, ResponsibleParty
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.rectifications import sweep
from backend.models import Notice, RectificationEscalation
from backend.services import rectifications as service
from backend.shared.clock import beijing_date, utcnow


def _sweeps_at_once(app, at: datetime, runs: int = 2) -> list[int]:
    barrier = threading.Barrier(runs)
    results: list[int | BaseException | None] = [None] * runs

    def run(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results[index] = sweep()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results[index] = exc

    with time_machine.travel(at, tick=False):
        threads = [threading.Thread(target=run, args=(index,)) for index in range(runs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@pytest.mark.postgresql
@pytest.mark.live
def test_two_sweeps_at_once_take_each_step_once(app, area_tree, make_compound, make_user):
    _, district, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    inspector = make_user(Role.OFFICIAL, area=street)
    make_user(Role.OFFICIAL, area=district)
    make_user(Role.MANAGER, compound)
    today = beijing_date(utcnow())
    findings = [service.FindingInput("飞线充电", f"问题{n}", ResponsibleParty.COMPANY, today,
                                     RectificationUrgency.NORMAL) for n in range(5)]
    service.record_inspection(compound.id, inspector.id, today, "", ["飞线充电"], findings)
    db.session.remove()

    start = utcnow()
    first = _sweeps_at_once(app, start + timedelta(days=1))
    street_step = _sweeps_at_once(app, start + timedelta(days=1) + ESCALATION_INTERVAL)
    district_step = _sweeps_at_once(app, start + timedelta(days=40))
    assert (sum(first), sum(street_step), sum(district_step)) == (5, 5, 5)
    assert db.session.scalar(select(func.count()).select_from(RectificationEscalation)) == 15
    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.kind == RECTIFICATION_OVERDUE)) == 15
