"""Spending jobs: the sweep (every 5 minutes, after the consultations' sweep has closed ballots) that brings each
request under the owners' vote up to its topic's result — approved, or rejected — and tells the requester.

Idempotent: each request is locked and read again before it changes, and only a request still under the vote
changes; the requester's notice has one dedupe key per request."""
from __future__ import annotations

import logging

from backend.jobs.one_by_one import OneByOne
from backend.services.spending import settle_vote, settleable_ids

log = logging.getLogger("linli.spending")


def sweep() -> dict[str, int]:
    requests = OneByOne(log, "settling spending request")
    settled = sum(requests.handle(request_id, settle_vote, request_id, failed=False)
                  for request_id in settleable_ids())
    if settled:
        log.info("spending requests settled by their vote: %d", settled)
    return {"settled": settled}
