"""The demo's property fees: schedules from January, the district's 先买后补 policy, bills for the last three
months and the current one, partly paid online through the sandbox and in cash, every figure adding up to the
fen; the demo owner has a paid bill with its receipt, an unpaid one with its subsidy, and an overdue one."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from backend.demo import DEMO_PASSWORD, load_demo
from backend.domain.compounds import AreaLevel, HouseholdKind
from backend.domain.fees import (
    CYCLE_MONTHS,
    BillingCycle,
    BillStatus,
    GrantStatus,
    PaymentMethod,
    bill_amount_fen,
    period_start_for,
)
from backend.domain.roles import Role
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.models import (
    Area,
    AuditEvent,
    Bill,
    Compound,
    FeeSchedule,
    Household,
    Membership,
    Payment,
    PaymentOrder,
    SubsidyGrant,
    SubsidyPolicy,
    User,
)
from backend.services import fees as fee_service
from backend.services import subsidies as subsidy_service
from backend.shared.clock import SHANGHAI, utcnow

CAP_FEN, BUDGET_FEN, SECOND_TIER_BP = 6000, 20_000_000, 3000


def _beijing_month() -> date:
    return utcnow().astimezone(SHANGHAI).date().replace(day=1)


def _compound(code: str) -> Compound:
    return db.session.scalar(select(Compound).where(Compound.code == code))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _home_of(username: str) -> int:
    return db.session.scalar(select(Membership.household_id).where(Membership.user_id == _user(username).id,
                                                                   Membership.role == Role.OWNER))


def _bills() -> list[Bill]:
    return list(db.session.scalars(select(Bill).order_by(Bill.id)))


def _periods(compound: Compound) -> list[date]:
    return sorted(fee_service.billed_periods(compound.id))


@pytest.mark.calendar
def test_the_demo_bills_every_household_for_the_last_three_months_and_this_one(demo, app):
    this_month = _beijing_month()
    months = [add_months(this_month, back) for back in (-3, -2, -1, 0)]
    yangguang, wushisi = _compound("yangguang"), _compound("wushisi")

    schedules = {(row.compound_id, row.household_kind): row for row in db.session.scalars(select(FeeSchedule))}
    assert set(schedules) == {(yangguang.id, HouseholdKind.RESIDENTIAL), (yangguang.id, HouseholdKind.COMMERCIAL),
                              (wushisi.id, HouseholdKind.RESIDENTIAL)}
    assert {row.effective_from for row in schedules.values()} == {date(months[0].year, 1, 1)}
    assert schedules[yangguang.id, HouseholdKind.RESIDENTIAL].cycle is BillingCycle.MONTHLY
    assert schedules[wushisi.id, HouseholdKind.RESIDENTIAL].cycle is BillingCycle.QUARTERLY
    assert _periods(yangguang) == months
    assert _periods(wushisi) == sorted({period_start_for(month, BillingCycle.QUARTERLY) for month in months})
    households = {home.id: home for home in db.session.scalars(select(Household))}
    shops = [home for home in households.values() if home.kind is HouseholdKind.COMMERCIAL]
    assert shops and {home.compound_id for home in shops} == {yangguang.id}
    per_household = defaultdict(list)
    for bill in _bills():
        home = households[bill.household_id]
        schedule = schedules[home.compound_id, home.kind]
        per_household[home.id].append(bill.period_start)
        assert (bill.compound_id, bill.schedule_id, bill.months) == (
            home.compound_id, schedule.id, CYCLE_MONTHS[schedule.cycle])
        assert (bill.floor_area_centi_m2, bill.standard_fen_per_m2) == (
            home.floor_area_centi_m2, schedule.standard_fen_per_m2)
        assert bill.original_amount_fen == bill_amount_fen(home.floor_area_centi_m2, schedule.standard_fen_per_m2,
                                                           bill.months)
        assert bill.due_date == bill.period_start.replace(day=15)
        assert bill.period_end == add_months(bill.period_start, bill.months)
    assert set(per_household) == set(households)
    assert {home: sorted(starts) for home, starts in per_household.items()} == {
        home.id: _periods(yangguang if home.compound_id == yangguang.id else wushisi) for home in households.values()
    }
    # The cron job, run when `make run` starts, finds the current period already issued.
    assert fee_service.issue_bills(utcnow().astimezone(SHANGHAI).date()) == []


@pytest.mark.calendar
def test_every_demo_bill_adds_up_to_the_fen_and_the_budget_is_never_overspent(demo, app):
    policy = db.session.scalar(select(SubsidyPolicy))
    grants = {grant.bill_id: grant for grant in db.session.scalars(select(SubsidyGrant))}
    payments = defaultdict(list)
    for payment in db.session.scalars(select(Payment)):
        payments[payment.bill_id].append(payment)
    bills = _bills()

    district = db.session.get(Area, policy.area_id)
    assert (district.level, policy.built_before_year, policy.cap_fen_per_month, policy.budget_fen) == (
        AreaLevel.DISTRICT, 2000, CAP_FEN, BUDGET_FEN)
    assert policy.tiers == [[12, 5000], [12, 3000], [12, 1000]]
    paid = [bill for bill in bills if bill.status is BillStatus.PAID]
    assert paid
    for bill in paid:
        grant = grants[bill.id]
        [payment] = payments[bill.id]
        assert grant.status is GrantStatus.GRANTED and grant.amount_fen == bill.subsidy_fen == payment.subsidy_fen
        assert payment.amount_fen == bill.paid_fen == bill.amount_fen - bill.subsidy_fen
        assert bill.amount_fen == bill.original_amount_fen and bill.outstanding_fen == bill.overpaid_fen == 0
        assert sum(month["amount_fen"] for month in grant.per_month) == bill.amount_fen
        assert sum(month["subsidy_fen"] for month in grant.per_month) == grant.amount_fen
        assert all(month["rate_bp"] == SECOND_TIER_BP for month in grant.per_month)
        assert all(month["subsidy_fen"] <= CAP_FEN for month in grant.per_month)
        assert grant.settlement_month == payment.paid_at.astimezone(SHANGHAI).date().replace(day=1)
    # The cap holds some shops' months back from 30 %; every home's month gets its full 30 %.
    capped = [month for bill in paid for month in grants[bill.id].per_month if month["subsidy_fen"] == CAP_FEN]
    assert capped and all(month["amount_fen"] * SECOND_TIER_BP // 10_000 >= CAP_FEN for month in capped)
    assert policy.committed_fen == sum(grant.amount_fen for grant in grants.values()) <= policy.budget_fen
    assert set(grants) == {bill.id for bill in paid}
    unpaid = [bill for bill in bills if bill.status is BillStatus.UNPAID]
    assert unpaid and all((bill.subsidy_fen, bill.paid_fen, payments[bill.id]) == (0, 0, []) for bill in unpaid)
    [waived] = [bill for bill in bills if bill.status is BillStatus.WAIVED]
    assert waived.adjust_reason and (waived.paid_fen, payments[waived.id]) == (0, [])
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "bill.waive", AuditEvent.target_id == waived.id)) == 1


@pytest.mark.calendar
def test_every_demo_period_is_partly_paid_online_through_the_sandbox_and_in_cash_at_the_desk(demo, app):
    members = {(row.user_id, row.household_id) for row in db.session.execute(
        select(Membership.user_id, Membership.household_id).where(
            Membership.role.in_((Role.OWNER, Role.RESIDENT)), Membership.verified_at.is_not(None)))}
    staff = {(row.user_id, row.compound_id) for row in db.session.scalars(
        select(Membership).where(Membership.role == Role.STAFF))}

    for code in ("yangguang", "wushisi"):
        compound = _compound(code)
        for period in _periods(compound):
            rate = fee_service.collection(compound.id, period)
            assert 0 < rate.paid_households < rate.billed_households, (code, period)
            assert 0 < rate.paid_fen < rate.billed_fen, (code, period)
    payments = list(db.session.scalars(select(Payment)))
    assert {payment.method for payment in payments} == {PaymentMethod.SANDBOX, PaymentMethod.CASH, PaymentMethod.BANK}
    for payment in payments:
        if payment.method is PaymentMethod.SANDBOX:
            order = db.session.get(PaymentOrder, payment.order_id)
            assert payment.transaction_id and order.paid_at == payment.paid_at and order.amount_fen == payment.amount_fen
            assert (order.payer_id, payment.household_id) in members
        else:
            assert payment.offline_receipt_no and payment.order_id is None
            assert (payment.recorded_by_id, payment.compound_id) in staff
    offline = [payment.id for payment in payments if payment.method is not PaymentMethod.SANDBOX]
    audited = db.session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "payment.offline"))
    assert sorted(audited) == sorted(offline)
    assert any(payment.compound_id == _compound("wushisi").id for payment in payments if payment.id in offline)
    assert all(payment.paid_at <= utcnow() for payment in payments)


@pytest.mark.calendar
def test_the_demo_owner_sees_a_paid_bill_with_a_receipt_an_unpaid_one_with_the_subsidy_and_an_overdue_one(
    demo, app, client
):
    compound = _compound("yangguang")
    signed_in = client.post("/api/v1/auth/password", json={"username": "owner", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}

    bills = client.get(f"/api/v1/compounds/{compound.id}/my-bills", headers=headers)

    assert bills.status_code == 200
    assert [bill["household_id"] for bill in bills.json] == [_home_of("owner")] * 4
    assert [bill["status"] for bill in bills.json] == ["unpaid", "unpaid", "paid", "paid"]
    current, last_month = bills.json[0], bills.json[1]
    assert last_month["overdue"] is True
    assert current["overdue"] is (utcnow().astimezone(SHANGHAI).day > 15)
    unpaid = client.get(f"/api/v1/bills/{current['id']}", headers=headers).json
    assert unpaid["subsidy"]["fixed"] is False and unpaid["payments"] == []
    assert [month["rate_bp"] for month in unpaid["subsidy"]["per_month"]] == [SECOND_TIER_BP]
    assert 0 < unpaid["subsidy"]["subsidy_fen"] < unpaid["amount_fen"]
    assert "pay" in unpaid["actions"]
    methods = []
    for summary in bills.json[2:]:
        bill = client.get(f"/api/v1/bills/{summary['id']}", headers=headers).json
        [line] = bill["payments"]
        receipt = client.get(f"/api/v1/payments/{line['id']}/receipt", headers=headers)
        assert receipt.status_code == 200
        assert receipt.json["subsidy_fen"] + receipt.json["amount_fen"] == receipt.json["bill_amount_fen"]
        assert receipt.json["subsidy_fen"] == bill["subsidy"]["subsidy_fen"] > 0 and bill["subsidy"]["fixed"]
        methods.append(receipt.json["method"])
    assert methods == ["cash", "sandbox"]


@pytest.mark.calendar
def test_the_street_settlement_holds_every_granted_subsidy_month_by_month(demo, app):
    street = db.session.scalar(select(Area).where(Area.level == AreaLevel.STREET))
    granted = db.session.scalars(select(SubsidyGrant).where(SubsidyGrant.status == GrantStatus.GRANTED)).all()

    settlement = subsidy_service.settlement(street, None)

    assert settlement.total_fen == sum(grant.amount_fen for grant in granted)
    assert {row.compound_name for row in settlement.rows} == {"阳光花园小区", "五十四街坊"}
    assert len({row.month for row in settlement.rows}) >= 4
    assert {row.street_id for row in settlement.rows} == {street.id}
    [policy] = settlement.policies
    assert policy["granted_fen"] == policy["committed_fen"] == settlement.total_fen
    assert policy["budget_left_fen"] == BUDGET_FEN - settlement.total_fen


# Not `calendar`: it travels to moments of its own.
@pytest.mark.parametrize("moment", [
    datetime(2027, 1, 3, 2, 0, tzinfo=UTC),  # a new year's third day: last year's months, a month barely begun
    datetime(2026, 12, 31, 16, 10, tzinfo=UTC),  # ten minutes into a Beijing new year, still the old one in UTC
])
def test_the_demo_loads_on_any_day_with_every_period_partly_paid(app, moment):
    with time_machine.travel(moment, tick=True):
        load_demo()
        this_month = _beijing_month()
        loaded_at = utcnow()

    assert this_month == date(2027, 1, 1)
    assert _periods(_compound("yangguang")) == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1),
                                                date(2027, 1, 1)]
    assert _periods(_compound("wushisi")) == [date(2026, 10, 1), date(2027, 1, 1)]
    for code in ("yangguang", "wushisi"):
        compound = _compound(code)
        for period in _periods(compound):
            rate = fee_service.collection(compound.id, period)
            assert 0 < rate.paid_households < rate.billed_households, (code, period)
    assert all(bill.issued_at < loaded_at for bill in _bills())
    assert all(payment.paid_at < loaded_at for payment in db.session.scalars(select(Payment)))
