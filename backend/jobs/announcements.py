"""Announcement jobs: tell each compound a notice was posted to (queued on `high` after the post, and again when a
notice is made urgent).

Idempotent and by id: each compound's notice has its own dedupe key, so a job run twice, retried after a failure
halfway, or queued twice reaches nobody twice; a notice deleted before the job runs reaches nobody."""
from __future__ import annotations

import logging

from backend.services import announcements as service
from backend.services.queueing import push_committed_jobs

log = logging.getLogger("linli.announcements")


def tell_residents(announcement_id: int) -> int:
    """Tell every compound of the notice, one at a time (each commits, and its fan-out jobs go to Redis, before
    the next); returns how many people were told this run."""
    told = 0
    for compound_id in service.target_compound_ids(announcement_id):
        told += service.tell_compound(announcement_id, compound_id)
        push_committed_jobs()
    log.info("announcement %d: %d people told", announcement_id, told)
    return told
