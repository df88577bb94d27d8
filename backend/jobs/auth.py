"""Sign-in jobs: the revocation list forgets tokens that have expired anyway (daily, 03:40 Beijing)."""
from __future__ import annotations

import logging

from backend.services.auth import purge_expired_revocations as purge
from backend.shared.clock import utcnow

log = logging.getLogger("linli.auth")


def purge_expired_revocations() -> int:
    """Idempotent: a second run finds nothing more to delete."""
    deleted = purge(utcnow())
    log.info("revocation list: %d expired tokens forgotten", deleted)
    return deleted
