"""What the payment and subsidy screens show, built once for the API to dump and the pages to render: a payment
just started (the order to pay, or the bill settled by its subsidy), the electronic receipt, the subsidy
policies (先买后补) covering a compound or an area, and the street's settlement. Money stays integer fen."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from backend.domain.compounds import MANAGEMENT_MODEL_LABELS
from backend.domain.fees import PAYMENT_METHOD_LABELS, FeeRefused, period_label, periods_label
from backend.domain.refusals import Kind
from backend.domain.roles import Action
from backend.domain.subsidy import SubsidyTier, add_months, format_rate, period_end
from backend.models import Area, Bill, Compound, Household, PaymentOrder, Receipt, SubsidyPolicy
from backend.policy import authorize_area, fee_reader
from backend.schemas.payments import SettlementPageQuery
from backend.services import payments as payment_service
from backend.services import settlement_export
from backend.services import subsidies as subsidy_service
from backend.services.payments import PaymentStart, ReceiptDetail, ReceiptLine
from backend.shared.pagination import Page

# ---- paying -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayLine:
    """One bill of the order: its period, amount, the subsidy fixed for it, and what the order pays of it."""

    bill: Bill
    amount_fen: int

    @property
    def period_label(self) -> str:
        return period_label(self.bill.period_start, self.bill.months)

    @property
    def bill_id(self) -> int:
        return self.bill.id

    @property
    def subsidy_fen(self) -> int:
        return self.bill.subsidy_fen


@dataclass(frozen=True)
class OrderLine:
    """The order to pay: the resident's shares, with the subsidies fixed for the bills beside them."""

    order: PaymentOrder
    subsidy_fen: int
    lines: list[PayLine]

    def __getattr__(self, name: str):
        return getattr(self.order, name)


@dataclass(frozen=True)
class StartedPayment:
    """`settled` when the subsidies cover every bill; else the order and, for WeChat, the getBrandWCPayRequest
    parameters; `sandbox` where payments are simulated (the page offers the sandbox's button). `bills`: oldest
    first; `bill` the first (a single-bill payment's)."""

    bills: list[Bill]
    settled: bool
    sandbox: bool
    order: OrderLine | None
    pay_params: dict | None

    @property
    def bill(self) -> Bill:
        return self.bills[0]

    @property
    def household_id(self) -> int:
        return self.bills[0].household_id

    @property
    def period_label(self) -> str:
        bills = [self.bills_by_id[line.bill_id] for line in self.order.lines] if self.order else self.bills
        return periods_label([(bill.period_start, bill.months) for bill in bills])

    @property
    def bills_by_id(self) -> dict[int, Bill]:
        return {bill.id: bill for bill in self.bills}

    @property
    def amount_fen(self) -> int:
        """The bills' amounts paid by this order (or settled by subsidies alone)."""
        return sum(line.bill.amount_fen for line in self.order.lines) if self.order else sum(
            bill.amount_fen for bill in self.bills)


def started_payment(start: PaymentStart) -> StartedPayment:
    order = None
    if start.order is not None:
        bills = {bill.id: bill for bill in start.bills}
        lines = [PayLine(bill=bills[line.bill_id], amount_fen=line.amount_fen) for line in start.order.lines]
        lines.sort(key=lambda line: (line.bill.period_start, line.bill.id))
        order = OrderLine(order=start.order, subsidy_fen=sum(line.subsidy_fen for line in lines), lines=lines)
    return StartedPayment(bills=start.bills, settled=start.settled, sandbox=start.sandbox,
                          pay_params=start.pay_params, order=order)


def receipt(user_id: int | None, payment_id: int, compound_id: int | None = None) -> ReceiptDetail:
    """The electronic receipt a payment is a line of, listing each bill it pays, for the household's people and
    those who see the compound's bills; refused NOT_FOUND for anyone else and, on a compound's page, for a
    receipt of another compound."""
    found = payment_service.receipt_detail(payment_id)
    if (found is None or compound_id not in (None, found.receipt.compound_id)
            or fee_reader(user_id, found.receipt.compound_id, found.receipt.household_id) is None):
        raise FeeRefused("没有找到该收据", Kind.NOT_FOUND)
    return found


def receipt_of(user_id: int | None, recorded: Receipt) -> ReceiptDetail:
    """The receipt just recorded, whole (by its first payment)."""
    return receipt(user_id, payment_service.receipt_payments(recorded.id)[0].id)


# ---- a household's payment history ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryItem:
    """One receipt of the household's history: the online order's payments or one desk entry's, each bill."""

    receipt: Receipt
    lines: list[ReceiptLine]

    @property
    def payment_id(self) -> int:
        """The receipt's first payment: its page and API are reached by any of its payments."""
        return self.lines[0].payment.id

    @property
    def receipt_url(self) -> str:
        return f"/api/v1/payments/{self.payment_id}/receipt"

    @property
    def method_label(self) -> str:
        return PAYMENT_METHOD_LABELS[self.receipt.method]

    @property
    def period_label(self) -> str:
        return periods_label([(line.bill.period_start, line.bill.months) for line in self.lines])


def payment_history(household: Household, page: int, page_size: int) -> Page:
    """The household's payments newest first, grouped by receipt (an online order, or one desk entry)."""
    receipts, lines, total = payment_service.household_receipts(household.id, page, page_size)
    return Page(items=[HistoryItem(receipt=receipt, lines=lines[receipt.id]) for receipt in receipts],
                total=total, page=page, page_size=page_size)


# ---- subsidy policies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyLine:
    """A subsidy policy as listed: its tiers in words, where it applies and, listed for a compound, whether the
    compound is `eligible` and whether it is the one that `applies` to its bills."""

    policy: SubsidyPolicy
    tiers: list[SubsidyTier]
    scope_label: str
    eligible: bool | None = None
    applies: bool | None = None

    @property
    def period_end(self) -> date:
        """The first month after the transition period."""
        return period_end(self.policy.period_start, self.tiers)

    @property
    def last_month(self) -> date:
        return add_months(self.period_end, -1)

    @property
    def tier_labels(self) -> list[str]:
        """[12 × 50%, 12 × 30%] → ["第1–12个月 50%", "第13–24个月 30%"]."""
        labels, first = [], 1
        for tier in self.tiers:
            last = first + tier.months - 1
            span = f"第{first}个月" if tier.months == 1 else f"第{first}–{last}个月"
            labels.append(f"{span} {format_rate(tier.rate_bp)}")
            first = last + 1
        return labels

    @property
    def eligibility_label(self) -> str:
        parts = []
        if self.policy.built_before_year is not None:
            parts.append(f"{self.policy.built_before_year}年以前建成")
        if self.policy.management_models:
            parts.append("、".join(MANAGEMENT_MODEL_LABELS[model] for model in self.policy.management_models))
        return "；".join(parts) or "不限"

    def __getattr__(self, name: str):
        return getattr(self.policy, name)


def _lines(policies: list[SubsidyPolicy], compound: Compound | None = None) -> list[PolicyLine]:
    names = subsidy_service.area_names({policy.area_id for policy in policies if policy.area_id is not None})
    chosen = subsidy_service.applicable_policy(compound) if compound is not None else None
    return [
        PolicyLine(
            policy=policy, tiers=subsidy_service.policy_tiers(policy),
            scope_label="本小区" if policy.compound_id is not None else names.get(policy.area_id, ""),
            eligible=None if compound is None else subsidy_service.policy_covers(policy, compound),
            applies=None if compound is None else chosen is not None and policy.id == chosen.id,
        )
        for policy in policies
    ]


def compound_policies(compound: Compound) -> list[PolicyLine]:
    """The active policies covering the compound, the most specific first."""
    return _lines(subsidy_service.covering_policies(compound), compound)


def area_policies(area: Area) -> list[PolicyLine]:
    """The policies of the area, of the areas above and below it and of the compounds below it, newest first."""
    return _lines(subsidy_service.policies_for_area(area))


def policy_line(policy: SubsidyPolicy) -> PolicyLine:
    return _lines([policy])[0]


# ---- the street's settlement --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettlementScreen:
    area: Area
    # The areas to pick from: the caller's own, with the one shown first when it is not among them.
    areas: list[Area]
    month: date | None
    month_text: str
    error: str | None
    report: settlement_export.SettlementReport
    xlsx_query: dict
    no_street: str = settlement_export.NO_STREET
    no_company: str = settlement_export.NO_COMPANY


def settlement_screen(user_id: int, args: Mapping[str, str]) -> SettlementScreen:
    """The settlement of the area asked for (the caller's first when none is), for one month or all of them.
    An area that is not a number is none (404); a month not in YYYY-MM is said so, and every month shown."""
    areas = subsidy_service.settlement_areas(user_id)
    given = {key: value.strip() for key, value in args.items() if key in ("area_id", "month") and value.strip()}
    errors = SettlementPageQuery().validate(given)
    if "area_id" in errors:
        raise FeeRefused("没有找到该区域", Kind.NOT_FOUND)
    error = errors["month"][0] if "month" in errors else None
    query = SettlementPageQuery().load({key: value for key, value in given.items() if key not in errors})
    area_id = query["area_id"] if query["area_id"] is not None else (areas[0].id if areas else None)
    if area_id is None:
        raise FeeRefused("补贴结算仅供区域的工作人员查看", Kind.FORBIDDEN)
    area = authorize_area(Action.VIEW_SETTLEMENT, area_id, user_id)
    month = query["month"]
    return SettlementScreen(
        area=area, areas=areas if area in areas else [area, *areas], month=month,
        month_text=given.get("month", ""), error=error,
        report=settlement_export.settlement_report(area, month),
        xlsx_query={"area_id": area.id} | ({"month": f"{month:%Y-%m}"} if month else {}),
    )
