"""Subsidy policies (先买后补) and their grants: which policy covers a compound, the subsidy fixed for a bill
under the policy's budget (never overspent, even with payments at the same instant), and the street's
settlement from the grant ledger."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select, update

from backend.domain.compounds import AreaLevel
from backend.domain.fees import (
    ABANDONED_HOLD_AFTER,
    BillStatus,
    FeeRefused,
    GrantStatus,
    SubsidyBusy,
    month_charges,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.subsidy import BillSplit, MonthSubsidy, SubsidyTier, is_eligible, split_bill
from backend.extensions import db
from backend.models import (
    Area,
    Bill,
    Compound,
    Membership,
    PaymentOrder,
    PaymentOrderBill,
    PropertyCompany,
    SubsidyGrant,
    SubsidyPolicy,
)
from backend.policy import ancestor_area_ids
from backend.services.audit import record_audit
from backend.shared.clock import SHANGHAI

# Compare-and-set attempts on a policy's committed total before giving up (PostgreSQL locks the row first, so
# only SQLite's writers, which cannot lock a row, ever need a second one).
_BUDGET_ATTEMPTS = 8


def policy_tiers(policy: SubsidyPolicy) -> list[SubsidyTier]:
    return [SubsidyTier(months=months, rate_bp=rate_bp) for months, rate_bp in policy.tiers]


def covering_policies(compound: Compound) -> list[SubsidyPolicy]:
    """Active policies of the compound or of an area above it, the most specific first (the compound's own,
    then the nearest area), newest first among equals."""
    area_path = db.session.scalar(select(Area.path).where(Area.id == compound.area_id)) or ""
    area_ids = ancestor_area_ids(area_path)
    policies = db.session.scalars(
        select(SubsidyPolicy).where(
            SubsidyPolicy.is_active.is_(True),
            or_(SubsidyPolicy.compound_id == compound.id, SubsidyPolicy.area_id.in_(area_ids)),
        )
    ).all()
    depth = {area_id: index for index, area_id in enumerate(area_ids)}
    return sorted(
        policies,
        key=lambda policy: (policy.compound_id is None, -depth.get(policy.area_id, -1), -policy.id),
    )


def policy_covers(policy: SubsidyPolicy, compound: Compound) -> bool:
    return is_eligible(compound.built_year, compound.management_model.value, policy.built_before_year,
                       policy.management_models)


def applicable_policy(compound: Compound) -> SubsidyPolicy | None:
    return next((policy for policy in covering_policies(compound) if policy_covers(policy, compound)), None)


def compute_split(bill: Bill, policy: SubsidyPolicy, budget_left_fen: int | None) -> BillSplit:
    return split_bill(
        months=month_charges(bill.period_start, bill.months, bill.amount_fen),
        period_start=policy.period_start,
        tiers=policy_tiers(policy),
        cap_fen_per_month=policy.cap_fen_per_month,
        budget_left_fen=budget_left_fen,
    )


@dataclass(frozen=True)
class SubsidyView:
    """A bill's subsidy line by line: fixed once a grant holds it, else what it would be now (an estimate)."""

    policy_name: str
    fixed: bool
    subsidy_fen: int
    per_month: list[dict]


def subsidy_view(bill: Bill) -> SubsidyView | None:
    """The bill's subsidy as paying it alone would fix it."""
    return planned_subsidies([bill])[bill.id]


def oldest_first(bills: Iterable[Bill]) -> list[Bill]:
    """The order bills paid together have their subsidies held in: a budget running out leaves the newest
    months without."""
    return sorted(bills, key=lambda bill: (bill.period_start, bill.id))


def planned_subsidies(bills: Iterable[Bill]) -> dict[int, SubsidyView | None]:
    """Each bill's subsidy as paying the bills together would fix it (hold_subsidies), holding nothing: a bill
    whose subsidy is held keeps it; each other unpaid bill, oldest first, gets what the budget has left after the
    older ones' — so the sum shown is what the payment takes. None for a bill no policy subsidises."""
    bills = oldest_first(bills)
    # One read of the grants and one policy lookup per compound, however many months are shown together.
    grants = {grant.bill_id: grant for grant in db.session.scalars(
        select(SubsidyGrant).where(SubsidyGrant.bill_id.in_([bill.id for bill in bills]),
                                   SubsidyGrant.status != GrantStatus.RELEASED))}
    policies: dict[int, SubsidyPolicy | None] = {}
    left: dict[int, int | None] = {}
    views: dict[int, SubsidyView | None] = {}
    for bill in bills:
        grant = grants.get(bill.id)
        if grant is not None:
            policy = db.session.get(SubsidyPolicy, grant.policy_id)
            views[bill.id] = SubsidyView(policy_name=policy.name, fixed=True, subsidy_fen=grant.amount_fen,
                                         per_month=grant.per_month)
            continue
        if bill.status is BillStatus.UNPAID and bill.compound_id not in policies:
            policies[bill.compound_id] = applicable_policy(bill.compound)
        policy = policies.get(bill.compound_id) if bill.status is BillStatus.UNPAID else None
        if policy is None:
            views[bill.id] = None
            continue
        budget_left_fen = left.get(policy.id, policy.budget_left_fen)
        split = compute_split(bill, policy, budget_left_fen)
        left[policy.id] = None if budget_left_fen is None else budget_left_fen - split.subsidy_fen
        views[bill.id] = SubsidyView(policy_name=policy.name, fixed=False, subsidy_fen=split.subsidy_fen,
                                     per_month=_months_json(split.per_month))
    return views


def hold_subsidies(bills: Iterable[Bill]) -> None:
    """Fix the subsidies of bills paid together (the caller holds their row locks), oldest first against the
    policy's budget: what planned_subsidies showed, unless the budget moved meanwhile."""
    for bill in oldest_first(bills):
        hold_subsidy(bill)


def hold_subsidy(bill: Bill) -> SubsidyGrant | None:
    """Fix the bill's subsidy (the caller holds the bill's row lock): its existing grant, or a new one held
    against the policy's budget. None when no policy covers the compound."""
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill.id))
    if grant is not None and grant.status is not GrantStatus.RELEASED:
        return grant
    policy = applicable_policy(bill.compound)
    if policy is None:
        return None
    policy_id = policy.id
    split = _commit_to_budget(bill, policy_id)
    if grant is None:
        # The street a compound belongs to does not change; its property company may, so that is copied when
        # the subsidy is granted.
        grant = SubsidyGrant(bill_id=bill.id, compound_id=bill.compound_id, household_id=bill.household_id,
                             street_id=street_of(bill.compound))
        db.session.add(grant)
    grant.policy_id = policy_id
    grant.amount_fen = split.subsidy_fen
    grant.per_month = _months_json(split.per_month)
    grant.status = GrantStatus.HELD
    bill.subsidy_fen = split.subsidy_fen
    db.session.flush()
    return grant


def _commit_to_budget(bill: Bill, policy_id: int) -> BillSplit:
    """Take the bill's subsidy out of the policy's budget: lock the row (PostgreSQL), compute with what is left,
    and move the committed total only if nobody moved it since we read it."""
    for _ in range(_BUDGET_ATTEMPTS):
        policy = db.session.scalar(
            select(SubsidyPolicy).where(SubsidyPolicy.id == policy_id).with_for_update()
            .execution_options(populate_existing=True)
        )
        split = compute_split(bill, policy, policy.budget_left_fen)
        if split.subsidy_fen == 0:
            return split
        moved = db.session.execute(
            update(SubsidyPolicy)
            .where(SubsidyPolicy.id == policy_id, SubsidyPolicy.committed_fen == policy.committed_fen)
            .values(committed_fen=policy.committed_fen + split.subsidy_fen)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved == 1:
            return split
    raise SubsidyBusy()


def release_subsidy(bill: Bill) -> None:
    """Give a held subsidy back to the budget (the bill was waived or its amount changed before payment)."""
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill.id))
    if grant is None or grant.status is not GrantStatus.HELD:
        return
    db.session.execute(
        update(SubsidyPolicy).where(SubsidyPolicy.id == grant.policy_id)
        .values(committed_fen=SubsidyPolicy.committed_fen - grant.amount_fen)
        .execution_options(synchronize_session=False)
    )
    grant.status = GrantStatus.RELEASED
    bill.subsidy_fen = 0


def _order_may_still_notify(bill_id, now: datetime):
    return exists().where(PaymentOrderBill.bill_id == bill_id, PaymentOrder.id == PaymentOrderBill.order_id,
                          PaymentOrder.expires_at > now - ABANDONED_HOLD_AFTER)


def abandoned_hold_bill_ids(now: datetime, limit: int = 500) -> list[int]:
    """Unpaid bills holding a subsidy whose every order expired long enough ago that no notification of it can
    still come: their households walked away, and the budget should not wait for them."""
    return list(db.session.scalars(
        select(SubsidyGrant.bill_id).join(Bill, Bill.id == SubsidyGrant.bill_id)
        .where(SubsidyGrant.status == GrantStatus.HELD, Bill.status == BillStatus.UNPAID, Bill.paid_fen == 0,
               ~_order_may_still_notify(SubsidyGrant.bill_id, now))
        .order_by(SubsidyGrant.bill_id).limit(limit)
    ))


def release_abandoned_hold(bill_id: int, now: datetime) -> bool:
    """Give one abandoned hold back, checked again under the bill's lock; the next attempt computes anew."""
    bill = db.session.scalar(
        select(Bill).where(Bill.id == bill_id).with_for_update().execution_options(populate_existing=True)
    )
    if bill is None or bill.status is not BillStatus.UNPAID or bill.paid_fen:
        return False
    if db.session.scalar(select(_order_may_still_notify(bill_id, now))):
        return False
    release_subsidy(bill)
    return True


def grant_subsidy(bill: Bill, now: datetime) -> None:
    """The bill is paid: its held subsidy is granted, in this Beijing month's settlement, to the property company
    serving the compound now. One statement: it runs for every bill a payment settles."""
    db.session.execute(
        update(SubsidyGrant)
        .where(SubsidyGrant.bill_id == bill.id, SubsidyGrant.status == GrantStatus.HELD)
        .values(
            status=GrantStatus.GRANTED, granted_at=now,
            settlement_month=now.astimezone(SHANGHAI).date().replace(day=1),
            property_company_id=select(Compound.property_company_id).where(Compound.id == bill.compound_id)
            .scalar_subquery(),
        )
        # A grant held earlier in this transaction is in the session: it must not keep saying "held".
        .execution_options(synchronize_session="fetch")
    )


def street_of(compound: Compound) -> int | None:
    path = db.session.scalar(select(Area.path).where(Area.id == compound.area_id)) or ""
    return db.session.scalar(
        select(Area.id).where(Area.id.in_(ancestor_area_ids(path)), Area.level == AreaLevel.STREET)
    )


def _months_json(per_month: tuple[MonthSubsidy, ...]) -> list[dict]:
    return [
        {"month": item.month.isoformat(), "amount_fen": item.amount_fen, "rate_bp": item.rate_bp,
         "subsidy_fen": item.subsidy_fen}
        for item in per_month
    ]


# ---- policies ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyDraft:
    name: str
    area_id: int | None
    compound_id: int | None
    built_before_year: int | None
    management_models: list[str]
    period_start: date
    tiers: list[SubsidyTier]
    cap_fen_per_month: int | None
    budget_fen: int | None


def create_policy(draft: PolicyDraft, actor_id: int, ip: str | None) -> SubsidyPolicy:
    policy = SubsidyPolicy(
        name=draft.name, area_id=draft.area_id, compound_id=draft.compound_id,
        built_before_year=draft.built_before_year, management_models=sorted(draft.management_models),
        period_start=draft.period_start, tiers=[[tier.months, tier.rate_bp] for tier in draft.tiers],
        cap_fen_per_month=draft.cap_fen_per_month, budget_fen=draft.budget_fen, created_by_id=actor_id,
    )
    db.session.add(policy)
    db.session.flush()
    record_audit(actor_id=actor_id, action="subsidy_policy.create", target_type="subsidy_policy",
                 target_id=policy.id, compound_id=draft.compound_id, after=policy_summary(policy), ip=ip)
    db.session.commit()
    return policy


def policy_area_id(draft: PolicyDraft) -> int:
    """The area whose officials may set the policy up: its own, or its compound's."""
    if draft.area_id is not None:
        return draft.area_id
    compound = db.session.get(Compound, draft.compound_id)
    if compound is None:
        raise FeeRefused("没有找到该小区", Kind.NOT_FOUND)
    return compound.area_id


def area_names(area_ids: set[int]) -> dict[int, str]:
    if not area_ids:
        return {}
    rows = db.session.execute(select(Area.id, Area.name).where(Area.id.in_(area_ids)))
    return {area_id: name for area_id, name in rows}


def settlement_areas(user_id: int) -> list[Area]:
    """The areas a settlement is asked for: an official's own; for an admin every area above the communities."""
    memberships = db.session.execute(
        select(Membership.role, Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    if any(membership.role is Role.ADMIN for membership in memberships):
        return list(db.session.scalars(select(Area).where(Area.level != AreaLevel.COMMUNITY).order_by(Area.path)))
    area_ids = {membership.area_id for membership in memberships if membership.role is Role.OFFICIAL}
    if not area_ids:
        return []
    return sorted(db.session.scalars(select(Area).where(Area.id.in_(area_ids))), key=lambda area: area.path)


def policy_summary(policy: SubsidyPolicy) -> dict:
    return {
        "name": policy.name, "area_id": policy.area_id, "compound_id": policy.compound_id,
        "built_before_year": policy.built_before_year, "management_models": policy.management_models,
        "period_start": policy.period_start.isoformat(), "tiers": policy.tiers,
        "cap_fen_per_month": policy.cap_fen_per_month, "budget_fen": policy.budget_fen,
    }


def policies_for_area(area: Area) -> list[SubsidyPolicy]:
    """Policies an official of `area` deals with: of the area or any area below or above it, and of the
    compounds below it."""
    below = select(Area.id).where(Area.path.startswith(area.path))
    compounds_below = select(Compound.id).where(Compound.area_id.in_(below))
    return list(db.session.scalars(
        select(SubsidyPolicy).where(or_(
            SubsidyPolicy.area_id.in_(below),
            SubsidyPolicy.area_id.in_(ancestor_area_ids(area.path)),
            SubsidyPolicy.compound_id.in_(compounds_below),
        )).order_by(SubsidyPolicy.id.desc())
    ))


def granted_totals(policy_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(SubsidyGrant.policy_id, func.sum(SubsidyGrant.amount_fen))
        .where(SubsidyGrant.policy_id.in_(policy_ids), SubsidyGrant.status == GrantStatus.GRANTED)
        .group_by(SubsidyGrant.policy_id)
    ).all()
    return {policy_id: int(total or 0) for policy_id, total in rows}


# ---- settlement ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementRow:
    month: date
    street_id: int | None
    street_name: str
    compound_id: int
    compound_name: str
    property_company_id: int | None
    property_company_name: str
    grants: int
    subsidy_fen: int


@dataclass(frozen=True)
class Settlement:
    rows: list[SettlementRow]
    total_fen: int
    policies: list[dict]


def settlement(area: Area, month: date | None) -> Settlement:
    """Subsidy granted in the compounds below `area`, per month, street, compound and property company."""
    street = Area.__table__.alias("street")
    query = (
        select(
            SubsidyGrant.settlement_month, SubsidyGrant.street_id, street.c.name.label("street_name"),
            SubsidyGrant.compound_id, Compound.name.label("compound_name"), SubsidyGrant.property_company_id,
            PropertyCompany.name.label("company_name"), func.count().label("grants"),
            func.sum(SubsidyGrant.amount_fen).label("subsidy_fen"),
        )
        .join(Compound, Compound.id == SubsidyGrant.compound_id)
        .join(Area, Area.id == Compound.area_id)
        .outerjoin(street, street.c.id == SubsidyGrant.street_id)
        .outerjoin(PropertyCompany, PropertyCompany.id == SubsidyGrant.property_company_id)
        .where(SubsidyGrant.status == GrantStatus.GRANTED, Area.path.startswith(area.path))
        .group_by(SubsidyGrant.settlement_month, SubsidyGrant.street_id, street.c.name, SubsidyGrant.compound_id,
                  Compound.name, SubsidyGrant.property_company_id, PropertyCompany.name)
        .order_by(SubsidyGrant.settlement_month, street.c.name, Compound.name, PropertyCompany.name)
    )
    if month is not None:
        query = query.where(SubsidyGrant.settlement_month == month)
    rows = [
        SettlementRow(
            month=row.settlement_month, street_id=row.street_id, street_name=row.street_name or "",
            compound_id=row.compound_id, compound_name=row.compound_name,
            property_company_id=row.property_company_id, property_company_name=row.company_name or "",
            grants=row.grants, subsidy_fen=int(row.subsidy_fen or 0),
        )
        for row in db.session.execute(query)
    ]
    policies = policies_for_area(area)
    granted = granted_totals([policy.id for policy in policies])
    return Settlement(
        rows=rows,
        total_fen=sum(row.subsidy_fen for row in rows),
        policies=[
            {"id": policy.id, "name": policy.name, "budget_fen": policy.budget_fen,
             "committed_fen": policy.committed_fen, "granted_fen": granted.get(policy.id, 0),
             "budget_left_fen": policy.budget_left_fen}
            for policy in policies
        ],
    )
