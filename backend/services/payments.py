"""Paying bills: online (WeChat Pay JSAPI, or the sandbox in development) through one notification path, one bill
or several months of a household in one order; cash or bank transfers recorded by staff, one month or several
under one paper receipt; refunds of overpayments; receipts and a household's payment history.

A bill is in one live order at a time (services/payment_orders): a double tap gets the same order back, another
person of the household is refused while it can be paid, and the desk takes cash only once no order of the
bill can still be paid — after WeChat Pay closed it, or said it was paid. Each bill's subsidy is held as paying it
alone would hold it, the bills of one payment oldest first against one budget (subsidies.hold_subsidies) — what
the bills page and the desk showed (subsidies.planned_subsidies)."""
from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
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
    mask_name,
    period_label,
    periods_label,
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
from backend.models import (
    Bill,
    Building,
    Compound,
    Household,
    Payment,
    PaymentOrder,
    PaymentOrderBill,
    PropertyCompany,
    Receipt,
    Refund,
    User,
)
from backend.services.audit import record_audit
from backend.services.auth import wechat_openid
from backend.services.fees import NO_BILL, household_label, lock_bill, lock_bills
from backend.services.funds import post_payment, post_refund
from backend.services.payment_orders import (
    SETTLE_ROUNDS,
    STILL_OPEN,
    AmountMismatch,
    OrderRef,
    UnknownOrder,
    abandon_unplaced,
    live_order,
    live_orders,
    new_receipt_no,
    payee_company_id,
    provider_refusal,
    record_paid_transaction,
    settle_bill,
    settle_with_provider,
    store_prepay_id,
    take_payment,
    without_live_orders,
)
from backend.services.payment_provider import notify_url as provider_notify_url
from backend.services.payment_provider import wechat_pay
from backend.services.subsidies import hold_subsidies, oldest_first
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
    """What the pay page needs: the bills paid (oldest first), the order and, for WeChat, the
    getBrandWCPayRequest parameters; `settled` when the subsidies cover every bill and nothing is left to pay;
    `sandbox` where payments are simulated."""

    bills: list[Bill]
    settled: bool
    sandbox: bool
    order: PaymentOrder | None = None
    pay_params: dict | None = None

    @property
    def bill(self) -> Bill:
        """The bill of a single-bill payment (the oldest of several)."""
        return self.bills[0]

    @property
    def total_fen(self) -> int:
        return sum(bill.amount_fen for bill in self.bills)


def start_payment(bill_id: int, payer: User, notify_url: str | None = None,
                  now: datetime | None = None) -> PaymentStart:
    """Fix the bill's subsidy and give the payer the bill's live order for the resident's share: their own again
    while it can be paid, else a new one once no order of the bill can still be paid (an expired one is settled
    with WeChat Pay first). Someone else's order within its window refuses."""
    return _start([bill_id], None, payer, notify_url, now)


def start_household_payment(household_id: int, bill_ids: list[int] | None, payer: User,
                            notify_url: str | None = None, now: datetime | None = None) -> PaymentStart:
    """One order for several bills of the household — the ones named, or (None) every unpaid one: each bill's
    subsidy fixed as paying it alone would fix it (oldest first, so a budget running out leaves the newest
    months without), and the order for the sum of the resident's shares. The same rules as one bill: the
    payer's own live order for exactly these bills and amounts is given back; someone else's within its window
    refuses; any other live order of these bills is settled with WeChat Pay first."""
    ids = unpaid_bill_ids(household_id) if bill_ids is None else sorted(set(bill_ids))
    if not ids:
        raise FeeRefused("没有待缴的账单", errors={"bill_ids": ["没有待缴的账单"]})
    return _start(ids, household_id, payer, notify_url, now)


def unpaid_bill_ids(household_id: int) -> list[int]:
    return list(db.session.scalars(
        select(Bill.id).where(Bill.household_id == household_id, Bill.status == BillStatus.UNPAID)
        .order_by(Bill.id)
    ))


def _start(bill_ids: list[int], household_id: int | None, payer: User, notify_url: str | None,
           now: datetime | None) -> PaymentStart:
    now = now or utcnow()
    provider = wechat_pay()
    openid = wechat_openid(payer.id, WeChatApp.OFFICIAL_ACCOUNT) or ""  # JSAPI in the H5: the official account's
    for _ in range(SETTLE_ROUNDS):
        bills = _lock_payable(bill_ids, household_id)
        if provider.provider == PaymentMethod.WECHAT and not openid:
            raise FeeRefused("请在微信中打开本页面完成支付")
        hold_subsidies(bills)
        owed = {bill.id: bill.outstanding_fen for bill in bills if bill.outstanding_fen}
        orders = {order.id: order for order in live_orders([bill.id for bill in bills]).values()}
        order = None
        if orders:
            steps = {order_id: live_order_step(
                expired=order.expires_at <= now, same_payer=order.payer_id == payer.id,
                same_amount={line.bill_id: line.amount_fen for line in order.lines} == owed,
            ) for order_id, order in orders.items()}
            if LiveOrderStep.REFUSE in steps.values():
                # Two people of a household paying at once would pay the bills twice.
                raise FeeRefused("本账单已有正在进行的支付，请完成支付或15分钟后再试" if len(bills) == 1
                                 else "所选账单中有正在进行的支付，请完成支付或15分钟后再试")
            if LiveOrderStep.SETTLE in steps.values():
                refs = [OrderRef.of(order) for order in orders.values()]
                db.session.commit()
                for ref in refs:
                    if settle_with_provider(ref, now) is OrderFate.OPEN:
                        raise FeeRefused(STILL_OPEN)
                continue
            # REUSE only ever holds for one order: it covers exactly the bills still owing.
            (order,) = orders.values()
        for bill in bills:
            if bill.id not in owed:
                # The subsidy covers it all: settled now, nothing to pay.
                settle_bill(bill, now)
        if not owed:
            db.session.commit()
            return PaymentStart(bills=bills, settled=True, sandbox=_simulated(provider))
        if order is None:
            order = _new_order(bills, owed, payer, openid or f"sandbox-{payer.id}", provider, now)
        # Read before the commit: WeChat Pay is called with no transaction open.
        placing = None if order.prepay_id else JsapiOrder(
            out_trade_no=order.out_trade_no, description=_description([bill for bill in bills if bill.id in owed]),
            amount_fen=order.amount_fen, payer_openid=order.openid, time_expire=order.expires_at,
            notify_url=notify_url or provider_notify_url(),
        )
        try:
            db.session.commit()
        except IntegrityError:
            # The bills' locks keep a second live order out; should it fail, the database still refuses it.
            db.session.rollback()
            continue
        order_id = order.id
        break
    else:
        raise FeeRefused(STILL_OPEN)
    if placing is not None:
        _place(provider, order_id, placing, now)
    order = db.session.get(PaymentOrder, order_id)
    return PaymentStart(bills=oldest_first(db.session.scalars(select(Bill).where(Bill.id.in_(bill_ids))).all()),
                        settled=False, sandbox=_simulated(provider), order=order,
                        pay_params=provider.pay_params(order.prepay_id))


def _new_order(bills: list[Bill], owed: dict[int, int], payer: User, openid: str, provider,
               now: datetime) -> PaymentOrder:
    paying = [bill for bill in bills if bill.id in owed]
    order = PaymentOrder(
        out_trade_no=f"LL{paying[0].id:010d}{secrets.token_hex(6)}", compound_id=paying[0].compound_id,
        household_id=paying[0].household_id, provider=PaymentMethod(provider.provider),
        amount_fen=sum(owed.values()), payer_id=payer.id, openid=openid, expires_at=now + PAYMENT_WINDOW,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add_all([PaymentOrderBill(order_id=order.id, bill_id=bill.id, amount_fen=owed[bill.id])
                        for bill in paying])
    return order


def _lock_payable(bill_ids: list[int], household_id: int | None) -> list[Bill]:
    """The bills, locked in id order, oldest period first, each payable; all of one household (`household_id`
    when given — a bill of any other is none, 404 — and then a refusal names the bill and the field)."""
    bills = lock_bills(bill_ids)
    households = {bill.household_id for bill in bills}
    if len(bills) != len(set(bill_ids)) or len(households) > 1 or household_id not in (None, *households):
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    for bill in bills:
        _payable(bill, named=household_id is not None)
    return oldest_first(bills)


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


def _payable(bill: Bill | None, named: bool = False) -> Bill:
    """The bill, unless it is paid or waived; `named`: one of several, so the refusal says which (and names the
    bill_ids field at fault)."""
    if bill is None:
        raise FeeRefused(NO_BILL, Kind.NOT_FOUND)
    reason = {BillStatus.PAID: "该账单已缴清", BillStatus.WAIVED: "该账单已减免，无需缴费"}.get(bill.status)
    if reason and named:
        message = f"{period_label(bill.period_start, bill.months)}：{reason}"
        raise FeeRefused(message, errors={"bill_ids": [message]})
    if reason:
        raise FeeRefused(reason)
    return bill


def _description(bills: list[Bill]) -> str:
    periods = periods_label([(bill.period_start, bill.months) for bill in bills])
    return f"{bills[0].compound.name}物业费 {periods}"[:127]


def accept_notification(headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> int | None:
    """WeChat Pay's (or the sandbox's) payment notification: verified, decrypted, checked against the order
    and recorded once; the receipt's id, or None for a transaction that did not succeed (nothing to record).
    Refused, with nothing recorded: UNTRUSTED (signature, key, age), MALFORMED (unreadable, or an amount not the
    order's), NOT_FOUND (an order we never issued)."""
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


def _record_notification(headers: Mapping[str, str], body: bytes, now: datetime | None) -> int | None:
    """Raises NotificationRejected, UnknownOrder or AmountMismatch."""
    transaction = wechat_pay().parse_notification(headers, body, now=now)
    return record_paid_transaction(transaction, now or utcnow())


def complete_sandbox_payment(order_id: int, payer_id: int, now: datetime | None = None,
                             bill_id: int | None = None, household_id: int | None = None) -> Payment:
    """The sandbox's "pay" button, for the order's payer (and of the bill `bill_id` or the household
    `household_id`, when given): the sandbox pays the order as WeChat Pay would (an order closed or expired cannot
    be paid) and the notification it signs goes through the same verification and recording as a real one. The
    first payment of its receipt (the oldest bill's)."""
    now = now or utcnow()
    provider = wechat_pay()
    order = db.session.get(PaymentOrder, order_id)
    if (order is None or order.payer_id != payer_id or not _simulated(provider)
            or (bill_id is not None and bill_id not in order.bill_ids)
            or household_id not in (None, order.household_id)):
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
        receipt_id = _record_notification(headers, body, now)
    except (NotificationRejected, AmountMismatch) as error:
        db.session.rollback()
        log.error("the sandbox's own notification of order %s was refused: %s", order_id, error)
        raise FeeRefused("支付未能确认，请稍后刷新账单查看") from None
    if receipt_id is None:
        raise FeeRefused("支付未完成")
    return receipt_payments(receipt_id)[0]


def record_offline_payment(bill_id: int, method: PaymentMethod, amount_fen: int, offline_receipt_no: str,
                           actor_id: int, ip: str | None, now: datetime | None = None) -> Payment:
    """Cash or a bank transfer for one bill: record_offline_payments of that bill alone; its payment."""
    receipt = record_offline_payments([bill_id], method, amount_fen, offline_receipt_no, actor_id, ip, now)
    return receipt_payments(receipt.id)[0]


def record_offline_payments(bill_ids: list[int], method: PaymentMethod, amount_fen: int, offline_receipt_no: str,
                            actor_id: int, ip: str | None, now: datetime | None = None,
                            household_id: int | None = None) -> Receipt:
    """Cash or a bank transfer taken by staff for one or several bills of a household (`household_id`: every
    bill must be its), against ONE paper receipt's number, in one transaction under the bills' row locks. The
    amount must be exactly what the bills owe together after their subsidies (no partial payments). One bill
    that cannot be taken now — paid, waived, another household's, or in an online order that may still be paid —
    refuses the whole entry, naming the field at fault (`errors`), and nothing is recorded."""
    several = household_id is not None
    field = "bill_ids" if several else None
    if method not in OFFLINE_METHODS:
        raise FeeRefused("线下收款只能是现金或银行转账", Kind.INVALID, errors={"method": ["线下收款只能是现金或银行转账"]})
    bill_ids = sorted(set(bill_ids))
    if not bill_ids:
        raise FeeRefused("请选择要收款的账单", Kind.INVALID, errors={"bill_ids": ["请选择要收款的账单"]})
    now = now or utcnow()
    # Cash taken while the household's online order can still be paid would charge the household twice.
    bills = without_live_orders(
        lambda: _lock_payable(bill_ids, household_id), now,
        in_progress=("{period}：住户正在线上缴费（订单{until}前有效）：请先“查询并关闭线上支付”，再登记收款" if several
                     else "住户正在线上缴费（订单{until}前有效）：请先“查询并关闭线上支付”，再登记收款"),
        paid_online=PAID_ONLINE, field=field,
    )
    hold_subsidies(bills)
    # A month its subsidy covers whole is settled along with the others, as paying online settles it; an entry
    # with nothing at all to collect is no cash taken.
    owing = [bill for bill in bills if bill.outstanding_fen]
    if not owing and several:
        message = f"{periods_label([(bill.period_start, bill.months) for bill in bills])}：补贴已全额抵扣，无需收款"
        raise FeeRefused(message, errors={"bill_ids": [message]})
    if not owing:
        raise FeeRefused("补贴已全额抵扣，无需收款：住户在账单页点“缴费”即可结清")
    owed = sum(bill.outstanding_fen for bill in owing)
    if amount_fen != owed:
        message = (f"金额应为所选{len(bills)}个账单的应缴合计{format_fen(owed)}（已扣除补贴）" if several
                   else f"金额应为应缴的{format_fen(owed)}（已扣除补贴）")
        raise FeeRefused(message, Kind.INVALID, errors={"amount_fen": [message]})
    compound_id = bills[0].compound_id
    taken = db.session.scalar(select(Receipt.id).where(
        Receipt.compound_id == compound_id, Receipt.offline_receipt_no == offline_receipt_no))
    if taken:
        raise FeeRefused("该收据号已登记过", Kind.CONFLICT, errors={"offline_receipt_no": ["该收据号已登记过"]})
    receipt = Receipt(
        receipt_no=new_receipt_no(now), compound_id=compound_id, household_id=bills[0].household_id,
        method=method, amount_fen=amount_fen, offline_receipt_no=offline_receipt_no, recorded_by_id=actor_id,
        payee_company_id=payee_company_id(compound_id), paid_at=now,
        # The desk's entry grants, posts and withdraws in its own transaction: nothing is left to follow up.
        handled_at=now,
    )
    try:
        db.session.add(receipt)
        db.session.flush()
    except IntegrityError:
        # Two desks entered the same paper receipt at the same moment: the unique constraint decides.
        db.session.rollback()
        raise FeeRefused("该收据号已登记过", Kind.CONFLICT, errors={"offline_receipt_no": ["该收据号已登记过"]}) from None
    for bill in bills:
        if not bill.outstanding_fen:
            settle_bill(bill, now)
            continue
        share = bill.outstanding_fen
        payment = Payment(
            receipt_id=receipt.id, bill_id=bill.id, compound_id=bill.compound_id, household_id=bill.household_id,
            method=method, amount_fen=share, subsidy_fen=bill.subsidy_fen, recorded_by_id=actor_id, paid_at=now,
        )
        db.session.add(payment)
        take_payment(bill, share, now)
        db.session.flush()
        post_payment(payment.id)
        record_audit(actor_id=actor_id, action="payment.offline", target_type="payment", target_id=payment.id,
                     compound_id=bill.compound_id,
                     after={"bill_id": bill.id, "method": method.value, "amount_fen": share,
                            "offline_receipt_no": offline_receipt_no, "receipt_id": receipt.id}, ip=ip)
    db.session.commit()
    return receipt


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
    post_refund(refund.id)
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


def receipt_payments(receipt_id: int) -> list[Payment]:
    """A receipt's payments with their bills, oldest period first."""
    return [row.Payment for row in db.session.execute(
        select(Payment, Bill).join(Bill, Bill.id == Payment.bill_id).where(Payment.receipt_id == receipt_id)
        .order_by(Bill.period_start, Bill.id)
    )]


@dataclass(frozen=True)
class ReceiptLine:
    """One bill of a receipt: its period, amount, subsidy and what was paid of it."""

    payment: Payment
    bill: Bill

    @property
    def period_label(self) -> str:
        return period_label(self.bill.period_start, self.bill.months)


@dataclass(frozen=True)
class ReceiptDetail:
    """A receipt with each bill it pays, the payee (the property company serving the compound when it was paid)
    and the payer (the household, and the masked name of whoever paid online); `payment` is the one asked by."""

    receipt: Receipt
    payment: Payment
    lines: list[ReceiptLine]
    compound: Compound
    household_label: str
    payee_name: str
    payer_name: str
    method_label: str

    @property
    def bill(self) -> Bill:
        return next(line.bill for line in self.lines if line.payment.id == self.payment.id)

    @property
    def compound_name(self) -> str:
        return self.compound.name

    @property
    def payer_household(self) -> str:
        """The paying household as the receipt names it: "1栋1单元101室"."""
        return self.household_label

    @property
    def period_label(self) -> str:
        return periods_label([(line.bill.period_start, line.bill.months) for line in self.lines])

    @property
    def bill_total_fen(self) -> int:
        return sum(line.bill.amount_fen for line in self.lines)

    @property
    def subsidy_total_fen(self) -> int:
        return sum(line.payment.subsidy_fen for line in self.lines)


def receipt_detail(payment_id: int) -> ReceiptDetail | None:
    """The receipt `payment_id` is a line of, whole."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        return None
    receipt = payment.receipt
    household, building, compound = db.session.execute(
        select(Household, Building, Compound).join(Building, Building.id == Household.building_id)
        .join(Compound, Compound.id == Household.compound_id).where(Household.id == receipt.household_id)
    ).one()
    payee = (db.session.get(PropertyCompany, receipt.payee_company_id) if receipt.payee_company_id is not None
             else None)
    payer = db.session.get(User, receipt.payer_id) if receipt.payer_id is not None else None
    return ReceiptDetail(
        receipt=receipt, payment=payment,
        lines=[ReceiptLine(payment=line, bill=line.bill) for line in receipt_payments(receipt.id)],
        compound=compound, household_label=household_label(building.name, household.unit, household.room),
        payee_name=payee.name if payee is not None else f"{compound.name}（未登记物业服务企业）",
        payer_name=mask_name(payer.display_name) if payer is not None else "",
        method_label=PAYMENT_METHOD_LABELS[receipt.method],
    )


def household_receipts(household_id: int, page: int, page_size: int):
    """The household's receipts, newest first, each with its payments (one statement for the page's lines)."""
    query = select(Receipt).where(Receipt.household_id == household_id).order_by(Receipt.paid_at.desc(),
                                                                              Receipt.id.desc())
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    receipts = list(db.session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
    lines: dict[int, list[ReceiptLine]] = {receipt.id: [] for receipt in receipts}
    if receipts:
        for row in db.session.execute(
            select(Payment, Bill).join(Bill, Bill.id == Payment.bill_id)
            .where(Payment.receipt_id.in_(list(lines))).order_by(Bill.period_start, Bill.id)
        ):
            lines[row.Payment.receipt_id].append(ReceiptLine(payment=row.Payment, bill=row.Bill))
    return receipts, lines, total


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
    ref, compound_id, bill_ids = OrderRef.of(order), bill.compound_id, order.bill_ids
    db.session.commit()
    outcome = OnlineOutcome(settle_with_provider(ref, now).value)
    record_audit(actor_id=actor_id, action="payment_order.close", target_type="payment_order", target_id=ref.id,
                 compound_id=compound_id,
                 after={"bill_id": bill_id, "bill_ids": bill_ids, "out_trade_no": ref.out_trade_no,
                        "outcome": outcome.value}, ip=ip)
    db.session.commit()
    payment = db.session.scalar(select(Payment).where(Payment.order_id == ref.id, Payment.bill_id == bill_id))
    return OnlineCheck(outcome=outcome, bill=db.session.get(Bill, bill_id), payment=payment)
