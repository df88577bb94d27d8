"""Money under concurrency, on PostgreSQL with committed data and one connection per request thread: one
notification delivered twenty times at once records one payment; the sandbox button pressed twenty times at once
too; and fifty households paying at the same instant against a budget that covers thirty subsidies get exactly
thirty, the rest paying in full, with the budget never overspent."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select, update

from backend.domain.fees import BillStatus, GrantStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Bill, Compound, Household, Payment, PaymentOrder, SubsidyGrant, SubsidyPolicy, User
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.support import race

pytestmark = [pytest.mark.postgresql, pytest.mark.live]

JANUARY = date(2026, 1, 1)
DELIVERIES = 20
HOUSEHOLDS = 50
SUBSIDISED = 30
# Every household 80 m² at ¥1.50: 12000 fen a month, half of it subsidised in January 2026.
AREA_CENTI_M2 = 8000
AMOUNT, SUBSIDY = 12_000, 6_000


def bearer_for(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def households_of(compound: Compound) -> list[Household]:
    return list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ))


def payments_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Payment))


@pytest.fixture
def one_order(app, area_tree, make_compound, make_user) -> tuple[int, int, dict[str, str]]:
    """A committed bill with its subsidy held and an order open: (bill id, order id, the payer's headers)."""
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    make_schedule(compound)
    make_policy(area_id=community.id)
    bill = issue_bills_for(compound, JANUARY)[0]
    owner = make_user(Role.OWNER, compound, household=households_of(compound)[0])
    response = app.test_client().post(f"/api/v1/bills/{bill.id}/payments", headers=bearer_for(owner))
    assert response.status_code == 201, response.json
    bill_id, order_id, headers = bill.id, response.json["order"]["id"], bearer_for(owner)
    db.session.remove()
    return bill_id, order_id, headers


def test_one_notification_delivered_twenty_times_at_once_records_one_payment(app, one_order):
    bill_id, order_id, _ = one_order
    order = db.session.get(PaymentOrder, order_id)
    headers, body = wechat_pay().signed_notification(order.out_trade_no, "4200002100202601050000000001",
                                                     order.amount_fen, order.openid)
    share = order.amount_fen
    db.session.remove()

    answers = race(app, [("POST", "/api/v1/payments/wechat/notify", headers, body)] * DELIVERIES)

    assert [status for status, _ in answers] == [200] * DELIVERIES, answers
    assert payments_count() == 1
    assert follow_up_payments() == 1
    bill = db.session.get(Bill, bill_id)
    assert (bill.status, bill.paid_fen) == (BillStatus.PAID, share)
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill_id))
    assert grant.status is GrantStatus.GRANTED
    assert bill.paid_fen + grant.amount_fen == bill.amount_fen


def test_the_sandbox_button_pressed_twenty_times_at_once_records_one_payment(app, one_order):
    bill_id, order_id, headers = one_order

    answers = race(app, [("POST", f"/api/v1/payments/sandbox/{order_id}/complete", headers, None)] * DELIVERIES)

    assert [status for status, _ in answers] == [200] * DELIVERIES, answers
    assert {body["id"] for _, body in answers} == {db.session.scalar(select(Payment.id))}
    assert payments_count() == 1
    assert db.session.get(Bill, bill_id).paid_fen == db.session.get(PaymentOrder, order_id).amount_fen


def test_fifty_payments_at_once_against_a_budget_for_thirty_subsidise_exactly_thirty(
    app, area_tree, make_compound, make_user
):
    compound = make_compound(area=area_tree[3], buildings=5, households_per_building=10)
    db.session.execute(update(Household).where(Household.compound_id == compound.id)
                       .values(floor_area_centi_m2=AREA_CENTI_M2))
    db.session.commit()
    make_schedule(compound)
    budget = SUBSIDISED * SUBSIDY
    policy_id = make_policy(compound_id=compound.id, budget_fen=budget).id
    bills = issue_bills_for(compound, JANUARY)
    assert len(bills) == HOUSEHOLDS and {bill.amount_fen for bill in bills} == {AMOUNT}
    payers = {bill.id: make_user(Role.OWNER, compound, household=db.session.get(Household, bill.household_id))
              for bill in bills}
    headers = {bill_id: bearer_for(user) for bill_id, user in payers.items()}
    compound_id = compound.id
    db.session.remove()

    started = race(app, [("POST", f"/api/v1/bills/{bill_id}/payments", headers[bill_id], None)
                         for bill_id in headers])

    assert [status for status, _ in started] == [201] * HOUSEHOLDS, started
    orders = [body["order"] for _, body in started]
    assert Counter((order["amount_fen"], order["subsidy_fen"]) for order in orders) == {
        (AMOUNT - SUBSIDY, SUBSIDY): SUBSIDISED, (AMOUNT, 0): HOUSEHOLDS - SUBSIDISED,
    }
    held = db.session.scalars(select(SubsidyGrant).where(SubsidyGrant.policy_id == policy_id)).all()
    assert all(grant.status is GrantStatus.HELD for grant in held)
    assert sum(grant.amount_fen for grant in held) <= budget
    policy = db.session.get(SubsidyPolicy, policy_id)
    assert policy.committed_fen == sum(grant.amount_fen for grant in held) == budget
    assert policy.budget_left_fen == 0
    db.session.remove()

    paid = race(app, [
        ("POST", f"/api/v1/payments/sandbox/{order['id']}/complete", headers[body["bill"]["id"]], None)
        for (_, body), order in zip(started, orders, strict=True)
    ])

    assert [status for status, _ in paid] == [200] * HOUSEHOLDS, paid
    assert payments_count() == HOUSEHOLDS
    assert follow_up_payments() == HOUSEHOLDS
    granted = db.session.scalars(select(SubsidyGrant).where(SubsidyGrant.status == GrantStatus.GRANTED,
                                                            SubsidyGrant.amount_fen > 0)).all()
    assert len(granted) == SUBSIDISED and sum(grant.amount_fen for grant in granted) == budget
    bills = db.session.scalars(select(Bill).where(Bill.compound_id == compound_id)).all()
    assert {bill.status for bill in bills} == {BillStatus.PAID}
    assert all(bill.paid_fen + bill.subsidy_fen == bill.amount_fen for bill in bills)
    assert sum(bill.paid_fen for bill in bills) == HOUSEHOLDS * AMOUNT - budget
    assert db.session.get(SubsidyPolicy, policy_id).committed_fen == budget
