"""Contract jobs: the sweep (every 5 minutes, after the consultations' sweep has closed ballots) that brings each
company selection up to its topic's result — a draft contract, a dismissal with its hand-back, or nothing — and
the daily reminder (09:25 Beijing) that an active contract ends in 180 or 90 days.

Idempotent: a selection is locked and changes only while still voting, and its contract is unique on it; each
reminder is a row unique on (contract, term end, step), inserted before the notice is asked for."""
from __future__ import annotations

import logging

from backend.extensions import db
from backend.services import contracts as service
from backend.services.queueing import push_committed_jobs

log = logging.getLogger("linli.contracts")


def sweep() -> dict[str, int]:
    settled = service.settle_selections()
    push_committed_jobs()
    if settled:
        log.info("company selections settled by their vote: %d", settled)
    return {"settled": settled}


def remind_term_ends() -> dict[str, int]:
    today = service.today()
    due = service.due_reminders(today)
    told = 0
    for contract_id, term_end, step in due:
        told += service.remind(contract_id, term_end, step)
        db.session.commit()
        push_committed_jobs()
    log.info("contract term-end reminders %s: %d contracts, %d people", today.isoformat(), len(due), told)
    return {"contracts": len(due), "people": told}
