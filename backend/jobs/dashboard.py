"""Dashboard jobs: one compound's figures after a commit touched its data, and the sweep over every compound
(overdue orders move with the clock; bulk changes such as bill issuing are seen only by it)."""
from __future__ import annotations

import logging

from backend.services import dashboard as service

log = logging.getLogger("linli.dashboard")


def refresh_compound(compound_id: int) -> int:
    return service.refresh([compound_id])


def sweep() -> int:
    refreshed = service.refresh()
    log.info("dashboard sweep: %d compounds refreshed", refreshed)
    return refreshed
