"""Rectification jobs: the daily overdue sweep (督办), idempotent because each escalation step is a unique row."""
from __future__ import annotations

import logging

from backend.services.queueing import push_committed_jobs
from backend.services.rectifications import sweep as sweep_overdue

log = logging.getLogger("linli.rectifications")


def sweep() -> int:
    """Take every escalation step due today (Beijing) for items past their deadline; a second run takes none."""
    taken = sweep_overdue()
    push_committed_jobs()
    log.info("rectification sweep: %d escalation steps", taken)
    return taken
