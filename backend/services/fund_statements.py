"""Closing a compound's month (结账), its statement (月度收支表) live or frozen, the 公共账本 summary and the
statement workbook. The balance of any day is the last closed month's closing plus the entries after it: a summary
reads a handful of rows whatever the journal's length."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from openpyxl import Workbook
from sqlalchemy import BigInteger, Date, String, bindparam, cast, func, null, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from backend.domain import fund_statements as rules
from backend.domain.compounds import ManagementModel
from backend.domain.fund_statements import MonthStatus, Statement
from backend.domain.funds import (
    ACCOUNT_KIND_LABELS,
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    FEE_INCOME_CATEGORIES,
    RECEIVING_ACCOUNT_KINDS,
    AccountKind,
    Category,
    EntryOrigin,
    FundRefused,
    direction_of,
)
from backend.domain.refusals import Kind
from backend.extensions import db
from backend.models import Compound
from backend.models.funds import FundAccount, FundEntry, FundMonth, FundSettings
from backend.services.audit import record_audit
from backend.services.fund_access import fund_access, require
from backend.services.spreadsheets import TOTAL, workbook_bytes, write_table, yuan
from backend.shared.clock import beijing_date, utcnow

BANK_BALANCE_MISSING = "请填写该账户的银行月末余额"


@dataclass(frozen=True)
class AccountMonth:
    """One account's section of a month's statement."""

    account: FundAccount | AccountView
    statement: Statement
    status: MonthStatus
    entry_count: int
    frozen: FundMonth | None = None

    @property
    def difference_fen(self) -> int | None:
        return None if self.frozen is None else rules.bank_difference(self.frozen.closing_fen,
                                                                         self.frozen.bank_balance_fen)


@dataclass(frozen=True)
class MonthReport:
    compound_id: int
    month: date
    status: MonthStatus
    accounts: list[AccountMonth]
    total: Statement


@dataclass(frozen=True)
class Summary:
    compound_id: int
    today: date
    balance_fen: int
    balances: list[tuple[FundAccount, int]]
    this_month: Statement
    latest_closed: list[tuple[date, Statement]] = field(default_factory=list)


def today() -> date:
    return beijing_date(utcnow())


def _accounts(compound_id: int, *, lock: bool = False) -> list[FundAccount]:
    query = select(FundAccount).where(FundAccount.compound_id == compound_id).order_by(FundAccount.id)
    # The lock protocol of the journal: a close and a posting into the same account take turns.
    return list(db.session.scalars(query.with_for_update() if lock else query))


def _last_closed(compound_id: int) -> dict[int, FundMonth]:
    """Each account's latest closed month (one statement: a compound has a handful of accounts)."""
    latest = (select(FundMonth.account_id, func.max(FundMonth.month).label("month"))
              .where(FundMonth.compound_id == compound_id).group_by(FundMonth.account_id).subquery())
    rows = db.session.scalars(select(FundMonth).join(
        latest, (FundMonth.account_id == latest.c.account_id) & (FundMonth.month == latest.c.month)))
    return {row.account_id: row for row in rows}


class LastClose(NamedTuple):
    """What a read needs of an account's latest closed month."""

    month: date
    closing_fen: int


def _last_close_columns():
    """An account's latest closed month and its closing, each read backwards from the (account, month) index: one
    row whatever the number of months closed."""
    def newest(column):
        return (select(column).where(FundMonth.account_id == FundAccount.id).order_by(FundMonth.month.desc())
                .limit(1).correlate(FundAccount).scalar_subquery())

    return newest(FundMonth.month).label("last_month"), newest(FundMonth.closing_fen).label("last_closing")


@functools.cache
def _accounts_with_last_query():
    """Built once: the aliases and the subqueries cost more to construct than the statement takes to run."""
    month_row = aliased(FundMonth)
    return (select(FundAccount, *_last_close_columns(), month_row)
            .outerjoin(month_row, (month_row.account_id == FundAccount.id)
                       & (month_row.month == bindparam("month", type_=Date)))
            .where(FundAccount.compound_id == bindparam("compound_id")).order_by(FundAccount.id))


@dataclass(frozen=True)
class AccountView:
    """What a statement shows of an account, read as plain columns with the current month's figures."""

    id: int
    kind: AccountKind
    bank_name: str
    account_no_masked: str
    opening_balance_fen: int
    opened_on: date


@functools.cache
def _current_month_query():
    """The accounts with their last close, and the month's aggregate per account and category, in one round trip
    (UNION ALL: each part runs as it would alone). The current month is never closed: no frozen rows to read."""
    compound_id = bindparam("compound_id")
    nothing = {name: cast(null(), kind) for name, kind in (("text", String), ("day", Date), ("fen", BigInteger))}
    accounts = (select(FundAccount.id.label("account_id"), cast(FundAccount.kind, String).label("kind"),
                       FundAccount.bank_name, FundAccount.account_no_masked, FundAccount.opening_balance_fen,
                       FundAccount.opened_on, *_last_close_columns(), nothing["text"].label("category"),
                       nothing["fen"].label("amount"), nothing["fen"].label("number"))
                .where(FundAccount.compound_id == compound_id))
    amounts = (select(FundEntry.account_id, nothing["text"], nothing["text"], nothing["text"], nothing["fen"],
                      nothing["day"], nothing["day"], nothing["fen"], cast(FundEntry.category, String),
                      func.sum(FundEntry.amount_fen), func.count())
               .where(FundEntry.compound_id == compound_id, FundEntry.month == bindparam("month", type_=Date))
               .group_by(FundEntry.account_id, FundEntry.category))
    return union_all(accounts, amounts)


def _current_month(compound_id: int, month: date
                   ) -> tuple[list[tuple[AccountView, LastClose | None, None]], dict[int, tuple[dict[str, int], int]]]:
    accounts = []
    live: dict[int, tuple[dict[str, int], int]] = {}
    for row in db.session.execute(_current_month_query(), {"compound_id": compound_id, "month": month}):
        if row.category is None:
            account = AccountView(row.account_id, AccountKind(row.kind), row.bank_name, row.account_no_masked,
                                  row.opening_balance_fen, row.opened_on)
            accounts.append((account, None if row.last_month is None else LastClose(row.last_month,
                                                                                    row.last_closing), None))
        else:
            amounts, count = live.get(row.account_id, ({}, 0))
            amounts[Category(row.category).value] = int(row.amount)
            live[row.account_id] = (amounts, count + int(row.number))
    return sorted(accounts, key=lambda item: item[0].id), live


def _accounts_with_last(compound_id: int, month: date | None = None
                        ) -> list[tuple[FundAccount, LastClose | None, FundMonth | None]]:
    """The compound's accounts, each with its latest closed month and (given `month`) that month's frozen row, in
    one statement."""
    rows = db.session.execute(_accounts_with_last_query(), {"compound_id": compound_id, "month": month})
    return [(account, None if last_month is None else LastClose(last_month, last_closing), frozen)
            for account, last_month, last_closing, frozen in rows]


def _amounts(account_id: int, first: date | None, last: date | None) -> tuple[dict[str, int], int]:
    """Net amount per category and the number of entries of one account's months `first`..`last` (either open)."""
    query = (select(FundEntry.category, func.sum(FundEntry.amount_fen), func.count())
             .where(FundEntry.account_id == account_id).group_by(FundEntry.category))
    if first is not None:
        query = query.where(FundEntry.month >= first)
    if last is not None:
        query = query.where(FundEntry.month <= last)
    amounts, count = {}, 0
    for category, amount, number in db.session.execute(query):
        amounts[Category(category).value] = int(amount)
        count += number
    return amounts, count


_MONTH_AMOUNTS = (select(FundEntry.account_id, FundEntry.category, func.sum(FundEntry.amount_fen), func.count())
                  .where(FundEntry.compound_id == bindparam("compound_id"),
                         FundEntry.month == bindparam("month", type_=Date))
                  .group_by(FundEntry.account_id, FundEntry.category))


def _month_amounts(compound_id: int, month: date) -> dict[int, tuple[dict[str, int], int]]:
    """Every account's net amount per category and number of entries in `month`: one aggregate for the compound."""
    result: dict[int, tuple[dict[str, int], int]] = {}
    for account_id, category, amount, number in db.session.execute(
            _MONTH_AMOUNTS, {"compound_id": compound_id, "month": month}):
        amounts, count = result.setdefault(account_id, ({}, 0))
        amounts[Category(category).value] = int(amount)
        result[account_id] = (amounts, count + number)
    return result


def _net(amounts: Mapping[str, int]) -> int:
    return sum(rules.signed(category, amount) for category, amount in amounts.items())


def _opening(account: FundAccount, last: LastClose | None, month: date) -> int:
    """The account's balance at the start of an open `month`: the last closed month's closing plus the open months
    before `month`."""
    base = account.opening_balance_fen if last is None else last.closing_fen
    first_open = rules.next_to_close(account.opened_on, None if last is None else last.month)
    if first_open >= month:
        return base
    amounts, _ = _amounts(account.id, first_open, rules.previous_month(month))
    return base + _net(amounts)


def _frozen_statement(row: FundMonth) -> Statement:
    return Statement(row.opening_fen, row.income_fen, row.expense_fen, row.closing_fen, dict(row.by_category))


def _total(statements: list[Statement]) -> Statement:
    by_category: dict[str, int] = {}
    for statement in statements:
        for category, amount in statement.by_category.items():
            by_category[category] = by_category.get(category, 0) + amount
    return Statement(sum(s.opening_fen for s in statements), sum(s.income_fen for s in statements),
                     sum(s.expense_fen for s in statements), sum(s.closing_fen for s in statements), by_category)


def month_report(compound_id: int, month: date) -> MonthReport:
    """One section per account open by the month's end: frozen where the account closed the month, live otherwise.
    The current month and a closed one are one statement each (the accounts with their last close and the month's
    aggregate, or its frozen rows); an earlier month still open adds the aggregate to the second."""
    day = today()
    if month == rules.month_of(day):
        every, live = _current_month(compound_id, month)
    else:
        every, live = _accounts_with_last(compound_id, month), None
    accounts = [row for row in every if row[0].opened_on <= rules.last_day(month)]
    frozen = {account.id: row for account, _, row in accounts if row is not None}
    if live is None:
        live = _month_amounts(compound_id, month) if len(frozen) < len(accounts) else {}
    sections = []
    for account, latest, _ in accounts:
        status = rules.month_status(month, account.opened_on, latest.month if latest else None, day)
        if account.id in frozen:
            row = frozen[account.id]
            sections.append(AccountMonth(account, _frozen_statement(row), status, row.entry_count, row))
            continue
        amounts, count = live.get(account.id, ({}, 0))
        statement = rules.month_statement(_opening(account, latest, month), amounts)
        sections.append(AccountMonth(account, statement, status, count))
    return MonthReport(compound_id, month, rules.compound_month_status([s.status for s in sections]), sections,
                       _total([s.statement for s in sections]))


def statement(compound_id: int, month: date, user_id: int | None, entry_compound_id: int | None = None
              ) -> MonthReport:
    require(fund_access(compound_id, user_id, entry_compound_id), "see_statements")
    if month > rules.month_of(today()):
        raise FundRefused("该月尚未开始", Kind.NOT_FOUND)
    report = month_report(compound_id, month)
    if not report.accounts:
        # Before the first account was opened there is no statement (the list of months starts there too).
        raise FundRefused("该月尚无账户，没有收支表", Kind.NOT_FOUND)
    return report


def months(compound_id: int) -> list[tuple[date, MonthStatus, Statement | None]]:
    """Every month since the first account was opened, newest first, with its status and, once closed, its figures
    (one query for every frozen row)."""
    accounts = _accounts_with_last(compound_id)
    if not accounts:
        return []
    day = today()
    frozen: dict[date, list[Statement]] = {}
    for row in db.session.scalars(select(FundMonth).where(FundMonth.compound_id == compound_id)):
        frozen.setdefault(row.month, []).append(_frozen_statement(row))
    result = []
    for month in reversed(rules.months_between(min(a.opened_on for a, _, _ in accounts), rules.month_of(day))):
        statuses = [rules.month_status(month, a.opened_on, last.month if last else None, day)
                    for a, last, _ in accounts if a.opened_on <= rules.last_day(month)]
        status = rules.compound_month_status(statuses)
        result.append((month, status, _total(frozen[month]) if status == MonthStatus.CLOSED and month in frozen
                       else None))
    return result


def summary(compound_id: int) -> Summary:
    """Balance now and this month's figures in three statements whatever the journal's length: the accounts with
    their last closed month, one aggregate of the entries after the earliest of those months (per account, month
    and category: a few dozen rows), and the latest closed months."""
    day = today()
    this_month = rules.month_of(day)
    accounts = _accounts_with_last(compound_id)
    after = {a.id: rules.next_to_close(a.opened_on, last.month if last else None) for a, last, _ in accounts}
    moved: dict[int, int] = {}
    current: dict[str, int] = {}
    if accounts:
        for account_id, month, category, amount in db.session.execute(
                select(FundEntry.account_id, FundEntry.month, FundEntry.category, func.sum(FundEntry.amount_fen))
                .where(FundEntry.compound_id == compound_id, FundEntry.month >= min(after.values()))
                .group_by(FundEntry.account_id, FundEntry.month, FundEntry.category)):
            category = Category(category).value
            if account_id in after and month >= after[account_id]:
                moved[account_id] = moved.get(account_id, 0) + rules.signed(category, int(amount))
            if month == this_month:
                current[category] = current.get(category, 0) + int(amount)
    balances = [(account, (account.opening_balance_fen if last is None else last.closing_fen) + moved.get(account.id, 0))
                for account, last, _ in accounts]
    recent: dict[date, list[Statement]] = {}
    recent_months = (select(FundMonth.month).where(FundMonth.compound_id == compound_id).group_by(FundMonth.month)
                     .order_by(FundMonth.month.desc()).limit(6).scalar_subquery())
    for row in db.session.scalars(select(FundMonth).where(FundMonth.compound_id == compound_id,
                                                          FundMonth.month.in_(recent_months))):
        recent.setdefault(row.month, []).append(_frozen_statement(row))
    return Summary(
        compound_id=compound_id, today=day, balance_fen=sum(balance for _, balance in balances), balances=balances,
        this_month=rules.month_statement(0, current),
        latest_closed=[(month, _total(recent[month])) for month in sorted(recent, reverse=True)],
    )


def latest_entries(compound_id: int, limit: int = 10) -> list[FundEntry]:
    # Month first: the (compound, month) index gives the newest month without sorting the whole journal.
    return list(db.session.scalars(select(FundEntry).where(FundEntry.compound_id == compound_id)
                                   .order_by(FundEntry.month.desc(), FundEntry.entry_date.desc(), FundEntry.id.desc())
                                   .limit(limit)))


def receiving_account(accounts: list[FundAccount]) -> FundAccount | None:
    """Where the system's own entries land: the first account by RECEIVING_ACCOUNT_KINDS, then the lowest id."""
    order = {kind: index for index, kind in enumerate(RECEIVING_ACCOUNT_KINDS)}
    return min(accounts, key=lambda a: (order[AccountKind(a.kind)], a.id), default=None)


def _post_remuneration(compound: Compound, month: date, closing: list[FundAccount], actor_id: int | None,
                       ip: str | None) -> FundEntry | None:
    """The trust model's remuneration of the month, as an expense of the receiving account on the month's last day,
    before the month is frozen. Once: the accounts are locked and the month is closed in the same transaction."""
    if compound.management_model != ManagementModel.TRUST:
        return None
    target = receiving_account(closing)
    if target is None:
        return None
    posted = db.session.scalar(select(func.count()).where(
        FundEntry.compound_id == compound.id, FundEntry.month == month,
        FundEntry.origin == EntryOrigin.REMUNERATION))
    if posted:
        return None
    settings = db.session.get(FundSettings, compound.id)
    fee_income = db.session.scalar(select(func.coalesce(func.sum(FundEntry.amount_fen), 0)).where(
        FundEntry.compound_id == compound.id, FundEntry.month == month,
        FundEntry.category.in_(FEE_INCOME_CATEGORIES)))
    amount = rules.remuneration_fen(int(fee_income), settings.remuneration_rate_bp if settings else None,
                                    settings.remuneration_fixed_fen if settings else None)
    if amount <= 0:
        return None
    entry = FundEntry(compound_id=compound.id, account_id=target.id, entry_date=rules.last_day(month), month=month,
                      category=Category.REMUNERATION, amount_fen=amount, origin=EntryOrigin.REMUNERATION,
                      counterparty="物业服务企业", note=f"{month:%Y年%m月}酬金", posted_by_id=actor_id)
    db.session.add(entry)
    db.session.flush()
    record_audit(actor_id=actor_id, action="fund.entry.remuneration", target_type="fund_entry", target_id=entry.id,
                 compound_id=compound.id, after={"amount_fen": amount, "account_id": target.id,
                                                 "month": f"{month:%Y-%m}", "fee_income_fen": int(fee_income)},
                 ip=ip)
    return entry


def close_month(compound_id: int, month: date, bank_balances: Mapping[int, int | None], actor_id: int | None,
                entry_compound_id: int | None = None, ip: str | None = None) -> list[FundMonth]:
    """Close `month` for every account whose next month to close it is (409 when none is, or when an account still
    has an earlier month open, or the month has not ended). Each account with a bank gives its month-end balance."""
    access = fund_access(compound_id, actor_id, entry_compound_id)
    require(access, "keep_books")
    day = today()
    _accounts(compound_id, lock=True)
    # Read again once the locks are held: an account opened while they were awaited (its opening holds the same
    # locks) is missing from the first statement's snapshot, and no other can open now.
    accounts = [a for a in _accounts(compound_id, lock=True) if a.opened_on <= rules.last_day(month)]
    if not accounts:
        raise FundRefused("该月没有账户可结账", Kind.CONFLICT)
    last = _last_closed(compound_id)
    closing = []
    for account in accounts:
        latest = last.get(account.id)
        if latest is not None and latest.month >= month:
            continue
        rules.check_closable(month, account.opened_on, latest.month if latest else None, day)
        closing.append(account)
    if not closing:
        raise FundRefused(rules.ALREADY_CLOSED, Kind.CONFLICT)
    missing = [a.id for a in closing if a.kind != AccountKind.NONE and bank_balances.get(a.id) is None]
    if missing:
        raise FundRefused(BANK_BALANCE_MISSING, Kind.INVALID,
                          errors={f"bank_balances.{account_id}": [BANK_BALANCE_MISSING] for account_id in missing})
    compound = db.session.get(Compound, compound_id)
    _post_remuneration(compound, month, closing, actor_id, ip)
    rows = []
    for account in closing:
        amounts, count = _amounts(account.id, month, month)
        latest = last.get(account.id)
        figures = rules.month_statement(account.opening_balance_fen if latest is None else latest.closing_fen,
                                        amounts)
        row = FundMonth(compound_id=compound_id, account_id=account.id, month=month, opening_fen=figures.opening_fen,
                        income_fen=figures.income_fen, expense_fen=figures.expense_fen,
                        closing_fen=figures.closing_fen, by_category=figures.by_category, entry_count=count,
                        bank_balance_fen=None if account.kind == AccountKind.NONE else bank_balances.get(account.id),
                        closed_by_id=actor_id)
        db.session.add(row)
        rows.append(row)
    try:
        db.session.flush()
    except IntegrityError:
        # Only where the database cannot lock rows (SQLite): the unique (account, month) still closes it once.
        db.session.rollback()
        raise FundRefused(rules.ALREADY_CLOSED, Kind.CONFLICT) from None
    for row in rows:
        record_audit(actor_id=actor_id, action="fund_month.close", target_type="fund_month", target_id=row.id,
                     compound_id=compound_id,
                     after={"account_id": row.account_id, "month": f"{month:%Y-%m}", "opening_fen": row.opening_fen,
                            "income_fen": row.income_fen, "expense_fen": row.expense_fen,
                            "closing_fen": row.closing_fen, "bank_balance_fen": row.bank_balance_fen}, ip=ip)
    db.session.commit()
    return rows


def explain_difference(compound_id: int, month: date, account_id: int, note: str, actor_id: int | None,
                       entry_compound_id: int | None = None, ip: str | None = None) -> FundMonth:
    """Explain why the bank's balance differs from the books' for a closed month of one account, once."""
    require(fund_access(compound_id, actor_id, entry_compound_id), "keep_books")
    row = db.session.scalar(select(FundMonth).where(
        FundMonth.compound_id == compound_id, FundMonth.account_id == account_id, FundMonth.month == month)
        .with_for_update())
    if row is None:
        raise FundRefused("该账户该月尚未结账", Kind.NOT_FOUND)
    if not rules.bank_difference(row.closing_fen, row.bank_balance_fen):
        raise FundRefused("该月银行余额与账面一致，无需说明", Kind.CONFLICT)
    if row.difference_note:
        raise FundRefused("差额已说明", Kind.CONFLICT)
    row.difference_note = note
    row.difference_explained_by_id = actor_id
    row.difference_explained_at = utcnow()
    record_audit(actor_id=actor_id, action="fund_month.explain", target_type="fund_month", target_id=row.id,
                 compound_id=compound_id, after={"note": note}, ip=ip)
    db.session.commit()
    return row


def account_label(account: FundAccount) -> str:
    label = ACCOUNT_KIND_LABELS[AccountKind(account.kind)]
    return f"{label} {account.bank_name} {account.account_no_masked}".strip() if account.bank_name else label


def workbook(report: MonthReport, compound_name: str, with_bank: bool) -> bytes:
    """The month's statement as one sheet: per account its categories, then opening, income, expense, closing (and
    the bank's balance for those who see accounts); the 合计 rows add up to the fen shown on the page."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{report.month:%Y-%m}"
    rows: list[list] = []
    for section in report.accounts:
        name = account_label(section.account) if with_bank else ACCOUNT_KIND_LABELS[AccountKind(section.account.kind)]
        rows.append([name, "期初余额", "", yuan(section.statement.opening_fen), section.statement.opening_fen])
        for category, amount in sorted(section.statement.by_category.items(),
                                       key=lambda item: list(Category).index(Category(item[0]))):
            rows.append([name, CATEGORY_LABELS[Category(category)], DIRECTION_LABELS[direction_of(Category(category))],
                         yuan(amount), amount])
        rows.append([name, "收入合计", "", yuan(section.statement.income_fen), section.statement.income_fen])
        rows.append([name, "支出合计", "", yuan(section.statement.expense_fen), section.statement.expense_fen])
        rows.append([name, "期末余额", "", yuan(section.statement.closing_fen), section.statement.closing_fen])
        if with_bank and section.frozen is not None and section.frozen.bank_balance_fen is not None:
            rows.append([name, "银行月末余额", "", yuan(section.frozen.bank_balance_fen),
                         section.frozen.bank_balance_fen])
    total = report.total
    rows.append([TOTAL, f"期初 {yuan(total.opening_fen)} 收入 {yuan(total.income_fen)} 支出 {yuan(total.expense_fen)}",
                 "期末", yuan(total.closing_fen), total.closing_fen])
    write_table(sheet, f"{compound_name} {report.month:%Y年%m月} 公共账本收支表",
                ["账户", "项目", "收支", "金额（元）", "金额（分）"], rows, [4], [26, 18, 8, 16, 14])
    return workbook_bytes(book)
