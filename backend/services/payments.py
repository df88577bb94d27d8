"""Paying a bill: online (WeChat Pay JSAPI, or the sandbox in development) through one notification path,
cash or bank transfers recorded by staff, refunds of overpayments, and receipts.

A bill has one live order at a time (services/payment_orders): a double tap gets the same order back, another
person of the household is refused while it can be paid, and the desk takes cash only once no order of the
bill can still be paid — after WeChat Pay closed it, or said it was paid."""
from __future__ import annotations

import enum
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
    LiveOrderStep,
    OrderFate,
    PaymentMethod,
    format_fen,
    live_order_step,
    period_label,
)
from backend.domain.refusals import Kind
from backend.extensions import db
from backend.integrations.wechat_pay import (
    BAD_SIGNATURE,
    STALE,
    UNKNOWN_KEY,
    JsapiOrder,
    NotificationRejected,
    WeChatPayError,
)
from backend.models import Bill, Payment, PaymentOrder, Refund, User
from backend.services.audit import record_audit
from backend.services.auth import wechat_openid
from backend.services.fees import NO_BILL, household_label, lock_bill
from backend.services.payment_orders import (
    SETTLE_ROUNDS,
    STILL_OPEN,
    AmountMismatch,
    OrderRef,
    UnknownOrder,
    abandon_unplaced,
    live_order,
    new_receipt_no,
    provider_refusal,
    record_paid_transaction,
    settle_bill,
    settle_with_provider,
    store_prepay_id,
    take_payment,
    without_live_order,
)
from backend.services.payment_provider import notify_url as provider_notify_url
from backend.services.payment_provider import wechat_pay
from backend.services.subsidies import hold_subsidy
from backend.shared.clock import utcnow

log = logging.getLogger("linli.payments")

PAID_ONLINE = "住户的线上支付已完成，无需再收款"
# A WeChat Pay notification we cannot trust (401) or read (400): WeChat Pay only reads the status, and sends it
# again either way.
_UNTRUSTED_NOTIFICATIONS = {
    BAD_SIGNATURE: "通知签名验证失败",
    STALE: "通知时间戳超出5分钟",
    UNKNOWN_KEY: "通知的签名公钥不认识",
}
_UNREADABLE_NOTIFICATION = "通知格式有误或无法解密"


@dataclass(frozen=True)
class PaymentStart:
    """What the pay page needs: the order and, for WeChat, the getBrandWCPayRequest parameters; `settled` when
    the subsidy covers the whole bill and nothing is left to pay; `sandbox` where payments are simulated."""

    bill: Bill
    settled: bool
    sandbox: bool
    order: PaymentOrder | None = None
    pay_params: dict | None = None


def start_payment(bill_id: int, payer: User, notify_url: str | None = None,
                  now: datetime | None = None) -> PaymentStart:
    """Fix the bill's subsidy and give the payer the bill's live order for the resident's share: their own again
    while it can be paid, else a new one once no order of the bill can still be paid (an expired one is settled
    with WeChat Pay first). Someone else's order within its window refuses."""
    now = now or utcnow()
    provider = wechat_pay()
    openid = wechat_openid(payer.id, WeChatApp.OFFICIAL_ACCOUNT) or ""  # JSAPI in the H5: the official account's
    for _ in range(SETTLE_ROUNDS):
        bill = _payable(lock_bill(bill_id))
        if provider.provider == PaymentMethod.WECHAT and not openid:
            raise FeeRefused("请在微信中打开本页面完成支付")
        hold_subsidy(bill)
        share = bill.outstanding_fen
        if share == 0:
            settle_bill(bill, now)
            db.session.commit()
            return PaymentStart(bill=bill, settled=True, sandbox=_simulated(provider))
        order = live_order(bill.id)
        if order is None:
            order = PaymentOrder(
                out_trade_no=f"LL{bill.id:010d}{secrets.token_hex(6)}", bill_id=bill.id,
                compound_id=bill.compound_id, provider=PaymentMethod(provider.provider), amount_fen=share,
                payer_id=payer.id, openid=openid or f"sandbox-{payer.id}", expires_at=now + PAYMENT_WINDOW,
            )
            db.session.add(order)
        else:
            step = live_order_step(expired=order.expires_at <= now, same_payer=order.payer_id == payer.id,
                                   same_amount=order.amount_fen == share)
            if step is LiveOrderStep.REFUSE:
                # Two people of a household paying at once would pay the bill twice.
                raise FeeRefused("本账单已有正在进行的支付，请完成支付或15分钟后再试")
            if step is LiveOrderStep.SETTLE:
                ref = OrderRef.of(order)
                db.session.commit()
                if settle_with_provider(ref, now) is OrderFate.OPEN:
                    raise FeeRefused(STILL_OPEN)
                continue
        # Read before the commit: WeChat Pay is called with no transaction open.
        placing = None if order.prepay_id else JsapiOrder(
            out_trade_no=order.out_trade_no, description=_description(bill), amount_fen=order.amount_fen,
            payer_openid=order.openid, time_expire=order.expires_at, notify_url=notify_url or provider_notify_url(),
        )
        try:
            db.session.commit()
        except IntegrityError:
            # The bill's lock keeps a second live order out; should it fail, the database still refuses it.
            db.session.rollback()
            continue
        order_id = order.id
        break
    else:
        raise FeeRefused(STILL_OPEN)
    if placing is not None:
        _place(provider, order_id, placing, now)
    order = db.session.get(PaymentOrder, order_id)
    return PaymentStart(bill=db.session.get(Bill, bill_id), settled=False, sandbox=_simulated(provider),
                        order=order, pay_params=provider.pay_params(order.prepay_id))


def _simulated(provider) -> bool:
    return provider.provider == PaymentMethod.SANDBOX


def _place(provider, order_id: int, placing: JsapiOrder, now: datetime) -> None:
    """Place the order with WeChat Pay and keep its prepay_id. An order that got none blocks the bill no longer;
    one closed or paid while WeChat Pay answered is not handed out."""
    try:
        prepay_id = provider.place_jsapi_order(placing)
    except WeChatPayError as error:
        abandon_unplaced(order_id, now)
        raise provider_refusal(
            error, "微信支付暂时不可用，请稍后再试" if error.transient else "微信支付未能下单，请稍后再试或联系物业"
        ) from None
    if store_prepay_id(order_id, prepay_id) is None:
        order = db.session.get(PaymentOrder, order_id)
        raise FeeRefused("该账单已缴清" if order.paid_at else "本次支付已关闭，请重新发起缴费")


def _payable(bill: Bill | None) -> Bill:
    if bill is None:
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    if bill.status is BillStatus.PAID:
        raise FeeRefused("该账单已缴清")
    if bill.status is BillStatus.WAIVED:
        raise FeeRefused("该账单已减免，无需缴费")
    return bill


def _description(bill: Bill) -> str:
    return f"{bill.compound.name}物业费 {period_label(bill.period_start, bill.months)}"[:127]


def accept_notification(headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> Payment | None:
    """WeChat Pay's (or the sandbox's) payment notification: verified, decrypted, checked against the order
    and recorded once; None for a transaction that did not succeed (nothing to record). Refused, with nothing
    recorded: UNTRUSTED (signature, key, age), MALFORMED (unreadable, or an amount not the order's), NOT_FOUND
    (an order we never issued)."""
    try:
        return _record_notification(headers, body, now)
    except NotificationRejected as rejected:
        db.session.rollback()
        log.warning("payment notification refused: %s", rejected)
        if rejected.reason in _UNTRUSTED_NOTIFICATIONS:
            raise FeeRefused(_UNTRUSTED_NOTIFICATIONS[rejected.reason], Kind.UNTRUSTED) from None
        raise FeeRefused(_UNREADABLE_NOTIFICATION, Kind.MALFORMED) from None
    except UnknownOrder as unknown:
        log.error("payment notification for an order we never issued: %s", unknown)
        raise FeeRefused("没有这个订单", Kind.NOT_FOUND) from None
    except AmountMismatch:
        raise FeeRefused("金额与订单不符", Kind.MALFORMED) from None


def _record_notification(headers: Mapping[str, str], body: bytes, now: datetime | None) -> Payment | None:
    """Raises NotificationRejected, UnknownOrder or AmountMismatch."""
    transaction = wechat_pay().parse_notification(headers, body, now=now)
    return record_paid_transaction(transaction, now or utcnow())


def complete_sandbox_payment(order_id: int, payer_id: int, now: datetime | None = None,
                             bill_id: int | None = None) -> Payment:
    """The sandbox's "pay" button, for the order's payer (and of the bill `bill_id`, when given): the sandbox pays
    the order as WeChat Pay would (an order closed or expired cannot be paid) and the notification it signs goes
    through the same verification and recording as a real one."""
    now = now or utcnow()
    provider = wechat_pay()
    order = db.session.get(PaymentOrder, order_id)
    if (order is None or order.payer_id != payer_id or not _simulated(provider)
            or bill_id not in (None, order.bill_id)):
        raise FeeRefused("没有找到该订单", Kind.NOT_FOUND)
    if order.paid_at is None and order.closed_at is not None:
        raise FeeRefused("本次支付已关闭，请重新发起缴费")
    if order.paid_at is None and order.expires_at <= now:
        raise FeeRefused("支付已超时，请重新发起缴费")
    out_trade_no, amount_fen, openid = order.out_trade_no, order.amount_fen, order.openid
    db.session.rollback()
    try:
        headers, body = provider.pay(out_trade_no, f"sandbox{order_id:012d}{secrets.token_hex(4)}", amount_fen,
                                     openid, now=now)
    except WeChatPayError:
        raise FeeRefused("本次支付已关闭，请重新发起缴费") from None
    try:
        payment = _record_notification(headers, body, now)
    except (NotificationRejected, AmountMismatch) as error:
        db.session.rollback()
        log.error("the sandbox's own notification of order %s was refused: %s", order_id, error)
        raise FeeRefused("支付未能确认，请稍后刷新账单查看") from None
    if payment is None:
        raise FeeRefused("支付未完成")
    return payment


def record_offline_payment(bill_id: int, method: PaymentMethod, amount_fen: int, offline_receipt_no: str,
                           actor_id: int, ip: str | None, now: datetime | None = None) -> Payment:
    """Cash or a bank transfer taken by staff, against the paper receipt's number. The amount must be exactly
    what is owed after the subsidy (no partial payments)."""
    if method not in OFFLINE_METHODS:
        raise FeeRefused("线下收款只能是现金或银行转账", Kind.INVALID)
    now = now or utcnow()
    # Cash taken while the household's online order can still be paid would charge the household twice.
    bill = without_live_order(
        lambda: _payable(lock_bill(bill_id)), now,
        in_progress="住户正在线上缴费（订单{until}前有效）：请先“查询并关闭线上支付”，再登记收款",
        paid_online=PAID_ONLINE,
    )
    hold_subsidy(bill)
    if bill.outstanding_fen == 0:
        raise FeeRefused("补贴已全额抵扣，无需收款：住户在账单页点“缴费”即可结清")
    if amount_fen != bill.outstanding_fen:
        raise FeeRefused(f"金额应为应缴的{format_fen(bill.outstanding_fen)}（已扣除补贴）", Kind.INVALID)
    taken = db.session.scalar(select(Payment.id).where(
        Payment.compound_id == bill.compound_id, Payment.offline_receipt_no == offline_receipt_no))
    if taken:
        raise FeeRefused("该收据号已登记过", Kind.CONFLICT)
    payment = Payment(
        receipt_no=new_receipt_no(now), bill_id=bill.id, compound_id=bill.compound_id,
        household_id=bill.household_id, method=method, amount_fen=amount_fen, subsidy_fen=bill.subsidy_fen,
        offline_receipt_no=offline_receipt_no, recorded_by_id=actor_id, paid_at=now,
    )
    db.session.add(payment)
    take_payment(bill, amount_fen, now)
    try:
        db.session.flush()
    except IntegrityError:
        # Two desks entered the same paper receipt at the same moment: the unique constraint decides.
        db.session.rollback()
        raise FeeRefused("该收据号已登记过", Kind.CONFLICT) from None
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
        raise FeeRefused("退款方式只能是现金或银行转账", Kind.INVALID)
    bill = lock_bill(bill_id)
    if bill is None:
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    if amount_fen > bill.overpaid_fen:
        raise FeeRefused(f"最多可退{format_fen(bill.overpaid_fen)}", Kind.INVALID)
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


# ---- the desk's check of an online payment ----------------------------------------------------------------


class OnlineOutcome(enum.StrEnum):
    PAID = "paid"
    CLOSED = "closed"
    OPEN = "open"
    NONE = "none"


ONLINE_OUTCOME_MESSAGES = {
    OnlineOutcome.PAID: PAID_ONLINE,
    OnlineOutcome.CLOSED: "已关闭住户未完成的线上支付，现在可以登记收款",
    OnlineOutcome.OPEN: "住户正在线上支付，暂时无法关闭，请稍后再查询",
    OnlineOutcome.NONE: "该账单没有进行中的线上支付",
}


@dataclass(frozen=True)
class OnlineCheck:
    """What the desk learnt of a bill's online payment, and the bill after it."""

    outcome: OnlineOutcome
    bill: Bill
    payment: Payment | None = None

    @property
    def message(self) -> str:
        return ONLINE_OUTCOME_MESSAGES[self.outcome]

    @property
    def settled(self) -> bool:
        """Nothing stands between the desk and the bill any more: paid online, or closed so cash may be taken."""
        return self.outcome in (OnlineOutcome.PAID, OnlineOutcome.CLOSED)


def close_online_payment(bill_id: int, actor_id: int, ip: str | None, now: datetime | None = None) -> OnlineCheck:
    """The desk, before taking cash while the household's online order can still be paid: WeChat Pay is asked
    what became of it. Paid → recorded (nothing to collect); unpaid → closed at WeChat Pay, so nobody can pay it,
    and cash can be taken; being paid → left alone. Audited."""
    now = now or utcnow()
    bill = lock_bill(bill_id)
    if bill is None:
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    order = live_order(bill.id)
    if order is None:
        db.session.rollback()
        return OnlineCheck(outcome=OnlineOutcome.NONE, bill=db.session.get(Bill, bill_id))
    ref, compound_id = OrderRef.of(order), bill.compound_id
    db.session.commit()
    outcome = OnlineOutcome(settle_with_provider(ref, now).value)
    record_audit(actor_id=actor_id, action="payment_order.close", target_type="payment_order", target_id=ref.id,
                 compound_id=compound_id,
                 after={"bill_id": bill_id, "out_trade_no": ref.out_trade_no, "outcome": outcome.value}, ip=ip)
    db.session.commit()
    payment = db.session.scalar(select(Payment).where(Payment.order_id == ref.id))
    return OnlineCheck(outcome=outcome, bill=db.session.get(Bill, bill_id), payment=payment)
