"""Paying a bill: online (WeChat Pay JSAPI, or the sandbox in development) through one notification path,
cash or bank transfers recorded by staff, refunds of overpayments, and receipts.

A payment notification may arrive any number of times and at the same instant: the order row is locked,
and one order and one provider transaction id each have at most one payment (unique constraints)."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.domain.auth import WeChatApp
from backend.domain.fees import (
    OFFLINE_METHODS,
    PAYMENT_METHOD_LABELS,
    PAYMENT_WINDOW,
    BillStatus,
    FeeRefused,
    PaymentMethod,
    format_fen,
    period_label,
)
from backend.domain.notifications import SHANGHAI
from backend.extensions import db
from backend.integrations.wechat_pay import JsapiOrder, PaidTransaction
from backend.models import Bill, Payment, PaymentOrder, Refund, User
from backend.models.base import utcnow
from backend.services.audit import record_audit
from backend.services.auth import wechat_openid
from backend.services.fees import has_open_order, household_label, lock_bill
from backend.services.payment_provider import notify_url as provider_notify_url
from backend.services.payment_provider import wechat_pay
from backend.services.subsidies import grant_subsidy, hold_subsidy

log = logging.getLogger("linli.payments")


class UnknownOrder(LookupError):
    """A notification for an out_trade_no we never issued."""


class AmountMismatch(ValueError):
    """A notification whose amount is not the order's: recorded nowhere, and logged loudly."""


@dataclass(frozen=True)
class PaymentStart:
    """What the pay page needs: the order and, for WeChat, the getBrandWCPayRequest parameters; `settled` when
    the subsidy covers the whole bill and nothing is left to pay."""

    bill: Bill
    settled: bool
    order: PaymentOrder | None = None
    pay_params: dict | None = None


def start_payment(bill_id: int, payer: User, notify_url: str | None = None,
                  now: datetime | None = None) -> PaymentStart:
    """Fix the bill's subsidy and open an order for the resident's share (or give back the open one)."""
    now = now or utcnow()
    provider = wechat_pay()
    bill = _payable(lock_bill(bill_id))
    openid = wechat_openid(payer.id, WeChatApp.OFFICIAL_ACCOUNT) or ""  # JSAPI in the H5: the official account's
    if provider.provider == PaymentMethod.WECHAT and not openid:
        raise FeeRefused("请在微信中打开本页面完成支付")
    hold_subsidy(bill)
    share = bill.outstanding_fen
    if share == 0:
        _settle(bill, now)
        db.session.commit()
        return PaymentStart(bill=bill, settled=True)
    order = db.session.scalar(
        select(PaymentOrder).where(
            PaymentOrder.bill_id == bill.id, PaymentOrder.paid_at.is_(None), PaymentOrder.expires_at > now,
            PaymentOrder.prepay_id != "",
        ).order_by(PaymentOrder.id.desc()).limit(1)
    )
    if order is not None and (order.payer_id != payer.id or order.amount_fen != share):
        # One payable order per bill: two people of a household paying at once would pay it twice.
        raise FeeRefused("本账单已有正在进行的支付，请完成支付或15分钟后再试")
    if order is None:
        order = PaymentOrder(
            out_trade_no=f"LL{bill.id:010d}{secrets.token_hex(6)}", bill_id=bill.id, compound_id=bill.compound_id,
            provider=PaymentMethod(provider.provider), amount_fen=share, payer_id=payer.id,
            openid=openid or f"sandbox-{payer.id}", expires_at=now + PAYMENT_WINDOW,
        )
        db.session.add(order)
    # The subsidy and the order commit before WeChat is called: its answer can take seconds, and the bill's
    # lock must not wait for it.
    db.session.commit()
    if not order.prepay_id:
        order.prepay_id = provider.place_jsapi_order(JsapiOrder(
            out_trade_no=order.out_trade_no, description=_description(bill), amount_fen=order.amount_fen,
            payer_openid=order.openid, time_expire=order.expires_at, notify_url=notify_url or provider_notify_url(),
        ))
        db.session.commit()
    return PaymentStart(bill=bill, settled=False, order=order, pay_params=provider.pay_params(order.prepay_id))


def _payable(bill: Bill | None) -> Bill:
    if bill is None:
        raise LookupError
    if bill.status is BillStatus.PAID:
        raise FeeRefused("该账单已缴清")
    if bill.status is BillStatus.WAIVED:
        raise FeeRefused("该账单已减免，无需缴费")
    return bill


def _description(bill: Bill) -> str:
    return f"{bill.compound.name}物业费 {period_label(bill.period_start, bill.months)}"[:127]


def _settle(bill: Bill, now: datetime) -> None:
    bill.status = BillStatus.PAID
    bill.paid_at = now
    grant_subsidy(bill, now)


def accept_notification(headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> Payment | None:
    """WeChat Pay's (or the sandbox's) payment notification: verified, decrypted, checked against the order
    and recorded once. Raises NotificationRejected, UnknownOrder or AmountMismatch; returns None for a
    transaction that did not succeed (nothing to record)."""
    transaction = wechat_pay().parse_notification(headers, body, now=now)
    return record_paid_transaction(transaction, now or utcnow())


def record_paid_transaction(transaction: PaidTransaction, now: datetime) -> Payment | None:
    if transaction.trade_state != "SUCCESS":
        log.info("payment notification for %s in state %s: nothing recorded",
                 transaction.out_trade_no, transaction.trade_state)
        return None
    # A replay (the common case: WeChat Pay repeats itself) is answered from one unlocked read: an order once
    # paid stays paid, and a transaction that neither writes nor locks commits without a WAL flush.
    seen = db.session.execute(
        select(PaymentOrder.amount_fen, PaymentOrder.paid_at, Payment)
        .outerjoin(Payment, Payment.order_id == PaymentOrder.id)
        .where(PaymentOrder.out_trade_no == transaction.out_trade_no)
    ).first()
    if seen is None:
        db.session.rollback()
        raise UnknownOrder(transaction.out_trade_no)
    if transaction.amount_total_fen != seen.amount_fen:
        db.session.rollback()
        log.error("payment notification for %s says %d fen, the order is %d fen: refused",
                  transaction.out_trade_no, transaction.amount_total_fen, seen.amount_fen)
        raise AmountMismatch(transaction.out_trade_no)
    if seen.paid_at is not None:
        db.session.rollback()
        return seen.Payment
    # A first delivery: the order and its bill locked together (the order serialises deliveries of the same
    # payment, the bill the desk and the adjusters), then checked again.
    order, bill, recorded = db.session.execute(
        select(PaymentOrder, Bill, Payment)
        .join(Bill, Bill.id == PaymentOrder.bill_id)
        .outerjoin(Payment, Payment.order_id == PaymentOrder.id)
        .where(PaymentOrder.out_trade_no == transaction.out_trade_no)
        .with_for_update(of=(PaymentOrder, Bill))
        .execution_options(populate_existing=True)
    ).one()
    if order.paid_at is not None:
        # Paid by a delivery we waited for: its payment was committed after this statement's snapshot, so the
        # join above saw none; a new statement sees it.
        recorded = recorded or db.session.scalar(select(Payment).where(Payment.order_id == order.id))
        db.session.commit()
        return recorded
    paid_at = transaction.success_time or now
    payment = Payment(
        receipt_no=new_receipt_no(now), bill_id=bill.id, compound_id=bill.compound_id,
        household_id=bill.household_id, method=order.provider, amount_fen=order.amount_fen,
        subsidy_fen=bill.subsidy_fen, order_id=order.id, transaction_id=transaction.transaction_id,
        paid_at=paid_at,
    )
    db.session.add(payment)
    order.paid_at = paid_at
    _take_payment(bill, payment.amount_fen, now)
    try:
        db.session.commit()
    except IntegrityError:
        # The same transaction recorded by a concurrent delivery (SQLite cannot lock the order row); anything
        # else must fail the notification, so that WeChat Pay sends it again.
        db.session.rollback()
        existing = db.session.scalar(select(Payment).where(Payment.transaction_id == transaction.transaction_id))
        if existing is None:
            raise
        return existing
    return payment


def _take_payment(bill: Bill, amount_fen: int, now: datetime) -> None:
    bill.paid_fen += amount_fen
    if bill.status is BillStatus.UNPAID and bill.paid_fen >= bill.resident_share_fen:
        _settle(bill, now)


def new_receipt_no(now: datetime) -> str:
    return f"R{now.astimezone(SHANGHAI):%Y%m%d}{secrets.token_hex(5).upper()}"


def complete_sandbox_payment(order_id: int, payer_id: int, now: datetime | None = None) -> Payment | None:
    """The sandbox's "pay" button: the provider signs a notification as WeChat would and it goes through the
    same verification and recording as a real one."""
    provider = wechat_pay()
    order = db.session.get(PaymentOrder, order_id)
    if order is None or order.payer_id != payer_id or provider.provider != PaymentMethod.SANDBOX:
        raise LookupError
    if order.paid_at is None and order.expires_at <= (now or utcnow()):
        # As WeChat Pay: an expired order cannot be paid.
        raise FeeRefused("支付已超时，请重新发起缴费")
    headers, body = provider.signed_notification(
        order.out_trade_no, f"sandbox{order.id:012d}{secrets.token_hex(4)}", order.amount_fen, order.openid,
        now=now,
    )
    return accept_notification(headers, body, now=now)


def record_offline_payment(bill_id: int, method: PaymentMethod, amount_fen: int, offline_receipt_no: str,
                           actor_id: int, ip: str | None, now: datetime | None = None) -> Payment:
    """Cash or a bank transfer taken by staff, against the paper receipt's number. The amount must be exactly
    what is owed after the subsidy (no partial payments)."""
    if method not in OFFLINE_METHODS:
        raise FeeRefused("线下收款只能是现金或银行转账", 422)
    now = now or utcnow()
    bill = _payable(lock_bill(bill_id))
    if has_open_order(bill.id, now):
        # Cash taken now and the online payment completing would charge the household twice.
        raise FeeRefused("住户正在线上缴费，请15分钟后再登记")
    hold_subsidy(bill)
    if bill.outstanding_fen == 0:
        raise FeeRefused("补贴已全额抵扣，无需收款：住户在账单页点“缴费”即可结清")
    if amount_fen != bill.outstanding_fen:
        raise FeeRefused(f"金额应为应缴的{format_fen(bill.outstanding_fen)}（已扣除补贴）", 422)
    taken = db.session.scalar(select(Payment.id).where(
        Payment.compound_id == bill.compound_id, Payment.offline_receipt_no == offline_receipt_no))
    if taken:
        raise FeeRefused("该收据号已登记过", 409)
    payment = Payment(
        receipt_no=new_receipt_no(now), bill_id=bill.id, compound_id=bill.compound_id,
        household_id=bill.household_id, method=method, amount_fen=amount_fen, subsidy_fen=bill.subsidy_fen,
        offline_receipt_no=offline_receipt_no, recorded_by_id=actor_id, paid_at=now,
    )
    db.session.add(payment)
    _take_payment(bill, amount_fen, now)
    try:
        db.session.flush()
    except IntegrityError:
        # Two desks entered the same paper receipt at the same moment: the unique constraint decides.
        db.session.rollback()
        raise FeeRefused("该收据号已登记过", 409) from None
    record_audit(actor_id=actor_id, action="payment.offline", target_type="payment", target_id=payment.id,
                 compound_id=bill.compound_id,
                 after={"bill_id": bill.id, "method": method.value, "amount_fen": amount_fen,
                        "offline_receipt_no": offline_receipt_no}, ip=ip)
    db.session.commit()
    return payment


def refund_overpayment(bill_id: int, amount_fen: int, method: PaymentMethod, reason: str, actor_id: int,
                       ip: str | None) -> Refund:
    """Give back what was paid beyond the resident's share (a bill paid twice, or paid and then waived)."""
    if method not in OFFLINE_METHODS:
        raise FeeRefused("退款方式只能是现金或银行转账", 422)
    bill = lock_bill(bill_id)
    if bill is None:
        raise LookupError
    if amount_fen > bill.overpaid_fen:
        raise FeeRefused(f"最多可退{format_fen(bill.overpaid_fen)}", 422)
    refund = Refund(bill_id=bill.id, compound_id=bill.compound_id, method=method, amount_fen=amount_fen,
                    reason=reason, refunded_by_id=actor_id)
    db.session.add(refund)
    bill.paid_fen -= amount_fen
    db.session.flush()
    record_audit(actor_id=actor_id, action="bill.refund", target_type="bill", target_id=bill.id,
                 compound_id=bill.compound_id,
                 after={"refund_id": refund.id, "amount_fen": amount_fen, "method": method.value, "reason": reason},
                 ip=ip)
    db.session.commit()
    return refund


def bill_payments(bill_id: int) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.bill_id == bill_id).order_by(Payment.id)))


def bill_refunds(bill_id: int) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.bill_id == bill_id).order_by(Refund.id)))


@dataclass(frozen=True)
class Receipt:
    payment: Payment
    bill: Bill
    compound_name: str
    household_label: str
    period_label: str
    method_label: str


def receipt(payment_id: int) -> Receipt | None:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        return None
    bill = payment.bill
    household = bill.household
    return Receipt(
        payment=payment, bill=bill, compound_name=bill.compound.name,
        household_label=household_label(household.building.name, household.unit, household.room),
        period_label=period_label(bill.period_start, bill.months),
        method_label=PAYMENT_METHOD_LABELS[payment.method],
    )
