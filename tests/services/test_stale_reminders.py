"""Reminders that are no longer true leave the inbox (issue 15, item 5): "请在…前完成测评" once the household's
sheet is in or the campaign closed, "请在…前缴纳" once the bill is paid or waived."""
# ruff: noqa: F811  (the survey receipt tests' fixture is imported by name, then asked for by name)
from __future__ import annotations

import time_machine
from sqlalchemy import select

from backend.demo.factories import grant_role
from backend.domain.fees import PaymentMethod
from backend.domain.notifications import FEE_REMINDER, SURVEY_REMINDER
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.fees import issue_bills, send_reminders
from backend.models import Bill
from backend.services.fees import waive_bill
from backend.services.notifications import inbox_page, unread_count
from backend.services.payments import record_offline_payment
from backend.services.queueing import push_committed_jobs
from backend.services.surveys.tally import close, remind
from backend.shared.clock import utcnow
from tests.api.test_survey_receipts import answer, campaign, headers, work  # noqa: F401
from tests.jobs.test_fee_jobs import BILLS_DEC, beijing, estate, run_at  # noqa: F401
from tests.jobs.test_fee_jobs import work as work_fees


def fee_reminders_shown(user) -> list[str]:
    page = inbox_page(user.id, unread_only=False, page=1, page_size=50)
    return [item["title"] for item in page.items if item["kind"] == FEE_REMINDER]


def reminders(client, user) -> list[dict]:
    response = client.get("/api/v1/me/notifications", headers=headers(user))
    assert response.status_code == 200, response.json
    return [item for item in response.json["items"] if item["kind"] == SURVEY_REMINDER]


def test_the_survey_reminder_leaves_the_households_inboxes_once_it_answered(app, client, campaign):
    """"您家还没有作答，请在…前完成测评" is no longer true once the household's sheet is in (as a vote withdraws
    "请在…前完成表决"): it must leave the inbox and the unread count of the household's people."""
    survey, _, people = campaign
    assert remind(survey["id"]) >= 3
    push_committed_jobs()
    work(app)
    assert len(reminders(client, people["owner"])) == 1 and len(reminders(client, people["co_owner"])) == 1
    unread_before = unread_count(people["co_owner"].id)

    answer(client, survey, people["owner"], 4)
    work(app)

    assert reminders(client, people["owner"]) == []
    assert reminders(client, people["co_owner"]) == []
    assert unread_count(people["co_owner"].id) == unread_before - 1
    # The neighbour's household has not answered: theirs stays.
    assert len(reminders(client, people["neighbour"])) == 1


def test_the_fee_reminder_leaves_the_households_inboxes_once_its_bill_is_paid(app, estate):
    """"您家…的物业费将于…到期 / 请在…前缴纳" is no longer true once the bill is paid: like the vote reminder it must
    leave the inbox (the payer then has 缴费成功 instead), while a neighbour who still owes keeps theirs."""
    run_at(app, issue_bills, BILLS_DEC)
    run_at(app, send_reminders, beijing(2026, 12, 8))
    assert fee_reminders_shown(estate.owners[0]) == ["您家2026年12月的物业费将于12月15日到期"]

    bill = db.session.scalar(select(Bill).where(Bill.household_id == estate.households[0].id))
    with time_machine.travel(beijing(2026, 12, 9), tick=False):
        record_offline_payment(bill.id, PaymentMethod.BANK, bill.amount_fen, "YH-0001", estate.staff.id, None)
        work_fees(app)

    assert fee_reminders_shown(estate.owners[0]) == []
    assert fee_reminders_shown(estate.owners[1]) == ["您家2026年12月的物业费将于12月15日到期"]


def test_the_survey_reminder_leaves_every_inbox_once_the_campaign_closed(app, client, campaign):
    survey, _, people = campaign
    assert remind(survey["id"]) >= 3
    push_committed_jobs()
    work(app)
    assert len(reminders(client, people["neighbour"])) == 1

    assert close(survey["id"], people["committee"].id)

    assert reminders(client, people["owner"]) == []
    assert reminders(client, people["neighbour"]) == []


def test_the_survey_reminder_never_reaches_a_household_that_answered(app, client, campaign):
    survey, _, people = campaign
    answer(client, survey, people["owner"], 4)
    work(app)

    remind(survey["id"])
    push_committed_jobs()
    work(app)

    assert reminders(client, people["owner"]) == [] and reminders(client, people["co_owner"]) == []
    assert len(reminders(client, people["neighbour"])) == 1


def test_the_fee_reminder_leaves_the_households_inboxes_once_its_bill_is_waived(app, estate):
    run_at(app, issue_bills, BILLS_DEC)
    run_at(app, send_reminders, beijing(2026, 12, 8))
    bill = db.session.scalar(select(Bill).where(Bill.household_id == estate.households[0].id))

    with time_machine.travel(beijing(2026, 12, 9), tick=False):
        waive_bill(bill.id, "低保户减免", estate.staff.id, None)
        work_fees(app)

    assert fee_reminders_shown(estate.owners[0]) == []
    assert fee_reminders_shown(estate.owners[1]) == ["您家2026年12月的物业费将于12月15日到期"]


def test_a_fee_reminder_about_two_households_stays_until_both_are_paid(app, estate):
    """One owner of two flats gets one "请在…前缴纳" for both: it is still true until the second bill is paid."""
    owner = estate.owners[0]
    grant_role(owner, Role.OWNER, compound=estate.compound, household=estate.households[1], verified_at=utcnow())
    db.session.commit()
    run_at(app, issue_bills, BILLS_DEC)
    run_at(app, send_reminders, beijing(2026, 12, 8))
    first, second = (db.session.scalar(select(Bill).where(Bill.household_id == household.id))
                     for household in estate.households[:2])

    with time_machine.travel(beijing(2026, 12, 9), tick=False):
        record_offline_payment(first.id, PaymentMethod.BANK, first.amount_fen, "YH-0001", estate.staff.id, None)
        work_fees(app)
        assert fee_reminders_shown(owner) == ["您家2026年12月的物业费将于12月15日到期"]
        record_offline_payment(second.id, PaymentMethod.BANK, second.amount_fen, "YH-0002", estate.staff.id, None)
        work_fees(app)

    assert fee_reminders_shown(owner) == []
    assert fee_reminders_shown(estate.owners[1]) == []
    assert fee_reminders_shown(estate.owners[2]) == ["您家2026年12月的物业费将于12月15日到期"]
