"""The compound's public money (公共账本): its accounts, the categories of its journal, who keeps the books and who
sees what under each management model, spending requests and the disclosures owners are owed (Civil Code Art. 282,
Art. 943), and the words for them."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from backend.domain.compounds import ManagementModel
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Role


class FundRefused(Refused):
    default_kind = Kind.CONFLICT


class AccountKind(enum.StrEnum):
    BASIC = "basic"
    JOINT = "joint"
    TRUST = "trust"
    # The compound keeps its journal but holds no account of its own yet (the money sits with a provider).
    NONE = "none"


ACCOUNT_KIND_LABELS = {
    AccountKind.BASIC: "基本户",
    AccountKind.JOINT: "共管户",
    AccountKind.TRUST: "信托户",
    AccountKind.NONE: "未开设",
}

# Fee payments and granted subsidies of a trust compound land in the first open account of these kinds.
RECEIVING_ACCOUNT_KINDS = (AccountKind.TRUST, AccountKind.JOINT, AccountKind.BASIC, AccountKind.NONE)


class Direction(enum.StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


DIRECTION_LABELS = {Direction.INCOME: "收入", Direction.EXPENSE: "支出"}


class Category(enum.StrEnum):
    PROPERTY_FEE = "property_fee"
    SUBSIDY = "subsidy"
    PARKING = "parking"
    ADVERTISING = "advertising"
    VENUE_RENTAL = "venue_rental"
    INTEREST = "interest"
    OTHER_INCOME = "other_income"
    STAFF = "staff"
    CLEANING = "cleaning"
    GREENING = "greening"
    SECURITY = "security"
    REPAIR = "repair"
    SHARED_UTILITIES = "shared_utilities"
    REMUNERATION = "remuneration"
    TAX = "tax"
    OTHER_EXPENSE = "other_expense"


CATEGORY_LABELS = {
    Category.PROPERTY_FEE: "物业费",
    Category.SUBSIDY: "过渡期补贴",
    Category.PARKING: "停车",
    Category.ADVERTISING: "广告",
    Category.VENUE_RENTAL: "场地租赁",
    Category.INTEREST: "利息",
    Category.OTHER_INCOME: "其他收入",
    Category.STAFF: "人员",
    Category.CLEANING: "保洁",
    Category.GREENING: "绿化",
    Category.SECURITY: "秩序维护",
    Category.REPAIR: "维修",
    Category.SHARED_UTILITIES: "水电公摊",
    Category.REMUNERATION: "酬金",
    Category.TAX: "税费",
    Category.OTHER_EXPENSE: "其他支出",
}

INCOME_CATEGORIES = (
    Category.PROPERTY_FEE, Category.SUBSIDY, Category.PARKING, Category.ADVERTISING, Category.VENUE_RENTAL,
    Category.INTEREST, Category.OTHER_INCOME,
)
EXPENSE_CATEGORIES = (
    Category.STAFF, Category.CLEANING, Category.GREENING, Category.SECURITY, Category.REPAIR,
    Category.SHARED_UTILITIES, Category.REMUNERATION, Category.TAX, Category.OTHER_EXPENSE,
)
# Civil Code Art. 282: income from the common parts (advertising, parking on common land, venue rental) belongs to
# the owners after reasonable costs; interest on their money too.
PUBLIC_INCOME_CATEGORIES = frozenset({
    Category.PARKING, Category.ADVERTISING, Category.VENUE_RENTAL, Category.INTEREST, Category.OTHER_INCOME,
})
# Fee income: what the trust model's remuneration is computed from.
FEE_INCOME_CATEGORIES = frozenset({Category.PROPERTY_FEE, Category.SUBSIDY})


def direction_of(category: Category) -> Direction:
    return Direction.INCOME if category in INCOME_CATEGORIES else Direction.EXPENSE


class EntryOrigin(enum.StrEnum):
    """Who wrote an entry: a person at the desk, or the system from a fee payment, a granted subsidy, a refund of
    an overpayment, or the month's close (the trust model's remuneration)."""

    MANUAL = "manual"
    FEE_PAYMENT = "fee_payment"
    SUBSIDY_GRANT = "subsidy_grant"
    FEE_REFUND = "fee_refund"
    REMUNERATION = "remuneration"
    REVERSAL = "reversal"


# ---- who keeps the books and who sees what, per management model ------------------------------------------------

# Open books: the owners' own money (fees and public income) is kept in the compound's journal by the committee.
OPEN_BOOK_MODELS = frozenset({ManagementModel.TRUST, ManagementModel.OWNER_SELF, ManagementModel.COMMUNITY_FALLBACK})
# A provider (the company or the original unit) holds the fees; the journal holds the public income and its costs.
PROVIDER_MODELS = frozenset({ManagementModel.MARKET, ManagementModel.UNIT_SELF})

_COMMITTEE = frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY})
_OVERSEERS = frozenset({Role.OFFICIAL, Role.ADMIN})


def categories_kept(model: ManagementModel) -> tuple[Category, ...]:
    """The categories a compound's journal holds: everything under the trust model; no remuneration where no
    company is paid one; only public income and its costs where a provider holds the fees."""
    if model == ManagementModel.TRUST:
        return INCOME_CATEGORIES + EXPENSE_CATEGORIES
    expenses = tuple(category for category in EXPENSE_CATEGORIES if category != Category.REMUNERATION)
    if model in PROVIDER_MODELS:
        return tuple(c for c in INCOME_CATEGORIES if c in PUBLIC_INCOME_CATEGORIES) + expenses
    return INCOME_CATEGORIES + expenses


def bookkeeper_roles(model: ManagementModel) -> frozenset[Role]:
    """Who posts entries and closes months: the committee of an open-books compound, the provider's manager
    elsewhere (public income only)."""
    return _COMMITTEE if model in OPEN_BOOK_MODELS else frozenset({Role.MANAGER})


@dataclass(frozen=True)
class FundRights:
    """What one person may see and do with one compound's public money. Every view and page asks this once."""

    see_accounts: bool = False
    see_entries: bool = False
    see_vouchers: bool = False
    see_statements: bool = False
    see_spending: bool = False
    see_disclosures: bool = False
    keep_books: bool = False
    request_spending: bool = False
    approve_spending: bool = False
    post_disclosures: bool = False

    @property
    def sees_anything(self) -> bool:
        return self.see_statements or self.see_disclosures


_NOTHING = FundRights()


def fund_rights(model: ManagementModel, roles: frozenset[Role]) -> FundRights:
    """Verified owners see every account, entry, voucher and statement (under a provider model the journal holds only
    public income and its costs); tenants and staff see the statements and disclosures, not the entries; officials
    over the compound see everything and change nothing; a visitor or a stranger sees nothing (404)."""
    keeps = bool(roles & bookkeeper_roles(model))
    committee = bool(roles & _COMMITTEE)
    insider = bool(roles & ({Role.OWNER, Role.MANAGER} | _COMMITTEE | _OVERSEERS))
    reader = insider or bool(roles & {Role.RESIDENT, Role.STAFF})
    if not reader:
        return _NOTHING
    return FundRights(
        see_accounts=insider,
        see_entries=insider,
        see_vouchers=insider,
        see_statements=True,
        see_spending=insider,
        see_disclosures=True,
        keep_books=keeps,
        request_spending=keeps or committee,
        approve_spending=committee,
        post_disclosures=bool(roles & {Role.MANAGER}) or (committee and model in OPEN_BOOK_MODELS),
    )


# ---- spending requests -------------------------------------------------------------------------------------------


class SpendingPurpose(enum.StrEnum):
    """What the money is for decides the owners' vote above the threshold (Civil Code Art. 278)."""

    MAINTENANCE_FUND = "maintenance_fund"
    COMMON_PARTS_BUSINESS = "common_parts_business"
    OTHER = "other"


SPENDING_PURPOSE_LABELS = {
    SpendingPurpose.MAINTENANCE_FUND: "使用维修资金",
    SpendingPurpose.COMMON_PARTS_BUSINESS: "利用共有部分从事经营活动",
    SpendingPurpose.OTHER: "其他支出",
}

# Art. 278 items: (5) using the maintenance fund, (8) changing the use of common parts or running a business on
# them; any other spending above the threshold goes to an ordinary consultation (None).
PURPOSE_CIVIL_CODE_ITEM: dict[SpendingPurpose, int | None] = {
    SpendingPurpose.MAINTENANCE_FUND: 5,
    SpendingPurpose.COMMON_PARTS_BUSINESS: 8,
    SpendingPurpose.OTHER: None,
}


class SpendingStatus(enum.StrEnum):
    PENDING = "pending"
    VOTING = "voting"
    APPROVED = "approved"
    REJECTED = "rejected"


SPENDING_STATUS_LABELS = {
    SpendingStatus.PENDING: "待业委会审批",
    SpendingStatus.VOTING: "业主表决中",
    SpendingStatus.APPROVED: "已批准",
    SpendingStatus.REJECTED: "未批准",
}

# Two committee members, neither of them the requester, approve a request below the threshold.
APPROVALS_NEEDED = 2
DEFAULT_SPENDING_THRESHOLD_FEN = 500_000


# ---- disclosures (公示栏, Civil Code Art. 943) ---------------------------------------------------------------------


class DisclosureKind(enum.StrEnum):
    SERVICE_STANDARDS = "service_standards"
    STAFF_ON_DUTY = "staff_on_duty"
    FEE_ITEMS = "fee_items"
    PUBLIC_INCOME = "public_income"
    MAINTENANCE_FUND = "maintenance_fund"
    ANNUAL_AUDIT = "annual_audit"


DISCLOSURE_KIND_LABELS = {
    DisclosureKind.SERVICE_STANDARDS: "服务事项和标准",
    DisclosureKind.STAFF_ON_DUTY: "在岗人员",
    DisclosureKind.FEE_ITEMS: "收费项目和标准",
    DisclosureKind.PUBLIC_INCOME: "公共收益季度收支",
    DisclosureKind.MAINTENANCE_FUND: "维修资金使用",
    DisclosureKind.ANNUAL_AUDIT: "年度审计报告",
}


# ---- the year's surplus (trust model) ------------------------------------------------------------------------------


class SurplusUse(enum.StrEnum):
    CARRY_FORWARD = "carry_forward"
    REDUCE_FEES = "reduce_fees"
    REFUND = "refund"


SURPLUS_USE_LABELS = {
    SurplusUse.CARRY_FORWARD: "结转下年",
    SurplusUse.REDUCE_FEES: "抵减下年物业费",
    SurplusUse.REFUND: "按面积退还各户",
}


# ---- the journal ---------------------------------------------------------------------------------------------------

CLOSED_MONTH = "该月已结账，请在当前月份记一笔更正"
NOT_KEPT = "本小区的账本不记这一类"
NEEDS_REQUEST = "支出须对应已批准的支出申请（或紧急维修）"
REQUEST_NOT_SPENDABLE = "该支出申请尚未批准"
OVER_REQUEST = "超出该支出申请的金额，剩余可支出{left}"
NEEDS_VOUCHER = "请上传至少一张凭证（收据、发票或合同的照片或PDF）"
ALREADY_REVERSED = "这笔账已冲销过"
NOT_REVERSIBLE = "冲销记录不能再冲销"
SYSTEM_ONLY = "酬金在结账时自动计提，不能手工记账"
MAX_VOUCHERS = 5
COUNTERPARTY_LIMIT = 60
NOTE_LIMIT = 300
REASON_LIMIT = 300
# A fen amount larger than a compound's money could ever be: keeps sums inside BIGINT with room to spare.
MAX_AMOUNT_FEN = 100_000_000_00
# The journal starts here at the earliest: an older account brings its past in as the opening balance (months close
# in order from the opening, and statements and years are named from 2000 on).
FIRST_OPENING_DAY = date(2000, 1, 1)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return month.replace(year=month.year + 1, month=1) if month.month == 12 else month.replace(month=month.month + 1)


def first_open_month(opened_on: date, last_closed: date | None) -> date:
    """Months close in order from the account's opening month: the first open one follows the last closed."""
    return next_month(last_closed) if last_closed is not None else month_of(opened_on)


def check_opening(opened_on: date, today: date, compound_closed: date | None) -> None:
    """An account opens on a day up to today, from 2000 on, and after the compound's last closed month: opened
    inside a closed month it would take entries dated there and reopen what the compound froze."""
    message = None
    if opened_on > today:
        message = "开户日期不能晚于今天"
    elif opened_on < FIRST_OPENING_DAY:
        message = f"开户日期不能早于{FIRST_OPENING_DAY:%Y年%m月%d日}，此前的余额请作为期初余额"
    elif compound_closed is not None and month_of(opened_on) <= compound_closed:
        message = f"{compound_closed:%Y年%m月}及以前已结账，开户日期请选在其后，此前的余额请作为期初余额"
    if message is not None:
        raise FundRefused(message, Kind.INVALID, errors={"opened_on": [message]})


def check_manual_entry(model: ManagementModel, category: Category, entry_date: date, today: date,
                       opened_on: date, first_open: date) -> None:
    """A person's entry: a category the compound's journal keeps (never remuneration, which the close posts), dated
    between the account's opening and today, in a month not yet closed."""
    if category == Category.REMUNERATION:
        raise FundRefused(SYSTEM_ONLY, Kind.INVALID, errors={"category": [SYSTEM_ONLY]})
    if category not in categories_kept(model):
        raise FundRefused(NOT_KEPT, Kind.INVALID, errors={"category": [NOT_KEPT]})
    if entry_date > today:
        message = "日期不能晚于今天"
        raise FundRefused(message, Kind.INVALID, errors={"entry_date": [message]})
    if entry_date < opened_on:
        message = f"日期不能早于该账户的开户日期{opened_on.isoformat()}"
        raise FundRefused(message, Kind.INVALID, errors={"entry_date": [message]})
    if month_of(entry_date) < first_open:
        raise FundRefused(CLOSED_MONTH, Kind.INVALID, errors={"entry_date": [CLOSED_MONTH]})


def spendable(status: SpendingStatus, emergency: bool) -> bool:
    """An expense may be posted against an approved request, or at once against an emergency repair's request
    that has not been turned down (it is ratified afterwards by the same path)."""
    return status is SpendingStatus.APPROVED or (emergency and status is not SpendingStatus.REJECTED)


def check_spendable(status: SpendingStatus, emergency: bool, amount_fen: int, request_fen: int,
                    spent_fen: int) -> None:
    """An expense is spent against a spendable request, never beyond what it allows (net of reversals)."""
    if not spendable(status, emergency):
        raise FundRefused(REQUEST_NOT_SPENDABLE, Kind.INVALID, errors={"spending_request_id": [REQUEST_NOT_SPENDABLE]})
    left = request_fen - spent_fen
    if amount_fen > left:
        message = OVER_REQUEST.format(left=f"¥{max(left, 0) // 100}.{max(left, 0) % 100:02d}")
        raise FundRefused(message, Kind.INVALID, errors={"amount_fen": [message]})


OTHER_CATEGORY = "支出类别须与所依据的支出申请一致（{label}）"


def check_request_category(category: Category, request_category: Category) -> None:
    """An expense is of the kind the request was approved for: a cleaning request does not pay for a repair."""
    if category != request_category:
        message = OTHER_CATEGORY.format(label=CATEGORY_LABELS[request_category])
        raise FundRefused(message, Kind.INVALID, errors={"category": [message]})


# Entries that mirror the fee ledger (a payment, a granted subsidy, a refund) are corrected there: a refund at the
# desk posts itself; reversing the mirror by hand would part the journal from the bills.
MIRRORED_ORIGINS = frozenset({EntryOrigin.FEE_PAYMENT, EntryOrigin.SUBSIDY_GRANT, EntryOrigin.FEE_REFUND})
MIRRORED = "物业费收缴记录随收费台账自动记账，请在收费台办理退款，不能在账本中冲销"


def reversal_refusal(origin: EntryOrigin, already_reversed: bool) -> str | None:
    """Why this entry cannot be reversed, or None when it can (the presenter's button and the service ask this)."""
    if origin == EntryOrigin.REVERSAL:
        return NOT_REVERSIBLE
    if origin in MIRRORED_ORIGINS:
        return MIRRORED
    if already_reversed:
        return ALREADY_REVERSED
    return None


def check_reversible(origin: EntryOrigin, already_reversed: bool) -> None:
    refusal = reversal_refusal(origin, already_reversed)
    if refusal is not None:
        raise FundRefused(refusal, Kind.CONFLICT)


def auto_post_date(paid_on: date, opened_on: date, first_open: date) -> date:
    """Where a fee payment, a granted subsidy or a refund lands: on its own Beijing day while that month is open,
    else on the first day of the first open month (never before the account's opening)."""
    if month_of(paid_on) >= first_open and paid_on >= opened_on:
        return paid_on
    return max(first_open, opened_on)


def signed_fen(category: Category, amount_fen: int) -> int:
    """An entry's effect on its account's balance: income adds, expense takes away (a reversal's negative amount
    turns that round)."""
    return amount_fen if direction_of(category) == Direction.INCOME else -amount_fen


def receiving_account(accounts: list[tuple[int, AccountKind]]) -> int | None:
    """The account fee payments and subsidies land in: the first by RECEIVING_ACCOUNT_KINDS, then the lowest id."""
    ranked = sorted(accounts, key=lambda pair: (RECEIVING_ACCOUNT_KINDS.index(pair[1]), pair[0]))
    return ranked[0][0] if ranked else None
