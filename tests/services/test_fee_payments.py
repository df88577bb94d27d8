"""Paying, adjusting and refunding bills as use cases: a cash or bank payment must be exactly what is owed after
the subsidy and has a paper receipt number unique in the compound; a paid or waived bill takes no more; an
overpayment is refunded up to what was overpaid; adjusting and waiving only touch unpaid bills with no payment
under way and give the held subsidy back; a bill the subsidy covers whole settles without any payment. Every
privileged step is an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from backend.domain.fees import BillStatus, FeeRefused, GrantStatus, OrderFate, PaymentMethod
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.integrations.wechat_pay import SandboxWeChatPay
from backend.models import (
    AuditEvent,
    Bill,
    Compound,
    Payment,
    PaymentOrder,
    Refund,
    SubsidyGrant,
    SubsidyPolicy,
    User,
)
from backend.services import fees as fee_service
from backend.services import payment_orders
from backend.services import payments as service
from tests import fees_support
from tests.fees_support import add_order, issue_bills_for, make_policy, make_schedule

pytestmark = pytest.mark.calendar

DECEMBER = date(2026, 12, 1)
# The December bills of make_compound's households at 1.50 元/m², and their 30% subsidy (month 18 of a period
# from July 2025), each rounded half-up.
AMOUNTS = [12188, 12375, 12563, 12750]
SHARES = [3656, 3713, 3769, 3825]
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
NOTIFY_URL = "http://linli.test/api/v1/payments/wechat/notify"


@pytest.fixture(scope="module")
def sandbox_keys(tmp_path_factory):
    return tmp_path_factory.mktemp("wechatpay-sandbox") / "keys"


@pytest.fixture(autouse=True)
def sandbox_pay(app, monkeypatch, sandbox_keys) -> SandboxWeChatPay:
    sandbox = SandboxWeChatPay(sandbox_keys, appid="wx00000000sandbox")
    monkeypatch.setitem(app.extensions, "linli_wechat_pay", sandbox)
    return sandbox


@dataclass
class Desk:
    compound: Compound
    bills: list[Bill]
    policy: SubsidyPolicy
    staff: User
    committee: User
    owner: User  # of the first household


@pytest.fixture
def desk(make_compound, make_user) -> Desk:
    compound = make_compound(buildings=1, households_per_building=4)
    make_schedule(compound, standard_fen_per_m2=150)
    bills = issue_bills_for(compound, DECEMBER)
    policy = make_policy(compound_id=compound.id, budget_fen=100_000)
    return Desk(compound=compound, bills=bills, policy=policy, staff=make_user(Role.STAFF, compound),
                committee=make_user(Role.COMMITTEE, compound),
                owner=make_user(Role.OWNER, compound, household=bills[0].household))


def bill(bill_id: int) -> Bill:
    return db.session.get(Bill, bill_id)


def committed(policy: SubsidyPolicy) -> int:
    return db.session.scalar(select(SubsidyPolicy.committed_fen).where(SubsidyPolicy.id == policy.id))


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def refused(call, *args, **kwargs) -> FeeRefused:
    """The refusal, after which the request's transaction is rolled back, as the API does."""
    with pytest.raises(FeeRefused) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


def cash(desk: Desk, index: int, amount: int, receipt: str, now: datetime = T0) -> Payment:
    return service.record_offline_payment(desk.bills[index].id, PaymentMethod.CASH, amount, receipt,
                                          desk.staff.id, "10.0.0.8", now=now)


# ---- offline payments ----------------------------------------------------------------------------------


def test_an_offline_payment_must_be_exactly_the_share_after_the_subsidy(desk):
    share = AMOUNTS[0] - SHARES[0]

    for amount in (share - 1, share + 1, AMOUNTS[0]):
        refusal = refused(cash, desk, 0, amount, "SJ-0001")
        assert (refusal.status, refusal.message) == (422, "金额应为应缴的¥85.32（已扣除补贴）")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert committed(desk.policy) == 0

    payment = cash(desk, 0, share, "SJ-0001")

    assert (payment.method, payment.amount_fen, payment.subsidy_fen, payment.offline_receipt_no,
            payment.recorded_by_id, payment.paid_at) == (
        PaymentMethod.CASH, share, SHARES[0], "SJ-0001", desk.staff.id, T0)
    paid = bill(desk.bills[0].id)
    assert (paid.status, paid.paid_fen, paid.subsidy_fen, paid.outstanding_fen, paid.paid_at) == (
        BillStatus.PAID, share, SHARES[0], 0, T0)
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == paid.id))
    assert (grant.status, grant.amount_fen, grant.settlement_month) == (GrantStatus.GRANTED, SHARES[0], DECEMBER)
    assert committed(desk.policy) == SHARES[0]
    [event] = audits("payment.offline")
    assert (event.actor_id, event.target_id, event.compound_id, event.ip) == (
        desk.staff.id, payment.id, desk.compound.id, "10.0.0.8")
    assert event.after == {"bill_id": paid.id, "method": "cash", "amount_fen": share,
                           "offline_receipt_no": "SJ-0001", "receipt_id": payment.receipt_id}


def test_without_a_subsidy_the_whole_bill_is_owed(desk):
    desk.policy.is_active = False
    db.session.commit()

    payment = service.record_offline_payment(desk.bills[1].id, PaymentMethod.BANK, AMOUNTS[1], "YH-20261203-1",
                                             desk.staff.id, None, now=T0)

    assert (payment.method, payment.subsidy_fen) == (PaymentMethod.BANK, 0)
    assert bill(desk.bills[1].id).status is BillStatus.PAID


def test_a_paper_receipt_number_is_used_once_in_a_compound(desk, make_compound, make_user):
    cash(desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001")

    refusal = refused(cash, desk, 1, AMOUNTS[1] - SHARES[1], "SJ-0001")

    assert refusal.status == 409
    assert bill(desk.bills[1].id).status is BillStatus.UNPAID
    assert len(audits("payment.offline")) == 1
    other = make_compound(buildings=1, households_per_building=1)
    make_schedule(other)
    [theirs] = issue_bills_for(other, DECEMBER)
    service.record_offline_payment(theirs.id, PaymentMethod.CASH, AMOUNTS[0], "SJ-0001",
                                   make_user(Role.STAFF, other).id, None, now=T0)
    assert bill(theirs.id).status is BillStatus.PAID


def test_a_paid_or_waived_bill_takes_no_offline_payment(desk):
    cash(desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001")
    fee_service.waive_bill(desk.bills[1].id, "困难户减免", desk.committee.id, None)

    assert refused(cash, desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0002").status == 409
    assert refused(cash, desk, 1, AMOUNTS[1] - SHARES[1], "SJ-0003").status == 409
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_an_offline_payment_is_cash_or_a_bank_transfer(desk):
    refusal = refused(service.record_offline_payment, desk.bills[0].id, PaymentMethod.WECHAT,
                      AMOUNTS[0] - SHARES[0], "SJ-0001", desk.staff.id, None)

    assert refusal.status == 422


def test_an_unknown_bill_is_not_found(desk):
    refusal = refused(service.record_offline_payment, 2_000_000_000, PaymentMethod.CASH, 100, "SJ-0001",
                      desk.staff.id, None)

    assert refusal.status == 404


# ---- refunds -------------------------------------------------------------------------------------------


@pytest.fixture
def paid_twice(desk, sandbox_pay) -> Bill:
    """The owner's online order expires unpaid; staff take the share in cash, which closes it at WeChat Pay; then
    WeChat Pay notifies a payment of that order all the same (closed, but paid anyway)."""
    order = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    out_trade_no, amount_fen, openid = order.out_trade_no, order.amount_fen, order.openid
    cash(desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001", now=T0 + timedelta(minutes=16))
    # Paid at minute 14 as WeChat Pay tells it (the notification is signed when the payment was made).
    paid_at = T0 + timedelta(minutes=14)
    service.accept_notification(*sandbox_pay.signed_notification(out_trade_no, "4200002100202612030000000001",
                                                                 amount_fen, openid, now=paid_at), now=paid_at)
    return bill(desk.bills[0].id)


def test_cash_is_refused_while_the_household_is_paying_online(desk):
    service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0)

    refusal = refused(cash, desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001", now=T0 + timedelta(minutes=14))

    assert (refusal.status, refusal.message) == (
        409, "住户正在线上缴费（订单10:15前有效）：请先“查询并关闭线上支付”，再登记收款")
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_bill_paid_twice_is_overpaid_by_the_share(desk, paid_twice):
    share = AMOUNTS[0] - SHARES[0]

    assert (paid_twice.status, paid_twice.paid_fen, paid_twice.overpaid_fen) == (BillStatus.PAID, 2 * share, share)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 2


def test_a_refund_gives_back_at_most_what_was_overpaid_and_is_audited(desk, paid_twice):
    share = AMOUNTS[0] - SHARES[0]

    refusal = refused(service.refund_overpayment, paid_twice.id, share + 1, PaymentMethod.CASH, "重复缴费退款",
                      desk.committee.id, None)
    assert (refusal.status, refusal.message) == (422, "最多可退¥85.32")

    first = service.refund_overpayment(paid_twice.id, 3000, PaymentMethod.BANK, "重复缴费，先退一部分",
                                       desk.committee.id, "10.0.0.9")
    assert bill(paid_twice.id).overpaid_fen == share - 3000
    service.refund_overpayment(paid_twice.id, share - 3000, PaymentMethod.CASH, "重复缴费，退清",
                               desk.committee.id, None)

    after = bill(paid_twice.id)
    assert (after.paid_fen, after.overpaid_fen, after.status) == (share, 0, BillStatus.PAID)
    assert refused(service.refund_overpayment, paid_twice.id, 1, PaymentMethod.CASH, "再退",
                   desk.committee.id, None).status == 422
    assert [(refund.amount_fen, refund.method, refund.reason) for refund in db.session.scalars(
        select(Refund).order_by(Refund.id))] == [
        (3000, PaymentMethod.BANK, "重复缴费，先退一部分"), (share - 3000, PaymentMethod.CASH, "重复缴费，退清")]
    events = audits("bill.refund")
    assert [(event.actor_id, event.target_id, event.after["amount_fen"], event.after["reason"])
            for event in events] == [
        (desk.committee.id, paid_twice.id, 3000, "重复缴费，先退一部分"),
        (desk.committee.id, paid_twice.id, share - 3000, "重复缴费，退清")]
    assert events[0].after["refund_id"] == first.id and events[0].ip == "10.0.0.9"


def test_a_bill_paid_once_has_nothing_to_refund(desk):
    cash(desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001")

    assert refused(service.refund_overpayment, desk.bills[0].id, 1, PaymentMethod.CASH, "误操作",
                   desk.committee.id, None).status == 422
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0


def test_a_refund_is_cash_or_a_bank_transfer(desk, paid_twice):
    assert refused(service.refund_overpayment, paid_twice.id, 100, PaymentMethod.WECHAT, "退款",
                   desk.committee.id, None).status == 422


# ---- adjusting and waiving -----------------------------------------------------------------------------


def test_adjusting_an_unpaid_bill_releases_its_held_subsidy_and_is_audited(desk):
    service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0)
    assert committed(desk.policy) == SHARES[0]

    adjusted = fee_service.adjust_bill(desk.bills[0].id, 10_000, "面积核减为66.67平方米", desk.committee.id,
                                       "10.0.0.7", now=T0 + timedelta(minutes=16))

    assert (adjusted.amount_fen, adjusted.original_amount_fen, adjusted.subsidy_fen, adjusted.status,
            adjusted.adjust_reason) == (10_000, AMOUNTS[0], 0, BillStatus.UNPAID, "面积核减为66.67平方米")
    assert committed(desk.policy) == 0
    assert db.session.scalar(select(SubsidyGrant.status).where(SubsidyGrant.bill_id == adjusted.id)) is (
        GrantStatus.RELEASED)
    [event] = audits("bill.adjust")
    assert (event.actor_id, event.target_id, event.compound_id, event.ip) == (
        desk.committee.id, adjusted.id, desk.compound.id, "10.0.0.7")
    assert event.before == {"amount_fen": AMOUNTS[0], "subsidy_fen": SHARES[0]}
    assert event.after == {"amount_fen": 10_000, "reason": "面积核减为66.67平方米"}
    # The next payment holds the subsidy of the new amount: 30% of 100.00 元.
    again = service.start_payment(adjusted.id, desk.owner, NOTIFY_URL, now=T0 + timedelta(minutes=20))
    assert (again.bill.subsidy_fen, again.order.amount_fen) == (3000, 7000)
    assert committed(desk.policy) == 3000


def test_adjusting_to_nothing_waives_the_bill(desk):
    adjusted = fee_service.adjust_bill(desk.bills[1].id, 0, "物业承诺免收当月", desk.committee.id, None)

    assert (adjusted.status, adjusted.amount_fen, adjusted.outstanding_fen) == (BillStatus.WAIVED, 0, 0)


def test_waiving_an_unpaid_bill_releases_its_subsidy_and_is_audited(desk):
    service.start_payment(desk.bills[2].id, desk.owner, NOTIFY_URL, now=T0 - timedelta(hours=1))

    waived = fee_service.waive_bill(desk.bills[2].id, "低保户减免", desk.committee.id, "10.0.0.7", now=T0)

    assert (waived.status, waived.subsidy_fen, waived.adjust_reason, waived.outstanding_fen) == (
        BillStatus.WAIVED, 0, "低保户减免", 0)
    assert committed(desk.policy) == 0
    [event] = audits("bill.waive")
    assert (event.actor_id, event.target_id, event.before, event.after) == (
        desk.committee.id, waived.id, {"status": "unpaid", "amount_fen": AMOUNTS[2]},
        {"status": "waived", "reason": "低保户减免"})


def test_a_bill_with_a_payment_under_way_cannot_be_adjusted_or_waived(desk):
    start = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0)
    during = T0 + timedelta(minutes=14)

    for call, args in ((fee_service.adjust_bill, (desk.bills[0].id, 10_000, "核减")),
                       (fee_service.waive_bill, (desk.bills[0].id, "减免"))):
        refusal = refused(call, *args, desk.committee.id, None, now=during)
        assert (refusal.status, refusal.message) == (409, "该账单有正在进行的支付，请10:15后再调整")

    current = bill(desk.bills[0].id)
    assert (current.status, current.amount_fen, current.subsidy_fen) == (BillStatus.UNPAID, AMOUNTS[0], SHARES[0])
    assert audits("bill.adjust") == audits("bill.waive") == []
    assert db.session.get(PaymentOrder, start.order.id).paid_at is None


@pytest.mark.parametrize("action", ["adjust", "waive"])
def test_a_paid_or_waived_bill_cannot_be_adjusted_or_waived(desk, action):
    cash(desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001")
    fee_service.waive_bill(desk.bills[1].id, "减免", desk.committee.id, None)

    for index in (0, 1):
        if action == "adjust":
            refusal = refused(fee_service.adjust_bill, desk.bills[index].id, 100, "改", desk.committee.id, None)
        else:
            refusal = refused(fee_service.waive_bill, desk.bills[index].id, "减免", desk.committee.id, None)
        assert refusal.status == 409
    assert bill(desk.bills[0].id).status is BillStatus.PAID
    assert committed(desk.policy) == SHARES[0]


def test_adjusting_an_unknown_bill_is_not_found(desk):
    assert refused(fee_service.adjust_bill, 2_000_000_000, 100, "改", desk.committee.id, None).status == 404
    assert refused(fee_service.waive_bill, 2_000_000_000, "减免", desk.committee.id, None).status == 404


# ---- a bill the subsidy covers whole -------------------------------------------------------------------


def test_a_bill_covered_whole_by_the_subsidy_settles_without_a_payment(desk):
    make_policy(compound_id=desk.compound.id, name="全额补贴", period_start=date(2026, 1, 1),
                tiers=[SubsidyTier(months=12, rate_bp=10_000)])

    start = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0)

    assert (start.settled, start.order, start.pay_params) == (True, None, None)
    settled = bill(desk.bills[0].id)
    assert (settled.status, settled.subsidy_fen, settled.paid_fen, settled.paid_at) == (
        BillStatus.PAID, AMOUNTS[0], 0, T0)
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == settled.id))
    assert (grant.status, grant.amount_fen) == (GrantStatus.GRANTED, AMOUNTS[0])
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(func.count()).select_from(PaymentOrder)) == 0


# ---- one live order per bill ----------------------------------------------------------------------------


def orders_of(bill_id: int) -> list[PaymentOrder]:
    db.session.expire_all()
    return fees_support.orders_of(bill_id)


def payments_of(bill_id: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id)))


@pytest.fixture
def tenant(desk, make_user) -> User:
    """A second verified person of the first household."""
    return make_user(Role.RESIDENT, desk.compound, household=desk.bills[0].household)


def test_the_payer_asking_again_gets_the_same_order_and_someone_else_is_refused(desk, tenant):
    first = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0)
    again = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0 + timedelta(minutes=3))

    assert (again.order.id, again.pay_params["package"]) == (first.order.id, first.pay_params["package"])
    refusal = refused(service.start_payment, desk.bills[0].id, tenant, NOTIFY_URL, now=T0 + timedelta(minutes=3))
    assert (refusal.status, refusal.message) == (409, "本账单已有正在进行的支付，请完成支付或15分钟后再试")
    assert [order.id for order in orders_of(desk.bills[0].id)] == [first.order.id]


def test_a_second_live_order_of_a_bill_is_refused_by_the_database(desk):
    """Whatever a request believes, the partial unique index keeps one live order per bill."""
    first = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    with pytest.raises(IntegrityError):
        add_order(desk.bills[0], desk.owner.id, "LLDUPLICATE0001", 1, T0)
        db.session.flush()
    db.session.rollback()
    # Closing the order frees its bill: the order's `live` reaches its lines by the cascading key.
    db.session.execute(update(PaymentOrder).where(PaymentOrder.id == first.id).values(closed_at=T0, live=False))
    add_order(desk.bills[0], desk.owner.id, "LLDUPLICATE0002", 1, T0)
    db.session.flush()
    # An order's closed_at and live go together, or the database refuses it.
    with pytest.raises(IntegrityError):
        db.session.execute(update(PaymentOrder).where(PaymentOrder.id == first.id).values(live=True))
    db.session.rollback()


def test_after_the_order_expired_another_opens_once_wechat_pay_has_closed_the_old_one(desk, tenant,
                                                                                        sandbox_pay):
    old = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    old_id, old_number = old.id, old.out_trade_no

    new = service.start_payment(desk.bills[0].id, tenant, NOTIFY_URL, now=T0 + timedelta(minutes=16)).order

    assert new.id != old_id and new.payer_id == tenant.id
    assert sandbox_pay.query_order(old_number).trade_state == "CLOSED"
    assert [(order.id, order.live) for order in orders_of(desk.bills[0].id)] == [(old_id, False), (new.id, True)]
    # The resident's sheet of the old order is dead: the sandbox, like WeChat Pay, will not take the money.
    assert refused(service.complete_sandbox_payment, old_id, desk.owner.id,
                   now=T0 + timedelta(minutes=17)).message == "本次支付已关闭，请重新发起缴费"
    assert payments_of(desk.bills[0].id) == []


def test_an_expired_order_paid_but_never_notified_is_recorded_before_another_opens(desk, sandbox_pay):
    order = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    # The money is taken at minute 14; the notification never reaches us.
    sandbox_pay.pay(order.out_trade_no, "4200002100202612030000000011", order.amount_fen, order.openid,
                    now=T0 + timedelta(minutes=14))

    refusal = refused(service.start_payment, desk.bills[0].id, desk.owner, NOTIFY_URL,
                      now=T0 + timedelta(minutes=16))

    assert refusal.message == "该账单已缴清"
    [payment] = payments_of(desk.bills[0].id)
    assert (payment.transaction_id, payment.amount_fen, payment.paid_at) == (
        "4200002100202612030000000011", AMOUNTS[0] - SHARES[0], T0 + timedelta(minutes=14))
    assert bill(desk.bills[0].id).status is BillStatus.PAID
    assert len(orders_of(desk.bills[0].id)) == 1


def test_the_desk_takes_no_cash_while_the_order_is_live_and_can_once_it_closed_it(desk, sandbox_pay):
    order = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    order_id, number = order.id, order.out_trade_no
    during = T0 + timedelta(minutes=5)
    assert refused(cash, desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001", now=during).status == 409

    check = service.close_online_payment(desk.bills[0].id, desk.staff.id, "10.0.0.8", now=during)

    assert (check.outcome, check.message, check.payment) == (
        service.OnlineOutcome.CLOSED, "已关闭住户未完成的线上支付，现在可以登记收款", None)
    assert sandbox_pay.query_order(number).trade_state == "CLOSED"
    [event] = audits("payment_order.close")
    assert (event.actor_id, event.target_id, event.compound_id, event.ip) == (
        desk.staff.id, order_id, desk.compound.id, "10.0.0.8")
    assert event.after == {"bill_id": desk.bills[0].id, "bill_ids": [desk.bills[0].id], "out_trade_no": number,
                           "outcome": "closed"}
    payment = cash(desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001", now=during)
    assert payment.method is PaymentMethod.CASH and bill(desk.bills[0].id).status is BillStatus.PAID
    assert refused(service.complete_sandbox_payment, order_id, desk.owner.id, now=during).status == 409
    assert len(payments_of(desk.bills[0].id)) == 1


def test_the_desk_closing_an_order_the_resident_paid_records_it_and_takes_nothing(desk, sandbox_pay):
    order = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    sandbox_pay.pay(order.out_trade_no, "4200002100202612030000000012", order.amount_fen, order.openid,
                    now=T0 + timedelta(minutes=2))

    check = service.close_online_payment(desk.bills[0].id, desk.staff.id, None, now=T0 + timedelta(minutes=3))

    assert (check.outcome, check.message) == (service.OnlineOutcome.PAID, "住户的线上支付已完成，无需再收款")
    assert check.payment.transaction_id == "4200002100202612030000000012"
    assert (check.bill.status, check.bill.paid_fen) == (BillStatus.PAID, AMOUNTS[0] - SHARES[0])
    assert refused(cash, desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001").message == "该账单已缴清"
    assert len(payments_of(desk.bills[0].id)) == 1


def test_cash_after_the_order_expired_asks_wechat_pay_first(desk, sandbox_pay):
    order = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    sandbox_pay.pay(order.out_trade_no, "4200002100202612030000000013", order.amount_fen, order.openid,
                    now=T0 + timedelta(minutes=14))

    refusal = refused(cash, desk, 0, AMOUNTS[0] - SHARES[0], "SJ-0001", now=T0 + timedelta(minutes=16))

    assert (refusal.status, refusal.message) == (409, "住户的线上支付已完成，无需再收款")
    assert [payment.transaction_id for payment in payments_of(desk.bills[0].id)] == ["4200002100202612030000000013"]
    assert bill(desk.bills[0].id).status is BillStatus.PAID


def test_closing_when_there_is_no_online_payment_says_so(desk):
    check = service.close_online_payment(desk.bills[1].id, desk.staff.id, None, now=T0)

    assert (check.outcome, check.message) == (service.OnlineOutcome.NONE, "该账单没有进行中的线上支付")
    assert audits("payment_order.close") == []


def test_a_late_payment_of_a_closed_order_never_settles_the_bill_again(desk, paid_twice):
    """paid_twice: cash settled the bill; the closed order's payment came after. The bill, its settlement time and
    the subsidy grant are the cash payment's; the second payment is an overpayment to refund."""
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == paid_twice.id))
    share = AMOUNTS[0] - SHARES[0]

    assert (paid_twice.status, paid_twice.paid_at, paid_twice.overpaid_fen) == (
        BillStatus.PAID, T0 + timedelta(minutes=16), share)
    assert (grant.status, grant.granted_at, grant.amount_fen) == (
        GrantStatus.GRANTED, T0 + timedelta(minutes=16), SHARES[0])
    assert committed(desk.policy) == SHARES[0]
    cash_payment, online = payments_of(paid_twice.id)
    assert (cash_payment.method, online.method, online.amount_fen) == (PaymentMethod.CASH, PaymentMethod.SANDBOX,
                                                                        share)
    [order] = orders_of(paid_twice.id)
    assert order.closed_at is not None and order.paid_at == T0 + timedelta(minutes=14)


def test_a_late_payment_of_an_order_closed_by_a_waiver_is_refunded_whole(desk, sandbox_pay):
    order = service.start_payment(desk.bills[0].id, desk.owner, NOTIFY_URL, now=T0).order
    number, amount_fen, openid = order.out_trade_no, order.amount_fen, order.openid
    fee_service.waive_bill(desk.bills[0].id, "低保户减免", desk.committee.id, None, now=T0 + timedelta(minutes=16))

    service.accept_notification(*sandbox_pay.signed_notification(number, "4200002100202612030000000014", amount_fen,
                                                                 openid, now=T0 + timedelta(minutes=14)),
                                now=T0 + timedelta(minutes=14))

    waived = bill(desk.bills[0].id)
    assert (waived.status, waived.paid_fen, waived.overpaid_fen, waived.paid_at) == (
        BillStatus.WAIVED, amount_fen, amount_fen, None)
    assert db.session.scalar(select(SubsidyGrant.status).where(SubsidyGrant.bill_id == waived.id)) is (
        GrantStatus.RELEASED)
    assert committed(desk.policy) == 0


@pytest.mark.parametrize(("prepay_id", "fate", "live"), [("", OrderFate.CLOSED, False),
                                                         ("wx_handed_out", OrderFate.OPEN, True)])
def test_an_order_wechat_pay_never_received_closes_only_if_its_prepay_id_was_never_handed_out(
    desk, prepay_id, fate, live
):
    """WeChat Pay says ORDER_NOT_EXIST while our placing of the order is still on its way: once its prepay_id has
    been stored (and handed to the payer), the order is payable after all and must stay live."""
    order = add_order(desk.bills[0], desk.owner.id, f"LL{desk.bills[0].id:010d}neverplaced", 100, T0, prepay_id)
    db.session.commit()

    assert payment_orders.settle_with_provider(payment_orders.OrderRef.of(order), T0) is fate

    assert db.session.get(PaymentOrder, order.id).live is live
