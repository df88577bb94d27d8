"""Report jobs: the daily ask for every area's monthly and quarterly report (on the 1st last month's, on a
quarter's first day last quarter's), and the build of one report.

Idempotent: a report is one row per area, kind and period (unique key), so the ask run twice makes one report;
a build of a published report does nothing, a build of one still building or failed builds it afresh."""
from __future__ import annotations

import logging

from backend.services import reports as service
from backend.services.queueing import push_committed_jobs

log = logging.getLogger("linli.reports")


def ask_periodic() -> int:
    queued = service.ask_periodic()
    push_committed_jobs()
    log.info("reports: %d builds queued", len(queued))
    return len(queued)


def build(report_id: int) -> bool:
    published = service.build(report_id)
    push_committed_jobs()
    log.info("report %d: %s", report_id, "published" if published else "left as it is")
    return published
