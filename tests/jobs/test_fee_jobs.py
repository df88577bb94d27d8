"""The fee jobs on a moving clock: bills issued once however often the job runs, and their notice once; each
reminder stage (due in 7 days, overdue 1, 15 and 30 days) once, the latest only after missed days, never to a
household that paid; a subsidy tier drop told once, in the month before it; pushes wait out quiet hours.
Notices go through the outbox, Redis and an in-process worker into the inbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel, HouseholdKind
from backend.domain.fees import BillingCycle, PaymentMethod
from backend.domain.notifications import FEE_BILL, FEE_REMINDER, SHANGHAI, SUBSIDY_CHANGE, DeliveryStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.fees import issue_bills, send_reminders
from backend.models import Bill, Compound, Delivery, Household, Notice, Notification, User
from backend.services import fees as fee_service
from backend.services.fee_reminders import bill_notice_key
from backend.services.payments import record_offline_payment
from backend.services.queueing import QUEUES
from tests.fees_support import make_policy, make_schedule
from tests.support import buildings_of, link_wechat

pytestmark = pytest.mark.calendar


def beijing(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# The cron slots: bills at 00:30, reminders at 10:00 (Beijing).
BILLS_DEC = beijing(2026, 12, 1, 0, 30)


@dataclass
class Estate:
    compound: Compound
    households: list[Household]
    owners: list[User]  # one verified owner per household, in household order
    staff: User


@pytest.fixture
def estate(make_compound, make_user) -> Estate:
    compound = make_compound(buildings=1, households_per_building=4)
    households = list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ))
    owners = [make_user(Role.OWNER, compound, household=household) for household in households]
    make_schedule(compound, standard_fen_per_m2=150, effective_from=date(2026, 1, 1), due_day=15)
    return Estate(compound=compound, households=households, owners=owners, staff=make_user(Role.STAFF, compound))


def work(app) -> None:
    """Run every queued job (fan-out, push planning, pushes due now) in this process, as the worker would."""
    redis_conn = app.extensions["linli_redis"]
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


def run_at(app, job, moment: datetime):
    """The job as its cron slot runs it at `moment`, then the worker at the same instant."""
    with time_machine.travel(moment, tick=False):
        result = job()
        work(app)
    return result


def heard(user: User, kind: str) -> list[str]:
    """The titles of the notices of `kind` in the user's inbox, oldest first."""
    return list(db.session.scalars(
        select(Notice.title).join(Notification, Notification.notice_id == Notice.id)
        .where(Notification.user_id == user.id, Notice.kind == kind).order_by(Notification.id)
    ))


def bodies(user: User, kind: str) -> list[str]:
    return list(db.session.scalars(
        select(Notice.body).join(Notification, Notification.notice_id == Notice.id)
        .where(Notification.user_id == user.id, Notice.kind == kind).order_by(Notification.id)
    ))


def bills_of(compound: Compound) -> list[tuple[int, int, date, int]]:
    return [(bill.id, bill.household_id, bill.period_start, bill.amount_fen) for bill in db.session.scalars(
        select(Bill).where(Bill.compound_id == compound.id).order_by(Bill.id)
    )]


# ---- issuing -------------------------------------------------------------------------------------------


def test_bills_are_issued_once_across_runs_and_their_notice_reaches_each_owner_once(app, estate):
    first = run_at(app, issue_bills, BILLS_DEC)
    issued = bills_of(estate.compound)
    again = run_at(app, issue_bills, BILLS_DEC)
    next_day = run_at(app, issue_bills, beijing(2026, 12, 2, 0, 30))

    assert first["bills"] == 4 and again["bills"] == next_day["bills"] == 0
    assert len(issued) == 4 and {start for _, _, start, _ in issued} == {date(2026, 12, 1)}
    assert bills_of(estate.compound) == issued
    for owner in estate.owners:
        assert heard(owner, FEE_BILL) == ["您家2026年12月的物业费账单已出"]
    notice = db.session.scalar(select(Notice).where(Notice.kind == FEE_BILL))
    assert notice.link == f"/h5/c/{estate.compound.code}/bills"
    assert notice.dedupe_key == f"fee-bill-{estate.compound.id}-2026-12-01"
    # Staff of the compound owe nothing and hear nothing.
    assert heard(estate.staff, FEE_BILL) == []


def test_next_month_brings_a_new_bill_and_a_new_notice(app, estate):
    run_at(app, issue_bills, BILLS_DEC)
    run_at(app, issue_bills, beijing(2027, 1, 1, 0, 30))

    assert heard(estate.owners[0], FEE_BILL) == ["您家2026年12月的物业费账单已出", "您家2027年1月的物业费账单已出"]
    assert len(bills_of(estate.compound)) == 8


def test_a_household_added_mid_month_gets_its_bill_and_notice_the_next_night_and_nobody_hears_twice(
    app, estate, make_user
):
    run_at(app, issue_bills, BILLS_DEC)
    household = Household(compound_id=estate.compound.id, building_id=buildings_of(estate.compound)[0].id,
                          unit="1", room="501", floor_area_centi_m2=9000)
    db.session.add(household)
    db.session.commit()
    newcomer = make_user(Role.OWNER, estate.compound, household=household)

    result = run_at(app, issue_bills, beijing(2026, 12, 9, 0, 30))

    assert result["bills"] == 1
    assert heard(newcomer, FEE_BILL) == ["您家2026年12月的物业费账单已出"]
    for owner in estate.owners:
        assert heard(owner, FEE_BILL) == ["您家2026年12月的物业费账单已出"]


def test_bills_issued_by_a_run_that_stopped_before_its_notice_are_announced_by_the_next_run(app, estate):
    with time_machine.travel(BILLS_DEC, tick=False):
        fee_service.issue_bills(date(2026, 12, 1))

    result = run_at(app, issue_bills, beijing(2026, 12, 2, 0, 30))

    assert result["bills"] == 0 and result["periods"] == 1
    assert heard(estate.owners[0], FEE_BILL) == ["您家2026年12月的物业费账单已出"]


def test_quarterly_bills_are_announced_by_their_quarter(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=1)
    [household] = db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()
    owner = make_user(Role.OWNER, compound, household=household)
    make_schedule(compound, effective_from=date(2026, 1, 1), cycle=BillingCycle.QUARTERLY)

    run_at(app, issue_bills, beijing(2026, 10, 1, 0, 30))

    assert heard(owner, FEE_BILL) == ["您家2026年第4季度的物业费账单已出"]


def test_a_compound_that_charges_nothing_gets_no_bills_and_no_notice(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    household = db.session.scalar(select(Household).where(Household.compound_id == compound.id))
    owner = make_user(Role.OWNER, compound, household=household)
    make_schedule(compound, charges_fees=False)

    result = run_at(app, issue_bills, BILLS_DEC)

    assert result == {"bills": 0, "periods": 0, "people": 0}
    assert bills_of(compound) == [] and heard(owner, FEE_BILL) == []


def test_issuing_logs_its_progress(app, estate, caplog):
    caplog.set_level(logging.INFO, logger="linli.fees")

    run_at(app, issue_bills, BILLS_DEC)

    messages = [record.getMessage() for record in caplog.records if record.name == "linli.fees"]
    assert f"bills: compound {estate.compound.id} residential 2026-12-01: 4/4 households done, 4 issued" in messages
    assert "fee bills 2026-12-01: 4 issued in 1 compound periods" in messages
    assert "fee bill notices 2026-12-01: 1 periods, 4 people" in messages


# ---- due and overdue -----------------------------------------------------------------------------------


def test_each_reminder_stage_goes_out_once_across_reruns_and_days(app, estate):
    run_at(app, issue_bills, BILLS_DEC)
    sent = []
    for day in (date(2026, 12, 7), date(2026, 12, 8), date(2026, 12, 9), date(2026, 12, 15), date(2026, 12, 16),
                date(2026, 12, 17), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 13),
                date(2027, 1, 14), date(2027, 1, 15), date(2027, 3, 1)):
        moment = beijing(day.year, day.month, day.day)
        first = run_at(app, send_reminders, moment)
        # The same cron slot again (a second cron process, a retried job): nothing more.
        assert run_at(app, send_reminders, moment)["reminders"] == 0, day
        sent.append((day, first["reminders"]))

    assert [day for day, count in sent if count] == [
        date(2026, 12, 8), date(2026, 12, 16), date(2026, 12, 30), date(2027, 1, 14)]
    for owner in estate.owners:
        assert heard(owner, FEE_REMINDER) == [
            "您家2026年12月的物业费将于12月15日到期", "您家2026年12月的物业费已逾期1天", "您家2026年12月的物业费已逾期15天", "您家2026年12月的物业费已逾期30天"]
    assert bodies(estate.owners[0], FEE_REMINDER)[:2] == [
        "请在12月15日前缴纳，可以在线缴纳。", "还没有缴纳，请尽快缴费，可以在线缴纳。"]
    assert heard(estate.staff, FEE_REMINDER) == []


def test_a_job_that_missed_days_sends_only_the_latest_stage(app, estate):
    run_at(app, issue_bills, BILLS_DEC)

    run_at(app, send_reminders, beijing(2026, 12, 31))
    run_at(app, send_reminders, beijing(2027, 2, 20))

    assert heard(estate.owners[0], FEE_REMINDER) == ["您家2026年12月的物业费已逾期15天", "您家2026年12月的物业费已逾期30天"]


def test_households_that_paid_or_were_waived_are_not_reminded(app, estate, make_user):
    run_at(app, issue_bills, BILLS_DEC)
    paid, waived, _, _ = (db.session.scalar(select(Bill).where(Bill.household_id == household.id))
                          for household in estate.households)
    record_offline_payment(paid.id, PaymentMethod.CASH, paid.amount_fen, "SJ-0001", estate.staff.id, None)
    fee_service.waive_bill(waived.id, "困难户减免", make_user(Role.COMMITTEE, estate.compound).id, None)

    run_at(app, send_reminders, beijing(2026, 12, 8))
    run_at(app, send_reminders, beijing(2026, 12, 16))

    assert heard(estate.owners[0], FEE_REMINDER) == heard(estate.owners[1], FEE_REMINDER) == []
    for owner in estate.owners[2:]:
        assert heard(owner, FEE_REMINDER) == ["您家2026年12月的物业费将于12月15日到期", "您家2026年12月的物业费已逾期1天"]


def test_a_household_that_pays_after_the_first_reminder_hears_no_more(app, estate):
    run_at(app, issue_bills, BILLS_DEC)
    run_at(app, send_reminders, beijing(2026, 12, 8))
    bill = db.session.scalar(select(Bill).where(Bill.household_id == estate.households[0].id))
    record_offline_payment(bill.id, PaymentMethod.BANK, bill.amount_fen, "YH-0001", estate.staff.id, None)

    run_at(app, send_reminders, beijing(2026, 12, 16))

    assert heard(estate.owners[0], FEE_REMINDER) == ["您家2026年12月的物业费将于12月15日到期"]
    assert heard(estate.owners[1], FEE_REMINDER) == ["您家2026年12月的物业费将于12月15日到期", "您家2026年12月的物业费已逾期1天"]


def test_kinds_falling_due_on_different_days_each_hear_their_own_stages(app, estate, make_user):
    shop = Household(compound_id=estate.compound.id, building_id=buildings_of(estate.compound)[0].id, unit="",
                     room="商铺1", floor_area_centi_m2=6000, kind=HouseholdKind.COMMERCIAL)
    db.session.add(shop)
    db.session.commit()
    shopkeeper = make_user(Role.OWNER, estate.compound, household=shop)
    make_schedule(estate.compound, standard_fen_per_m2=300, effective_from=date(2026, 1, 1), due_day=25,
                  kind=HouseholdKind.COMMERCIAL)
    run_at(app, issue_bills, BILLS_DEC)

    for day in (8, 16, 18, 26):
        run_at(app, send_reminders, beijing(2026, 12, day))

    assert heard(estate.owners[0], FEE_REMINDER) == ["您家2026年12月的物业费将于12月15日到期", "您家2026年12月的物业费已逾期1天"]
    assert heard(shopkeeper, FEE_REMINDER) == ["您家2026年12月的物业费将于12月25日到期", "您家2026年12月的物业费已逾期1天"]


def test_a_reminder_sent_at_23_beijing_is_in_the_inbox_at_once_and_pushed_at_8(app, estate):
    owner = db.session.get(User, estate.owners[0].id)
    link_wechat(owner, "oLinliFeeReminder0001")
    run_at(app, issue_bills, BILLS_DEC)

    run_at(app, send_reminders, beijing(2026, 12, 8, 23, 0))

    assert heard(owner, FEE_REMINDER) == ["您家2026年12月的物业费将于12月15日到期"]
    [push] = db.session.scalars(
        select(Delivery).join(Notification, Notification.id == Delivery.notification_id)
        .join(Notice, Notice.id == Notification.notice_id)
        .where(Notification.user_id == owner.id, Notice.kind == FEE_REMINDER)
    ).all()
    assert (push.status, push.deliver_after) == (DeliveryStatus.PENDING, beijing(2026, 12, 9, 8, 0))


# ---- subsidy tier drops --------------------------------------------------------------------------------


@pytest.fixture
def subsidised(make_area, make_compound, make_user):
    """A street with an area policy (built before 2000; 50% → 30% → 10% from July 2025) over an old compound
    and a new one (not eligible), and an old compound with a newer policy of its own."""
    street = make_area("炳草岗街道", AreaLevel.STREET)
    community = make_area("金沙社区", AreaLevel.COMMUNITY, street)
    old, new, own = (make_compound(area=community, buildings=1, households_per_building=2) for _ in range(3))
    old.built_year, new.built_year, own.built_year = 1995, 2005, 1990
    db.session.commit()
    area_policy = make_policy(area_id=street.id, built_before_year=2000)
    own_policy = make_policy(compound_id=own.id, name="本小区补贴", period_start=date(2026, 1, 1))

    def people(compound: Compound) -> list[User]:
        households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()
        return [make_user(Role.RESIDENT if index else Role.OWNER, compound, household=household)
                for index, household in enumerate(households)]

    return {"old": people(old), "new": people(new), "own": people(own), "old_compound": old,
            "staff": make_user(Role.STAFF, old), "area_policy": area_policy, "own_policy": own_policy}


def test_a_tier_drop_is_told_once_in_the_month_before_it(app, subsidised):
    told = {}
    for moment in (beijing(2026, 5, 25), beijing(2026, 6, 19), beijing(2026, 6, 20), beijing(2026, 6, 21),
                   beijing(2026, 6, 30), beijing(2026, 7, 20), beijing(2026, 12, 20), beijing(2027, 6, 20),
                   beijing(2027, 6, 28)):
        told[moment.date()] = run_at(app, send_reminders, moment)["tier_drops"]

    assert {day: count for day, count in told.items() if count} == {
        date(2026, 6, 20): 1, date(2026, 12, 20): 1, date(2027, 6, 20): 1}
    for person in subsidised["old"]:
        assert bodies(person, SUBSIDY_CHANGE) == ["下月起补贴比例由50%调整为30%，请留意账单金额的变化。", "下月起补贴比例由30%调整为10%，请留意账单金额的变化。"]
        assert heard(person, SUBSIDY_CHANGE) == ["下月起物业费补贴比例调整"] * 2
    # The compound's own policy started in January 2026: its first drop is in January 2027.
    for person in subsidised["own"]:
        assert bodies(person, SUBSIDY_CHANGE) == ["下月起补贴比例由50%调整为30%，请留意账单金额的变化。"]
    # Built in 2005: the area policy does not cover it.
    for person in subsidised["new"]:
        assert bodies(person, SUBSIDY_CHANGE) == []
    assert heard(subsidised["staff"], SUBSIDY_CHANGE) == []
    keys = set(db.session.scalars(select(Notice.dedupe_key).where(Notice.kind == SUBSIDY_CHANGE)))
    old_id, policy_id = subsidised["old_compound"].id, subsidised["area_policy"].id
    assert f"subsidy-drop-{policy_id}-{old_id}-2026-07-01" in keys
    assert f"subsidy-drop-{policy_id}-{old_id}-2027-07-01" in keys


def test_the_end_of_the_transition_period_is_told_as_a_drop_to_nothing(app, subsidised):
    run_at(app, send_reminders, beijing(2028, 6, 20))

    assert bodies(subsidised["old"][0], SUBSIDY_CHANGE) == ["下月起补贴比例由10%调整为0%，请留意账单金额的变化。"]


def test_an_inactive_policy_tells_nobody(app, subsidised):
    subsidised["area_policy"].is_active = False
    db.session.commit()

    result = run_at(app, send_reminders, beijing(2026, 6, 20))

    assert result["tier_drops"] == 0
    assert bodies(subsidised["old"][0], SUBSIDY_CHANGE) == []


def test_fee_notices_carry_one_dedupe_key_each(app, estate):
    run_at(app, issue_bills, BILLS_DEC)
    run_at(app, send_reminders, beijing(2026, 12, 8))

    assert db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.dedupe_key == bill_notice_key(estate.compound.id, date(2026, 12, 1)))) == 1
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == FEE_REMINDER)) == 1
