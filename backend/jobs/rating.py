"""Rating jobs: a round's compute (the composite scores, ranks and stars of every company of its area).

Idempotent: the rows are upserted on (round, company) and rewritten whole, so a rerun gives identical rows; a
round already reviewed is left as it is."""
from __future__ import annotations

import logging

from backend.services import rating as service

log = logging.getLogger("linli.rating")


def compute_round(round_id: int) -> bool:
    computed = service.compute_round(round_id)
    log.info("rating round %d: %s", round_id, "computed" if computed else "left as it is")
    return computed
