"""The demo's property fees (先买后补): schedules from January, the district's subsidy policy, bills for the last
three months and the current one, and payments spread over them through the services the app uses."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import Row, select

from backend.demo import factories
from backend.demo.people import People
from backend.demo.places import Places
from backend.domain.compounds import AreaLevel, HouseholdKind
from backend.domain.fees import BillingCycle, PaymentMethod, period_start_for
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier, add_months
from backend.extensions import db
from backend.models import Bill, BindingRequest, Compound, Household, RegisteredOwner, User
from backend.services import fees as fee_service
from backend.services import payments as payment_service
from backend.services import subsidies as subsidy_service
from backend.services.payment_orders import follow_up_payment
from backend.shared.clock import SHANGHAI

# Bills for the last three months and the current one.
DEMO_FEE_MONTHS = 4
# Shops along the road at 阳光花园, on the commercial schedule: (room, floor area in 0.01 m²). The larger ones
# reach the subsidy's cap.
_SHOPS = (("101", 4850), ("102", 6200), ("103", 9650), ("104", 12800), ("105", 15500), ("106", 7300))
_SHOP_STANDARD_FEN = 200
# The district's policy: 50 %, 30 %, 10 % for a year each, at most 60 元 a household a month.
_DEMO_TIERS = (SubsidyTier(months=12, rate_bp=5000), SubsidyTier(months=12, rate_bp=3000),
               SubsidyTier(months=12, rate_bp=1000))
_DEMO_CAP_FEN = 6000
_DEMO_BUDGET_FEN = 20_000_000
# Share of the households that have paid each of a compound's periods by now, the oldest first.
_PAID_SHARE = {BillingCycle.MONTHLY: (0.9, 0.8, 0.66, 0.34), BillingCycle.QUARTERLY: (0.86, 0.46)}
# One household in twelve pays nothing at all (the arrears list); most who can pay online do.
_NEVER_PAYS, _ONLINE_SHARE, _CASH_SHARE = 1 / 12, 0.75, 0.8
_WAIVER_REASON = "低保户，经业委会研究减免本期物业费"
# Bills are issued at least this long before now, and paid in between.
_EARLIEST_PAYMENT = timedelta(hours=2)


@dataclass(frozen=True)
class _PlannedPayment:
    at: datetime
    # The bill's columns as a plain row: ORM bills held across the payments' commits would be expired and
    # reloaded at every one of them.
    bill: Row
    # The verified resident paying online through the sandbox; None for cash or a transfer taken by staff.
    payer_id: int | None = None
    method: PaymentMethod = PaymentMethod.SANDBOX


def _beijing(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def make_fees(places: Places, people: People, now: datetime) -> int:
    """Fee schedules from January, the district's 先买后补 policy, bills for the last three months and the
    current one, and payments spread over them through the services the app uses: online through the sandbox
    by verified residents, cash and bank transfers recorded by staff. Every period is partly paid. The demo
    owner paid one month online and one in cash, and owes an overdue month and the current one. Returns the
    user id of the second compound's cashier (staff2), who takes its cash."""
    rng = random.Random(20261126)
    first, second = places.first, places.second
    crew, accounts, homes = people.crew, people.accounts, people.homes
    this_month = now.astimezone(SHANGHAI).date().replace(day=1)
    months = [add_months(this_month, back) for back in range(1 - DEMO_FEE_MONTHS, 1)]
    # January of the first billed month's year starts a month, a quarter and a year alike.
    effective_from = date(months[0].year, 1, 1)
    # The policy began a first tier before the earliest billed quarter, so every billed month (the oldest
    # quarter's first to the current quarter's last: at most 8 months) falls in its second tier (30 %) on
    # any day the demo is loaded.
    policy_start = add_months(period_start_for(months[0], BillingCycle.QUARTERLY), -_DEMO_TIERS[0].months)
    shops = factories.make_building(first, "临街商铺")
    factories.make_households(shops, [("1", room, area) for room, area in _SHOPS], kind=HouseholdKind.COMMERCIAL)
    cashier = factories.make_user("staff2", "何会计（五十四街坊收费员）", people.password_hash)
    factories.grant_role(cashier, Role.STAFF, compound=second)
    cashier_id = cashier.id
    db.session.commit()
    collectors = {first.id: crew["staff"], second.id: cashier_id}

    schedules = [
        factories.make_schedule(first, HouseholdKind.RESIDENTIAL, first.fee_standard_fen_per_m2, effective_from,
                                BillingCycle.MONTHLY, 15, note="按物业服务合同约定的收费标准", actor_id=crew["committee"]),
        factories.make_schedule(first, HouseholdKind.COMMERCIAL, _SHOP_STANDARD_FEN, effective_from,
                                BillingCycle.MONTHLY, 15, note="临街商铺", actor_id=crew["committee"]),
        factories.make_schedule(second, HouseholdKind.RESIDENTIAL, second.fee_standard_fen_per_m2, effective_from,
                                BillingCycle.QUARTERLY, 15, note="信托制物业，按季收取",
                                actor_id=accounts["official"]),
    ]
    factories.make_policy(
        "东区老旧小区物业费过渡期补贴（先买后补）", policy_start, _DEMO_TIERS,
        area_id=places.areas[AreaLevel.DISTRICT].id, built_before_year=2000, cap_fen_per_month=_DEMO_CAP_FEN,
        budget_fen=_DEMO_BUDGET_FEN, actor_id=accounts["admin"],
    )
    for schedule in schedules:
        for period_start in sorted({period_start_for(month, schedule.cycle) for month in months}):
            # Issued as the cron job issues them, 00:30 Beijing on the period's first day; in a month's first
            # hours a little earlier, so that some households have paid the current period too.
            issued_at = min(_beijing(period_start, 0, 30), now - _EARLIEST_PAYMENT)
            factories.issue_bills(schedule, period_start, now=issued_at)

    # A household's first resident in the demo pays its bills online (the owner before the tenant).
    payers: dict[int, int] = {}
    for username, home_id in homes.items():
        payers.setdefault(home_id, accounts[username])
    owner_home, owner2_home = homes["owner"], homes["owner2"]
    waived_home = _first_unclaimed(first, set(homes.values()))
    bills = db.session.execute(
        select(Bill.id, Bill.compound_id, Bill.household_id, Bill.period_start, Bill.months, Bill.due_date,
               Bill.issued_at)
        .where(Bill.compound_id.in_((first.id, second.id))).order_by(Bill.period_start, Bill.household_id)
    ).all()
    periods = {compound_id: sorted({bill.period_start for bill in bills if bill.compound_id == compound_id})
               for compound_id in (first.id, second.id)}
    never_pays = {household_id for household_id in sorted({bill.household_id for bill in bills})
                  if rng.random() < _NEVER_PAYS} - {owner_home, owner2_home}
    plan: list[_PlannedPayment] = []
    for bill in bills:
        index = periods[bill.compound_id].index(bill.period_start)
        if bill.household_id == owner_home:
            if index == 0:
                plan.append(_PlannedPayment(_paid_at(bill, rng, now), bill, accounts["owner"]))
            elif index == 1:
                plan.append(_PlannedPayment(_paid_at(bill, rng, now), bill, method=PaymentMethod.CASH))
            continue
        if bill.household_id == owner2_home:
            if index == 0:
                plan.append(_PlannedPayment(_paid_at(bill, rng, now), bill, accounts["owner2"]))
            continue
        if bill.household_id == waived_home and index == 1:
            fee_service.waive_bill(bill.id, _WAIVER_REASON, crew["committee"], None,
                                   now=bill.issued_at + timedelta(days=3))
            continue
        cycle = BillingCycle.QUARTERLY if bill.months == 3 else BillingCycle.MONTHLY
        if bill.household_id in never_pays or rng.random() >= _PAID_SHARE[cycle][index]:
            continue
        payer = payers.get(bill.household_id)
        if payer is not None and rng.random() < _ONLINE_SHARE:
            plan.append(_PlannedPayment(_paid_at(bill, rng, now), bill, payer))
        else:
            method = PaymentMethod.CASH if rng.random() < _CASH_SHARE else PaymentMethod.BANK
            plan.append(_PlannedPayment(_paid_at(bill, rng, now), bill, None, method))

    notify_url = current_app.config["LINLI_PUBLIC_URL"] + "/api/v1/payments/wechat/notify"
    receipts = dict.fromkeys(collectors, 0)
    for payment in sorted(plan, key=lambda payment: payment.at):
        bill = payment.bill
        if payment.payer_id is not None:
            payer = db.session.get(User, payment.payer_id)
            started = payment_service.start_payment(bill.id, payer, notify_url, now=payment.at)
            paid = payment_service.complete_sandbox_payment(started.order.id, payment.payer_id,
                                                            now=payment.at + timedelta(seconds=rng.randint(15, 90)))
            # What the payment's job does a moment later on a running worker.
            follow_up_payment(paid.receipt_id)
            continue
        # As at the desk: staff take what the page shows is owed after the subsidy, against a paper receipt.
        owed = db.session.get(Bill, bill.id)
        subsidy = subsidy_service.subsidy_view(owed)
        receipts[bill.compound_id] += 1
        payment_service.record_offline_payment(
            bill.id, payment.method, owed.amount_fen - (subsidy.subsidy_fen if subsidy else 0),
            f"SJ{payment.at.astimezone(SHANGHAI):%Y%m}{receipts[bill.compound_id]:04d}",
            collectors[bill.compound_id], None, now=payment.at,
        )
    return cashier_id


def _first_unclaimed(compound: Compound, lived_in: set[int]) -> int:
    """The compound's first household nobody in the demo lives in, on the register or has asked to join."""
    taken = lived_in | set(db.session.scalars(select(RegisteredOwner.household_id)))
    taken |= set(db.session.scalars(select(BindingRequest.household_id)))
    return db.session.scalar(
        select(Household.id).where(Household.compound_id == compound.id, Household.id.not_in(taken),
                                Household.kind == HouseholdKind.RESIDENTIAL).order_by(Household.id).limit(1)
    )


def _paid_at(bill: Row, rng: random.Random, now: datetime) -> datetime:
    """A daytime moment between the bill's issue and 20 days past its due date, at least a few minutes before
    now (an online payment completes a minute or so after it starts)."""
    latest = min(_beijing(bill.due_date, 0) + timedelta(days=20), now - timedelta(minutes=5))
    issued = bill.issued_at
    day = issued.astimezone(SHANGHAI).date() + timedelta(days=rng.randint(0, (latest - issued).days))
    at = _beijing(day, rng.randint(8, 20), rng.randint(0, 59))
    return at if issued < at <= latest else issued + (latest - issued) * rng.random()
