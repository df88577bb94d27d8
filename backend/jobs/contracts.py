"""Contract jobs: the sweep (every 5 minutes, after the consultations' sweep has closed ballots) that brings each
company selection up to its topic's result — a draft contract, a dismissal with its hand-back, or nothing — and
the daily reminder (09:25 Beijing) that an active contract ends in 180 or 90 days.

Idempotent: a selection is locked and changes only while still voting, and its contract is unique on it; each
reminder is a row unique on (contract, term end, step), inserted before the notice is asked for."""
from __future__ import annotations

import logging
from datetime import date

from backend.extensions import db
from backend.jobs.one_by_one import OneByOne
from backend.services import contracts as service

log = logging.getLogger("linli.contracts")


def sweep() -> dict[str, int]:
    selections = OneByOne(log, "company selection")
    settled = sum(selections.handle(selection_id, service.settle_selection, selection_id, failed=False)
                  for selection_id in service.settleable_selection_ids())
    if settled:
        log.info("company selections settled by their vote: %d", settled)
    return {"settled": settled}


def remind_term_ends() -> dict[str, int]:
    today = service.today()
    due = service.due_reminders(today)
    contracts = OneByOne(log, "term-end reminder of contract")
    told = sum(contracts.handle(contract_id, _remind, contract_id, term_end, step, failed=0)
               for contract_id, term_end, step in due)
    log.info("contract term-end reminders %s: %d contracts, %d people", today.isoformat(), len(due), told)
    return {"contracts": len(due), "people": told}


def _remind(contract_id: int, term_end: date, step: int) -> int:
    told = service.remind(contract_id, term_end, step)
    db.session.commit()
    return told
