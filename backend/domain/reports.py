"""Periodic reports (定期通报, measure 12): report periods, the change of a figure (三升一降), the composite that ranks
compounds (红黑榜), and the bounds of an on-demand report's range."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta


class ReportKind(enum.StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    CUSTOM = "custom"


REPORT_KIND_LABELS = {ReportKind.MONTHLY: "月度通报", ReportKind.QUARTERLY: "季度通报", ReportKind.CUSTOM: "专项通报"}
# The cron builds these for every area; a custom report is an official's, on demand.
PERIODIC_KINDS = (ReportKind.MONTHLY, ReportKind.QUARTERLY)


class ReportStatus(enum.StrEnum):
    BUILDING = "building"
    PUBLISHED = "published"
    FAILED = "failed"


REPORT_STATUS_LABELS = {ReportStatus.BUILDING: "生成中", ReportStatus.PUBLISHED: "已发布", ReportStatus.FAILED: "生成失败"}
# Published is final: a later build, rerun or data change never touches the report.
REBUILDABLE_STATUSES = frozenset({ReportStatus.BUILDING, ReportStatus.FAILED})


@dataclass(frozen=True)
class Period:
    """Beijing dates, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def month_of(day: date) -> Period:
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return Period(day.replace(day=1), following - timedelta(days=1))


def quarter_of(day: date) -> Period:
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    following = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return Period(start, following - timedelta(days=1))


def period_of(kind: ReportKind, day: date) -> Period:
    """The month or quarter holding `day`."""
    if kind is ReportKind.MONTHLY:
        return month_of(day)
    if kind is ReportKind.QUARTERLY:
        return quarter_of(day)
    raise ValueError("专项通报没有固定周期")


def last_complete_period(kind: ReportKind, today: date) -> Period:
    """The newest month or quarter that ended before `today`: on the 1st, the month before; on a quarter's first
    day, the quarter before. The cron asks every day, so a missed 1st is made up the next day."""
    return period_of(kind, period_of(kind, today).start - timedelta(days=1))


def previous_period(kind: ReportKind, period: Period) -> Period:
    """What a report compares with: the month or quarter before, or for a custom range the as-long range just
    before it."""
    if kind is ReportKind.CUSTOM:
        return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))
    return period_of(kind, period.start - timedelta(days=1))


def period_label(kind: ReportKind, period: Period) -> str:
    if kind is ReportKind.MONTHLY:
        return f"{period.start.year}年{period.start.month}月"
    if kind is ReportKind.QUARTERLY:
        return f"{period.start.year}年第{(period.start.month - 1) // 3 + 1}季度"
    return f"{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}"


def one_year_after(day: date) -> date:
    """The same date a year later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 2, 28)


# Nothing was recorded before; it also keeps the comparison period (as long, just before) on the calendar.
EARLIEST = date(2000, 1, 1)


def custom_range_problem(start: date, end: date, today: date) -> str | None:
    """Why an on-demand range cannot be reported, or None: it must be ordered, at most a year long, and over."""
    if end < start:
        return "结束日期不能早于开始日期"
    if end > today:
        return "结束日期不能晚于今天"
    if start < EARLIEST:
        return "开始日期不能早于2000年"
    if end >= one_year_after(start):
        return "时间范围不能超过一年"
    return None


# ---- the headline figures and their change (三升一降) --------------------------------------------------------


class Headline(enum.StrEnum):
    PARTICIPATION = "participation"
    COLLECTION = "collection"
    SATISFACTION = "satisfaction"
    DISPUTES = "disputes"


HEADLINE_LABELS = {
    Headline.PARTICIPATION: "业主参与率",
    Headline.COLLECTION: "物业费收缴率",
    Headline.SATISFACTION: "群众满意率",
    Headline.DISPUTES: "新发矛盾纠纷",
}
# 三升一降: three figures should rise, disputes should fall.
RISING_IS_GOOD = {
    Headline.PARTICIPATION: True,
    Headline.COLLECTION: True,
    Headline.SATISFACTION: True,
    Headline.DISPUTES: False,
}


class Direction(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    FLAT = "flat"
    # One side has no figure (no votes, no bills, no sufficient survey in a period).
    NONE = "none"


DIRECTION_LABELS = {Direction.UP: "升", Direction.DOWN: "降", Direction.FLAT: "持平", Direction.NONE: "—"}


@dataclass(frozen=True)
class Change:
    direction: Direction
    delta: int | None
    # Whether the move is the one 三升一降 asks for; None when flat or unknown.
    good: bool | None


def change(headline: Headline, current: int | None, previous: int | None) -> Change:
    if current is None or previous is None:
        return Change(Direction.NONE, None, None)
    delta = current - previous
    if delta == 0:
        return Change(Direction.FLAT, 0, None)
    direction = Direction.UP if delta > 0 else Direction.DOWN
    return Change(direction, delta, (delta > 0) == RISING_IS_GOOD[headline])


def rate_bp(part: int, whole: int) -> int | None:
    """part / whole in basis points, rounded half-up; None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return (part * 2 * 10_000 + whole) // (2 * whole)


# ---- ranking compounds (红黑榜) ------------------------------------------------------------------------------

# The composite of a compound, in basis points: the weighted mean of the rates it has (collection 40, satisfaction
# 40, participation 20; a missing rate's weight is left out), less 500 bp for each dispute opened in the period,
# never below 0. A compound without any rate in the period is not ranked.
COMPOSITE_WEIGHTS = {Headline.COLLECTION: 40, Headline.SATISFACTION: 40, Headline.PARTICIPATION: 20}
DISPUTE_PENALTY_BP = 500
LIST_SIZE = 10
COMPOSITE_RULE = ("综合得分 = 收缴率×40% + 满意率×40% + 参与率×20%（缺项不计权重），每发生一起矛盾纠纷扣5分；"
                  "本期无任何指标的小区不参与排名。")


def composite_bp(rates: dict[Headline, int | None], disputes: int) -> int | None:
    present = {headline: rates.get(headline) for headline in COMPOSITE_WEIGHTS if rates.get(headline) is not None}
    if not present:
        return None
    weight = sum(COMPOSITE_WEIGHTS[headline] for headline in present)
    weighted = sum(COMPOSITE_WEIGHTS[headline] * value for headline, value in present.items())
    mean = (2 * weighted + weight) // (2 * weight)
    return max(0, mean - DISPUTE_PENALTY_BP * disputes)


@dataclass(frozen=True)
class Ranked:
    key: int
    score: int
    rank: int


def rank(scores: dict[int, int]) -> list[Ranked]:
    """Best first; equal scores share the better rank (1, 2, 2, 4); ties listed by key for a stable order."""
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    ranked: list[Ranked] = []
    for position, (key, score) in enumerate(ordered, start=1):
        shared = ranked[-1].rank if ranked and ranked[-1].score == score else position
        ranked.append(Ranked(key, score, shared))
    return ranked


def red_and_black(ranked: list[Ranked], size: int = LIST_SIZE) -> tuple[list[Ranked], list[Ranked]]:
    """红榜 the best `size`, 黑榜 the worst `size` (worst first); with fewer than 2 × size ranked the two split
    them, the red list taking the middle one, so nobody is on both."""
    black_size = min(size, len(ranked) // 2)
    red_size = min(size, len(ranked) - black_size)
    return ranked[:red_size], list(reversed(ranked[len(ranked) - black_size:]))
