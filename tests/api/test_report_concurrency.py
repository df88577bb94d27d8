"""Two builds of one report at the same instant (a retried job beside the first, or the cron's ask beside a rerun):
the row lock lets one publish and the other find it published, and the area's officials are told once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from backend.domain.reports import ReportKind, ReportStatus
from backend.extensions import db
from backend.models import Notice, Report
from backend.services import reports as service
from tests.report_support import build_street

pytestmark = pytest.mark.live


def test_builds_at_the_same_instant_publish_once(app, make_area, make_compound, make_user):
    street = build_street(make_area, make_compound, make_user)
    service.ask_periodic()
    report_id = db.session.scalar(select(Report.id).where(Report.area_id == street.street_id,
                                                          Report.kind == ReportKind.MONTHLY))
    db.session.close()
    barrier = threading.Barrier(4)
    results: list[bool | BaseException] = []

    def build() -> None:
        with app.app_context():
            barrier.wait()
            try:
                results.append(service.build(report_id))
            except BaseException as error:  # noqa: BLE001 — reported by the assertion below
                results.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results, key=str) == [False, False, False, True]
    assert db.session.get(Report, report_id).status is ReportStatus.PUBLISHED
    assert db.session.scalar(select(func.count()).select_from(Notice)
                             .where(Notice.dedupe_key == f"report-ready-{report_id}")) == 1
