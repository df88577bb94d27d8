"""Work-order jobs: the SLA sweep (escalations and rating reminders, every 5 minutes) and the nightly tally.

Both are idempotent: an escalation step is a unique row and the plan moves on only past it, a rating reminder
is flagged on the order, and the tally rewrites the month's snapshots."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from backend.jobs.one_by_one import OneByOne
from backend.services.queueing import push_committed_jobs
from backend.services.workorder_stats import month_of, tally_month
from backend.services.workorders import due_escalation_ids, escalate_order, remind_to_rate
from backend.shared.clock import utcnow

log = logging.getLogger("linli.workorders")

# A sweep after an outage works through this many batches (of 500 orders) at most; the next sweep goes on.
MAX_ESCALATION_BATCHES = 20


def sweep() -> dict[str, int]:
    """Take every escalation step that is due, then remind submitters to answer orders closed 3 days ago.

    An order overdue for several steps (the sweep was down) climbs one step per batch until none is due."""
    now = utcnow()
    escalated = 0
    orders = OneByOne(log, "escalating work order")
    for _ in range(MAX_ESCALATION_BATCHES):
        due = orders.not_failed(due_escalation_ids(now))
        if not due:
            break
        for order_id in due:
            # Each order commits on its own; its notifications go out now, not after the whole sweep.
            if orders.handle(order_id, escalate_order, order_id, now, failed=None) is not None:
                escalated += 1
    reminded = remind_to_rate(now)
    push_committed_jobs()
    log.info("work-order sweep: %d escalation steps, %d rating reminders", escalated, reminded)
    return {"escalated": escalated, "reminded": reminded}


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def tally_last_month() -> int:
    """Tally the previous calendar month (Asia/Shanghai).

    Runs every night, not only on the 1st: answers (已解决/未解决), ratings and the 7-day "closed without
    confirmation" mark of last month's orders keep arriving for up to 7 days after their close, and orders
    closed late change the figures too. Each run rewrites the month's snapshots, so through the following
    month the snapshot follows those late answers; after that it stays as the month's record."""
    now = utcnow()
    month = previous_month(month_of(now))
    written = tally_month(month, now)
    log.info("work-order tally %s: %d snapshots", month.isoformat(), written)
    return written
