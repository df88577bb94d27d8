"""A journal written straight through the models (the posting API is another part's): accounts and entries that
keep the rules — positive amounts, a reversal negated with `reverses_id`, the month of the Beijing day."""
from __future__ import annotations

from datetime import date

from backend.domain.fund_statements import month_of, previous_month
from backend.domain.funds import AccountKind, Category, EntryOrigin
from backend.extensions import db
from backend.models import Compound
from backend.models.funds import FundAccount, FundEntry, FundSettings, FundVoucher
from backend.shared.clock import beijing_date, utcnow


def this_month() -> date:
    return month_of(beijing_date(utcnow()))


def months_ago(count: int) -> date:
    month = this_month()
    for _ in range(count):
        month = previous_month(month)
    return month


def open_account(compound: Compound, opened_on: date, kind: AccountKind = AccountKind.TRUST, opening_fen: int = 0,
                 bank_name: str = "工商银行") -> FundAccount:
    account = FundAccount(compound_id=compound.id, kind=kind, bank_name=bank_name if kind != AccountKind.NONE else "",
                          account_no_masked="6222****1234" if kind != AccountKind.NONE else "", holder="业主大会",
                          opening_balance_fen=opening_fen, opened_on=opened_on)
    db.session.add(account)
    db.session.commit()
    return account


def post(account: FundAccount, day: date, category: Category, amount_fen: int, *, voucher: bool = False,
         origin: EntryOrigin = EntryOrigin.MANUAL) -> FundEntry:
    entry = FundEntry(compound_id=account.compound_id, account_id=account.id, entry_date=day, month=month_of(day),
                      category=category, amount_fen=amount_fen, origin=origin, counterparty="对方", note="测试")
    db.session.add(entry)
    db.session.flush()
    if voucher:
        db.session.add(FundVoucher(entry_id=entry.id, storage_key=f"funds/test-{entry.id}.jpg",
                                   content_type="image/jpeg", size_bytes=100))
    db.session.commit()
    return entry


def reverse(entry: FundEntry, day: date) -> FundEntry:
    reversal = FundEntry(compound_id=entry.compound_id, account_id=entry.account_id, entry_date=day,
                         month=month_of(day), category=entry.category, amount_fen=-entry.amount_fen,
                         origin=EntryOrigin.REVERSAL, reverses_id=entry.id, reason="金额记错")
    db.session.add(reversal)
    db.session.commit()
    return reversal


def set_remuneration(compound: Compound, rate_bp: int | None = None, fixed_fen: int | None = None) -> None:
    db.session.merge(FundSettings(compound_id=compound.id, remuneration_rate_bp=rate_bp,
                                  remuneration_fixed_fen=fixed_fen))
    db.session.commit()


def month_text(month: date) -> str:
    return f"{month:%Y-%m}"

