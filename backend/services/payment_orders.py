"""Online payment orders (WeChat Pay JSAPI, or the sandbox): a bill's one live order, what WeChat Pay says became
of an order (queried, and closed when unpaid), and recording an order's payment once, whether its notification
or a query tells of it.

An order is live until it is paid or closed, and a bill has at most one live order: a partial unique index makes
it so whatever the requests racing, and every step that opens an order or takes money for a bill does so under
the bill's row lock. Nothing else is taken for a bill while its live order may still be paid: an expired one is
first settled with WeChat Pay (paid → recorded; unpaid → closed there, then here). WeChat Pay is only called with
no transaction open: it can take seconds, and neither the bill's lock nor SQLite's write lock may wait for it.

A notification may arrive any number of times and at the same instant: the order row is locked, and one order
and one provider transaction id each have at most one payment (unique constraints). A payment of a bill already
settled (an order closed but paid all the same) is recorded — the money was taken — and never settles the bill
again: it shows as the bill's overpayment, for the committee to refund."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.domain.fees import (
    BillStatus,
    FeeRefused,
    LiveOrderStep,
    OrderFate,
    live_order_step,
    order_fate,
)
from backend.domain.refusals import Kind
from backend.extensions import db
from backend.integrations.wechat_pay import ORDER_NOT_EXIST, OrderState, PaidTransaction, WeChatPayError
from backend.models import Bill, Payment, PaymentOrder
from backend.services.payment_provider import wechat_pay
from backend.services.subsidies import grant_subsidy
from backend.shared.clock import SHANGHAI

log = logging.getLogger("linli.payments")

# Rounds of "settle the expired order, look again" before a request gives up: one is the rule, a second only
# when another order expired in between.
SETTLE_ROUNDS = 3
IS_LIVE = (PaymentOrder.paid_at.is_(None), PaymentOrder.closed_at.is_(None))


class UnknownOrder(LookupError):
    """A notification for an out_trade_no we never issued."""


class AmountMismatch(ValueError):
    """A notification whose amount is not the order's: recorded nowhere, and logged loudly."""


# ---- the live order -------------------------------------------------------------------------------------


def live_order(bill_id: int) -> PaymentOrder | None:
    return db.session.scalar(select(PaymentOrder).where(PaymentOrder.bill_id == bill_id, *IS_LIVE))


@dataclass(frozen=True)
class OnlinePayment:
    """A bill's live order as the desk and the bill's page show it. Within its window someone may be paying it:
    the desk must close it before taking cash. Once `expired`, recording the cash settles it with WeChat Pay."""

    order: PaymentOrder
    expired: bool

    @property
    def blocks_cash(self) -> bool:
        return not self.expired

    def __getattr__(self, name: str):
        return getattr(self.order, name)


def online_payments(bill_ids: list[int], now: datetime) -> dict[int, OnlinePayment]:
    """The live order of each bill that has one, in one statement (the desk lists a household's bills)."""
    if not bill_ids:
        return {}
    return {order.bill_id: OnlinePayment(order=order, expired=order.expires_at <= now) for order in
            db.session.scalars(select(PaymentOrder).where(PaymentOrder.bill_id.in_(bill_ids), *IS_LIVE))}


@dataclass(frozen=True)
class OrderRef:
    """An order as plain values, kept across the commit that lets the bill's lock go before WeChat Pay is asked."""

    id: int
    out_trade_no: str

    @classmethod
    def of(cls, order: PaymentOrder) -> OrderRef:
        return cls(id=order.id, out_trade_no=order.out_trade_no)


STILL_OPEN = "微信支付尚未关闭住户的线上支付，请稍后再试"
# What the desk and the adjusters are told when WeChat Pay cannot be asked about an order (nothing was taken).
PROVIDER_DOWN = "暂时无法向微信支付查询住户的线上支付，请稍后再试"


def without_live_order(lock: Callable[[], Bill], now: datetime, *, in_progress: str, paid_online: str) -> Bill:
    """The bill from `lock()` (locked, and checked as its caller needs), once none of its orders can still be
    paid. An order within its window refuses with `in_progress` (its "{until}" is when the order expires,
    Beijing time): the resident may be paying it now. An expired one is settled with WeChat Pay first: paid →
    recorded, and refused with `paid_online`; closed → gone, and the bill is locked and looked at again."""
    for _ in range(SETTLE_ROUNDS):
        bill = lock()
        order = live_order(bill.id)
        if order is None:
            return bill
        step = live_order_step(expired=order.expires_at <= now, same_payer=False, same_amount=True)
        if step is LiveOrderStep.REFUSE:
            raise FeeRefused(in_progress.format(until=f"{order.expires_at.astimezone(SHANGHAI):%H:%M}"))
        ref = OrderRef.of(order)
        db.session.commit()
        fate = settle_with_provider(ref, now)
        if fate is OrderFate.PAID:
            raise FeeRefused(paid_online)
        if fate is OrderFate.OPEN:
            raise FeeRefused(STILL_OPEN)
    raise FeeRefused(STILL_OPEN)


# ---- asking WeChat Pay --------------------------------------------------------------------------------------


def provider_refusal(error: WeChatPayError, message: str) -> FeeRefused:
    """WeChat Pay out of reach (503: try again shortly) or refusing what we asked (502); nothing was taken."""
    log.warning("WeChat Pay failed: %s", error)
    return FeeRefused(message, Kind.UNAVAILABLE if error.transient else Kind.UPSTREAM)


def settle_with_provider(ref: OrderRef, now: datetime) -> OrderFate:
    """Ask WeChat Pay what became of the order and act on it; called with no transaction open. Paid → its
    payment is recorded as its notification would record it. Unpaid → closed at WeChat Pay (then nobody can pay
    it) and no longer live here. Being paid, or WeChat Pay would not close it → left as it is (OPEN).
    FeeRefused (PROVIDER_DOWN, 503 or 502) when WeChat Pay cannot be asked."""
    try:
        return _settle(ref, now)
    except WeChatPayError as error:
        raise provider_refusal(error, PROVIDER_DOWN) from None


def _settle(ref: OrderRef, now: datetime) -> OrderFate:
    provider = wechat_pay()
    state = _state(ref.out_trade_no)
    fate = order_fate(state and state.trade_state)
    if fate is OrderFate.OPEN:
        try:
            provider.close_order(ref.out_trade_no)
        except WeChatPayError as exc:
            # Paid or being paid meanwhile, closed already, or WeChat Pay busy: the state says which.
            log.info("closing order %s: %s; asking again", ref.out_trade_no, exc)
            state = _state(ref.out_trade_no)
            fate = order_fate(state and state.trade_state)
        else:
            fate = OrderFate.CLOSED
    if fate is OrderFate.PAID:
        try:
            record_paid_transaction(state.paid, now)
        except AmountMismatch:
            raise FeeRefused("微信支付记录的金额与订单不符，已记录待核查，请联系平台管理员") from None
    elif fate is OrderFate.CLOSED and not _close(ref.id, now, unplaced_only=state is None):
        # WeChat Pay never having the order only proves nobody can pay it while its prepay_id was never handed
        # out: a placing that landed after our question won, and the order is live and payable.
        fate = OrderFate.OPEN
    log.info("order %s settled with WeChat Pay: %s", ref.out_trade_no, fate.value)
    return fate


def _state(out_trade_no: str) -> OrderState | None:
    """The order's state at WeChat Pay; None when WeChat Pay never received it."""
    try:
        return wechat_pay().query_order(out_trade_no)
    except WeChatPayError as exc:
        if exc.code == ORDER_NOT_EXIST:
            return None
        raise


def _close(order_id: int, now: datetime, unplaced_only: bool) -> bool:
    """Mark the order closed; False when it is live still (an unplaced-only close of an order whose prepay_id
    was handed out meanwhile)."""
    conditions = [PaymentOrder.id == order_id, *IS_LIVE]
    if unplaced_only:
        conditions.append(PaymentOrder.prepay_id == "")
    db.session.execute(update(PaymentOrder).where(*conditions).values(closed_at=now)
                       .execution_options(synchronize_session=False))
    live = db.session.scalar(select(PaymentOrder.id).where(PaymentOrder.id == order_id, *IS_LIVE))
    db.session.commit()
    return live is None


def abandon_unplaced(order_id: int, now: datetime) -> None:
    """WeChat Pay gave no prepay_id: unless a concurrent request got one for the same order (and handed it out),
    nobody can ever pay it, so it stops blocking the bill."""
    _close(order_id, now, unplaced_only=True)


def store_prepay_id(order_id: int, prepay_id: str) -> str | None:
    """Keep the prepay_id WeChat Pay gave for a live order: the one to hand out, which is the first stored when
    requests placed the order together. None when the order stopped being live meanwhile (paid, or closed by
    the desk): its prepay_id must not be handed out."""
    db.session.execute(
        update(PaymentOrder).where(PaymentOrder.id == order_id, PaymentOrder.prepay_id == "", *IS_LIVE)
        .values(prepay_id=prepay_id).execution_options(synchronize_session=False)
    )
    stored = db.session.execute(
        select(PaymentOrder.prepay_id).where(PaymentOrder.id == order_id, *IS_LIVE)
    ).scalar_one_or_none()
    db.session.commit()
    return stored or None


# ---- recording a payment ------------------------------------------------------------------------------------


def record_paid_transaction(transaction: PaidTransaction, now: datetime) -> Payment | None:
    """Record the payment of the order WeChat Pay took the money for, once; None for a transaction that was not
    paid. Raises UnknownOrder or AmountMismatch."""
    if order_fate(transaction.trade_state) is not OrderFate.PAID:
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
    # payment, the bill the desk, the adjusters and the bill's other orders), then checked again.
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
    if not take_payment(bill, payment.amount_fen, now) and bill.overpaid_fen:
        log.warning("order %s of bill %s paid with the bill %s (order closed %s): %d fen to refund",
                    order.out_trade_no, bill.id, bill.status.value, order.closed_at, bill.overpaid_fen)
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


def take_payment(bill: Bill, amount_fen: int, now: datetime) -> bool:
    """Add a payment to the bill (locked by the caller); True when it settles the bill. A bill settles once: a
    payment of a bill already paid or waived is an overpayment, and its subsidy is never granted again."""
    bill.paid_fen += amount_fen
    if bill.status is BillStatus.UNPAID and bill.paid_fen >= bill.resident_share_fen:
        settle_bill(bill, now)
        return True
    return False


def settle_bill(bill: Bill, now: datetime) -> None:
    bill.status = BillStatus.PAID
    bill.paid_at = now
    grant_subsidy(bill, now)


def new_receipt_no(now: datetime) -> str:
    return f"R{now.astimezone(SHANGHAI):%Y%m%d}{secrets.token_hex(5).upper()}"
