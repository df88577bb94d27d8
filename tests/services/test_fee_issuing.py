"""Fee schedules and bill issuing as use cases: a rerun issues nothing new, a fee change never rewrites issued
bills, monthly / quarterly / yearly periods with their due dates, amounts rounded half-up once, each household
kind by its own schedule, compounds that charge nothing, periods already covered, batches, progress logged."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from backend.domain.compounds import HouseholdKind, ManagementModel
from backend.domain.consultations import MeetingKind
from backend.domain.fees import BillingCycle, BillStatus, FeeRefused
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Bill, Compound, FeeSchedule, Household
from backend.services import fees as service
from backend.services import meetings as meeting_service
from backend.shared.clock import utcnow
from tests.fees_support import make_schedule
from tests.support import buildings_of

pytestmark = pytest.mark.calendar

# make_compound's households are 81.25, 82.50, 83.75 and 85.00 m² (in 0.01 m²) in each building.
AREAS = (8125, 8250, 8375, 8500)


def households_of(compound: Compound) -> list[Household]:
    return list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ))


def bills_of(compound: Compound) -> list[Bill]:
    return list(db.session.scalars(
        select(Bill).where(Bill.compound_id == compound.id).order_by(Bill.period_start, Bill.household_id)
    ))


def snapshot(compound: Compound) -> list[tuple]:
    return [(bill.id, bill.household_id, bill.schedule_id, bill.period_start, bill.months, bill.period_end,
             bill.standard_fen_per_m2, bill.amount_fen, bill.original_amount_fen, bill.due_date)
            for bill in bills_of(compound)]


def add_household(compound: Compound, room: str, area: int, kind: HouseholdKind = HouseholdKind.RESIDENTIAL):
    household = Household(compound_id=compound.id, building_id=buildings_of(compound)[0].id, unit="",
                          room=room, floor_area_centi_m2=area, kind=kind)
    db.session.add(household)
    db.session.commit()
    return household


@pytest.fixture
def compound(make_compound):
    return make_compound(buildings=1, households_per_building=4)


# ---- issuing twice -------------------------------------------------------------------------------------


def test_issuing_twice_gives_the_same_bills(compound):
    make_schedule(compound, standard_fen_per_m2=150)

    first = service.issue_bills(date(2026, 12, 1))
    bills = snapshot(compound)
    second = service.issue_bills(date(2026, 12, 1))
    later_that_month = service.issue_bills(date(2026, 12, 20))

    assert first == [service.IssuedPeriod(compound_id=compound.id, period_start=date(2026, 12, 1), issued=4)]
    assert second == later_that_month == []
    assert snapshot(compound) == bills
    assert [amount for *_, amount, _, _ in bills] == [12188, 12375, 12563, 12750]


def test_issuing_a_period_again_directly_inserts_nothing(compound):
    schedule = make_schedule(compound)

    assert service.issue_period(schedule, date(2026, 12, 1)) == 4
    assert service.issue_period(schedule, date(2026, 12, 1)) == 0
    assert len(bills_of(compound)) == 4


def test_a_fee_change_leaves_issued_bills_alone_and_the_next_period_uses_the_new_standard(compound, make_user):
    old = make_schedule(compound, standard_fen_per_m2=150, effective_from=date(2026, 1, 1))
    for month in range(1, 7):
        service.issue_bills(date(2026, month, 1))
    before = snapshot(compound)

    new = make_schedule(compound, standard_fen_per_m2=180, effective_from=date(2026, 7, 1))
    service.issue_bills(date(2026, 6, 15))
    assert snapshot(compound) == before

    service.issue_bills(date(2026, 7, 1))
    july = [bill for bill in bills_of(compound) if bill.period_start == date(2026, 7, 1)]
    assert snapshot(compound)[:24] == before
    assert {(bill.schedule_id, bill.standard_fen_per_m2) for bill in july} == {(new.id, 180)}
    assert [bill.amount_fen for bill in july] == [14625, 14850, 15075, 15300]
    assert {bill.schedule_id for bill in bills_of(compound)[:24]} == {old.id}


# ---- periods, due dates and amounts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "today", "period_start", "months", "period_end", "due"),
    [
        (BillingCycle.MONTHLY, date(2026, 12, 9), date(2026, 12, 1), 1, date(2027, 1, 1), date(2026, 12, 10)),
        (BillingCycle.QUARTERLY, date(2026, 11, 30), date(2026, 10, 1), 3, date(2027, 1, 1), date(2026, 10, 10)),
        (BillingCycle.YEARLY, date(2026, 5, 20), date(2026, 1, 1), 12, date(2027, 1, 1), date(2026, 1, 10)),
    ],
)
def test_each_cycle_bills_its_period_with_its_due_date(compound, cycle, today, period_start, months, period_end,
                                                         due):
    make_schedule(compound, standard_fen_per_m2=150, cycle=cycle, due_day=10)

    service.issue_bills(today)

    bills = bills_of(compound)
    assert {(bill.period_start, bill.months, bill.period_end, bill.due_date, bill.status) for bill in bills} == {
        (period_start, months, period_end, due, BillStatus.UNPAID)}
    assert [bill.floor_area_centi_m2 for bill in bills] == list(AREAS)


def test_a_bill_is_rounded_half_up_once_over_all_its_months(compound):
    make_schedule(compound, standard_fen_per_m2=150, cycle=BillingCycle.QUARTERLY)

    service.issue_bills(date(2026, 10, 1))

    # 81.25 m² × 1.50 元 × 3 = 365.625 元 → 365.63 (rounding each month first would give 3 × 121.88 = 365.64).
    assert [bill.amount_fen for bill in bills_of(compound)] == [36563, 37125, 37688, 38250]
    assert all(bill.original_amount_fen == bill.amount_fen for bill in bills_of(compound))


def test_a_yearly_bill_of_a_very_large_household_does_not_overflow(compound):
    big = add_household(compound, "商场", 10_000_000)
    make_schedule(compound, standard_fen_per_m2=1000, cycle=BillingCycle.YEARLY)

    service.issue_bills(date(2026, 1, 1))

    bill = db.session.scalar(select(Bill).where(Bill.household_id == big.id))
    assert bill.amount_fen == 1_200_000_000


# ---- who gets a bill -----------------------------------------------------------------------------------


def test_commercial_households_are_billed_by_their_own_schedule(compound):
    shop = add_household(compound, "商铺1", 6000, HouseholdKind.COMMERCIAL)
    make_schedule(compound, standard_fen_per_m2=150)
    commercial = make_schedule(compound, standard_fen_per_m2=300, kind=HouseholdKind.COMMERCIAL, due_day=5)

    issued = service.issue_bills(date(2026, 12, 1))

    assert sorted(period.issued for period in issued) == [1, 4]
    bill = db.session.scalar(select(Bill).where(Bill.household_id == shop.id))
    assert (bill.schedule_id, bill.amount_fen, bill.due_date) == (commercial.id, 18000, date(2026, 12, 5))
    assert len(bills_of(compound)) == 5


def test_a_household_kind_without_a_schedule_gets_nothing(compound):
    shop = add_household(compound, "商铺1", 6000, HouseholdKind.COMMERCIAL)
    make_schedule(compound)

    service.issue_bills(date(2026, 12, 1))

    assert db.session.scalar(select(Bill).where(Bill.household_id == shop.id)) is None
    assert len(bills_of(compound)) == 4


def test_a_schedule_not_yet_in_force_issues_nothing(compound):
    make_schedule(compound, effective_from=date(2027, 1, 1))

    assert service.issue_bills(date(2026, 12, 31)) == []
    assert bills_of(compound) == []


def test_a_community_fallback_compound_charges_nothing_by_default(make_compound):
    fallback = make_compound(model=ManagementModel.COMMUNITY_FALLBACK, buildings=1, households_per_building=2)
    schedule = make_schedule(fallback)

    assert schedule.charges_fees is False
    assert service.issue_bills(date(2026, 12, 1)) == []
    assert bills_of(fallback) == []


def test_a_community_fallback_compound_that_decided_to_charge_is_billed(make_compound):
    fallback = make_compound(model=ManagementModel.COMMUNITY_FALLBACK, buildings=1, households_per_building=2)
    make_schedule(fallback, charges_fees=True)

    service.issue_bills(date(2026, 12, 1))

    assert len(bills_of(fallback)) == 2


def test_a_compound_that_stops_charging_gets_no_more_bills(compound):
    make_schedule(compound, effective_from=date(2026, 1, 1))
    service.issue_bills(date(2026, 11, 1))
    make_schedule(compound, effective_from=date(2026, 12, 1), charges_fees=False)

    assert service.issue_bills(date(2026, 12, 1)) == []
    assert {bill.period_start for bill in bills_of(compound)} == {date(2026, 11, 1)}


def test_a_new_cycle_cannot_start_inside_issued_periods(compound):
    make_schedule(compound, cycle=BillingCycle.YEARLY, effective_from=date(2026, 1, 1))
    service.issue_bills(date(2026, 1, 1))

    with pytest.raises(FeeRefused) as refused:
        make_schedule(compound, cycle=BillingCycle.MONTHLY, effective_from=date(2026, 7, 1))
    assert (refused.value.status, refused.value.message) == (
        409, "2027年1月之前的账单已按原周期开具，更改计费周期须从此后生效")
    db.session.rollback()

    make_schedule(compound, cycle=BillingCycle.MONTHLY, effective_from=date(2027, 1, 1))
    assert service.issue_bills(date(2027, 1, 1))[0].issued == 4


def test_a_household_with_any_month_of_a_period_billed_gets_no_overlapping_bill(compound):
    """A quarter's bill is not issued over a month already billed (the household would pay that month twice)."""
    monthly = make_schedule(compound, cycle=BillingCycle.MONTHLY, effective_from=date(2026, 1, 1))
    service.issue_period(monthly, date(2026, 5, 1))
    quarterly = make_schedule(compound, cycle=BillingCycle.QUARTERLY, effective_from=date(2026, 7, 1))

    assert service.issue_period(quarterly, date(2026, 4, 1)) == 0
    assert service.issue_period(quarterly, date(2026, 7, 1)) == 4


def test_issuing_in_batches_gives_the_same_bills_and_logs_each_batch(make_compound, monkeypatch, caplog):
    monkeypatch.setattr(service, "ISSUE_BATCH", 3)
    caplog.set_level(logging.INFO, logger="linli.fees")
    batched = make_compound(buildings=2, households_per_building=4)
    whole = make_compound(buildings=2, households_per_building=4)
    make_schedule(batched)
    make_schedule(whole)

    service.issue_period(service.schedule_in_force(batched.id, HouseholdKind.RESIDENTIAL, date(2026, 12, 1)),
                         date(2026, 12, 1))
    monkeypatch.setattr(service, "ISSUE_BATCH", 5_000)
    service.issue_period(service.schedule_in_force(whole.id, HouseholdKind.RESIDENTIAL, date(2026, 12, 1)),
                         date(2026, 12, 1))

    def amounts(compound: Compound) -> list[int]:
        return [bill.amount_fen for bill in bills_of(compound)]

    assert len(amounts(batched)) == 8 and amounts(batched) == amounts(whole)
    progress = [record.getMessage() for record in caplog.records
                if record.name == "linli.fees" and f"compound {batched.id} " in record.getMessage()]
    assert progress == [
        f"bills: compound {batched.id} residential 2026-12-01: {done}/8 households done, {issued} issued"
        for done, issued in ((3, 3), (6, 6), (8, 8))
    ]


def test_a_rerun_in_batches_skips_what_the_first_run_issued(compound, monkeypatch):
    monkeypatch.setattr(service, "ISSUE_BATCH", 3)
    schedule = make_schedule(compound)
    service.issue_period(schedule, date(2026, 12, 1))
    added = add_household(compound, "701", 9100)

    assert service.issue_period(schedule, date(2026, 12, 1)) == 1
    assert db.session.scalar(select(Bill.amount_fen).where(Bill.household_id == added.id)) == 13650


# ---- schedules -----------------------------------------------------------------------------------------


def test_creating_a_schedule_is_audited_with_what_it_replaces(compound, make_user):
    committee = make_user(Role.COMMITTEE, compound)
    first = make_schedule(compound, standard_fen_per_m2=150, actor_id=committee.id)
    second = make_schedule(compound, standard_fen_per_m2=180, effective_from=date(2027, 1, 1),
                           actor_id=committee.id)

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fee_schedule.create").order_by(AuditEvent.id)
    ).all()
    assert [(event.target_id, event.actor_id, event.compound_id) for event in events] == [
        (first.id, committee.id, compound.id), (second.id, committee.id, compound.id)]
    assert events[0].before is None
    assert events[1].before["standard_fen_per_m2"] == 150
    assert events[1].after["standard_fen_per_m2"] == 180
    assert events[1].after["effective_from"] == "2027-01-01"


@pytest.mark.parametrize(("cycle", "effective_from"), [
    (BillingCycle.MONTHLY, date(2026, 12, 2)),
    (BillingCycle.QUARTERLY, date(2026, 11, 1)),
    (BillingCycle.YEARLY, date(2026, 7, 1)),
])
def test_a_schedule_must_start_with_a_period_of_its_cycle(compound, cycle, effective_from):
    with pytest.raises(FeeRefused) as refused:
        make_schedule(compound, cycle=cycle, effective_from=effective_from)

    assert refused.value.status == 422
    db.session.rollback()
    assert db.session.scalars(select(FeeSchedule).where(FeeSchedule.compound_id == compound.id)).all() == []


def test_the_same_kind_and_day_cannot_have_two_schedules(compound):
    make_schedule(compound)

    with pytest.raises(FeeRefused) as refused:
        make_schedule(compound, standard_fen_per_m2=200)

    assert refused.value.status == 409


def hearing(compound: Compound, convener_id: int, kind: MeetingKind = MeetingKind.HEARING) -> int:
    meeting = meeting_service.create_meeting(
        compound_id=compound.id, convener_id=convener_id, kind=kind, title="物业费调整听证会",
        agenda="物业费由1.50元调整为1.80元", starts_at=utcnow() + timedelta(days=3), place="党群服务站",
    )
    return meeting.id


def test_a_schedule_links_a_hearing_of_its_own_compound_only(compound, make_compound, make_user):
    other = make_compound()
    ours = hearing(compound, make_user(Role.COMMITTEE, compound).id)
    theirs = hearing(other, make_user(Role.COMMITTEE, other).id)
    deliberation = hearing(compound, make_user(Role.COMMITTEE, compound).id, MeetingKind.DELIBERATION)

    for meeting_id in (theirs, deliberation):
        with pytest.raises(FeeRefused) as refused:
            service.create_schedule(compound, service.ScheduleDraft(
                household_kind=HouseholdKind.RESIDENTIAL, standard_fen_per_m2=180,
                effective_from=date(2027, 1, 1), cycle=BillingCycle.MONTHLY, due_day=15, charges_fees=None,
                hearing_meeting_id=meeting_id, note=""), actor_id=None, ip=None)
        assert refused.value.status == 422
        db.session.rollback()

    schedule = service.create_schedule(compound, service.ScheduleDraft(
        household_kind=HouseholdKind.RESIDENTIAL, standard_fen_per_m2=180, effective_from=date(2027, 1, 1),
        cycle=BillingCycle.MONTHLY, due_day=15, charges_fees=None, hearing_meeting_id=ours, note="听证会通过"),
        actor_id=None, ip=None)
    assert schedule.hearing_meeting_id == ours
