"""A reminder racing with the answer or payment that makes it untrue, on PostgreSQL with committed data: the
reminder waits for the sheet or payment in flight and leaves its household out (the ones that come after it find
the reminder and withdraw it: test_stale_reminders)."""
# ruff: noqa: F811  (the fee jobs tests' fixture is imported by name, then asked for by name)
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, text, update

from backend.domain.fees import BillStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.fees import issue_bills
from backend.models import Bill, Household, Survey, SurveyResponse
from backend.services import surveys as service
from backend.services.fee_reminders import BillPeriod, remind_unpaid
from backend.services.surveys import CampaignDraft
from backend.services.surveys.tally import remind
from backend.shared.clock import utcnow
from tests.jobs.test_fee_jobs import BILLS_DEC, estate, run_at  # noqa: F401

WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock'")


def blocked_behind(app, holder, job: Callable[[], int]) -> int:
    """Run `job` in its own thread and connection while `holder` (a connection in a transaction) holds its locks;
    commit `holder` once the job waits on a lock; the job's result."""
    results: list[int | BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                results.append(job())
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which fails the test with it
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    with db.engine.connect() as watcher:
        # Polls the server's own view of who waits; the job must be waiting before the holder lets go.
        while not watcher.execute(WAITING).scalar() and thread.is_alive():
            assert time.monotonic() < deadline, "the job never waited for the sheet or payment in flight"
            time.sleep(0.01)
            watcher.rollback()
    assert thread.is_alive(), f"the job did not wait for the transaction in flight: {results}"
    holder.commit()
    thread.join(timeout=60)
    (result,) = results
    if isinstance(result, BaseException):
        raise result
    return result


@pytest.mark.postgresql
@pytest.mark.live
def test_a_sheet_in_flight_when_the_survey_reminder_goes_out_keeps_its_household_out_of_it(
        app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    homes = list(db.session.scalars(select(Household.id).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    owner = make_user(Role.OWNER, compound, household=db.session.get(Household, homes[0]))
    make_user(Role.OWNER, compound, household=db.session.get(Household, homes[1]))
    committee = make_user(Role.COMMITTEE, compound)
    survey_id = service.create_campaign(CampaignDraft(
        title="测评", compound_id=compound.id, opens_at=utcnow() - timedelta(hours=1),
        closes_at=utcnow() + timedelta(hours=12)), committee.id).id
    compound_id, owner_id = compound.id, owner.id
    db.session.remove()

    with db.engine.connect() as answering:
        # What a sheet holds until its commit (sheets._open_for_answers, _record_sheet).
        answering.execute(select(Survey.id).where(Survey.id == survey_id).with_for_update(read=True))
        answering.execute(insert(SurveyResponse).values(
            survey_id=survey_id, compound_id=compound_id, household_id=homes[0], answered_by_id=owner_id,
            paper=False, revision=1, submitted_at=utcnow(), updated_at=utcnow()))
        reminded = blocked_behind(app, answering, lambda: remind(survey_id))

    assert reminded == 1


@pytest.mark.postgresql
@pytest.mark.live
def test_a_payment_in_flight_when_the_fee_reminder_goes_out_keeps_its_household_out_of_it(app, estate):
    run_at(app, issue_bills, BILLS_DEC)
    bill_id = db.session.scalar(select(Bill.id).where(Bill.household_id == estate.households[0].id))
    period = BillPeriod(estate.compound.id, date(2026, 12, 1), date(2026, 12, 15))
    db.session.remove()

    with db.engine.connect() as paying:
        # What a payment holds until its commit: the bill, locked and settled (payment_orders.settle_bill).
        paying.execute(update(Bill).where(Bill.id == bill_id).values(status=BillStatus.PAID))
        reminded = blocked_behind(app, paying, lambda: remind_unpaid(period, date(2026, 12, 8)))

    assert reminded == len(estate.owners) - 1
