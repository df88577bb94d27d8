"""Fee jobs: issuing each period's bills (daily 00:30 Beijing) and the reminders (daily 10:00 Beijing): bills
due in 7 days or overdue 1, 15 and 30 days, and subsidy tiers dropping next month.

Hourly, subsidies held for payments nobody finished go back to their budgets. Every minute, online payments whose
follow-up job was lost are followed up.

Idempotent: a household has one bill per period and each notice has its own dedupe key, so a run repeated (or
run by two cron processes) issues and tells nothing twice. Each compound commits on its own; its notices go
out at once, not after the whole run."""
from __future__ import annotations

import logging
from datetime import timedelta

from backend.extensions import db
from backend.jobs.one_by_one import OneByOne
from backend.services import fee_reminders, payment_orders
from backend.services import fees as fee_service
from backend.services import subsidies as subsidy_service
from backend.services.queueing import push_committed_jobs
from backend.shared.clock import beijing_date, utcnow

log = logging.getLogger("linli.fees")

# How long a recorded payment's own follow-up job has before the sweep does it instead.
FOLLOW_UP_GRACE = timedelta(minutes=1)


def issue_bills() -> dict[str, int]:
    """Issue the current period's bills of every billing compound, then tell the households owing them."""
    today = beijing_date(utcnow())
    issued = fee_service.issue_bills(today)
    bills = sum(period.issued for period in issued)
    log.info("fee bills %s: %d issued in %d compound periods", today.isoformat(), bills, len(issued))
    periods = fee_reminders.periods_to_announce(today, issued)
    told = 0
    for index, (compound_id, period_start) in enumerate(periods, start=1):
        told += fee_reminders.announce_bills(compound_id, period_start)
        db.session.commit()
        push_committed_jobs()
        log.info("fee bill notices: compound %s %s (%d/%d)", compound_id, period_start.isoformat(), index,
                 len(periods))
    log.info("fee bill notices %s: %d periods, %d people", today.isoformat(), len(periods), told)
    return {"bills": bills, "periods": len(periods), "people": told}


def send_reminders() -> dict[str, int]:
    """Remind the households still owing of their bills' latest stage, then announce next month's tier drops."""
    today = beijing_date(utcnow())
    periods = fee_reminders.unpaid_periods(today)
    reminded = 0
    for period in periods:
        reminded += fee_reminders.remind_unpaid(period, today)
        db.session.commit()
        push_committed_jobs()
    drops = fee_reminders.tier_drops(today)
    dropped = 0
    for policy_id, compound_id in drops:
        dropped += fee_reminders.announce_tier_drop(policy_id, compound_id, today)
        db.session.commit()
        push_committed_jobs()
    log.info("fee reminders %s: %d bill periods (%d people), %d tier drops (%d people)", today.isoformat(),
             len(periods), reminded, len(drops), dropped)
    return {"reminders": len(periods), "reminded": reminded, "tier_drops": len(drops), "told_of_drops": dropped}


def release_abandoned_subsidies() -> int:
    """Hourly: subsidies held for payments nobody finished go back to their budgets, 500 bills at a time (at
    most 20 batches a run; the next run goes on)."""
    now = utcnow()
    released = 0
    for _ in range(20):
        bill_ids = subsidy_service.abandoned_hold_bill_ids(now)
        for bill_id in bill_ids:
            released += subsidy_service.release_abandoned_hold(bill_id, now)
            db.session.commit()
        if len(bill_ids) < 500:
            break
    log.info("abandoned subsidy holds: %d released", released)
    return released


def follow_up_payment(receipt_id: int) -> bool:
    """After an online payment is recorded: its subsidies granted and posted, its payments posted, its due
    reminders withdrawn, 缴费成功 sent (once; a second run finds it done)."""
    done = payment_orders.follow_up_payment(receipt_id)
    push_committed_jobs()
    return done


def follow_up_lost_payments() -> int:
    """Every minute: the online payments whose follow-up job was lost (pushed to a Redis that went away, or never
    pushed), followed up now. A payment's own job has had FOLLOW_UP_GRACE to do it first."""
    lost = payment_orders.payments_not_followed_up(utcnow() - FOLLOW_UP_GRACE)
    receipts = OneByOne(log, "following up receipt")
    for receipt_id in lost:
        receipts.handle(receipt_id, payment_orders.follow_up_payment, receipt_id, failed=False)
    followed_up = len(lost) - len(receipts.failed)
    if followed_up:
        log.warning("followed up %d online payment(s) whose job was lost", followed_up)
    return followed_up
