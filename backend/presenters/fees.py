"""What the fee screens show (DESIGN §4), built once for the fees API to dump and the fee pages to render: a
household's bills with the subsidy each gets, a bill with its payments, its online payment and this person's
actions, the desk, arrears, fee schedules and the collection rate. Money stays integer fen; pages format it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from marshmallow import ValidationError

from backend.domain.compounds import HOUSEHOLD_KIND_LABELS, GovernanceBody, HouseholdKind
from backend.domain.consultations import MeetingKind
from backend.domain.fees import (
    BILL_STATUS_LABELS,
    CYCLE_LABELS,
    MAX_DUE_DAY,
    OFFLINE_METHODS,
    PAYMENT_METHOD_LABELS,
    BillAction,
    BillingCycle,
    BillStatus,
    Collection,
    bill_actions,
    charges_fees_by_default,
    format_fen,
    period_label,
)
from backend.domain.roles import Action, Role, allows
from backend.domain.text import unstorable
from backend.models import Bill, Compound, FeeSchedule, Household, Meeting, Payment, Refund
from backend.presenters.confirmations import Confirmation
from backend.schemas.fees import DeskSearchQuery
from backend.services import compounds as compound_service
from backend.services import fees as fee_service
from backend.services import meetings as meeting_service
from backend.services import payments as payment_service
from backend.services.payment_orders import OnlinePayment, online_payments
from backend.services.subsidies import SubsidyView, planned_subsidies, subsidy_view
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page

# The hearings offered to link to a new fee standard; a compound holds far fewer in the years a standard lasts.
HEARINGS_SHOWN = 100
# How the desk takes money and the committee gives it back: (value, label).
OFFLINE_METHOD_CHOICES = [(method.value, PAYMENT_METHOD_LABELS[method]) for method in OFFLINE_METHODS]


def _household_label(household: Household) -> str:
    return fee_service.household_label(household.building.name, household.unit, household.room)


def household_label(household: Household) -> str:
    return _household_label(household)


# ---- a bill ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillLine:
    """A bill as its household, the desk and the API show it: the subsidy it gets (fixed once a payment began,
    else what paying now would fix) and the household's share add up to its amount; a waived bill asks nothing."""

    bill: Bill
    subsidy: SubsidyView | None
    expected_subsidy_fen: int
    expected_share_fen: int
    overdue: bool

    @property
    def status_label(self) -> str:
        return BILL_STATUS_LABELS[self.bill.status]

    @property
    def period_label(self) -> str:
        return period_label(self.bill.period_start, self.bill.months)

    def __getattr__(self, name: str):
        return getattr(self.bill, name)


def bill_line(bill: Bill, today: date) -> BillLine:
    if bill.status is BillStatus.WAIVED:
        # A subsidy released with the waiver is no estimate of anything.
        return BillLine(bill=bill, subsidy=None, expected_subsidy_fen=0, expected_share_fen=0, overdue=False)
    view = subsidy_view(bill)
    subsidy_fen = view.subsidy_fen if view else bill.subsidy_fen
    return BillLine(
        bill=bill, subsidy=view, expected_subsidy_fen=subsidy_fen, expected_share_fen=bill.amount_fen - subsidy_fen,
        overdue=bill.status is BillStatus.UNPAID and bill.due_date < today,
    )


def actions_on(bill: Bill, roles: frozenset[Role], member: bool,
               online: OnlinePayment | None) -> tuple[BillAction, ...]:
    return bill_actions(bill.status, bill.paid_fen, bill.overpaid_fen, roles=roles, member=member,
                        online_order=online is not None, order_payable=online is not None and online.blocks_cash)


@dataclass(frozen=True)
class PaymentLine:
    payment: Payment

    @property
    def method_label(self) -> str:
        return PAYMENT_METHOD_LABELS[self.payment.method]

    def __getattr__(self, name: str):
        return getattr(self.payment, name)


@dataclass(frozen=True)
class RefundLine:
    refund: Refund

    @property
    def method_label(self) -> str:
        return PAYMENT_METHOD_LABELS[self.refund.method]

    def __getattr__(self, name: str):
        return getattr(self.refund, name)


@dataclass(frozen=True)
class BillDetail:
    """A bill with its payments and refunds, its live online order, and what the caller may do with it now
    (`member`: a verified person of its household)."""

    line: BillLine
    household_label: str
    payments: list[PaymentLine]
    refunds: list[RefundLine]
    online_payment: OnlinePayment | None
    actions: tuple[BillAction, ...]
    member: bool
    refund_methods: list[tuple[str, str]] = field(default_factory=lambda: OFFLINE_METHOD_CHOICES)

    def __getattr__(self, name: str):
        return getattr(self.line, name)


def bill_detail(user_id: int | None, bill_id: int, compound_id: int | None = None,
                now: datetime | None = None) -> BillDetail:
    """The bill for its household's people and those who see the compound's bills; refused NOT_FOUND for anyone
    else and, on a compound's page, for a bill of another compound."""
    now = now or utcnow()
    access = fee_service.bill_for(user_id, bill_id, compound_id=compound_id)
    bill = access.bill
    online = online_payments([bill.id], now).get(bill.id)
    return BillDetail(
        line=bill_line(bill, beijing_date(now)),
        household_label=_household_label(bill.household),
        payments=[PaymentLine(payment) for payment in payment_service.bill_payments(bill.id)],
        refunds=[RefundLine(refund) for refund in payment_service.bill_refunds(bill.id)],
        online_payment=online,
        actions=actions_on(bill, access.roles, access.member, online),
        member=access.member,
    )


def waiver_confirmation(user_id: int, bill_id: int, compound_id: int, reason: str) -> Confirmation | None:
    """What waiving the bill does, said before it is done (减免 cannot be taken back); None when the bill cannot
    be waived now (the waiver then says why)."""
    detail = bill_detail(user_id, bill_id, compound_id)
    if BillAction.WAIVE not in detail.actions:
        return None
    held = detail.subsidy is not None and detail.subsidy.fixed
    return Confirmation(
        question="减免这笔账单？",
        sentence=(f"减免后，{detail.household_label} {detail.period_label}的物业费{format_fen(detail.bill.amount_fen)}"
                  + ("不再收取，已占用的补贴将释放" if held else "不再收取") + f"。减免原因：{reason}"),
        button="确认减免",
    )


# ---- a household's bills --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdBills:
    household: Household
    label: str
    lines: list[BillLine]
    # 全部缴清: what the order paying every unpaid bill now charges (each line shows its bill paid alone).
    pay_all_fen: int

    @property
    def unpaid(self) -> list[BillLine]:
        return [line for line in self.lines if line.bill.status is BillStatus.UNPAID]

    @property
    def pay_all_months(self) -> int:
        return sum(line.bill.months for line in self.unpaid)

    @property
    def offers_pay_all(self) -> bool:
        """Several months to pay: one payment for them all is offered beside each bill's own."""
        return len(self.unpaid) > 1


def owed_together(bills: list[Bill]) -> dict[int, int]:
    """What paying the bills in one payment takes of each, their subsidies held together oldest first against one
    budget (subsidies.planned_subsidies); a bill the subsidy covers whole takes nothing."""
    planned = planned_subsidies(bills)
    return {bill.id: max(bill.amount_fen - _subsidy_fen(bill, planned[bill.id]) - bill.paid_fen, 0)
            for bill in bills}


def _subsidy_fen(bill: Bill, view: SubsidyView | None) -> int:
    return view.subsidy_fen if view else bill.subsidy_fen


def household_bills(household: Household, today: date) -> HouseholdBills:
    bills = fee_service.household_bills(household.id)
    return HouseholdBills(
        household=household, label=_household_label(household), lines=[bill_line(bill, today) for bill in bills],
        pay_all_fen=sum(owed_together([bill for bill in bills if bill.status is BillStatus.UNPAID]).values()),
    )


def my_bills(user_id: int, compound_id: int, today: date) -> list[HouseholdBills]:
    """Every bill of the caller's verified households in the compound, household by household."""
    return [household_bills(household, today) for household in fee_service.my_households(user_id, compound_id)]


def newest_first(households: list[HouseholdBills]) -> list[BillLine]:
    """Every household's bills in one list: newest period first, then by household."""
    lines = [line for household in households for line in household.lines]
    return sorted(lines, key=lambda line: (-line.bill.period_start.toordinal(), line.bill.household_id))


def unpaid_bill_count(user_id: int | None, compound_id: int) -> int:
    """The home page's 待缴 badge: unpaid bills of my verified households here."""
    if user_id is None:
        return 0
    return sum(
        1
        for household in fee_service.my_households(user_id, compound_id)
        for bill in fee_service.household_bills(household.id)
        if bill.status is BillStatus.UNPAID
    )


@dataclass(frozen=True)
class FeeLink:
    """A fee page someone's roles open; `compound_page` when its address names the compound."""

    id: str
    label: str
    endpoint: str
    compound_page: bool = True


def fee_links(roles: frozenset[Role]) -> list[FeeLink]:
    links = [FeeLink("schedules-link", "收费标准", "h5.fee_schedules")]
    if allows(roles, Action.RECORD_PAYMENTS):
        links.append(FeeLink("desk-link", "收费台（现金 / 银行转账）", "h5.fee_desk"))
    if allows(roles, Action.VIEW_BILLS):
        links += [
            FeeLink("arrears-link", "欠费清单", "h5.fee_arrears"),
            FeeLink("collection-link", "收缴率", "h5.fee_collection"),
            FeeLink("policies-link", "物业费补贴政策", "h5.fee_policies"),
        ]
    if allows(roles, Action.VIEW_SETTLEMENT):
        links.append(FeeLink("settlement-link", "补贴结算", "h5.settlement", compound_page=False))
    return links


# ---- the desk ---------------------------------------------------------------------------------------------

ASK_ADDRESS = "请选择楼栋并填写房号"
SEARCH_FIELDS = ("building_id", "unit", "room")


@dataclass(frozen=True)
class DeskSearch:
    """The household the desk asked for, what its search form shows, and what to say when none was found
    (`status` 404 for an id from a list that is not this compound's)."""

    household: Household | None
    entered: dict[str, str]
    message: str | None = None
    status: int = 200

    @classmethod
    def found(cls, household: Household) -> DeskSearch:
        return cls(household, {"building_id": str(household.building_id), "unit": household.unit,
                               "room": household.room})


def desk_search(compound_id: int, args: Mapping[str, str]) -> DeskSearch:
    entered = {key: args.get(key, "").strip() for key in SEARCH_FIELDS}
    given = {key: value.strip() for key, value in args.items()
             if key in DeskSearchQuery().fields and value.strip()}
    try:
        query = DeskSearchQuery().load(given)
    except ValidationError as error:
        if "household_id" in error.messages:
            return DeskSearch(None, entered, fee_service.NO_HOUSEHOLD, 404)
        return DeskSearch(None, entered, ASK_ADDRESS)
    if query["household_id"] is not None:
        household = fee_service.household_in(compound_id, query["household_id"])
        if household is None:
            return DeskSearch(None, entered, fee_service.NO_HOUSEHOLD, 404)
        return DeskSearch.found(household)
    if query["building_id"] is None and not query["room"]:
        return DeskSearch(None, entered)
    # A query string is not checked like a form: a NUL would reach PostgreSQL and fail there.
    if query["building_id"] is None or not query["room"] or unstorable([query["unit"], query["room"]]):
        return DeskSearch(None, entered, ASK_ADDRESS)
    household = fee_service.household_at(compound_id, query["building_id"], query["unit"], query["room"])
    if household is None:
        return DeskSearch(None, entered, "找不到该房屋，请核对楼栋、单元和房号")
    return DeskSearch.found(household)


@dataclass(frozen=True)
class DeskLine:
    """An unpaid bill at the desk: what to collect (the share after the subsidy), its online payment, and which
    of recording the cash and closing the online payment the desk may do now."""

    line: BillLine
    online_payment: OnlinePayment | None
    actions: tuple[BillAction, ...]
    # What to collect for the bill in the several-months entry, every month of it ticked (subsidies planned
    # together, oldest first).
    together_fen: int = 0

    @property
    def collect_fen(self) -> int:
        return max(self.line.expected_share_fen - self.line.bill.paid_fen, 0)

    def __getattr__(self, name: str):
        return getattr(self.line, name)


@dataclass(frozen=True)
class Desk:
    buildings: list
    search: DeskSearch
    household_label: str = ""
    lines: list[DeskLine] = field(default_factory=list)
    overpaid: list[Bill] = field(default_factory=list)
    methods: list[tuple[str, str]] = field(default_factory=lambda: OFFLINE_METHOD_CHOICES)

    @property
    def household(self) -> Household | None:
        return self.search.household

    @property
    def months(self) -> list[DeskLine]:
        """The bills cash can be taken for now, offered together (several months, one paper receipt)."""
        return [line for line in self.lines if BillAction.RECORD_PAYMENT in line.actions]

    @property
    def months_total_fen(self) -> int:
        """What the several-months entry of every month offered takes (record_offline_payments)."""
        return sum(line.together_fen for line in self.months)


def desk(compound_id: int, roles: frozenset[Role], search: DeskSearch, now: datetime | None = None) -> Desk:
    """The desk for the household found: its unpaid bills with what each asks, and its overpaid ones."""
    now = now or utcnow()
    buildings = compound_service.list_buildings(compound_id)
    household = search.household
    if household is None:
        return Desk(buildings=buildings, search=search)
    bills = fee_service.household_bills(household.id)
    unpaid = [bill for bill in bills if bill.status is BillStatus.UNPAID]
    online = online_payments([bill.id for bill in unpaid], now)
    today = beijing_date(now)
    actions = {bill.id: actions_on(bill, roles, False, online.get(bill.id)) for bill in unpaid}
    together = owed_together([bill for bill in unpaid if BillAction.RECORD_PAYMENT in actions[bill.id]])
    return Desk(
        buildings=buildings, search=search, household_label=_household_label(household),
        lines=[
            DeskLine(line=bill_line(bill, today), online_payment=online.get(bill.id), actions=actions[bill.id],
                     together_fen=together.get(bill.id, 0))
            for bill in unpaid
        ],
        overpaid=[bill for bill in bills if bill.overpaid_fen],
    )


# ---- arrears ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrearsLine:
    row: fee_service.Arrears
    days_overdue: int

    def __getattr__(self, name: str):
        return getattr(self.row, name)


@dataclass(frozen=True)
class ArrearsList:
    page: Page
    # Staff open the desk from a row.
    opens_desk: bool

    @property
    def page_total_fen(self) -> int:
        return sum(line.outstanding_fen for line in self.page.items)


def arrears(compound_id: int, roles: frozenset[Role], page: int, page_size: int,
            today: date | None = None) -> ArrearsList:
    """Households with bills unpaid past their due date (Beijing time), the most owed first."""
    today = today or beijing_date(utcnow())
    found = fee_service.arrears(compound_id, today, page, page_size)
    lines = [ArrearsLine(row=row, days_overdue=(today - row.oldest_due).days) for row in found.items]
    return ArrearsList(page=Page(items=lines, total=found.total, page=found.page, page_size=found.page_size),
                       opens_desk=allows(roles, Action.RECORD_PAYMENTS))


# ---- fee schedules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleLine:
    """A fee standard as listed: whether it is the one in force today, and for a new one whether a 听证会
    should have been linked."""

    schedule: FeeSchedule
    in_force: bool
    hearing_recommended: bool = False

    @property
    def household_kind_label(self) -> str:
        return HOUSEHOLD_KIND_LABELS[self.schedule.household_kind]

    @property
    def cycle_label(self) -> str:
        return CYCLE_LABELS[self.schedule.cycle]

    def __getattr__(self, name: str):
        return getattr(self.schedule, name)


def schedule_lines(compound_id: int, today: date) -> list[ScheduleLine]:
    """Newest first per kind of household; the first one already effective is the one in force."""
    in_force_kinds: set[HouseholdKind] = set()
    lines = []
    for schedule in fee_service.schedules_of(compound_id):
        in_force = schedule.household_kind not in in_force_kinds and schedule.effective_from <= today
        if in_force:
            in_force_kinds.add(schedule.household_kind)
        lines.append(ScheduleLine(schedule=schedule, in_force=in_force))
    return lines


def _hearing_advised(compound: Compound) -> bool:
    """Where owners have a self-governance body, a fee standard should follow a 听证会."""
    return compound.governance_body is not GovernanceBody.NONE


def created_schedule(compound: Compound, schedule: FeeSchedule, today: date) -> ScheduleLine:
    in_force = fee_service.schedule_in_force(compound.id, schedule.household_kind, today)
    return ScheduleLine(
        schedule=schedule, in_force=in_force is not None and in_force.id == schedule.id,
        hearing_recommended=_hearing_advised(compound) and schedule.hearing_meeting_id is None,
    )


@dataclass(frozen=True)
class Schedules:
    lines: list[ScheduleLine]
    may_manage: bool
    hearing_advised: bool
    # The compound's hearings, offered to link to a new standard (only to those who may set one).
    hearings: list[Meeting]
    kind_choices: list[tuple[str, str]]
    cycle_choices: list[tuple[str, str]]
    max_due_day: int = MAX_DUE_DAY


def schedules(compound: Compound, roles: frozenset[Role], today: date | None = None) -> Schedules:
    today = today or beijing_date(utcnow())
    may_manage = allows(roles, Action.MANAGE_FEE_SCHEDULES)
    return Schedules(
        lines=schedule_lines(compound.id, today),
        may_manage=may_manage,
        hearing_advised=_hearing_advised(compound),
        hearings=_hearings(compound.id) if may_manage else [],
        kind_choices=[(kind.value, label) for kind, label in HOUSEHOLD_KIND_LABELS.items()],
        cycle_choices=[(cycle.value, label) for cycle, label in CYCLE_LABELS.items()],
    )


def _hearings(compound_id: int) -> list[Meeting]:
    meetings = meeting_service.meetings_page(compound_id, 1, HEARINGS_SHOWN).items
    return [meeting for meeting in meetings if meeting.kind is MeetingKind.HEARING]


def new_schedule_entries(compound: Compound) -> dict[str, str]:
    """What the form for a new fee standard starts with."""
    return {
        "household_kind": HouseholdKind.RESIDENTIAL.value,
        "cycle": BillingCycle.MONTHLY.value,
        "due_day": "15",
        "charges_fees": "1" if charges_fees_by_default(compound.management_model.value) else "0",
    }


# ---- the collection rate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCollection:
    period_start: date
    figures: Collection

    def __getattr__(self, name: str):
        return getattr(self.figures, name)


def collection(compound_id: int, period_start: date | None, page: int, page_size: int) -> Page:
    """The collection rate of one period, or of every billed period, newest first."""
    periods = [period_start] if period_start is not None else fee_service.billed_periods(compound_id)
    shown = periods[(page - 1) * page_size:page * page_size]
    return Page(
        items=[PeriodCollection(period_start=period, figures=fee_service.collection(compound_id, period))
               for period in shown],
        total=len(periods), page=page, page_size=page_size,
    )
