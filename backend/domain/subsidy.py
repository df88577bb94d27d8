"""先买后补 (policy measure 11): how much of a bill a transition-period subsidy pays, month by month.

Rates are basis points (5000 = 50%) so every step is integer arithmetic. Each month's subsidy is its amount
× the rate of the tier in force that month, rounded half-up to the fen, then capped per household per month,
then limited by what is left of the policy's budget, taken in month order."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class SubsidyTier:
    """`months` consecutive months of the transition period at `rate_bp` (basis points of the bill)."""

    months: int
    rate_bp: int

    def __post_init__(self) -> None:
        if isinstance(self.months, bool) or not isinstance(self.months, int) or self.months < 1:
            raise ValueError("a tier lasts at least one month")
        if isinstance(self.rate_bp, bool) or not isinstance(self.rate_bp, int) or not 0 <= self.rate_bp <= BASIS_POINTS:
            raise ValueError("a tier's rate is 0–10000 basis points")


@dataclass(frozen=True)
class MonthCharge:
    """One month of a bill: `month` is the first day of the month."""

    month: date
    amount_fen: int

    def __post_init__(self) -> None:
        if self.month.day != 1:
            raise ValueError("a month is given by its first day")
        if not _is_fen(self.amount_fen):
            raise ValueError("a month's amount is a non-negative integer of fen")


@dataclass(frozen=True)
class MonthSubsidy:
    month: date
    amount_fen: int
    rate_bp: int
    subsidy_fen: int

    @property
    def resident_fen(self) -> int:
        return self.amount_fen - self.subsidy_fen


@dataclass(frozen=True)
class BillSplit:
    per_month: tuple[MonthSubsidy, ...]

    @property
    def subsidy_fen(self) -> int:
        return sum(month.subsidy_fen for month in self.per_month)

    @property
    def bill_fen(self) -> int:
        return sum(month.amount_fen for month in self.per_month)

    @property
    def resident_fen(self) -> int:
        return self.bill_fen - self.subsidy_fen


def _is_fen(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def months_between(start: date, month: date) -> int:
    """Whole months from `start`'s month to `month`'s (negative when `month` is earlier)."""
    return (month.year - start.year) * 12 + month.month - start.month


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def rate_in_force(month: date, period_start: date, tiers: Sequence[SubsidyTier]) -> int:
    """The tier's rate for `month`: 0 before the period and after its last tier."""
    offset = months_between(period_start, month)
    if offset < 0:
        return 0
    for tier in tiers:
        if offset < tier.months:
            return tier.rate_bp
        offset -= tier.months
    return 0


def period_end(period_start: date, tiers: Sequence[SubsidyTier]) -> date:
    """The first month after the transition period."""
    return add_months(period_start, sum(tier.months for tier in tiers))


def half_up_share(amount_fen: int, rate_bp: int) -> int:
    return (amount_fen * rate_bp * 2 + BASIS_POINTS) // (2 * BASIS_POINTS)


def split_bill(
    months: Iterable[MonthCharge],
    period_start: date,
    tiers: Sequence[SubsidyTier],
    cap_fen_per_month: int | None = None,
    budget_left_fen: int | None = None,
) -> BillSplit:
    """The subsidy and the resident's share of a bill's months; their sum is the bill, to the fen."""
    if period_start.day != 1:
        raise ValueError("the transition period starts on the first day of a month")
    if cap_fen_per_month is not None and not _is_fen(cap_fen_per_month):
        raise ValueError("the cap is a non-negative integer of fen")
    if budget_left_fen is not None and not _is_fen(budget_left_fen):
        raise ValueError("the budget left is a non-negative integer of fen")
    charges = sorted(months, key=lambda charge: charge.month)
    # The cap is per household per month: a month given twice would be capped twice.
    if len({charge.month for charge in charges}) != len(charges):
        raise ValueError("each month of a bill is given once")
    left = budget_left_fen
    per_month = []
    for charge in charges:
        rate = rate_in_force(charge.month, period_start, tiers)
        subsidy = half_up_share(charge.amount_fen, rate)
        if cap_fen_per_month is not None:
            subsidy = min(subsidy, cap_fen_per_month)
        if left is not None:
            subsidy = min(subsidy, left)
            left -= subsidy
        per_month.append(MonthSubsidy(month=charge.month, amount_fen=charge.amount_fen, rate_bp=rate,
                                      subsidy_fen=subsidy))
    return BillSplit(per_month=tuple(per_month))


@dataclass(frozen=True)
class TierDrop:
    """The rate falls from `from_bp` this month to `to_bp` from `month` on."""

    month: date
    from_bp: int
    to_bp: int

    @property
    def message(self) -> str:
        return f"下月起补贴比例由{format_rate(self.from_bp)}调整为{format_rate(self.to_bp)}"


def tier_drop_next_month(this_month: date, period_start: date, tiers: Sequence[SubsidyTier]) -> TierDrop | None:
    """The drop that happens at the start of next month, if the rate falls then (the end of the period too)."""
    now = rate_in_force(this_month, period_start, tiers)
    next_month = add_months(this_month, 1)
    then = rate_in_force(next_month, period_start, tiers)
    return TierDrop(month=next_month, from_bp=now, to_bp=then) if then < now else None


def format_rate(rate_bp: int) -> str:
    """5000 → "50%", 1250 → "12.5%"."""
    whole, rest = divmod(rate_bp, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def is_eligible(
    built_year: int | None, management_model: str, built_before_year: int | None, management_models: Iterable[str]
) -> bool:
    """A policy's eligibility: built before the year (an unknown year is not), and one of the models (none = all)."""
    models = set(management_models)
    if models and management_model not in models:
        return False
    return built_before_year is None or (built_year is not None and built_year < built_before_year)
