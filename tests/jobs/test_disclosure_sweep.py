"""The overdue sweep of the notice board run by several workers at the same instant (a second cron process, a
retried job): the street hears of a compound's late statement once."""
from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain import disclosures as rules
from backend.domain.compounds import ManagementModel
from backend.domain.funds import AccountKind
from backend.domain.notifications import DISCLOSURE_OVERDUE
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.disclosures import sweep_overdue
from backend.models import AuditEvent, FundAccount, Notice, Notification
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests.rating_support import run_jobs

pytestmark = pytest.mark.live


def test_sweeps_at_the_same_instant_tell_the_street_once(app, area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compounds = [make_compound(area=community, model=ManagementModel.TRUST, buildings=1, households_per_building=1)
                 for _ in range(3)]
    officials = [make_user(Role.OFFICIAL, area=street).id for _ in range(2)]
    quarter = rules.quarter_of(beijing_date(utcnow()))
    for compound in compounds:
        db.session.add(FundAccount(compound_id=compound.id, kind=AccountKind.TRUST, opened_on=quarter.first_day))
    db.session.commit()
    db.session.close()
    late = datetime.combine(rules.due_on(quarter) + timedelta(days=1), time(9), tzinfo=SHANGHAI)
    barrier = threading.Barrier(4)
    results: list = []

    def run() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                results.append(sweep_overdue())
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                results.append(exc)
            finally:
                db.session.remove()

    with time_machine.travel(late):
        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not [result for result in results if isinstance(result, BaseException)], results
    assert sum(results) == 3
    run_jobs(app)
    assert db.session.scalar(select(func.count()).where(Notice.kind == DISCLOSURE_OVERDUE)) == 3
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "disclosure.overdue")) == 3
    for official in officials:
        assert db.session.scalar(select(func.count()).select_from(Notification).join(
            Notice, Notice.id == Notification.notice_id).where(
            Notification.user_id == official, Notice.kind == DISCLOSURE_OVERDUE)) == 3
