"""Problem-compound jobs: the nightly sweep over every compound, and one compound's on demand.

Idempotent and by id: a sweep judges the data as it is and upserts on the active-flag index, so a job run twice,
or two at once, raises each flag once and tells the officials once."""
from __future__ import annotations

import logging

from backend.services import flags as service
from backend.services.queueing import push_committed_jobs

log = logging.getLogger("linli.flags")


def sweep_all() -> int:
    """Every compound, a batch per transaction; returns how many flags were raised."""
    count = service.sweep(service.all_compound_ids())
    push_committed_jobs()
    log.info("flags: %d raised, %d reworded, %d cleared", count.raised, count.reworded, count.cleared)
    return count.raised


def sweep_compound(compound_id: int) -> int:
    """One compound, for a feature to queue after a change that may raise or clear a flag (a dispute closed, a
    rectification accepted) rather than wait for the night."""
    count = service.sweep_compound(compound_id)
    push_committed_jobs()
    return count.raised
