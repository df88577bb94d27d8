"""The journal's sweep: fee payments, granted subsidies and refunds of trust compounds that were made while the
compound had no account are posted once an account exists.

Idempotent and by id: each posting is unique on the row it comes from, so a sweep run twice, or at the same time as
a payment notification, posts each once."""
from __future__ import annotations

import logging

from backend.services import funds as service

log = logging.getLogger("linli.funds")


def sweep_fund_posts() -> int:
    """Every trust compound with an account, one transaction each; returns how many entries were posted."""
    posted = 0
    for compound_id in service.compounds_missing_posts():
        posted += service.post_missing(compound_id)
    if posted:
        log.info("funds: %d missing entries posted", posted)
    return posted


def post_missing(compound_id: int) -> int:
    """One compound, for the desk to queue right after an account is opened."""
    return service.post_missing(compound_id)
