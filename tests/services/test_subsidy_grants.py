"""Subsidy policies (先买后补) and their grants as use cases: which policy applies to a compound, a bill's subsidy
fixed once against the budget (the last bill gets what is left, the rest pay in full), released back, granted
into the Beijing month's settlement with the street and the property company, the database's own refusal of an
overspent budget, and the street's settlement totals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.fees import BillStatus, GrantStatus, PaymentMethod
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.models import Bill, Compound, PropertyCompany, SubsidyGrant, SubsidyPolicy
from backend.services import fees as fee_service
from backend.services import subsidies as service
from backend.services.payments import record_offline_payment
from tests.fees_support import issue_bills_for, make_policy, make_schedule

pytestmark = pytest.mark.calendar

DECEMBER = date(2026, 12, 1)
# December 2026 is month 18 of a period from July 2025: the 30% tier. The four households' December bills
# (81.25–85.00 m² at 1.50 元) and their 30% shares, each rounded half-up.
AMOUNTS = [12188, 12375, 12563, 12750]
SHARES = [3656, 3713, 3769, 3825]


@pytest.fixture
def areas(area_tree):
    city, district, street, community = area_tree
    return {"city": city, "district": district, "street": street, "community": community}


@pytest.fixture
def compound(areas, make_compound) -> Compound:
    compound = make_compound(area=areas["community"], buildings=1, households_per_building=4)
    compound.built_year = 1995
    db.session.commit()
    return compound


@pytest.fixture
def bills(compound) -> list[Bill]:
    make_schedule(compound, standard_fen_per_m2=150)
    return issue_bills_for(compound, DECEMBER)


def hold(bill: Bill) -> SubsidyGrant | None:
    """As a payment does: lock the bill, fix its subsidy, commit."""
    locked = fee_service.lock_bill(bill.id)
    grant = service.hold_subsidy(locked)
    db.session.commit()
    return grant


def committed(policy: SubsidyPolicy) -> int:
    return db.session.scalar(select(SubsidyPolicy.committed_fen).where(SubsidyPolicy.id == policy.id))


# ---- which policy applies ------------------------------------------------------------------------------


def test_the_most_specific_policy_applies_and_the_newest_among_equals(areas, compound):
    assert service.applicable_policy(compound) is None

    city = make_policy(area_id=areas["city"].id, name="市级")
    assert service.applicable_policy(compound).id == city.id
    street = make_policy(area_id=areas["street"].id, name="街道")
    make_policy(area_id=areas["district"].id, name="区级，更新但更远")
    assert service.applicable_policy(compound).id == street.id
    newer_street = make_policy(area_id=areas["street"].id, name="街道，新")
    assert service.applicable_policy(compound).id == newer_street.id
    own = make_policy(compound_id=compound.id, name="本小区")
    make_policy(area_id=areas["community"].id, name="社区，更新")
    assert service.applicable_policy(compound).id == own.id


def test_a_policy_of_another_place_does_not_apply(areas, compound, make_area, make_compound):
    elsewhere = make_area("别的街道", AreaLevel.STREET, areas["district"])
    make_policy(area_id=elsewhere.id)
    make_policy(compound_id=make_compound(area=areas["community"]).id)

    assert service.applicable_policy(compound) is None


@pytest.mark.parametrize(("built_year", "model"), [
    (2000, ManagementModel.MARKET),  # built in the year: not before it
    (2008, ManagementModel.MARKET),
    (None, ManagementModel.MARKET),  # an unknown year is not "before"
    (1990, ManagementModel.OWNER_SELF),
])
def test_ineligible_compounds_get_nothing_from_the_policy(areas, compound, built_year, model):
    compound.built_year, compound.management_model = built_year, model
    db.session.commit()
    make_policy(area_id=areas["street"].id, built_before_year=2000, management_models=["market", "trust"])

    assert service.applicable_policy(compound) is None


def test_an_ineligible_specific_policy_gives_way_to_an_eligible_broader_one(areas, compound):
    broad = make_policy(area_id=areas["city"].id)
    make_policy(compound_id=compound.id, built_before_year=1990)

    assert service.applicable_policy(compound).id == broad.id


def test_an_inactive_policy_does_not_apply(areas, compound):
    policy = make_policy(area_id=areas["street"].id)
    policy.is_active = False
    db.session.commit()

    assert service.applicable_policy(compound) is None


# ---- holding a bill's subsidy --------------------------------------------------------------------------


def test_holding_fixes_the_grant_once_and_moves_the_budget_once(areas, bills):
    policy = make_policy(area_id=areas["street"].id, budget_fen=100_000)

    grant = hold(bills[0])
    again = hold(bills[0])

    assert again.id == grant.id
    assert (grant.amount_fen, grant.status, grant.policy_id) == (SHARES[0], GrantStatus.HELD, policy.id)
    assert grant.per_month == [{"month": "2026-12-01", "amount_fen": AMOUNTS[0], "rate_bp": 3000,
                                "subsidy_fen": SHARES[0]}]
    assert committed(policy) == SHARES[0]
    bill = db.session.get(Bill, bills[0].id)
    assert (bill.subsidy_fen, bill.resident_share_fen) == (SHARES[0], AMOUNTS[0] - SHARES[0])


def test_a_held_subsidy_stays_fixed_when_the_policy_changes(areas, bills):
    policy = make_policy(area_id=areas["street"].id)
    hold(bills[0])
    make_policy(area_id=areas["street"].id, name="更新的政策", tiers=[SubsidyTier(months=60, rate_bp=9000)])

    assert hold(bills[0]).policy_id == policy.id
    assert service.subsidy_view(db.session.get(Bill, bills[0].id)).subsidy_fen == SHARES[0]


def test_the_budget_runs_out_across_bills_the_last_gets_the_rest_then_they_pay_in_full(areas, bills):
    budget = SHARES[0] + SHARES[1] + 1000
    policy = make_policy(area_id=areas["street"].id, budget_fen=budget)

    grants = [hold(bill) for bill in bills]

    assert [grant.amount_fen for grant in grants] == [SHARES[0], SHARES[1], 1000, 0]
    assert committed(policy) == budget
    assert [db.session.get(Bill, bill.id).resident_share_fen for bill in bills] == [
        AMOUNTS[0] - SHARES[0], AMOUNTS[1] - SHARES[1], AMOUNTS[2] - 1000, AMOUNTS[3]]


def test_a_cap_limits_each_month(areas, bills):
    make_policy(area_id=areas["street"].id, cap_fen_per_month=3700)

    assert [hold(bill).amount_fen for bill in bills] == [3656, 3700, 3700, 3700]


def test_a_compound_without_a_policy_holds_nothing(bills):
    assert hold(bills[0]) is None
    assert db.session.get(Bill, bills[0].id).subsidy_fen == 0
    assert service.subsidy_view(bills[0]) is None


def test_the_view_estimates_until_held_then_shows_the_fixed_grant(areas, bills):
    make_policy(area_id=areas["street"].id, name="炳草岗街道过渡期补贴")

    estimate = service.subsidy_view(bills[1])
    hold(bills[1])
    fixed = service.subsidy_view(db.session.get(Bill, bills[1].id))

    assert (estimate.policy_name, estimate.fixed, estimate.subsidy_fen) == ("炳草岗街道过渡期补贴", False, SHARES[1])
    assert (fixed.fixed, fixed.subsidy_fen, fixed.per_month) == (True, SHARES[1], estimate.per_month)


def test_releasing_gives_the_budget_back_and_a_later_hold_takes_it_again(areas, bills):
    policy = make_policy(area_id=areas["street"].id, budget_fen=5000)
    grant = hold(bills[0])
    assert hold(bills[1]).amount_fen == 5000 - SHARES[0]

    bill = fee_service.lock_bill(bills[0].id)
    service.release_subsidy(bill)
    db.session.commit()

    assert committed(policy) == 5000 - SHARES[0]
    assert db.session.get(SubsidyGrant, grant.id).status is GrantStatus.RELEASED
    assert db.session.get(Bill, bills[0].id).subsidy_fen == 0
    again = hold(bills[0])
    assert (again.id, again.status, again.amount_fen) == (grant.id, GrantStatus.HELD, SHARES[0])
    assert committed(policy) == 5000


def test_waiving_a_bill_releases_its_held_subsidy(areas, bills, make_user, compound):
    policy = make_policy(area_id=areas["street"].id, budget_fen=50_000)
    hold(bills[2])

    fee_service.waive_bill(bills[2].id, "低保户减免", make_user(Role.COMMITTEE, compound).id, None)

    assert committed(policy) == 0
    assert db.session.scalar(select(SubsidyGrant.status).where(SubsidyGrant.bill_id == bills[2].id)) is (
        GrantStatus.RELEASED)


def test_the_database_refuses_a_budget_overspent_by_a_direct_write(areas):
    policy = make_policy(area_id=areas["street"].id, budget_fen=10_000)

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(update(SubsidyPolicy).where(SubsidyPolicy.id == policy.id).values(committed_fen=10_001))

    assert committed(policy) == 0
    db.session.execute(update(SubsidyPolicy).where(SubsidyPolicy.id == policy.id).values(committed_fen=10_000))
    assert committed(policy) == 10_000


# ---- granting and settlement ---------------------------------------------------------------------------


def company(name: str, code: str) -> PropertyCompany:
    row = PropertyCompany(name=name, credit_code=code)
    db.session.add(row)
    db.session.commit()
    return row


def pay(bill: Bill, staff_id: int, at: datetime, receipt: str) -> None:
    """The resident's share in cash at `at`: the held subsidy is granted then."""
    owed = fee_service.lock_bill(bill.id)
    service.hold_subsidy(owed)
    amount = owed.outstanding_fen
    db.session.commit()
    record_offline_payment(bill.id, PaymentMethod.CASH, amount, receipt, staff_id, None, now=at)


def test_a_grant_lands_in_the_beijing_month_with_the_street_and_the_company(areas, compound, bills, make_user):
    make_policy(area_id=areas["street"].id)
    jinsha = company("金沙物业", "91510400MA00000001")
    compound.property_company_id = jinsha.id
    db.session.commit()
    staff = make_user(Role.STAFF, compound)

    # 23:30 Beijing on 30 November is still November; 16:30 UTC that day is 00:30 on 1 December in Beijing.
    pay(bills[0], staff.id, datetime(2026, 11, 30, 15, 30, tzinfo=UTC), "SJ-1")
    pay(bills[1], staff.id, datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "SJ-2")

    grants = db.session.scalars(select(SubsidyGrant).order_by(SubsidyGrant.bill_id)).all()
    assert [(grant.status, grant.settlement_month, grant.street_id, grant.property_company_id)
            for grant in grants] == [
        (GrantStatus.GRANTED, date(2026, 11, 1), areas["street"].id, jinsha.id),
        (GrantStatus.GRANTED, date(2026, 12, 1), areas["street"].id, jinsha.id),
    ]
    assert grants[0].granted_at == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert db.session.get(Bill, bills[0].id).status is BillStatus.PAID


def test_the_company_granted_is_the_one_at_payment_time(areas, compound, bills, make_user):
    make_policy(area_id=areas["street"].id)
    before, after = company("旧物业", "91510400MA00000002"), company("新物业", "91510400MA00000003")
    compound.property_company_id = before.id
    db.session.commit()
    staff = make_user(Role.STAFF, compound)
    pay(bills[0], staff.id, datetime(2026, 12, 3, 2, 0, tzinfo=UTC), "SJ-1")
    hold(bills[1])

    compound.property_company_id = after.id
    db.session.commit()
    pay(bills[1], staff.id, datetime(2026, 12, 4, 2, 0, tzinfo=UTC), "SJ-2")

    assert list(db.session.scalars(
        select(SubsidyGrant.property_company_id).order_by(SubsidyGrant.bill_id))) == [before.id, after.id]


@pytest.fixture
def district(areas, make_area, make_compound, make_user):
    """Two streets of one district with a district policy: street A has compounds of companies X and Y, street B
    one of company X. Two December bills of each compound are paid, one in November, one in December."""
    x, y = company("兴业物业", "91510400MA00000011"), company("宜居物业", "91510400MA00000012")
    street_a = areas["street"]
    street_b = make_area("瓜子坪街道", AreaLevel.STREET, areas["district"])
    community_b = make_area("瓜子坪社区", AreaLevel.COMMUNITY, street_b)
    policy = make_policy(area_id=areas["district"].id, budget_fen=1_000_000)
    layout = [("A1小区", areas["community"], x), ("A2小区", areas["community"], y), ("B1小区", community_b, x)]
    compounds = {}
    for name, community, owner in layout:
        compound = make_compound(name=name, area=community, buildings=1, households_per_building=4)
        compound.property_company_id = owner.id
        db.session.commit()
        make_schedule(compound, standard_fen_per_m2=150)
        first, second, *_ = issue_bills_for(compound, DECEMBER)
        staff = make_user(Role.STAFF, compound)
        pay(first, staff.id, datetime(2026, 11, 30, 3, 0, tzinfo=UTC), f"{name}-1")
        pay(second, staff.id, datetime(2026, 12, 2, 3, 0, tzinfo=UTC), f"{name}-2")
        compounds[name] = compound
    return {"policy": policy, "street_a": street_a, "street_b": street_b, "x": x, "y": y, **compounds}


def test_the_settlement_totals_per_month_street_compound_and_company(areas, district):
    result = service.settlement(areas["district"], None)

    a, b = district["street_a"], district["street_b"]
    assert [(row.month, row.street_name, row.compound_name, row.property_company_name, row.grants,
             row.subsidy_fen) for row in result.rows] == [
        (date(2026, 11, 1), a.name, "A1小区", "兴业物业", 1, SHARES[0]),
        (date(2026, 11, 1), a.name, "A2小区", "宜居物业", 1, SHARES[0]),
        (date(2026, 11, 1), b.name, "B1小区", "兴业物业", 1, SHARES[0]),
        (date(2026, 12, 1), a.name, "A1小区", "兴业物业", 1, SHARES[1]),
        (date(2026, 12, 1), a.name, "A2小区", "宜居物业", 1, SHARES[1]),
        (date(2026, 12, 1), b.name, "B1小区", "兴业物业", 1, SHARES[1]),
    ]
    assert result.total_fen == 3 * (SHARES[0] + SHARES[1])
    [policy] = result.policies
    assert policy == {"id": district["policy"].id, "name": district["policy"].name, "budget_fen": 1_000_000,
                      "committed_fen": result.total_fen, "granted_fen": result.total_fen,
                      "budget_left_fen": 1_000_000 - result.total_fen}


def test_the_settlement_of_one_month_and_one_street(areas, district):
    november = service.settlement(areas["district"], date(2026, 11, 1))
    street_b = service.settlement(district["street_b"], None)

    assert {row.month for row in november.rows} == {date(2026, 11, 1)}
    assert november.total_fen == 3 * SHARES[0]
    assert [(row.compound_name, row.subsidy_fen) for row in street_b.rows] == [
        ("B1小区", SHARES[0]), ("B1小区", SHARES[1])]
    assert street_b.total_fen == SHARES[0] + SHARES[1]
    assert {row.street_id for row in street_b.rows} == {district["street_b"].id}


def test_held_and_released_subsidies_are_not_in_the_settlement(areas, district, make_user):
    a1 = district["A1小区"]
    held, released = db.session.scalars(
        select(Bill).where(Bill.compound_id == a1.id, Bill.status == BillStatus.UNPAID).order_by(Bill.id)).all()
    hold(held)
    hold(released)
    fee_service.waive_bill(released.id, "减免", make_user(Role.COMMITTEE, a1).id, None)

    result = service.settlement(areas["district"], None)

    assert result.total_fen == 3 * (SHARES[0] + SHARES[1])
    [policy] = result.policies
    assert policy["committed_fen"] == result.total_fen + SHARES[2]
    assert policy["granted_fen"] == result.total_fen
