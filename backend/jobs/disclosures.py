"""Notice-board jobs: the daily sweep (09:00 Beijing) telling the street of each compound whose quarterly
public-income statement was not posted by the 15th of the quarter's first month.

Idempotent: each compound's notice has the key (compound, quarter), so a second run the same day, a second cron
process or the next day's run tells nobody twice; each compound commits on its own."""
from __future__ import annotations

import logging

from backend.services import disclosures as service

log = logging.getLogger("linli.disclosures")


def sweep_overdue() -> int:
    told = service.sweep_overdue()
    log.info("disclosure sweep: %d compounds overdue, their streets told", told)
    return told
