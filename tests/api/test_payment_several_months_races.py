"""Several months in one order under concurrency, on PostgreSQL with committed data and one connection per request
thread: the order's notification delivered twenty times at once pays each bill once on one receipt; an owner paying
every month and a tenant paying one of them at the same instant get one live order between them, and the bill is
paid once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.fees import BillStatus, GrantStatus
from backend.domain.roles import Role
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.models import Bill, Household, Payment, PaymentOrder, PaymentOrderBill, Receipt, SubsidyGrant
from backend.services.payment_provider import wechat_pay
from tests.api.test_payment_concurrency import bearer_for
from tests.api.test_payment_several_months import this_month, three_months
from tests.fees_support import follow_up_payments, make_policy, orders_of
from tests.support import race

pytestmark = [pytest.mark.postgresql, pytest.mark.live]

DELIVERIES = 20
STARTS = 10


@pytest.fixture
def household(area_tree, make_compound, make_user) -> dict:
    """A household with three unpaid months and a subsidy to hold, its owner and a tenant (committed)."""
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    make_policy(area_id=community.id, period_start=add_months(this_month(), -13))
    bills = sorted(three_months(compound), key=lambda bill: bill.period_start)
    home = db.session.get(Household, bills[0].household_id)
    owner, tenant = make_user(Role.OWNER, compound, household=home), make_user(Role.RESIDENT, compound, household=home)
    world = {"home": home.id, "bills": [bill.id for bill in bills], "owner": owner.id, "tenant": tenant.id,
             "headers": {owner.id: bearer_for(owner), tenant.id: bearer_for(tenant)}}
    db.session.remove()
    return world


def assert_each_bill_paid_once(bill_ids: list[int]) -> None:
    # One receipt recorded, so one follow-up job pushed, however many deliveries.
    assert follow_up_payments() == 1
    for bill_id in bill_ids:
        bill = db.session.get(Bill, bill_id)
        payments = db.session.scalars(select(Payment).where(Payment.bill_id == bill_id)).all()
        grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill_id))
        assert len(payments) == 1, [(payment.order_id, payment.amount_fen) for payment in payments]
        assert (bill.status, bill.paid_fen, bill.overpaid_fen) == (BillStatus.PAID, bill.resident_share_fen, 0)
        assert payments[0].amount_fen + grant.amount_fen == bill.amount_fen
        assert grant.status is GrantStatus.GRANTED


def test_one_notification_of_three_months_delivered_twenty_times_at_once_pays_each_once(app, household):
    owner = household["owner"]
    with app.test_client() as client:
        started = client.post(f"/api/v1/households/{household['home']}/payments", json={},
                              headers=household["headers"][owner])
    assert started.status_code == 201, started.json
    order = db.session.get(PaymentOrder, started.json["order"]["id"])
    headers, body = wechat_pay().signed_notification(order.out_trade_no, "4200002100202612310000000003",
                                                     order.amount_fen, order.openid)
    db.session.remove()

    answers = race(app, [("POST", "/api/v1/payments/wechat/notify", headers, body)] * DELIVERIES)

    assert [status for status, _ in answers] == [200] * DELIVERIES, answers
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 3
    assert_each_bill_paid_once(household["bills"])


def test_paying_every_month_and_one_of_them_at_once_leaves_one_live_order(app, household):
    owner, tenant, headers = household["owner"], household["tenant"], household["headers"]
    contested = household["bills"][1]
    asks = [("POST", f"/api/v1/households/{household['home']}/payments", headers[owner], {}),
            ("POST", f"/api/v1/bills/{contested}/payments", headers[tenant], None)] * (STARTS // 2)

    started = race(app, asks)

    live = db.session.scalars(select(PaymentOrderBill.order_id).where(PaymentOrderBill.bill_id == contested,
                                                                      PaymentOrderBill.live.is_(True))).all()
    assert len(live) == 1
    [order] = [order for order in orders_of(contested) if order.id == live[0]]
    winner = owner if order.payer_id == owner else tenant
    by_payer = {who: {status for (status, _), ask in zip(started, asks, strict=True)
                      if ask[2] is headers[who]} for who in (owner, tenant)}
    # The first to lock the bill opens the order; the other person of the household is told someone is paying.
    assert by_payer == {winner: {201}, (tenant if winner == owner else owner): {409}}, started
    assert db.session.scalar(select(func.count()).select_from(PaymentOrder)) == 1
    db.session.remove()

    paid = race(app, [("POST", f"/api/v1/payments/sandbox/{order.id}/complete", headers[winner], None)] * 3)

    assert [status for status, _ in paid] == [200] * 3, paid
    assert_each_bill_paid_once([contested] if winner == tenant else household["bills"])
