"""What the journal's screens show (accounts, settings, the entries of a month, one entry with its vouchers and
reversal), built once for the API to dump and the pages to render, with this person's actions. Every builder starts
with fund_access and the right it needs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from backend.domain import funds as rules
from backend.domain.compounds import ManagementModel
from backend.domain.funds import (
    ACCOUNT_KIND_LABELS,
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    EXPENSE_CATEGORIES,
    INCOME_CATEGORIES,
    AccountKind,
    Category,
    EntryOrigin,
    SpendingStatus,
    categories_kept,
    direction_of,
    signed_fen,
)
from backend.extensions import db
from backend.models import FundEntry, FundVoucher, SpendingRequest, User
from backend.presenters.documents import DocumentView
from backend.services import funds as service
from backend.services.fund_access import FundAccess, fund_access, require

ORIGIN_LABELS = {
    EntryOrigin.MANUAL: "手工记账",
    EntryOrigin.FEE_PAYMENT: "物业费缴费",
    EntryOrigin.SUBSIDY_GRANT: "补贴发放",
    EntryOrigin.FEE_REFUND: "多缴退款",
    EntryOrigin.REMUNERATION: "结账计提酬金",
    EntryOrigin.REVERSAL: "红字冲销",
}


def _month_text(month: date) -> str:
    return f"{month:%Y-%m}"


@dataclass(frozen=True)
class AccountView:
    id: int
    kind: str
    kind_label: str
    bank_name: str
    account_no_masked: str
    holder: str
    opening_balance_fen: int
    opened_on: date
    balance_fen: int
    first_open_month: str
    receiving: bool


@dataclass(frozen=True)
class AccountList:
    compound_id: int
    items: list[AccountView]
    total_balance_fen: int
    actions: frozenset[str]
    kinds: list[tuple[str, str]] = field(default_factory=list)


def accounts(compound_id: int, user_id: int | None) -> AccountList:
    access = fund_access(compound_id, user_id)
    require(access, "see_accounts")
    receiving = service.receiving_account_id(compound_id)
    items = [AccountView(line.account.id, line.account.kind.value, line.kind_label, line.account.bank_name,
                         line.account.account_no_masked, line.account.holder, line.account.opening_balance_fen,
                         line.account.opened_on, line.balance_fen, _month_text(line.first_open_month),
                         line.account.id == receiving)
             for line in service.accounts_of(compound_id)]
    return AccountList(compound_id, items, sum(item.balance_fen for item in items),
                       frozenset({"open_account"} if access.rights.keep_books else ()),
                       [(kind.value, ACCOUNT_KIND_LABELS[kind]) for kind in AccountKind])


@dataclass(frozen=True)
class SettingsScreen:
    compound_id: int
    spending_threshold_fen: int
    remuneration_rate_bp: int | None
    remuneration_fixed_fen: int | None
    saved: bool
    trust: bool
    actions: frozenset[str]


def settings(compound_id: int, user_id: int | None) -> SettingsScreen:
    access = fund_access(compound_id, user_id)
    require(access, "see_accounts")
    found = service.settings_of(compound_id)
    return SettingsScreen(compound_id, found.spending_threshold_fen, found.remuneration_rate_bp,
                          found.remuneration_fixed_fen, found.saved, access.model == ManagementModel.TRUST,
                          frozenset({"update"} if access.rights.keep_books else ()))


@dataclass(frozen=True)
class EntryView:
    id: int
    compound_id: int
    account_id: int
    account_label: str
    entry_date: date
    month: str
    category: str
    category_label: str
    direction: str
    direction_label: str
    amount_fen: int
    signed_fen: int
    counterparty: str
    note: str
    origin: str
    origin_label: str
    emergency: bool
    reverses_id: int | None
    reversed_by_id: int | None
    voucher_count: int
    vouchers: list[DocumentView]
    # Detail only.
    reason: str = ""
    spending_request_id: int | None = None
    payment_id: int | None = None
    subsidy_grant_id: int | None = None
    refund_id: int | None = None
    posted_by_name: str = ""
    created_at: datetime | None = None
    month_closed: bool = False
    # An emergency expense: where the ratification of its request stands (待追认, 已追认, 未获追认).
    ratification: str = ""
    actions: frozenset[str] = frozenset()


RATIFICATION_LABELS = {SpendingStatus.APPROVED: "已追认", SpendingStatus.REJECTED: "未获追认"}


def _voucher(voucher: FundVoucher) -> DocumentView:
    return DocumentView(url=f"/api/v1/fund-vouchers/{voucher.id}", content_type=voucher.content_type, id=voucher.id)


def _entry(entry: FundEntry, labels: dict[int, str], vouchers: list[FundVoucher], reversed_by: int | None,
           **detail) -> EntryView:
    direction = direction_of(entry.category)
    return EntryView(
        id=entry.id, compound_id=entry.compound_id, account_id=entry.account_id, account_label=labels.get(entry.account_id, ""),
        entry_date=entry.entry_date, month=_month_text(entry.month), category=entry.category.value,
        category_label=CATEGORY_LABELS[entry.category], direction=direction.value,
        direction_label=DIRECTION_LABELS[direction], amount_fen=entry.amount_fen,
        signed_fen=signed_fen(entry.category, entry.amount_fen), counterparty=entry.counterparty, note=entry.note,
        origin=entry.origin.value, origin_label=ORIGIN_LABELS[entry.origin], emergency=entry.emergency,
        reverses_id=entry.reverses_id, reversed_by_id=reversed_by, voucher_count=len(vouchers),
        vouchers=[_voucher(voucher) for voucher in vouchers], **detail)


@dataclass(frozen=True)
class EntryList:
    compound_id: int
    month: str | None
    items: list[EntryView]
    total: int
    page: int
    page_size: int
    actions: frozenset[str]


def entries(compound_id: int, user_id: int | None, month: date | None, page: int, page_size: int) -> EntryList:
    access = fund_access(compound_id, user_id)
    require(access, "see_entries")
    found = service.entries_page(compound_id, month, page, page_size)
    rows = [row[0] for row in found.items]
    ids = [row.id for row in rows]
    vouchers = service.vouchers_of(ids)
    reversals = service.reversals_of(ids)
    labels = service.account_labels(compound_id)
    return EntryList(compound_id, _month_text(month) if month else None,
                     [_entry(row, labels, vouchers[row.id], reversals.get(row.id)) for row in rows],
                     found.total, found.page, found.page_size,
                     frozenset({"post"} if access.rights.keep_books else ()))


def _actions(entry: FundEntry, access: FundAccess, reversed_by: int | None) -> frozenset[str]:
    reversible = rules.reversal_refusal(entry.origin, reversed_by is not None) is None
    return frozenset({"reverse"} if access.rights.keep_books and reversible else ())


def entry_detail(entry_id: int, user_id: int | None) -> EntryView:
    entry, access = service.entry_seen_by(entry_id, user_id)
    reversed_by = service.reversals_of([entry.id]).get(entry.id)
    poster = db.session.scalar(select(User.display_name).where(User.id == entry.posted_by_id)) \
        if entry.posted_by_id else None
    closed = (entry.account_id, entry.month) in service.closed_months([entry.account_id])
    ratification = ""
    if entry.emergency and entry.spending_request_id is not None:
        status = db.session.scalar(select(SpendingRequest.status)
                                   .where(SpendingRequest.id == entry.spending_request_id))
        ratification = RATIFICATION_LABELS.get(status, "待追认")
    return _entry(entry, service.account_labels(entry.compound_id), service.vouchers_of([entry.id])[entry.id],
                  reversed_by, reason=entry.reason, spending_request_id=entry.spending_request_id,
                  payment_id=entry.payment_id, subsidy_grant_id=entry.subsidy_grant_id, refund_id=entry.refund_id,
                  posted_by_name=poster or ("系统" if entry.posted_by_id is None else "记账人"),
                  created_at=entry.created_at, month_closed=closed, ratification=ratification,
                  actions=_actions(entry, access, reversed_by))


@dataclass(frozen=True)
class EntryForm:
    """The post form's choices: the categories this compound keeps, its accounts, the spendable requests."""

    compound_id: int
    income: list[tuple[str, str]]
    expense: list[tuple[str, str]]
    accounts: list[tuple[int, str]]
    requests: list[tuple[int, str]]
    today: date


def entry_form(compound_id: int, user_id: int | None) -> EntryForm:
    access = fund_access(compound_id, user_id)
    require(access, "keep_books")
    kept = set(categories_kept(access.model)) - {Category.REMUNERATION}
    labels = service.account_labels(compound_id)
    return EntryForm(
        compound_id,
        [(c.value, CATEGORY_LABELS[c]) for c in INCOME_CATEGORIES if c in kept],
        [(c.value, CATEGORY_LABELS[c]) for c in EXPENSE_CATEGORIES if c in kept],
        sorted(labels.items()),
        [(r.id, f"#{r.id} {r.title}（¥{r.amount_fen // 100}.{r.amount_fen % 100:02d}"
                f"{'，紧急维修' if r.emergency else ''}）") for r in service.spendable_requests(compound_id)],
        service.today(),
    )
