"""A trust compound's year in the open (年度收支): income − expense − the company's remuneration is the surplus, and
the owners decide what becomes of it; refunded, it is split among the households by floor area so that the shares
add up to the surplus to the fen. Pure rules: no session, no Flask."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from backend.domain.funds import Category, Direction, direction_of

# The year in a path: a year the journal can hold, never a number that overflows a SMALLINT.
FIRST_YEAR = 2000
LAST_YEAR = 2100
NOTE_LIMIT = 300

YEAR_NOT_CLOSED = "本年度还有月份未结账，全部结账后才能决定结余的用途"
NOT_TRUST = "只有信托制物业的小区按年度决定结余的用途"
ALREADY_DECIDED = "本年度结余的用途已经决定，不能再改"
NO_ACCOUNTS = "本年度没有账户，没有年度收支"
NOTHING_TO_REFUND = "本年度没有结余，无法按面积退还"
NO_HOUSEHOLDS = "本小区还没有房屋，无法按面积退还"


@dataclass(frozen=True)
class YearResult:
    income_fen: int
    # Every expense but the remuneration, which is shown on its own line.
    expense_fen: int
    remuneration_fen: int

    @property
    def surplus_fen(self) -> int:
        return self.income_fen - self.expense_fen - self.remuneration_fen


def year_result(income_fen: int, expense_fen: int, remuneration_fen: int) -> YearResult:
    return YearResult(income_fen=income_fen, expense_fen=expense_fen, remuneration_fen=remuneration_fen)


def result_of(by_category: Mapping[Category, int]) -> YearResult:
    """The year's result from its net amounts by category (reversals already netted in)."""
    income = sum(fen for category, fen in by_category.items() if direction_of(category) is Direction.INCOME)
    remuneration = by_category.get(Category.REMUNERATION, 0)
    expense = sum(fen for category, fen in by_category.items()
                  if direction_of(category) is Direction.EXPENSE) - remuneration
    return year_result(income, expense, remuneration)


def split_by_area(total_fen: int, areas: Mapping[int, int]) -> dict[int, int]:
    """Largest remainder (最大余额法): each household (id → floor area) first gets the floor of its exact share, and
    the fen left over go one each to the largest remainders, the lower household id first on a tie. The shares add
    up to `total_fen` exactly and each is within one fen of the exact share."""
    if total_fen < 0:
        raise ValueError("total_fen must not be negative")
    if not areas or any(area <= 0 for area in areas.values()):
        raise ValueError("every household needs a positive floor area")
    whole = sum(areas.values())
    shares = {household: total_fen * area // whole for household, area in areas.items()}
    left = total_fen - sum(shares.values())
    by_remainder = sorted(areas, key=lambda household: (-(total_fen * areas[household] % whole), household))
    for household in by_remainder[:left]:
        shares[household] += 1
    return shares


def months_to_close(opened_on: date, year: int) -> list[date]:
    """The first days of the months of `year` an account opened on `opened_on` must have closed before the year's
    surplus is decided: from its opening month (or January) to December; none when it opened after the year."""
    if opened_on.year > year:
        return []
    first = opened_on.month if opened_on.year == year else 1
    return [date(year, month, 1) for month in range(first, 13)]
