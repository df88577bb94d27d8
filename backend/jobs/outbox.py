"""The outbox relay as a periodic job: pushes the jobs that waited while Redis was down."""
from __future__ import annotations

from backend.services.queueing import relay_outbox


def relay() -> int:
    return relay_outbox()
