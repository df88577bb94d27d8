"""The compound's journal (日记账): opening accounts, the settings, posting entries with their vouchers, reversals
(红字冲销), the entries fee payments, granted subsidies and refunds of a trust compound post themselves (and the sweep
that posts what was missed while the compound had no account), the lists and the voucher files.

Lock protocol: every write to an account's journal first locks that account's row, so a month's close (which locks
the same rows) and a posting into that month serialize."""
from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import funds as rules
from backend.domain.compounds import ManagementModel, household_label
from backend.domain.fees import GrantStatus
from backend.domain.funds import (
    ACCOUNT_KIND_LABELS,
    DEFAULT_SPENDING_THRESHOLD_FEN,
    AccountKind,
    Category,
    Direction,
    EntryOrigin,
    FundRefused,
    SpendingStatus,
    direction_of,
)
from backend.domain.refusals import Kind
from backend.extensions import db
from backend.models import (
    Bill,
    Building,
    Compound,
    FundAccount,
    FundEntry,
    FundMonth,
    FundSettings,
    FundVoucher,
    Household,
    Payment,
    Refund,
    SpendingRequest,
    SubsidyGrant,
)
from backend.services import spending
from backend.services.audit import record_audit
from backend.services.documents import PDF, prepare_document, store_document
from backend.services.fund_access import FundAccess, fund_access, require
from backend.services.photos import kept_only_on_commit, load_photo
from backend.services.queueing import enqueue_after_commit
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from backend.shared.pagination import Page, paginate

NO_ENTRY = "这笔账不存在"
NO_ACCOUNT = "请先开设账户"
NO_SUCH_ACCOUNT = "请选择本小区的账户"
NO_SUCH_REQUEST = "请选择本小区的支出申请"
INCOME_HAS_NO_REQUEST = "收入不对应支出申请"
POST_MISSING_JOB = "backend.jobs.funds.post_missing"


def today() -> date:
    return beijing_date(utcnow())


# ---- accounts -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountDraft:
    kind: AccountKind
    opened_on: date
    bank_name: str = ""
    account_no: str = ""
    holder: str = ""
    opening_balance_fen: int = 0


def mask_account_no(number: str) -> str:
    """Only the last four digits are kept: enough to tell two accounts apart on a statement."""
    digits = "".join(ch for ch in number if ch.isalnum())
    return f"****{digits[-4:]}" if digits else ""


def open_account(compound_id: int, user_id: int, draft: AccountDraft, ip: str | None = None) -> FundAccount:
    access = fund_access(compound_id, user_id)
    require(access, "keep_books")
    # The compound's accounts locked as a close locks them: an account opened while a month closes either counts
    # in that close or opens after the month.
    db.session.scalars(select(FundAccount.id).where(FundAccount.compound_id == compound_id)
                       .order_by(FundAccount.id).with_for_update()).all()
    closed = db.session.scalar(select(func.max(FundMonth.month)).where(FundMonth.compound_id == compound_id))
    rules.check_opening(draft.opened_on, today(), closed)
    account = FundAccount(compound_id=compound_id, kind=draft.kind, bank_name=draft.bank_name,
                          account_no_masked=mask_account_no(draft.account_no), holder=draft.holder,
                          opening_balance_fen=draft.opening_balance_fen, opened_on=draft.opened_on,
                          created_by_id=user_id, created_at=utcnow())
    db.session.add(account)
    db.session.flush()
    record_audit(actor_id=user_id, action="fund.account.open", target_type="fund_account", target_id=account.id,
                 compound_id=compound_id, ip=ip,
                 after={"kind": draft.kind.value, "opened_on": draft.opened_on.isoformat(),
                        "opening_balance_fen": draft.opening_balance_fen, "bank_name": draft.bank_name,
                        "account_no_masked": account.account_no_masked})
    if access.model == ManagementModel.TRUST:
        # Payments made before this account existed are posted now rather than by the night's sweep.
        enqueue_after_commit(POST_MISSING_JOB, compound_id, queue="low")
    db.session.commit()
    return account


def _lock_account(account_id: int) -> FundAccount | None:
    return db.session.scalar(select(FundAccount).where(FundAccount.id == account_id).with_for_update()
                             .execution_options(populate_existing=True))


def last_closed_months(account_ids: Sequence[int]) -> dict[int, FundMonth]:
    """Each account's last closed month (accounts without one are absent)."""
    if not account_ids:
        return {}
    latest = (select(FundMonth.account_id, func.max(FundMonth.month).label("month"))
              .where(FundMonth.account_id.in_(account_ids)).group_by(FundMonth.account_id).subquery())
    rows = db.session.scalars(select(FundMonth).join(
        latest, (FundMonth.account_id == latest.c.account_id) & (FundMonth.month == latest.c.month)))
    return {row.account_id: row for row in rows}


def first_open_month(account: FundAccount) -> date:
    last = db.session.scalar(select(func.max(FundMonth.month)).where(FundMonth.account_id == account.id))
    return rules.first_open_month(account.opened_on, last)


@dataclass(frozen=True)
class AccountLine:
    account: FundAccount
    balance_fen: int
    first_open_month: date

    @property
    def kind_label(self) -> str:
        return ACCOUNT_KIND_LABELS[self.account.kind]


def _signed_sum():
    income = [category.value for category in Category if direction_of(category) == Direction.INCOME]
    return func.coalesce(func.sum(case((FundEntry.category.in_(income), FundEntry.amount_fen),
                                       else_=-FundEntry.amount_fen)), 0)


def accounts_of(compound_id: int) -> list[AccountLine]:
    """The compound's accounts with today's balance: the last closed month's closing (or the opening balance) plus
    the entries after it, never a sum from the start."""
    accounts = list(db.session.scalars(select(FundAccount).where(FundAccount.compound_id == compound_id)
                                       .order_by(FundAccount.id)))
    closed = last_closed_months([account.id for account in accounts])
    lines = []
    for account in accounts:
        last = closed.get(account.id)
        start = rules.first_open_month(account.opened_on, last.month if last else None)
        base = last.closing_fen if last else account.opening_balance_fen
        after = db.session.scalar(select(_signed_sum()).where(FundEntry.account_id == account.id,
                                                              FundEntry.month >= start))
        lines.append(AccountLine(account, base + int(after or 0), start))
    return lines


def receiving_account_id(compound_id: int, open_on: date | None = None) -> int | None:
    """`open_on`: among the accounts open that day (money received before an account opened went elsewhere, or is in
    its opening balance)."""
    query = select(FundAccount.id, FundAccount.kind).where(FundAccount.compound_id == compound_id)
    if open_on is not None:
        query = query.where(FundAccount.opened_on <= open_on)
    rows = db.session.execute(query).all()
    return rules.receiving_account([(row.id, row.kind) for row in rows])


# ---- settings -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsDraft:
    spending_threshold_fen: int = DEFAULT_SPENDING_THRESHOLD_FEN
    remuneration_rate_bp: int | None = None
    remuneration_fixed_fen: int | None = None


@dataclass(frozen=True)
class SettingsView:
    spending_threshold_fen: int
    remuneration_rate_bp: int | None
    remuneration_fixed_fen: int | None
    saved: bool


def settings_of(compound_id: int) -> SettingsView:
    row = db.session.get(FundSettings, compound_id)
    if row is None:
        return SettingsView(DEFAULT_SPENDING_THRESHOLD_FEN, None, None, saved=False)
    return SettingsView(row.spending_threshold_fen, row.remuneration_rate_bp, row.remuneration_fixed_fen, saved=True)


def update_settings(compound_id: int, user_id: int, draft: SettingsDraft, ip: str | None = None) -> SettingsView:
    """The row is made on the first save; two first saves at once leave one row (the key decides) and the later
    values."""
    access = fund_access(compound_id, user_id)
    require(access, "keep_books")
    if draft.remuneration_rate_bp is not None and draft.remuneration_fixed_fen is not None:
        message = "酬金按比例或按固定金额，二选一"
        raise FundRefused(message, Kind.INVALID, errors={"remuneration_fixed_fen": [message]})
    if access.model != ManagementModel.TRUST and (draft.remuneration_rate_bp or draft.remuneration_fixed_fen):
        message = "只有信托制小区计提酬金"
        raise FundRefused(message, Kind.INVALID, errors={"remuneration_rate_bp": [message]})
    row = db.session.get(FundSettings, compound_id, with_for_update=True, populate_existing=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(FundSettings(compound_id=compound_id))
        except IntegrityError:
            pass
        row = db.session.get(FundSettings, compound_id, with_for_update=True, populate_existing=True)
    before = {"spending_threshold_fen": row.spending_threshold_fen, "remuneration_rate_bp": row.remuneration_rate_bp,
              "remuneration_fixed_fen": row.remuneration_fixed_fen}
    row.spending_threshold_fen = draft.spending_threshold_fen
    row.remuneration_rate_bp = draft.remuneration_rate_bp
    row.remuneration_fixed_fen = draft.remuneration_fixed_fen
    row.updated_by_id = user_id
    record_audit(actor_id=user_id, action="fund.settings", target_type="compound", target_id=compound_id,
                 compound_id=compound_id, before=before,
                 after={"spending_threshold_fen": draft.spending_threshold_fen,
                        "remuneration_rate_bp": draft.remuneration_rate_bp,
                        "remuneration_fixed_fen": draft.remuneration_fixed_fen}, ip=ip)
    db.session.commit()
    return settings_of(compound_id)


# ---- posting by hand ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryDraft:
    category: Category
    amount_fen: int
    entry_date: date | None = None
    account_id: int | None = None
    counterparty: str = ""
    note: str = ""
    spending_request_id: int | None = None


def _audit_entry(entry: FundEntry, actor_id: int | None, ip: str | None, vouchers: int = 0) -> None:
    record_audit(actor_id=actor_id, action=f"fund.entry.{entry.origin.value}", target_type="fund_entry",
                 target_id=entry.id, compound_id=entry.compound_id, ip=ip,
                 after={"account_id": entry.account_id, "entry_date": entry.entry_date.isoformat(),
                        "category": entry.category.value, "amount_fen": entry.amount_fen,
                        "reverses_id": entry.reverses_id, "spending_request_id": entry.spending_request_id,
                        "payment_id": entry.payment_id, "subsidy_grant_id": entry.subsidy_grant_id,
                        "refund_id": entry.refund_id, "vouchers": vouchers})


def _spend_against(compound_id: int, request_id: int | None, category: Category, amount_fen: int) -> SpendingRequest:
    """The request locked (two expenses against it serialize), checked spendable, of the expense's category and not
    overspent."""
    if request_id is None:
        raise FundRefused(rules.NEEDS_REQUEST, Kind.INVALID, errors={"spending_request_id": [rules.NEEDS_REQUEST]})
    # Locked and brought up to its owners' vote: a ballot that passed a moment ago makes it spendable now.
    request = spending.locked_for_spending(request_id, compound_id)
    if request is None:
        raise FundRefused(NO_SUCH_REQUEST, Kind.INVALID, errors={"spending_request_id": [NO_SUCH_REQUEST]})
    spent = db.session.scalar(select(func.coalesce(func.sum(FundEntry.amount_fen), 0))
                              .where(FundEntry.spending_request_id == request.id)) or 0
    rules.check_spendable(request.status, request.emergency, amount_fen, request.amount_fen, int(spent))
    rules.check_request_category(category, request.category)
    return request


def _store_vouchers(entry: FundEntry, prepared, uploader_id: int, stored: list[str]) -> None:
    for document in prepared:
        db.session.add(FundVoucher(entry_id=entry.id, uploader_id=uploader_id,
                                   storage_key=store_document(document, "funds", stored),
                                   content_type=document.content_type, size_bytes=len(document.data),
                                   created_at=utcnow()))


def post_entry(compound_id: int, user_id: int, draft: EntryDraft, vouchers: Sequence[typing.BinaryIO],
               ip: str | None = None) -> FundEntry:
    """A bookkeeper's entry with at least one voucher; an expense against an approved request (or an emergency
    repair's), never beyond it."""
    access = fund_access(compound_id, user_id)
    require(access, "keep_books")
    if not vouchers:
        raise FundRefused(rules.NEEDS_VOUCHER, Kind.INVALID, errors={"vouchers": [rules.NEEDS_VOUCHER]})
    account_id = draft.account_id or receiving_account_id(compound_id)
    if account_id is None:
        raise FundRefused(NO_ACCOUNT, Kind.CONFLICT, errors={"account_id": [NO_ACCOUNT]})
    account = _lock_account(account_id)
    if account is None or account.compound_id != compound_id:
        raise FundRefused(NO_SUCH_ACCOUNT, Kind.INVALID, errors={"account_id": [NO_SUCH_ACCOUNT]})
    day = draft.entry_date or today()
    rules.check_manual_entry(access.model, draft.category, day, today(), account.opened_on,
                             first_open_month(account))
    request = None
    if direction_of(draft.category) == Direction.EXPENSE:
        request = _spend_against(compound_id, draft.spending_request_id, draft.category, draft.amount_fen)
    elif draft.spending_request_id is not None:
        raise FundRefused(INCOME_HAS_NO_REQUEST, Kind.INVALID,
                          errors={"spending_request_id": [INCOME_HAS_NO_REQUEST]})
    # Only a bookkeeper gets their files read, after every other check: a refused post stores nothing.
    prepared = [prepare_document(upload) for upload in vouchers]
    with kept_only_on_commit() as stored:
        entry = FundEntry(compound_id=compound_id, account_id=account.id, entry_date=day, month=rules.month_of(day),
                          category=draft.category, amount_fen=draft.amount_fen, counterparty=draft.counterparty,
                          note=draft.note, origin=EntryOrigin.MANUAL,
                          spending_request_id=request.id if request else None,
                          emergency=bool(request and request.emergency), posted_by_id=user_id, created_at=utcnow())
        db.session.add(entry)
        db.session.flush()
        _store_vouchers(entry, prepared, user_id, stored)
        _audit_entry(entry, user_id, ip, vouchers=len(prepared))
        db.session.commit()
    return entry


def reverse_entry(entry_id: int, user_id: int, reason: str, voucher: typing.BinaryIO | None = None,
                  ip: str | None = None) -> FundEntry:
    """红字冲销: the same category and account, the amount negated, dated today (an open month even when the
    reversed entry's month is closed), naming the entry and why. Once per entry: the account's lock serializes two
    attempts and the unique key stops a second."""
    original = db.session.get(FundEntry, entry_id)
    if original is None:
        raise FundRefused(NO_ENTRY, Kind.NOT_FOUND)
    access = fund_access(original.compound_id, user_id)
    require(access, "see_entries")
    require(access, "keep_books")
    _lock_account(original.account_id)
    taken = db.session.scalar(select(FundEntry.id).where(FundEntry.reverses_id == original.id))
    rules.check_reversible(original.origin, taken is not None)
    prepared = prepare_document(voucher) if voucher is not None else None
    day = today()
    with kept_only_on_commit() as stored:
        reversal = FundEntry(compound_id=original.compound_id, account_id=original.account_id, entry_date=day,
                             month=rules.month_of(day), category=original.category, amount_fen=-original.amount_fen,
                             counterparty=original.counterparty, note=f"冲销第{original.id}号", reason=reason,
                             origin=EntryOrigin.REVERSAL, reverses_id=original.id,
                             spending_request_id=original.spending_request_id, emergency=original.emergency,
                             posted_by_id=user_id, created_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(reversal)
        except IntegrityError:
            raise FundRefused(rules.ALREADY_REVERSED, Kind.CONFLICT) from None
        _store_vouchers(reversal, [prepared] if prepared else [], user_id, stored)
        _audit_entry(reversal, user_id, ip, vouchers=1 if prepared else 0)
        db.session.commit()
    return reversal


# ---- posting from payments (trust compounds) -----------------------------------------------------------------------


def _household_name(household_id: int) -> str:
    row = db.session.execute(select(Building.name, Household.unit, Household.room)
                             .join(Building, Building.id == Household.building_id)
                             .where(Household.id == household_id)).first()
    return household_label(row.name, row.unit, row.room) if row else ""


def _post_system(compound_id: int, paid_on: date, category: Category, amount_fen: int, origin: EntryOrigin,
                 counterparty: str, note: str, **link: int) -> FundEntry | None:
    """One system entry in the caller's transaction, into the receiving account of the accounts open on `paid_on`,
    once per linked row (the unique key decides; a savepoint keeps the caller's work when another transaction
    posted it first). Nothing for a compound not under the trust model, or for money before every account's opening
    (their opening balances hold that)."""
    model = db.session.scalar(select(Compound.management_model).where(Compound.id == compound_id))
    if model != ManagementModel.TRUST or amount_fen == 0:
        return None
    account_id = receiving_account_id(compound_id, open_on=paid_on)
    if account_id is None:
        return None
    account = _lock_account(account_id)
    (column, linked_id), = link.items()
    if db.session.scalar(select(FundEntry.id).where(getattr(FundEntry, column) == linked_id)) is not None:
        return None
    day = rules.auto_post_date(paid_on, account.opened_on, first_open_month(account))
    entry = FundEntry(compound_id=compound_id, account_id=account.id, entry_date=day, month=rules.month_of(day),
                      category=category, amount_fen=amount_fen, counterparty=counterparty[:60], note=note[:300],
                      origin=origin, created_at=utcnow(), **link)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        return None
    _audit_entry(entry, None, None)
    return entry


def post_payment(payment_id: int) -> FundEntry | None:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        return None
    return _post_system(payment.compound_id, beijing_date(payment.paid_at), Category.PROPERTY_FEE,
                        payment.amount_fen, EntryOrigin.FEE_PAYMENT, _household_name(payment.household_id),
                        f"物业费（账单{payment.bill_id}）", payment_id=payment.id)


def post_receipt_payments(receipt_id: int) -> None:
    """The payments of one receipt (a notification may pay several bills) post with it."""
    for payment_id in db.session.scalars(select(Payment.id).where(Payment.receipt_id == receipt_id)
                                         .order_by(Payment.id)).all():
        post_payment(payment_id)


def post_subsidy_grant(grant_id: int) -> FundEntry | None:
    grant = db.session.get(SubsidyGrant, grant_id)
    if grant is None or grant.status != GrantStatus.GRANTED or grant.granted_at is None:
        return None
    return _post_system(grant.compound_id, beijing_date(grant.granted_at), Category.SUBSIDY, grant.amount_fen,
                        EntryOrigin.SUBSIDY_GRANT, _household_name(grant.household_id),
                        f"过渡期补贴（账单{grant.bill_id}）", subsidy_grant_id=grant.id)


def post_refund(refund_id: int) -> FundEntry | None:
    """An overpayment given back is negative fee income: it came in as 物业费 and goes out the same way, so the
    month's fee income (and the trust model's remuneration computed from it) counts only the fees kept."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        return None
    household_id = db.session.scalar(select(Bill.household_id).where(Bill.id == refund.bill_id))
    return _post_system(refund.compound_id, beijing_date(refund.created_at), Category.PROPERTY_FEE,
                        -refund.amount_fen, EntryOrigin.FEE_REFUND, _household_name(household_id),
                        f"退还多缴物业费（账单{refund.bill_id}）", refund_id=refund.id)


def post_bill_subsidy(bill_id: int) -> FundEntry | None:
    """The subsidy granted with a bill's settlement (subsidies.grant_subsidy) posts in the same transaction."""
    grant_id = db.session.scalar(select(SubsidyGrant.id).where(SubsidyGrant.bill_id == bill_id,
                                                               SubsidyGrant.status == GrantStatus.GRANTED))
    return post_subsidy_grant(grant_id) if grant_id is not None else None


# A payment recorded while the first account was being opened may have missed it: its moment is at most this much
# after the account's creation.
OPENING_MARGIN = timedelta(minutes=10)


def _window(compound_id: int) -> tuple[datetime, datetime] | None:
    """When the sweep looks for money: from the first day any of the compound's accounts covers (money before it is
    in the opening balances) to the first account's creation. From then on a payment's own transaction posts it, so
    one without an entry was not the fund's (paid while the compound was under another model)."""
    opened, created = db.session.execute(select(func.min(FundAccount.opened_on), func.min(FundAccount.created_at))
                                         .where(FundAccount.compound_id == compound_id)).one()
    if opened is None:
        return None
    return datetime.combine(opened, time(0), SHANGHAI).astimezone(UTC), created + OPENING_MARGIN


def post_missing(compound_id: int) -> int:
    """The sweep: every payment, granted subsidy and refund of a trust compound made while it had no account yet
    (from its accounts' opening day on) that has no entry is posted now; idempotent. Returns how many were posted."""
    model = db.session.scalar(select(Compound.management_model).where(Compound.id == compound_id))
    window = _window(compound_id)
    if model != ManagementModel.TRUST or window is None:
        return 0
    since, until = window
    # Every account locked up front in id order, as a close locks them: the sweep may post into several (each
    # payment into the account open on its day) and must not take them in another order than a close does.
    db.session.scalars(select(FundAccount.id).where(FundAccount.compound_id == compound_id)
                       .order_by(FundAccount.id).with_for_update()).all()
    posted = 0
    payments = db.session.scalars(select(Payment.id).where(
        Payment.compound_id == compound_id, Payment.paid_at >= since, Payment.paid_at < until,
        ~select(FundEntry.id).where(FundEntry.payment_id == Payment.id).exists())
        .order_by(Payment.id)).all()
    grants = db.session.scalars(select(SubsidyGrant.id).where(
        SubsidyGrant.compound_id == compound_id, SubsidyGrant.status == GrantStatus.GRANTED,
        SubsidyGrant.granted_at >= since, SubsidyGrant.granted_at < until,
        ~select(FundEntry.id).where(FundEntry.subsidy_grant_id == SubsidyGrant.id).exists())
        .order_by(SubsidyGrant.id)).all()
    refunds = db.session.scalars(select(Refund.id).where(
        Refund.compound_id == compound_id, Refund.created_at >= since, Refund.created_at < until,
        ~select(FundEntry.id).where(FundEntry.refund_id == Refund.id).exists())
        .order_by(Refund.id)).all()
    for poster, ids in ((post_payment, payments), (post_subsidy_grant, grants), (post_refund, refunds)):
        for linked_id in ids:
            posted += poster(linked_id) is not None
    db.session.commit()
    return posted


def compounds_missing_posts() -> list[int]:
    """Trust compounds with an account: the sweep's candidates (each sweep is cheap when nothing is missing)."""
    return list(db.session.scalars(
        select(Compound.id).where(Compound.management_model == ManagementModel.TRUST,
                                  select(FundAccount.id).where(FundAccount.compound_id == Compound.id).exists())
        .order_by(Compound.id)))


# ---- reading ------------------------------------------------------------------------------------------------------


def entry_seen_by(entry_id: int, user_id: int | None) -> tuple[FundEntry, FundAccess]:
    """The entry and the reader's access; NOT_FOUND for one of another compound (or none), FORBIDDEN for someone
    of the compound who does not see entries (a tenant, staff)."""
    entry = db.session.get(FundEntry, entry_id)
    if entry is None:
        raise FundRefused(NO_ENTRY, Kind.NOT_FOUND)
    access = fund_access(entry.compound_id, user_id)
    require(access, "see_entries")
    return entry, access


def entries_page(compound_id: int, month: date | None, page: int, page_size: int) -> Page:
    query = select(FundEntry).where(FundEntry.compound_id == compound_id)
    if month is not None:
        query = query.where(FundEntry.month == month)
    return paginate(query.order_by(FundEntry.entry_date.desc(), FundEntry.id.desc()), page, page_size)


def vouchers_of(entry_ids: Sequence[int]) -> dict[int, list[FundVoucher]]:
    found: dict[int, list[FundVoucher]] = {entry_id: [] for entry_id in entry_ids}
    if entry_ids:
        for voucher in db.session.scalars(select(FundVoucher).where(FundVoucher.entry_id.in_(entry_ids))
                                          .order_by(FundVoucher.id)):
            found[voucher.entry_id].append(voucher)
    return found


def reversals_of(entry_ids: Sequence[int]) -> dict[int, int]:
    """{entry id: the id of the entry reversing it}."""
    if not entry_ids:
        return {}
    rows = db.session.execute(select(FundEntry.reverses_id, FundEntry.id).where(FundEntry.reverses_id.in_(entry_ids)))
    return {reversed_id: reversal_id for reversed_id, reversal_id in rows}


def account_labels(compound_id: int) -> dict[int, str]:
    rows = db.session.scalars(select(FundAccount).where(FundAccount.compound_id == compound_id))
    return {row.id: f"{ACCOUNT_KIND_LABELS[row.kind]} {row.bank_name} {row.account_no_masked}".strip()
            for row in rows}


def closed_months(account_ids: Sequence[int]) -> set[tuple[int, date]]:
    if not account_ids:
        return set()
    return {(row.account_id, row.month) for row in db.session.execute(
        select(FundMonth.account_id, FundMonth.month).where(FundMonth.account_id.in_(account_ids)))}


def spendable_requests(compound_id: int) -> list[SpendingRequest]:
    """Requests an expense may be posted against now (for the desk's form)."""
    return list(db.session.scalars(select(SpendingRequest).where(
        SpendingRequest.compound_id == compound_id,
        (SpendingRequest.status == SpendingStatus.APPROVED)
        | (SpendingRequest.emergency & (SpendingRequest.status != SpendingStatus.REJECTED)))
        .order_by(SpendingRequest.id.desc())))


@dataclass(frozen=True)
class VoucherFile:
    data: bytes
    content_type: str
    filename: str


def voucher_file(voucher_id: int, user_id: int | None) -> VoucherFile:
    voucher = db.session.get(FundVoucher, voucher_id)
    if voucher is None:
        raise FundRefused("凭证不存在", Kind.NOT_FOUND)
    entry = db.session.get(FundEntry, voucher.entry_id)
    access = fund_access(entry.compound_id, user_id)
    require(access, "see_vouchers")
    try:
        data = load_photo(voucher.storage_key)
    except LookupError:
        raise FundRefused("凭证不存在", Kind.NOT_FOUND) from None
    extension = "pdf" if voucher.content_type == PDF else "jpg"
    return VoucherFile(data, voucher.content_type, f"fund-voucher-{voucher.id}.{extension}")
