"""Renovation of old compounds (老旧小区改造): a project's items by class, category and funding, its states, the
responsible party's progress, the residents' 1–5 rating once it is done, and the accountability timeline
(proposal → decision → project → rating)."""
from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backend.domain.refusals import Kind, Refused


class ProjectStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


PROJECT_STATUS_LABELS = {
    ProjectStatus.PLANNED: "计划中",
    ProjectStatus.IN_PROGRESS: "施工中",
    ProjectStatus.COMPLETED: "已完工",
}


class ItemClass(enum.StrEnum):
    """The three classes of the national renovation programme (国办发〔2020〕23号)."""

    BASIC = "basic"
    IMPROVEMENT = "improvement"
    UPGRADE = "upgrade"


ITEM_CLASS_LABELS = {ItemClass.BASIC: "基础类", ItemClass.IMPROVEMENT: "完善类", ItemClass.UPGRADE: "提升类"}

# The usual categories; the form offers them, anything else is 其他.
CATEGORIES = ("电气线路", "供水管网", "排水管网", "燃气管道", "消防安防", "电梯", "停车", "绿化", "公共照明", "道路", "屋面防水",
              "外墙保温", "养老托育", "其他")


class FundingSource(enum.StrEnum):
    CENTRAL = "central"
    LOCAL = "local"
    MAINTENANCE_FUND = "maintenance_fund"
    OWNERS = "owners"
    ENTERPRISE = "enterprise"
    OTHER = "other"


FUNDING_SOURCE_LABELS = {
    FundingSource.CENTRAL: "中央补助",
    FundingSource.LOCAL: "地方财政",
    FundingSource.MAINTENANCE_FUND: "维修资金",
    FundingSource.OWNERS: "业主自筹",
    FundingSource.ENTERPRISE: "企业",
    FundingSource.OTHER: "其他",
}

TITLE_LIMIT = 60
CONTRACTOR_LIMIT = 60
DESCRIPTION_LIMIT = 200
NOTE_LIMIT = 500
COMMENT_LIMIT = 300
MAX_ITEMS = 20
MAX_PHOTOS = 6
# ¥100亿 in fen: a typing mistake beyond it, and well inside BIGINT.
MAX_BUDGET_FEN = 1_000_000_000_000
MAX_STARS = 5


class RenovationRefused(Refused):
    default_kind = Kind.INVALID


class ProjectAction(enum.StrEnum):
    """What the project screens offer; the API names them in `actions`, the pages in `data-action`."""

    PROGRESS = "progress"
    RATE = "rate"


def check_plan(planned_start: date | None, planned_end: date | None, categories: Sequence[str]) -> None:
    errors: dict[str, list[str]] = {}
    if planned_start and planned_end and planned_end < planned_start:
        errors["planned_end"] = ["计划完工日期不能早于开工日期"]
    for index, category in enumerate(categories):
        if category not in CATEGORIES:
            errors[f"items.{index}.category"] = ["请选择改造内容"]
    if errors:
        raise RenovationRefused(next(iter(errors.values()))[0], errors=errors)


def budget_total(budgets_fen: Sequence[int]) -> int:
    return sum(budgets_fen)


def budget_by_source(items: Sequence[tuple[FundingSource, int]]) -> list[tuple[FundingSource, int]]:
    """Each funding source's total, in the order of FundingSource, sources with no item left out."""
    totals = {source: 0 for source in FundingSource}
    seen = set()
    for source, budget in items:
        totals[source] += budget
        seen.add(source)
    return [(source, totals[source]) for source in FundingSource if source in seen]


def allowed_actions(status: ProjectStatus, *, party: bool, household: bool) -> frozenset[ProjectAction]:
    """The responsible party reports progress until the project is completed; a verified household rates it once it
    is (and may change its rating). Nobody else acts."""
    allowed: set[ProjectAction] = set()
    if party and status is not ProjectStatus.COMPLETED:
        allowed.add(ProjectAction.PROGRESS)
    if household and status is ProjectStatus.COMPLETED:
        allowed.add(ProjectAction.RATE)
    return frozenset(allowed)


_WHO = {
    ProjectAction.PROGRESS: "只有项目的责任方可以更新改造进度",
    ProjectAction.RATE: "只有本小区已认证的住户可以评价改造项目",
}
_WHEN = {
    ProjectAction.PROGRESS: "项目已完工，不能再更新进度",
    ProjectAction.RATE: "项目完工后才能评价",
}


def require(action: ProjectAction, status: ProjectStatus, *, party: bool, household: bool) -> None:
    """FORBIDDEN when this person may never take `action` on the project, CONFLICT when its status does not allow
    it now."""
    if action in allowed_actions(status, party=party, household=household):
        return
    if not any(action in allowed_actions(each, party=party, household=household) for each in ProjectStatus):
        raise RenovationRefused(_WHO[action], Kind.FORBIDDEN)
    raise RenovationRefused(_WHEN[action], Kind.CONFLICT)


def status_after_progress(status: ProjectStatus, last_percent: int, percent: int) -> ProjectStatus:
    """A progress report moves the project on: above 0% it is under way, at 100% it is completed. Progress never
    goes back (a report below the last one is refused), and a completed project takes no more."""
    if status is ProjectStatus.COMPLETED:
        raise RenovationRefused(_WHEN[ProjectAction.PROGRESS], Kind.CONFLICT)
    if not 0 <= percent <= 100:
        raise RenovationRefused("进度须为0–100", errors={"percent": ["进度须为0–100"]})
    if percent < last_percent:
        message = f"进度不能低于上次的{last_percent}%"
        raise RenovationRefused(message, errors={"percent": [message]})
    if percent == 100:
        return ProjectStatus.COMPLETED
    if percent > 0:
        return ProjectStatus.IN_PROGRESS
    return status


def check_stars(stars: int) -> None:
    if not 1 <= stars <= MAX_STARS:
        raise RenovationRefused("评分为1至5星", errors={"stars": ["评分为1至5星"]})


def average_centi(stars: Sequence[int]) -> int | None:
    """The mean of the ratings in hundredths of a star, rounded half-up; None without ratings."""
    if not stars:
        return None
    return (200 * sum(stars) + len(stars)) // (2 * len(stars))


# ---- the accountability timeline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    key: str
    label: str
    done: bool
    # A moment (the topic's steps, the project's setting up) or a Beijing date (the works); at most one of them.
    at: datetime | None = None
    on: date | None = None
    note: str = ""


def timeline(*, topic_proposed_at: datetime | None, topic_decided_at: datetime | None, decision_note: str,
             created_at: datetime, started_on: date | None, completed_on: date | None, ratings: int,
             average: int | None) -> list[TimelineStep]:
    """proposal → decision → project → works → completion → rating. A project that came from no owners' vote
    starts at the project itself."""
    steps = []
    if topic_proposed_at is not None:
        steps.append(TimelineStep("proposal", "居民提议", True, at=topic_proposed_at))
        steps.append(TimelineStep("decision", "业主表决", topic_decided_at is not None, at=topic_decided_at,
                                  note=decision_note))
    steps += [
        TimelineStep("project", "立项", True, at=created_at),
        TimelineStep("started", "开工", started_on is not None, on=started_on),
        TimelineStep("completed", "完工", completed_on is not None, on=completed_on),
        TimelineStep("rating", "居民评价", ratings > 0,
                     note=f"{ratings}户评价，平均{average / 100:.2f}星" if ratings and average is not None else ""),
    ]
    return steps
