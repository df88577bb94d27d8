"""Fee data for tests: a compound's schedule, its bills for a period, a subsidy policy. Built through the
services the app uses, so a test's bills are the ones the cron job would issue."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from backend.domain.compounds import HouseholdKind
from backend.domain.fees import BillingCycle
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.models import Bill, Compound, FeeSchedule, SubsidyPolicy
from backend.services import fees as fee_service
from backend.services import subsidies as subsidy_service

# 50%, 30%, 10% for 12 months each: the issue's example.
TAPERING = [SubsidyTier(months=12, rate_bp=5000), SubsidyTier(months=12, rate_bp=3000),
            SubsidyTier(months=12, rate_bp=1000)]


def make_schedule(compound: Compound, standard_fen_per_m2: int = 150, effective_from: date = date(2026, 1, 1),
                  cycle: BillingCycle = BillingCycle.MONTHLY, due_day: int = 15,
                  kind: HouseholdKind = HouseholdKind.RESIDENTIAL, charges_fees: bool | None = None,
                  actor_id: int | None = None) -> FeeSchedule:
    return fee_service.create_schedule(
        compound,
        fee_service.ScheduleDraft(household_kind=kind, standard_fen_per_m2=standard_fen_per_m2,
                                  effective_from=effective_from, cycle=cycle, due_day=due_day,
                                  charges_fees=charges_fees, hearing_meeting_id=None, note=""),
        actor_id=actor_id, ip=None,
    )


def issue_bills_for(compound: Compound, period_start: date,
                    kind: HouseholdKind = HouseholdKind.RESIDENTIAL) -> list[Bill]:
    """The compound's bills for the period starting `period_start` (issued by its schedule in force then)."""
    schedule = fee_service.schedule_in_force(compound.id, kind, period_start)
    fee_service.issue_period(schedule, period_start)
    return list(db.session.scalars(
        select(Bill).where(Bill.compound_id == compound.id, Bill.period_start == period_start).order_by(Bill.id)
    ))


def make_policy(*, area_id: int | None = None, compound_id: int | None = None, name: str = "过渡期物业费补贴",
                period_start: date = date(2025, 7, 1), tiers: list[SubsidyTier] | None = None,
                cap_fen_per_month: int | None = None, budget_fen: int | None = None,
                built_before_year: int | None = None, management_models: list[str] | None = None,
                actor_id: int | None = None) -> SubsidyPolicy:
    return subsidy_service.create_policy(
        subsidy_service.PolicyDraft(
            name=name, area_id=area_id, compound_id=compound_id, built_before_year=built_before_year,
            management_models=management_models or [], period_start=period_start, tiers=tiers or TAPERING,
            cap_fen_per_month=cap_fen_per_month, budget_fen=budget_fen,
        ),
        actor_id=actor_id, ip=None,
    )
