"""A bill is charged once whatever races, on PostgreSQL and on SQLite (committed data, one connection per request
thread): fifty starts at once by one owner open one live order, and completing every order of the bill three
times at once records one payment and settles the bill once; an owner and a tenant of the household paying at
the same instant get one order between them, so the bill is paid once."""
from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import func, select

from backend.domain.fees import BillStatus, GrantStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.integrations.wechat_pay import JsapiOrder, SandboxWeChatPay
from backend.models import Bill, Household, Payment, PaymentOrder, SubsidyGrant, SubsidyPolicy
from tests.api.test_payment_concurrency import bearer_for
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule, orders_of
from tests.support import race

pytestmark = pytest.mark.live

JANUARY = date(2026, 1, 1)
STARTS = 50
COMPLETIONS = 3
# WeChat Pay answers an order in tens to hundreds of milliseconds; the sandbox at once.
PLACING_LATENCY = 0.05


class SandboxAtWeChatPace(SandboxWeChatPay):
    def place_jsapi_order(self, order: JsapiOrder) -> str:
        time.sleep(PLACING_LATENCY)
        return super().place_jsapi_order(order)


@pytest.fixture(autouse=True)
def wechat_pace(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.extensions, "linli_wechat_pay",
                        SandboxAtWeChatPace(tmp_path / "wechatpay-sandbox", appid="wx00000000sandbox"))


@pytest.fixture
def household_bill(area_tree, make_compound, make_user) -> dict:
    """A committed January bill with a subsidy to hold, its owner and a tenant (both verified)."""
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    make_schedule(compound)
    make_policy(area_id=community.id)
    bill = issue_bills_for(compound, JANUARY)[0]
    home = db.session.get(Household, bill.household_id)
    owner, tenant = make_user(Role.OWNER, compound, household=home), make_user(Role.RESIDENT, compound, household=home)
    world = {"bill_id": bill.id, "owner": owner.id, "tenant": tenant.id,
             "headers": {owner.id: bearer_for(owner), tenant.id: bearer_for(tenant)}}
    db.session.remove()
    return world


def complete_every_order(app, bill_id: int, headers: dict[int, dict[str, str]]) -> list[tuple[int, dict | None]]:
    """Each order of the bill completed COMPLETIONS times, all at once, each by its own payer."""
    orders = [(order.id, order.payer_id) for order in orders_of(bill_id)]
    db.session.remove()
    return race(app, [("POST", f"/api/v1/payments/sandbox/{order_id}/complete", headers[payer_id], None)
                      for order_id, payer_id in orders for _ in range(COMPLETIONS)])


def assert_settled_once(bill_id: int) -> None:
    # One payment recorded, so one follow-up job pushed, however many deliveries.
    assert follow_up_payments() == 1
    bill = db.session.get(Bill, bill_id)
    payments = db.session.scalars(select(Payment).where(Payment.bill_id == bill_id)).all()
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill_id))
    assert len(payments) == 1, [(payment.order_id, payment.amount_fen) for payment in payments]
    assert (bill.status, bill.paid_fen, bill.overpaid_fen) == (BillStatus.PAID, bill.resident_share_fen, 0)
    assert payments[0].amount_fen + grant.amount_fen == bill.amount_fen
    assert grant.status is GrantStatus.GRANTED
    assert db.session.scalar(select(SubsidyPolicy.committed_fen).where(SubsidyPolicy.id == grant.policy_id)) == (
        grant.amount_fen)


def test_fifty_starts_at_once_open_one_live_order_and_the_bill_is_paid_once(app, household_bill):
    bill_id, owner = household_bill["bill_id"], household_bill["owner"]
    headers = household_bill["headers"]

    started = race(app, [("POST", f"/api/v1/bills/{bill_id}/payments", headers[owner], None)] * STARTS)

    assert [status for status, _ in started] == [201] * STARTS, started
    assert len({body["order"]["id"] for _, body in started}) == 1
    assert len({body["pay_params"]["package"] for _, body in started}) == 1
    orders = orders_of(bill_id)
    assert [(order.payer_id, order.paid_at, bool(order.prepay_id)) for order in orders] == [(owner, None, True)]

    completed = complete_every_order(app, bill_id, headers)

    assert [status for status, _ in completed] == [200] * COMPLETIONS, completed
    assert_settled_once(bill_id)


def test_an_owner_and_a_tenant_paying_at_once_get_one_order_between_them(app, household_bill):
    bill_id, headers = household_bill["bill_id"], household_bill["headers"]
    people = [household_bill["owner"], household_bill["tenant"]] * (STARTS // 2)

    started = race(app, [("POST", f"/api/v1/bills/{bill_id}/payments", headers[who], None) for who in people])

    [order] = orders_of(bill_id)
    assert order.paid_at is None
    by_payer = {who: {status for (status, _), asker in zip(started, people, strict=True) if asker == who}
                for who in set(people)}
    other = next(who for who in by_payer if who != order.payer_id)
    # The first to lock the bill pays; the other person of the household is told someone is paying.
    assert by_payer == {order.payer_id: {201}, other: {409}}, started
    assert {body["message"] for (status, body) in started if status == 409} == {
        "本账单已有正在进行的支付，请完成支付或15分钟后再试"}

    completed = complete_every_order(app, bill_id, headers)

    assert [status for status, _ in completed] == [200] * COMPLETIONS, completed
    assert_settled_once(bill_id)
    assert db.session.scalar(select(func.count()).select_from(PaymentOrder)) == 1
