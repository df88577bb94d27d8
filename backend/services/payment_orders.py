"""Online payment orders (WeChat Pay JSAPI, or the sandbox) of one or several bills of a household: a bill's one
live order, what WeChat Pay says became of an order (queried, and closed when unpaid), and recording an order's
payments once — one per bill, on one receipt — whether its notification or a query tells of it.

An order is live until it is paid or closed, and a bill is in at most one live order: a partial unique index over
the orders' lines makes it so whatever the requests racing (the order's `live` reaches its lines by a cascading
foreign key), and every step that opens an order or takes money for a bill does so under the bills' row locks,
taken in id order so that requests over overlapping bills never wait on each other in a circle. Nothing else is taken for a bill while its live order may still be paid: an expired one is
first settled with WeChat Pay (paid → recorded; unpaid → closed there, then here). WeChat Pay is only called with
no transaction open: it can take seconds, and neither the bill's lock nor SQLite's write lock may wait for it.

A notification may arrive any number of times and at the same instant: the order row is locked, an order has at
most one payment per bill and one receipt, and one provider transaction id one receipt (unique constraints). A payment of a bill already
settled (an order closed but paid all the same) is recorded — the money was taken — and never settles the bill
again: it shows as the bill's overpayment, for the committee to refund."""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from backend.domain.compounds import household_label
from backend.domain.fees import (
    BillStatus,
    FeeRefused,
    LiveOrderStep,
    OrderFate,
    due_reminder_keys,
    format_fen,
    live_order_step,
    order_fate,
    period_label,
    periods_label,
)
from backend.domain.notifications import FEE_PAID
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.extensions import db
from backend.integrations.wechat_pay import ORDER_NOT_EXIST, OrderState, PaidTransaction, WeChatPayError
from backend.models import (
    Bill,
    Compound,
    Household,
    Membership,
    Payment,
    PaymentOrder,
    PaymentOrderBill,
    Receipt,
)
from backend.services.funds import post_bill_subsidy, post_receipt_payments
from backend.services.notifications import notify, withdraw
from backend.services.payment_provider import wechat_pay
from backend.services.queueing import push_after_commit
from backend.services.subsidies import grant_subsidy
from backend.shared.clock import SHANGHAI, utcnow

log = logging.getLogger("linli.payments")

# Rounds of "settle the expired order, look again" before a request gives up: one is the rule, a second only
# when another order expired in between.
SETTLE_ROUNDS = 3
IS_LIVE = (PaymentOrder.live.is_(True),)


class UnknownOrder(LookupError):
    """A notification for an out_trade_no we never issued."""


class AmountMismatch(ValueError):
    """A notification whose amount is not the order's: recorded nowhere, and logged loudly."""


# ---- the live order -------------------------------------------------------------------------------------


def live_order(bill_id: int) -> PaymentOrder | None:
    return live_orders([bill_id]).get(bill_id)


def live_orders(bill_ids: list[int]) -> dict[int, PaymentOrder]:
    """The live order of each of the bills that has one (an order of several bills appears once per bill)."""
    if not bill_ids:
        return {}
    rows = db.session.execute(
        select(PaymentOrderBill.bill_id, PaymentOrder)
        .join(PaymentOrder, PaymentOrder.id == PaymentOrderBill.order_id)
        .where(PaymentOrderBill.bill_id.in_(bill_ids), *IS_LIVE)
    ).all()
    return {row.bill_id: row.PaymentOrder for row in rows}


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
    return {bill_id: OnlinePayment(order=order, expired=order.expires_at <= now)
            for bill_id, order in live_orders(bill_ids).items()}


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
    paid: without_live_orders for one bill."""
    return without_live_orders(lambda: [lock()], now, in_progress=in_progress, paid_online=paid_online)[0]


def without_live_orders(lock: Callable[[], list[Bill]], now: datetime, *, in_progress: str, paid_online: str,
                        field: str | None = None) -> list[Bill]:
    """The bills from `lock()` (locked in id order, and checked as its caller needs), once no order of any of
    them can still be paid. An order within its window refuses with `in_progress` (its "{until}" is when the
    order expires, Beijing time; "{period}" the bill's period): the resident may be paying it now. An expired
    one is settled with WeChat Pay first: paid → recorded, and refused with `paid_online`; closed → gone, and the
    bills are locked and looked at again. A refusal names `field` (the input that chose the bills) at fault."""

    def refused(message: str) -> FeeRefused:
        return FeeRefused(message, errors={field: [message]} if field else None)

    for _ in range(SETTLE_ROUNDS):
        bills = lock()
        orders = live_orders([bill.id for bill in bills])
        if not orders:
            return bills
        for bill in bills:
            order = orders.get(bill.id)
            if order is not None and live_order_step(expired=order.expires_at <= now, same_payer=False,
                                                     same_amount=True) is LiveOrderStep.REFUSE:
                message = in_progress.format(until=f"{order.expires_at.astimezone(SHANGHAI):%H:%M}",
                                             period=period_label(bill.period_start, bill.months))
                raise refused(message)
        refs = list({order.id: OrderRef.of(order) for order in orders.values()}.values())
        db.session.commit()
        for ref in refs:
            fate = settle_with_provider(ref, now)
            if fate is OrderFate.PAID:
                raise refused(paid_online)
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
    # `live` goes with closed_at (a CHECK holds them together), and the order's lines follow it (ON UPDATE
    # CASCADE): its bills are free for another order or the desk.
    db.session.execute(update(PaymentOrder).where(*conditions).values(closed_at=now, live=False)
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

# The job that does what a recorded online payment asks for besides the money (follow_up_payment), found by its
# import path.
FOLLOW_UP_PAYMENT_JOB = "backend.jobs.fees.follow_up_payment"


def record_paid_transaction(transaction: PaidTransaction, now: datetime) -> int | None:
    """Record the payments of the order WeChat Pay took the money for — one per bill of it, on one receipt —
    once; the receipt's id, or None for a transaction that was not paid. Raises UnknownOrder or AmountMismatch
    (the notification's total is not the order's).

    A first delivery is four statements on PostgreSQL (five on SQLite, which cannot update in a WITH): the
    replay read; the order marked paid and its receipt inserted from what that returns; the bills updated;
    the payments inserted from the order's lines. The rest (the subsidies granted, the fund's entries, the due
    reminders withdrawn, 缴费成功) is the job pushed after the commit (follow_up_payment)."""
    if order_fate(transaction.trade_state) is not OrderFate.PAID:
        log.info("payment notification for %s in state %s: nothing recorded",
                 transaction.out_trade_no, transaction.trade_state)
        return None
    # A replay (the common case: WeChat Pay repeats itself) is answered from one unlocked read: an order once
    # paid stays paid, and a transaction that neither writes nor locks commits without a WAL flush.
    seen = db.session.execute(
        select(PaymentOrder.amount_fen, PaymentOrder.paid_at, Receipt.id.label("receipt_id"))
        .outerjoin(Receipt, Receipt.order_id == PaymentOrder.id)
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
        return seen.receipt_id
    try:
        recorded = _record_first_delivery(transaction, now)
        if recorded is None:
            # Paid by a delivery we waited for (the order's row lock): its receipt was committed after the
            # first read's snapshot.
            receipt_id = db.session.scalar(select(Receipt.id).join(PaymentOrder, PaymentOrder.id == Receipt.order_id)
                                           .where(PaymentOrder.out_trade_no == transaction.out_trade_no))
            db.session.commit()
            return receipt_id
        push_after_commit(FOLLOW_UP_PAYMENT_JOB, recorded, queue="high", job_id=f"payment-followed-up-{recorded}")
        db.session.commit()
    except IntegrityError:
        # The same transaction recorded by a concurrent delivery (SQLite cannot lock the order row); anything
        # else must fail the notification, so that WeChat Pay sends it again.
        db.session.rollback()
        existing = db.session.scalar(select(Receipt.id).where(Receipt.transaction_id == transaction.transaction_id))
        if existing is None:
            raise
        return existing
    return recorded


_ORDERS, _RECEIPTS, _BILLS = PaymentOrder.__table__, Receipt.__table__, Bill.__table__
_LINES, _PAYMENTS = PaymentOrderBill.__table__, Payment.__table__


def _record_first_delivery(transaction: PaidTransaction, now: datetime) -> int | None:
    """The order marked paid (under its row lock, only while unpaid and of the notified amount), its receipt,
    its bills and one payment per bill; the receipt's id, or None when another delivery paid the order first."""
    paid_at = transaction.success_time or now
    # `live` goes with paid_at, and the order's lines follow it: its bills are in no live order any more.
    paid = (
        update(_ORDERS)
        .where(_ORDERS.c.out_trade_no == transaction.out_trade_no, _ORDERS.c.paid_at.is_(None),
               _ORDERS.c.amount_fen == transaction.amount_total_fen)
        .values(paid_at=paid_at, live=False)
        .returning(_ORDERS.c.id, _ORDERS.c.compound_id, _ORDERS.c.household_id, _ORDERS.c.provider,
                   _ORDERS.c.amount_fen, _ORDERS.c.payer_id)
    )
    receipt_values = {
        "receipt_no": new_receipt_no(now), "transaction_id": transaction.transaction_id, "paid_at": paid_at,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        order = paid.cte("paid")
        row = db.session.execute(
            insert(_RECEIPTS).from_select(
                ["receipt_no", "compound_id", "household_id", "method", "amount_fen", "order_id", "transaction_id",
                 "payer_id", "payee_company_id", "paid_at"],
                select(literal(receipt_values["receipt_no"], _RECEIPTS.c.receipt_no.type), order.c.compound_id,
                       order.c.household_id, order.c.provider, order.c.amount_fen, order.c.id,
                       literal(transaction.transaction_id, _RECEIPTS.c.transaction_id.type), order.c.payer_id,
                       select(Compound.property_company_id).where(Compound.id == order.c.compound_id)
                       .scalar_subquery(),
                       literal(paid_at, _RECEIPTS.c.paid_at.type)),
            ).returning(_RECEIPTS.c.id, _RECEIPTS.c.order_id, _RECEIPTS.c.method).add_cte(order)
        ).first()
        if row is None:
            return None
        receipt_id, order_id, method = row
    else:
        order = db.session.execute(paid).first()
        if order is None:
            return None
        order_id, method = order.id, order.provider
        receipt_id = db.session.execute(insert(_RECEIPTS).values(
            compound_id=order.compound_id, household_id=order.household_id, method=order.provider,
            amount_fen=order.amount_fen, order_id=order.id, payer_id=order.payer_id,
            payee_company_id=select(Compound.property_company_id).where(Compound.id == order.compound_id)
            .scalar_subquery(), **receipt_values,
        ).returning(_RECEIPTS.c.id)).scalar_one()
    _take_order_payments(order_id, now)
    db.session.execute(insert(_PAYMENTS).from_select(
        ["receipt_id", "bill_id", "compound_id", "household_id", "method", "amount_fen", "subsidy_fen", "order_id",
         "paid_at"],
        select(literal(receipt_id, _PAYMENTS.c.receipt_id.type), _LINES.c.bill_id, _BILLS.c.compound_id,
               _BILLS.c.household_id, literal(method, _PAYMENTS.c.method.type), _LINES.c.amount_fen,
               _BILLS.c.subsidy_fen, _LINES.c.order_id, literal(paid_at, _PAYMENTS.c.paid_at.type))
        .join_from(_LINES, _BILLS, _BILLS.c.id == _LINES.c.bill_id)
        .where(_LINES.c.order_id == order_id).order_by(_LINES.c.bill_id)
    ))
    return receipt_id


def _take_order_payments(order_id: int, now: datetime) -> None:
    """Each bill of the order takes its line's amount (take_payment in one statement), under the bills' row
    locks taken in id order; a bill settled or waived before is overpaid instead, for the committee to refund."""
    line_amount = (select(_LINES.c.amount_fen).where(_LINES.c.order_id == order_id, _LINES.c.bill_id == _BILLS.c.id)
                   .scalar_subquery())
    settles = and_(_BILLS.c.status == BillStatus.UNPAID,
                   _BILLS.c.paid_fen + line_amount >= _BILLS.c.amount_fen - _BILLS.c.subsidy_fen)
    locked = (select(_BILLS.c.id).where(_BILLS.c.id.in_(select(_LINES.c.bill_id).where(_LINES.c.order_id == order_id)))
              .order_by(_BILLS.c.id).with_for_update())
    taken = db.session.execute(
        update(_BILLS).where(_BILLS.c.id.in_(locked))
        .values(paid_fen=_BILLS.c.paid_fen + line_amount,
                status=case((settles, literal(BillStatus.PAID, _BILLS.c.status.type)), else_=_BILLS.c.status),
                paid_at=case((settles, literal(now, _BILLS.c.paid_at.type)), else_=_BILLS.c.paid_at))
        .returning(_BILLS.c.id, _BILLS.c.status, _BILLS.c.paid_fen, _BILLS.c.amount_fen, _BILLS.c.subsidy_fen)
    ).all()
    for bill in taken:
        overpaid = (bill.paid_fen if bill.status is BillStatus.WAIVED
                    else bill.paid_fen - (bill.amount_fen - bill.subsidy_fen))
        if overpaid > 0:
            log.warning("order %s paid bill %s with the bill %s: %d fen to refund", order_id, bill.id,
                        bill.status.value, overpaid)


def follow_up_payment(receipt_id: int) -> bool:
    """What an online payment asks for besides the money, once (the job after a first delivery, and the sweep
    for one whose job was lost), under the receipt's row lock: each bill it settled has its held subsidy granted
    and posted to the fund with it, its due reminders withdrawn; the payments posted to the fund; 缴费成功 in
    the payer's inbox. Each step is once by its own key too (a grant only leaves "held" once, a fund entry and a
    notice are once per row and key). Returns whether anything was done."""
    receipt = db.session.scalar(
        select(Receipt).where(Receipt.id == receipt_id, Receipt.handled_at.is_(None)).with_for_update()
        .execution_options(populate_existing=True)
    )
    if receipt is None:
        db.session.rollback()
        return False
    bills = list(db.session.scalars(
        select(Bill).join(Payment, Payment.bill_id == Bill.id).where(Payment.receipt_id == receipt.id)
        .order_by(Bill.id)
    ))
    for bill in bills:
        if bill.status is BillStatus.PAID:
            # A bill paid before this payment (an overpayment) was granted then: its grant is no longer held.
            grant_subsidy(bill, bill.paid_at)
            post_bill_subsidy(bill.id)
            withdraw_due_reminders(bill, bill.paid_at)
    post_receipt_payments(receipt.id)
    _tell_the_payer(receipt, bills)
    receipt.handled_at = utcnow()
    db.session.commit()
    return True


def payments_not_followed_up(paid_before: datetime, limit: int = 500) -> list[int]:
    """The online receipts paid before `paid_before` whose follow-up job was lost (Redis down or flushed, the
    process gone between the commit and the push)."""
    return list(db.session.scalars(
        select(Receipt.id).where(Receipt.handled_at.is_(None), Receipt.order_id.is_not(None),
                                 Receipt.paid_at < paid_before)
        .order_by(Receipt.id).limit(limit)
    ))


def _tell_the_payer(receipt: Receipt, bills: list[Bill]) -> None:
    """缴费成功 in the payer's inbox, once: a replay records nothing, so it says nothing, and the key keeps it once
    should the follow-up ever run again."""
    household = db.session.get(Household, receipt.household_id)
    code = db.session.scalar(select(Compound.code).where(Compound.id == receipt.compound_id))
    first_payment = db.session.scalar(select(func.min(Payment.id)).where(Payment.receipt_id == receipt.id))
    where = household_label(household.building.name, household.unit, household.room)
    periods = periods_label([(bill.period_start, bill.months) for bill in bills])
    notify([receipt.payer_id], FEE_PAID, "缴费成功",
           f"您已缴纳{where} {periods}物业费 {format_fen(receipt.amount_fen)}，点击查看收据",
           link=f"/h5/c/{code}/receipts/{first_payment}", dedupe_key=f"fee-paid-order-{receipt.order_id}")


def payee_company_id(compound_id: int) -> int | None:
    """The receipt's payee: the property company serving the compound now."""
    return db.session.scalar(select(Compound.property_company_id).where(Compound.id == compound_id))


def take_payment(bill: Bill, amount_fen: int, now: datetime) -> bool:
    """Add a payment to the bill (locked by the caller); True when it settles the bill. A bill settles once: a
    payment of a bill already paid or waived is an overpayment, and its subsidy is never granted again."""
    bill.paid_fen += amount_fen
    if bill.status is BillStatus.UNPAID and bill.paid_fen >= bill.resident_share_fen:
        settle_bill(bill, now)
        return True
    return False


# Who hears a household's fee reminders (fee_reminders.remind_unpaid).
HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)


def settle_bill(bill: Bill, now: datetime) -> None:
    bill.status = BillStatus.PAID
    bill.paid_at = now
    grant_subsidy(bill, now)
    post_bill_subsidy(bill.id)
    withdraw_due_reminders(bill, now)


def withdraw_due_reminders(bill: Bill, now: datetime) -> None:
    """A bill paid or waived (the caller holds its lock): "请在…前缴纳" is no longer true for the people of its
    household, unless another household of theirs still owes the bills the same reminders are about."""
    db.session.flush()
    people = set(db.session.scalars(
        select(Membership.user_id).where(Membership.household_id == bill.household_id,
                                         Membership.role.in_(HOUSEHOLD_ROLES))))
    if not people:
        return
    still_owing = set(db.session.scalars(
        select(Membership.user_id)
        .join(Bill, Bill.household_id == Membership.household_id)
        .where(Membership.user_id.in_(people), Membership.role.in_(HOUSEHOLD_ROLES),
               Bill.compound_id == bill.compound_id, Bill.period_start == bill.period_start,
               Bill.due_date == bill.due_date, Bill.status == BillStatus.UNPAID)))
    settled = sorted(people - still_owing)
    if settled:
        withdraw(due_reminder_keys(bill.compound_id, bill.period_start, bill.due_date), settled, now)


def new_receipt_no(now: datetime) -> str:
    return f"R{now.astimezone(SHANGHAI):%Y%m%d}{secrets.token_hex(5).upper()}"
