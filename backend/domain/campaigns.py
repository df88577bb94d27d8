"""Environment campaigns (卫生评比, 垃圾分类, 整治): the checklist and its points, a building's score in a round, the
ranking per round with ties, and the red-flag buildings (红旗楼栋). Plain rules of plain values."""
from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backend.domain.refusals import Kind, Refused


class CampaignKind(enum.StrEnum):
    HYGIENE = "hygiene"
    SORTING = "sorting"
    CLEAN_UP = "clean_up"


CAMPAIGN_KIND_LABELS = {CampaignKind.HYGIENE: "卫生评比", CampaignKind.SORTING: "垃圾分类",
                        CampaignKind.CLEAN_UP: "环境整治"}


class CampaignStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


CAMPAIGN_STATUS_LABELS = {CampaignStatus.ACTIVE: "进行中", CampaignStatus.CLOSED: "已结束"}

TITLE_LIMIT = 60
ITEM_LIMIT = 20
NOTE_LIMIT = 300
MAX_ITEMS = 12
MAX_ITEM_POINTS = 100
MAX_RED_FLAGS = 50
DEFAULT_RED_FLAGS = 3
MAX_PHOTOS = 6
MAX_FINDINGS = 12


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    max_points: int


# The measures' own list of what a walk through a compound looks for (楼道堆物 … 小广告), 20 points each.
DEFAULT_CHECKLIST = tuple(ChecklistItem(name, 20) for name in ("楼道堆物", "垃圾分类准确", "车辆乱停", "飞线充电", "小广告"))


class CampaignRefused(Refused):
    default_kind = Kind.INVALID


def _refused(field: str, message: str) -> CampaignRefused:
    return CampaignRefused(message, Kind.INVALID, errors={field: [message]})


def normalised_checklist(items: Sequence[ChecklistItem]) -> tuple[ChecklistItem, ...]:
    """The items as kept: names trimmed, each name once, 1–MAX_ITEMS items of 1–MAX_ITEM_POINTS points; none given is
    the default list."""
    if not items:
        return DEFAULT_CHECKLIST
    kept: dict[str, ChecklistItem] = {}
    for item in items:
        name = item.name.strip()
        if not name or len(name) > ITEM_LIMIT:
            raise _refused("checklist", f"检查项名称须为1–{ITEM_LIMIT}个字")
        if not 1 <= item.max_points <= MAX_ITEM_POINTS:
            raise _refused("checklist", f"每项满分须为1–{MAX_ITEM_POINTS}分")
        if name in kept:
            raise _refused("checklist", f"检查项“{name}”重复")
        kept[name] = ChecklistItem(name, item.max_points)
    if len(kept) > MAX_ITEMS:
        raise _refused("checklist", f"检查项最多{MAX_ITEMS}项")
    return tuple(kept.values())


def max_total(checklist: Sequence[ChecklistItem]) -> int:
    return sum(item.max_points for item in checklist)


def score_total(checklist: Sequence[ChecklistItem], points: Mapping[str, int]) -> int:
    """The building's total: every item of the checklist scored once, each from 0 to its maximum."""
    names = {item.name for item in checklist}
    unknown = sorted(set(points) - names)
    if unknown:
        raise _refused("points", f"“{unknown[0]}”不在本次评比的检查项中")
    for item in checklist:
        if item.name not in points:
            raise _refused("points", f"请为“{item.name}”打分")
        if not 0 <= points[item.name] <= item.max_points:
            raise _refused("points", f"“{item.name}”的得分须在0–{item.max_points}分之间")
    return sum(points[item.name] for item in checklist)


def check_findings(checklist: Sequence[ChecklistItem], items: Sequence[str]) -> None:
    """Each finding falls under an item of the checklist, one finding per item."""
    names = {item.name for item in checklist}
    for index, name in enumerate(items):
        if name not in names:
            raise _refused(f"findings.{index}.item", f"“{name}”不在本次评比的检查项中")
    if len(set(items)) != len(items):
        raise _refused("findings", "同一检查项只记录一条问题")
    if len(items) > MAX_FINDINGS:
        raise _refused("findings", f"最多记录{MAX_FINDINGS}条问题")


def check_photo_count(count: int) -> None:
    if count > MAX_PHOTOS:
        raise _refused("photos", f"最多上传{MAX_PHOTOS}张照片")


def ranks(totals: Mapping[int, int]) -> dict[int, int]:
    """Standard competition ranking (1, 1, 3): a building's rank is one more than the number of buildings scored
    strictly higher, so equal totals share a rank and the next rank is skipped."""
    ordered = sorted(totals.values(), reverse=True)
    first_at: dict[int, int] = {}
    for position, total in enumerate(ordered, start=1):
        first_at.setdefault(total, position)
    return {key: first_at[total] for key, total in totals.items()}


def red_flags(building_ranks: Mapping[int, int], count: int) -> frozenset[int]:
    """红旗楼栋: the first `count` places, ties included (two buildings sharing 3rd both fly the flag when count=3)."""
    return frozenset(key for key, rank in building_ranks.items() if rank <= count)


class CampaignAction(enum.StrEnum):
    APPOINT = "appoint"
    ADD_ROUND = "add_round"
    SCORE = "score"
    CLOSE = "close"
    TO_WORK_ORDER = "to_work_order"
    TO_RECTIFICATION = "to_rectification"


def allowed_actions(status: CampaignStatus, *, runs: bool, evaluator: bool) -> frozenset[CampaignAction]:
    """The officials over the campaign's area run it; they and its appointed evaluators record rounds and score. A closed campaign keeps its
    rounds and findings: findings may still be turned into work (someone has to fix them)."""
    allowed: set[CampaignAction] = set()
    scorer = runs or evaluator
    if status is CampaignStatus.ACTIVE:
        if runs:
            allowed |= {CampaignAction.APPOINT, CampaignAction.CLOSE}
        if scorer:
            allowed |= {CampaignAction.ADD_ROUND, CampaignAction.SCORE}
    if scorer:
        allowed.add(CampaignAction.TO_WORK_ORDER)
    if runs:
        allowed.add(CampaignAction.TO_RECTIFICATION)
    return frozenset(allowed)
