"""Property fees (DESIGN §4): billing periods, a bill's amount, its months, due dates and reminders.

Amounts are integer fen; floor areas are 0.01 m² (centi-m²); a fee standard is fen per m² per month."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role, allows
from backend.domain.subsidy import MonthCharge, add_months


class BillingCycle(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


CYCLE_MONTHS = {BillingCycle.MONTHLY: 1, BillingCycle.QUARTERLY: 3, BillingCycle.YEARLY: 12}
CYCLE_LABELS = {BillingCycle.MONTHLY: "按月", BillingCycle.QUARTERLY: "按季", BillingCycle.YEARLY: "按年"}


class BillStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    WAIVED = "waived"


BILL_STATUS_LABELS = {BillStatus.UNPAID: "待缴", BillStatus.PAID: "已缴", BillStatus.WAIVED: "已减免"}


class GrantStatus(enum.StrEnum):
    HELD = "held"
    GRANTED = "granted"
    RELEASED = "released"


class PaymentMethod(enum.StrEnum):
    WECHAT = "wechat"
    SANDBOX = "sandbox"
    CASH = "cash"
    BANK = "bank"


PAYMENT_METHOD_LABELS = {
    PaymentMethod.WECHAT: "微信支付",
    PaymentMethod.SANDBOX: "模拟支付",
    PaymentMethod.CASH: "现金",
    PaymentMethod.BANK: "银行转账",
}
OFFLINE_METHODS = (PaymentMethod.CASH, PaymentMethod.BANK)

# Due days stop at 28 so every month has one.
MAX_DUE_DAY = 28
# ¥1,000 per m² per month: far above any standard, low enough that no bill overflows.
MAX_STANDARD_FEN_PER_M2 = 100_000
EARLIEST_SCHEDULE, LATEST_SCHEDULE = date(2000, 1, 1), date(2099, 12, 1)
# A bill is an INTEGER of fen.
MAX_BILL_FEN = 2_147_483_647
# Days after the due date at which an unpaid bill is reminded of, each once.
OVERDUE_REMINDER_DAYS = (1, 15, 30)
DUE_SOON_DAYS = 7
# How long an online order can be paid (WeChat's time_expire).
PAYMENT_WINDOW = timedelta(minutes=15)
# WeChat Pay retries a notification for about 24 h 4 min; a subsidy held for a bill whose orders all expired
# longer ago than this can go back to the budget without racing a late notification.
ABANDONED_HOLD_AFTER = timedelta(hours=25)


class OrderFate(enum.StrEnum):
    """What became of an online order, as WeChat Pay tells it."""

    # The money was taken: the payment is recorded, as its notification would record it.
    PAID = "paid"
    # It can still be paid (or is being paid): it stays the bill's live order, and nothing else may be taken.
    OPEN = "open"
    # It can never be paid: closed, or never received by WeChat Pay. No longer the bill's live order.
    CLOSED = "closed"


# WeChat Pay's trade_state values (商户订单号查询订单): 支付成功, 转入退款 (paid, then a refund began), 已关闭,
# 已撤销 and 支付失败 (付款码 only); NOTPAY and USERPAYING can still turn into a payment.
_PAID_STATES = frozenset({"SUCCESS", "REFUND"})
_CLOSED_STATES = frozenset({"CLOSED", "REVOKED", "PAYERROR"})


def order_fate(trade_state: str | None) -> OrderFate:
    """The fate of an order in `trade_state`; None when WeChat Pay never received it (ORDER_NOT_EXIST). A state
    this code does not know may still end in a payment, so it counts as open."""
    if trade_state is None or trade_state in _CLOSED_STATES:
        return OrderFate.CLOSED
    if trade_state in _PAID_STATES:
        return OrderFate.PAID
    return OrderFate.OPEN


class LiveOrderStep(enum.StrEnum):
    """What a request does about the bill's live order before anything else is paid."""

    # The payer's own order, still payable for what is owed: given back, so a double tap opens nothing new.
    REUSE = "reuse"
    # Someone else may be paying it right now (another person of the household, or the resident while the
    # desk wants cash): refused until it is paid, closed or expired.
    REFUSE = "refuse"
    # Expired, or the payer's own for other bills or amounts than asked now (one month, then all): WeChat Pay is
    # asked what became of it (and closes it if unpaid) before another order or payment may follow.
    SETTLE = "settle"


def live_order_step(*, expired: bool, same_payer: bool, same_amount: bool) -> LiveOrderStep:
    """The step for a live order; the desk and the adjusters are never its payer. `same_amount`: the order pays
    exactly the bills and amounts asked now."""
    if expired:
        return LiveOrderStep.SETTLE
    if not same_payer:
        # Closing it could pull the sheet from under someone paying it right now.
        return LiveOrderStep.REFUSE
    return LiveOrderStep.REUSE if same_amount else LiveOrderStep.SETTLE


class FeeRefused(Refused):
    """A fee action the rules do not allow now."""


class SubsidyBusy(FeeRefused):
    """A subsidy budget kept changing under us (payments at the same instant): nothing was held, try again."""

    default_kind = Kind.UNAVAILABLE

    def __init__(self, message: str = "同时缴费的人较多，请稍后再试"):
        super().__init__(message, retry_after=1)


class BillAction(enum.StrEnum):
    """What someone may do with a bill now; the API lists them, the page offers a form or a link for each."""

    PAY = "pay"
    RECORD_PAYMENT = "record_payment"
    CLOSE_ONLINE_PAYMENT = "close_online_payment"
    ADJUST = "adjust"
    WAIVE = "waive"
    REFUND = "refund"


BILL_ACTION_LABELS = {
    BillAction.PAY: "缴费",
    BillAction.RECORD_PAYMENT: "登记现金 / 银行转账",
    BillAction.CLOSE_ONLINE_PAYMENT: "查询并关闭线上支付",
    BillAction.ADJUST: "调整金额",
    BillAction.WAIVE: "减免",
    BillAction.REFUND: "退款",
}


def bill_actions(status: BillStatus, paid_fen: int, overpaid_fen: int, *, roles: frozenset[Role], member: bool,
                 online_order: bool, order_payable: bool) -> tuple[BillAction, ...]:
    """The actions on a bill for someone holding `roles` in its compound (`member`: a verified person of its
    household), in BillAction order. `online_order`: the bill has a live online order; `order_payable`: it is
    still within its window, so the resident may be paying it right now."""
    unpaid = status is BillStatus.UNPAID
    desk = allows(roles, Action.RECORD_PAYMENTS)
    adjusts = allows(roles, Action.ADJUST_BILLS)
    # Only a bill nothing was paid for changes amount: a payment was for the amount it had then.
    changeable = unpaid and paid_fen == 0 and adjusts
    offered = {
        BillAction.PAY: unpaid and member,
        # An order within its window must be closed first; an expired one is settled when the cash is recorded.
        BillAction.RECORD_PAYMENT: unpaid and desk and not order_payable,
        BillAction.CLOSE_ONLINE_PAYMENT: online_order and desk,
        BillAction.ADJUST: changeable,
        BillAction.WAIVE: changeable,
        BillAction.REFUND: overpaid_fen > 0 and adjusts,
    }
    return tuple(action for action, allowed in offered.items() if allowed)


def charges_fees_by_default(management_model: str) -> bool:
    """DESIGN §7: a community_fallback compound has no market fees unless it decides to."""
    return management_model != "community_fallback"


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def period_start_for(day: date, cycle: BillingCycle) -> date:
    """The first month of the billing period holding `day`: the month, its quarter, or its year."""
    if cycle is BillingCycle.MONTHLY:
        return first_of_month(day)
    if cycle is BillingCycle.QUARTERLY:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def starts_a_period(day: date, cycle: BillingCycle) -> bool:
    return period_start_for(day, cycle) == day


def period_label(period_start: date, months: int) -> str:
    """"2026年12月", "2026年第4季度", "2026年度", or a range for anything else."""
    if months == 1:
        return f"{period_start.year}年{period_start.month}月"
    if months == 3 and period_start.month in (1, 4, 7, 10):
        return f"{period_start.year}年第{(period_start.month - 1) // 3 + 1}季度"
    if months == 12 and period_start.month == 1:
        return f"{period_start.year}年度"
    last = add_months(period_start, months - 1)
    return f"{period_start.year}年{period_start.month}月—{last.year}年{last.month}月"


def periods_label(periods: list[tuple[date, int]]) -> str:
    """Several bills' periods (first month, months) in words, runs of consecutive months merged: one bill as
    period_label says it; "2026年10月—12月", "2025年12月—2026年2月", "2026年1月、2026年3月"."""
    if len(periods) == 1:
        return period_label(*periods[0])
    months = sorted({add_months(start, index) for start, count in periods for index in range(count)})
    runs: list[list[date]] = []
    for month in months:
        if runs and add_months(runs[-1][-1], 1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return "、".join(_run_label(run[0], run[-1]) for run in runs)


def _run_label(first: date, last: date) -> str:
    if first == last:
        return f"{first.year}年{first.month}月"
    if first.year == last.year:
        return f"{first.year}年{first.month}月—{last.month}月"
    return f"{first.year}年{first.month}月—{last.year}年{last.month}月"


def mask_name(name: str) -> str:
    """A person's name as a receipt shows it (个人信息保护法): the first character, the rest as *."""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * min(len(name) - 1, 3)


def bill_amount_fen(floor_area_centi_m2: int, standard_fen_per_m2: int, months: int) -> int:
    """Floor area × standard × months, rounded half-up to the fen once, at the end."""
    if floor_area_centi_m2 < 0 or standard_fen_per_m2 < 0 or months < 1:
        raise ValueError("area and standard are not negative; a bill covers at least one month")
    return (floor_area_centi_m2 * standard_fen_per_m2 * months + 50) // 100


def spread_evenly(total_fen: int, months: int) -> list[int]:
    """`total_fen` over `months` equal months, by cumulative half-up rounding, so the parts add up exactly."""
    if total_fen < 0 or months < 1:
        raise ValueError("a non-negative total over at least one month")
    cumulative = [(total_fen * index * 2 + months) // (2 * months) for index in range(months + 1)]
    return [cumulative[index + 1] - cumulative[index] for index in range(months)]


def month_charges(period_start: date, months: int, amount_fen: int) -> list[MonthCharge]:
    """A bill's amount month by month, for the subsidy computation."""
    return [
        MonthCharge(month=add_months(period_start, index), amount_fen=part)
        for index, part in enumerate(spread_evenly(amount_fen, months))
    ]


def due_date(period_start: date, due_day: int) -> date:
    return period_start.replace(day=due_day)


@dataclass(frozen=True)
class Reminder:
    """A reminder about one bill period: `key` makes it once only; `days_overdue` 0 when not overdue."""

    key: str
    title: str
    days_overdue: int = 0


def due_reminder(today: date, due: date) -> Reminder | None:
    """The reminder an unpaid bill due on `due` gets on `today`, if any. A job that missed days sends the
    latest stage only (a resident 16 days late hears "逾期15天", not also "逾期1天")."""
    days = (today - due).days
    if -DUE_SOON_DAYS <= days < 0:
        return Reminder(key="due7", title=f"物业费将于{due.month}月{due.day}日到期")
    stages = [stage for stage in OVERDUE_REMINDER_DAYS if days >= stage]
    if stages:
        stage = stages[-1]
        return Reminder(key=f"overdue{stage}", title=f"物业费已逾期{stage}天", days_overdue=stage)
    return None


def due_reminder_key(stage: str, compound_id: int, period_start: date, due: date) -> str:
    """One reminder stage of a compound's bills of a period. The due date is part of the key: residential and
    commercial bills of one period may fall due on different days, and each group hears each of its stages."""
    return f"fee-{stage}-{compound_id}-{period_start.isoformat()}-{due.isoformat()}"


def due_reminder_keys(compound_id: int, period_start: date, due: date) -> list[str]:
    """Every reminder (each stage of due_reminder) asking to pay the bills of this compound, period and due date:
    no longer true for a person once none of their households' bills among them is unpaid."""
    stages = ["due7"] + [f"overdue{stage}" for stage in OVERDUE_REMINDER_DAYS]
    return [due_reminder_key(stage, compound_id, period_start, due) for stage in stages]


def format_yuan(amount_fen: int) -> str:
    """12345 → "123.45": what a page's money field is prefilled with and reads back (no ¥, no separators)."""
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def format_fen(amount_fen: int) -> str:
    """12345 → "¥123.45" (pages only; the API speaks fen)."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}¥{yuan:,}.{fen:02d}"


@dataclass(frozen=True)
class Collection:
    """Collection rate of a period: households and fen, each as paid / billed (waived bills are not billed).
    `paid_fen` is the amount of the bills settled, the subsidy included: what the property company is owed
    nothing more of, not only what residents paid."""

    billed_households: int
    paid_households: int
    billed_fen: int
    paid_fen: int

    @property
    def household_rate_bp(self) -> int:
        return _rate_bp(self.paid_households, self.billed_households)

    @property
    def fen_rate_bp(self) -> int:
        return _rate_bp(self.paid_fen, self.billed_fen)


def _rate_bp(part: int, whole: int) -> int:
    return 0 if whole == 0 else (part * 2 * 10_000 + whole) // (2 * whole)
