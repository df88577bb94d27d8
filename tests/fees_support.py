"""Fee data for tests, with the tests' defaults: a compound's schedule, its bills for a period, a subsidy policy.
Made by the factories the demo uses (backend.demo.factories), through the services the app uses, so a test's
bills are the ones the cron job would issue."""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from rq import Queue
from sqlalchemy import select

from backend.demo import factories
from backend.domain.compounds import HouseholdKind
from backend.domain.fees import BillingCycle, PaymentMethod
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.models import Bill, Compound, FeeSchedule, PaymentOrder, PaymentOrderBill, SubsidyPolicy
from backend.services import fees as fee_service
from backend.services.payment_orders import FOLLOW_UP_PAYMENT_JOB
from backend.services.queueing import push_committed_jobs

# 50%, 30%, 10% for 12 months each: the issue's example.
TAPERING = [SubsidyTier(months=12, rate_bp=5000), SubsidyTier(months=12, rate_bp=3000),
            SubsidyTier(months=12, rate_bp=1000)]


def make_schedule(compound: Compound, standard_fen_per_m2: int = 150, effective_from: date = date(2026, 1, 1),
                  cycle: BillingCycle = BillingCycle.MONTHLY, due_day: int = 15,
                  kind: HouseholdKind = HouseholdKind.RESIDENTIAL, charges_fees: bool | None = None,
                  actor_id: int | None = None) -> FeeSchedule:
    return factories.make_schedule(compound, kind, standard_fen_per_m2, effective_from, cycle, due_day,
                                   charges_fees=charges_fees, actor_id=actor_id)


def issue_bills_for(compound: Compound, period_start: date,
                    kind: HouseholdKind = HouseholdKind.RESIDENTIAL) -> list[Bill]:
    """The compound's bills for the period starting `period_start` (issued by its schedule in force then)."""
    return factories.issue_bills(fee_service.schedule_in_force(compound.id, kind, period_start), period_start)


def make_policy(*, area_id: int | None = None, compound_id: int | None = None, name: str = "过渡期物业费补贴",
                period_start: date = date(2025, 7, 1), tiers: list[SubsidyTier] | None = None,
                cap_fen_per_month: int | None = None, budget_fen: int | None = None,
                built_before_year: int | None = None, management_models: list[str] | None = None,
                actor_id: int | None = None) -> SubsidyPolicy:
    return factories.make_policy(
        name, period_start, tiers or TAPERING, area_id=area_id, compound_id=compound_id,
        built_before_year=built_before_year, management_models=management_models or (),
        cap_fen_per_month=cap_fen_per_month, budget_fen=budget_fen, actor_id=actor_id,
    )


def orders_of(bill_id: int) -> list[PaymentOrder]:
    """Every order with the bill among its lines, oldest first."""
    return list(db.session.scalars(
        select(PaymentOrder).join(PaymentOrderBill, PaymentOrderBill.order_id == PaymentOrder.id)
        .where(PaymentOrderBill.bill_id == bill_id).order_by(PaymentOrder.id)
    ))


def add_order(bill: Bill, payer_id: int, out_trade_no: str, amount_fen: int, expires_at: datetime,
              prepay_id: str = "") -> PaymentOrder:
    """An order of the one bill written straight to the session (what a request would believe it may do)."""
    order = PaymentOrder(out_trade_no=out_trade_no, compound_id=bill.compound_id, household_id=bill.household_id,
                         provider=PaymentMethod.SANDBOX, amount_fen=amount_fen, payer_id=payer_id,
                         prepay_id=prepay_id, expires_at=expires_at)
    db.session.add(order)
    db.session.flush()
    db.session.add(PaymentOrderBill(order_id=order.id, bill_id=bill.id, amount_fen=amount_fen))
    return order


def follow_up_payments() -> int:
    """Run the follow-up jobs recorded online payments pushed to Redis (their subsidies granted and posted, their
    payments posted, due reminders withdrawn, 缴费成功), as the worker does a moment later; how many ran. Only
    those jobs: whatever else is queued is left for the test to run or not."""
    push_committed_jobs()
    queue = Queue("high", connection=current_app.extensions["linli_redis"])
    jobs = [job for job in queue.get_jobs() if job.func_name == FOLLOW_UP_PAYMENT_JOB]
    for job in jobs:
        queue.remove(job)
        job.perform()
    return len(jobs)
