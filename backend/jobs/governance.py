"""Governance jobs: the daily reminder (09:20 Beijing) that a self-governance body's term ends in 90 or 30 days.

Idempotent: each reminder's dedupe key is (compound, term end, step), so a second run the same day, or a second
cron process, tells nobody twice; each compound commits on its own."""
from __future__ import annotations

import logging

from backend.extensions import db
from backend.services import governance as service
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import beijing_date, utcnow

log = logging.getLogger("linli.governance")


def remind_term_ends() -> dict[str, int]:
    today = beijing_date(utcnow())
    due = service.due_term_end_reminders(today)
    told = 0
    for compound_id, term_ends_on, step in due:
        told += service.remind_term_end(compound_id, term_ends_on, step)
        db.session.commit()
        push_committed_jobs()
    log.info("term-end reminders %s: %d compounds, %d people", today.isoformat(), len(due), told)
    return {"compounds": len(due), "people": told}
