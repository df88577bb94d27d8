"""The items of a periodic sweep, each on its own: one item that keeps raising (a row the code cannot handle, a
bug met by one compound's data) is rolled back and logged, and the items behind it are still handled. The
sweeps go oldest first: without this, such an item would stop every item behind it at every run.

The once-guarantees stay the services': each item locks, checks and commits on its own, so a failed item's
rollback undoes its partial work and the jobs it asked for (services/queueing forgets them), and a later run
takes it again from the start."""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import TypeVar

from rq.timeouts import BaseTimeoutException
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from backend.extensions import db
from backend.services.queueing import push_committed_jobs

T = TypeVar("T")


class OneByOne:
    """One sweep's run: `handle` each item, remember those that failed (a batch loop must not take them again in
    the same run, or it would spend its batches on them)."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what
        self.failed: set[Hashable] = set()

    def handle(self, item: Hashable, work: Callable[..., T], *args: object, failed: T) -> T:
        """`work(*args)` for `item`, and the jobs it committed pushed; `failed` when it raised (rolled back and
        logged)."""
        try:
            result = work(*args)
        except Exception as exc:
            if _ends_the_run(exc):
                raise
            db.session.rollback()
            self.log.exception("%s %s failed, the sweep goes on to the next", self.what, item)
            self.failed.add(item)
            return failed
        push_committed_jobs()
        return result

    def not_failed(self, items: list) -> list:
        return [item for item in items if item not in self.failed]


def _ends_the_run(exc: Exception) -> bool:
    # The job's own time is up, or the database is gone: every next item would fail the same way, so the job
    # fails as before (RQ records it) instead of logging each item.
    if isinstance(exc, BaseTimeoutException | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
