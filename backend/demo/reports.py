"""The demo's periodic report (定期通报): the street's monthly report of last month, built at load by the code the
cron's job runs, from the demo's own data."""
from __future__ import annotations

import logging
import time
from datetime import datetime

from backend.domain.reports import ReportKind
from backend.services.reports import periodic_report_now
from backend.shared.clock import beijing_date

log = logging.getLogger("linli.demo")


def make_reports(street_id: int, now: datetime) -> int:
    started = time.perf_counter()
    report_id = periodic_report_now(street_id, ReportKind.MONTHLY, beijing_date(now))
    log.info("demo: the street's monthly report built in %.0f ms", (time.perf_counter() - started) * 1000)
    return report_id
