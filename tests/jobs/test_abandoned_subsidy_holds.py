"""A subsidy held for a payment nobody finished goes back to the budget once no notification of it can still
come (WeChat Pay retries for about 24 h), and never while an order might still be paid or after payment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from backend.domain.fees import ABANDONED_HOLD_AFTER, PAYMENT_WINDOW, GrantStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.fees import release_abandoned_subsidies
from backend.models import Bill, SubsidyGrant, SubsidyPolicy
from backend.services import payments
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.support import first_household

pytestmark = pytest.mark.calendar

STARTED = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
# The moment the order's notification can no longer come: its expiry plus WeChat's retry span.
SAFE = STARTED + PAYMENT_WINDOW + ABANDONED_HOLD_AFTER


@pytest.fixture
def started(make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    make_schedule(compound, standard_fen_per_m2=150, effective_from=date(2026, 1, 1))
    policy = make_policy(compound_id=compound.id, budget_fen=100_000)
    bill = issue_bills_for(compound, date(2026, 11, 1))[0]
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    with time_machine.travel(STARTED, tick=False):
        start = payments.start_payment(bill.id, owner, now=STARTED)
    return policy, db.session.get(Bill, bill.id), owner, start


def _run_at(moment: datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return release_abandoned_subsidies()


def _state(policy: SubsidyPolicy, bill: Bill) -> tuple[int, int, GrantStatus]:
    db.session.expire_all()
    grant = db.session.query(SubsidyGrant).filter_by(bill_id=bill.id).one()
    return db.session.get(SubsidyPolicy, policy.id).committed_fen, db.session.get(Bill, bill.id).subsidy_fen, grant.status


def test_a_hold_stays_while_a_late_notification_could_still_come(started):
    policy, bill, _owner, _start = started
    held = bill.subsidy_fen
    assert held > 0
    assert _run_at(SAFE - timedelta(seconds=1)) == 0
    assert _state(policy, bill) == (held, held, GrantStatus.HELD)


def test_an_abandoned_hold_goes_back_to_the_budget_once_and_the_next_attempt_holds_anew(started):
    policy, bill, owner, _start = started
    held = bill.subsidy_fen
    assert _run_at(SAFE + timedelta(seconds=1)) == 1
    assert _state(policy, bill) == (0, 0, GrantStatus.RELEASED)
    assert _run_at(SAFE + timedelta(hours=1)) == 0
    later = SAFE + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        again = payments.start_payment(bill.id, owner, now=later)
    assert again.order.amount_fen == bill.amount_fen - held
    assert _state(policy, bill) == (held, held, GrantStatus.HELD)


def test_a_paid_bill_keeps_its_grant(started):
    policy, bill, owner, start = started
    with time_machine.travel(STARTED + timedelta(minutes=1), tick=False):
        payments.complete_sandbox_payment(start.order.id, owner.id)
    assert _run_at(SAFE + timedelta(days=30)) == 0
    assert follow_up_payments() == 1
    assert _state(policy, bill) == (bill.subsidy_fen, bill.subsidy_fen, GrantStatus.GRANTED)


def test_a_new_attempt_keeps_the_hold_for_its_own_window(started):
    policy, bill, owner, _start = started
    retry = SAFE - timedelta(minutes=1)
    with time_machine.travel(retry, tick=False):
        payments.start_payment(bill.id, owner, now=retry)
    assert _run_at(SAFE + timedelta(seconds=1)) == 0
    assert _state(policy, bill)[2] is GrantStatus.HELD
