"""A compound's books written straight through the models (the journal's services belong to another part): an
account opened in October of last year, entries of its last three months with a reversal, and those months closed
(balanced, the opening of each the closing of the one before)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from backend.domain.funds import AccountKind, Category, Direction, EntryOrigin, direction_of
from backend.extensions import db
from backend.models import Compound, FundAccount, FundEntry, FundMonth
from backend.shared.clock import beijing_date, utcnow

# (month of October = 10 …, category, amount in fen): 9,000.00 in, 2,500.00 out net, 450.00 remuneration.
ENTRIES = (
    (10, Category.PROPERTY_FEE, 300_000), (10, Category.CLEANING, 80_000), (10, Category.REMUNERATION, 15_000),
    (11, Category.PROPERTY_FEE, 300_000), (11, Category.REPAIR, 100_000), (11, Category.REMUNERATION, 15_000),
    (12, Category.PROPERTY_FEE, 250_000), (12, Category.PARKING, 50_000), (12, Category.CLEANING, 80_000),
    (12, Category.REMUNERATION, 15_000),
)
INCOME_FEN = 900_000
# The November repair is reversed by 10,000 fen in December (红字冲销).
EXPENSE_FEN = 80_000 + 100_000 + 80_000 - 10_000
REMUNERATION_FEN = 45_000
OPENING_FEN = 20_000


@dataclass(frozen=True)
class Books:
    year: int
    account_id: int


def last_year() -> int:
    return beijing_date(utcnow()).year - 1


def write_books(compound: Compound, close: bool = True, kind: AccountKind = AccountKind.TRUST) -> Books:
    year = last_year()
    account = FundAccount(compound_id=compound.id, kind=kind, bank_name="攀枝花农商银行",
                          account_no_masked="6230 **** 0001", holder=compound.name, opening_balance_fen=OPENING_FEN,
                          opened_on=date(year, 10, 1))
    db.session.add(account)
    db.session.flush()
    entries: list[FundEntry] = []
    for month, category, amount in ENTRIES:
        entry = FundEntry(compound_id=compound.id, account_id=account.id, entry_date=date(year, month, 10),
                          month=date(year, month, 1), category=category, amount_fen=amount,
                          origin=EntryOrigin.REMUNERATION if category is Category.REMUNERATION else EntryOrigin.MANUAL)
        entries.append(entry)
        db.session.add(entry)
    db.session.flush()
    repair = next(entry for entry in entries if entry.category is Category.REPAIR)
    db.session.add(FundEntry(compound_id=compound.id, account_id=account.id, entry_date=date(year, 12, 5),
                             month=date(year, 12, 1), category=Category.REPAIR, amount_fen=-10_000,
                             origin=EntryOrigin.REVERSAL, reverses_id=repair.id, reason="多付的材料费退回"))
    db.session.flush()
    if close:
        close_months(compound.id, account.id, year, range(10, 13))
    db.session.commit()
    return Books(year=year, account_id=account.id)


def close_months(compound_id: int, account_id: int, year: int, months) -> None:
    opening = db.session.get(FundAccount, account_id).opening_balance_fen
    for month in months:
        first = date(year, month, 1)
        by_category: dict[str, int] = defaultdict(int)
        count = 0
        for entry in db.session.query(FundEntry).filter_by(account_id=account_id, month=first):
            by_category[entry.category.value] += entry.amount_fen
            count += 1
        income = sum(fen for category, fen in by_category.items()
                     if direction_of(Category(category)) is Direction.INCOME)
        expense = sum(by_category.values()) - income
        closing = opening + income - expense
        db.session.add(FundMonth(compound_id=compound_id, account_id=account_id, month=first, opening_fen=opening,
                                 income_fen=income, expense_fen=expense, closing_fen=closing,
                                 by_category=dict(by_category), entry_count=count, bank_balance_fen=closing))
        opening = closing
    db.session.flush()
