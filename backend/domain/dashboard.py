"""The officials' dashboard rules: which months the charts cover, how rates are rounded, how compounds sort."""
from __future__ import annotations

import enum
from datetime import date

CHART_MONTHS = 12
WORST_COUNT = 10


class Sort(enum.StrEnum):
    """The compound table's orders; each has a fixed tie-break on the compound id, so pages never overlap."""

    NAME = "name"
    COLLECTION = "collection"  # the newest period's household rate, lowest first
    COLLECTION_YEAR = "collection_year"
    OVERDUE = "overdue"  # most overdue first
    OPEN = "open"
    SLA = "sla"  # lowest share closed within SLA first
    SATISFACTION = "satisfaction"
    DISPUTES = "disputes"
    BUILT_YEAR = "built_year"
    HOUSEHOLDS = "households"
    # Active flags, then overdue orders, open disputes, then the lowest collection: the worst ten chart.
    WORST = "worst"


def rate_bp(part: int, whole: int) -> int | None:
    """part / whole in basis points, rounded half up; None when nothing was counted (not 0%: there is no rate)."""
    if whole <= 0:
        return None
    return (part * 2 * 10_000 + whole) // (2 * whole)


def month_start(day: date) -> date:
    return day.replace(day=1)


def months_back(month: date, count: int = CHART_MONTHS) -> list[date]:
    """The `count` months ending with `month`'s, oldest first."""
    index = month.year * 12 + month.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def year_start(day: date) -> date:
    return date(day.year, 1, 1)



AREA_LEVEL_LABELS = {"city": "市", "district": "县区", "street": "街道", "community": "社区"}
PARTY_ORG_LABELS = {"single": "单建", "joint": "联建", "grid": "网格覆盖", "none": "未覆盖"}
GOVERNANCE_BODY_LABELS = {
    "owners_committee": "业主大会＋业委会", "property_committee": "物管委", "self_committee": "自管委", "none": "未成立",
}
SORT_LABELS = {
    Sort.NAME: "名称", Sort.COLLECTION: "收缴率（最新账期）", Sort.COLLECTION_YEAR: "收缴率（本年）",
    Sort.OVERDUE: "超时工单", Sort.OPEN: "在办工单", Sort.SLA: "按时办结率", Sort.SATISFACTION: "满意率",
    Sort.DISPUTES: "矛盾纠纷", Sort.BUILT_YEAR: "建成年份", Sort.HOUSEHOLDS: "户数", Sort.WORST: "问题突出",
}

