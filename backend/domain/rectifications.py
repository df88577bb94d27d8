"""Rectification (整改台账, 限期销号): who answers an inspection's finding, how urgent it is, and where it stands."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from backend.domain.compounds import AreaLevel
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Role


class ResponsibleParty(enum.StrEnum):
    COMPANY = "company"
    COMMITTEE = "committee"
    COMMUNITY = "community"


RESPONSIBLE_PARTY_LABELS = {
    ResponsibleParty.COMPANY: "物业服务企业",
    ResponsibleParty.COMMITTEE: "业委会/物管委",
    ResponsibleParty.COMMUNITY: "社区",
}


class RectificationUrgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


URGENCY_LABELS = {RectificationUrgency.NORMAL: "一般", RectificationUrgency.URGENT: "紧急"}


class RectificationStatus(enum.StrEnum):
    # Waiting for the responsible party (new, or returned by the inspector).
    OPEN = "open"
    # Answered with photos, waiting for the inspector to accept or return it.
    ANSWERED = "answered"
    # 销号: accepted by the inspector; final.
    ACCEPTED = "accepted"


RECTIFICATION_STATUS_LABELS = {
    RectificationStatus.OPEN: "待整改",
    RectificationStatus.ANSWERED: "待验收",
    RectificationStatus.ACCEPTED: "已销号",
}

# Not yet 销号: counts in the flags and the reports, and is overdue once its deadline (a Beijing date) has passed.
UNFINISHED_RECTIFICATION_STATUSES = frozenset({RectificationStatus.OPEN, RectificationStatus.ANSWERED})


# ---- the checklist ---------------------------------------------------------------------------------------------

# What an inspection looks at, unless the area (or the nearest area above it with a checklist of its own) says else.
DEFAULT_CHECKLIST = ("物业服务", "安全生产/消防", "环境卫生", "飞线充电", "设施设备", "投诉处理")
CHECKLIST_ITEM_LIMIT = 20
CHECKLIST_MAX_ITEMS = 30
FINDING_LIMIT = 500
NOTE_LIMIT = 500
MAX_FINDINGS = 20
MAX_PHOTOS = 6
# A deadline is a promise about this year's work: more than a year ahead is a typing mistake.
MAX_DEADLINE_DAYS = 366


class RectificationRefused(Refused):
    default_kind = Kind.INVALID


def normalised_checklist(items: Sequence[str]) -> tuple[str, ...]:
    """The items as kept: trimmed, blanks dropped, each once in the order given; at least one, within the limits."""
    kept = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not kept:
        message = "检查清单至少要有一项"
    elif len(kept) > CHECKLIST_MAX_ITEMS:
        message = f"检查清单最多{CHECKLIST_MAX_ITEMS}项"
    elif any(len(item) > CHECKLIST_ITEM_LIMIT for item in kept):
        message = f"每项不能超过{CHECKLIST_ITEM_LIMIT}个字"
    else:
        return kept
    raise RectificationRefused(message, errors={"items": [message]})


def nearest_checklist(area_ids_nearest_first: Sequence[int],
                      checklists: Mapping[int, Sequence[str]]) -> tuple[str, ...]:
    """The checklist of the nearest area (the compound's own first, then up the tree) that has one, else the default."""
    for area_id in area_ids_nearest_first:
        if area_id in checklists:
            return tuple(checklists[area_id])
    return DEFAULT_CHECKLIST


def check_inspection(inspected_on: date, today: date, checked: Sequence[str], checklist: Sequence[str],
                     finding_items: Sequence[str], deadlines: Sequence[date]) -> None:
    """A supervision inspection as recorded: dated today at the latest (Beijing), its items from the compound's
    checklist, each finding under an item that was checked, each deadline from today to a year ahead."""
    errors: dict[str, list[str]] = {}
    if inspected_on > today:
        errors["inspected_on"] = ["检查日期不能晚于今天"]
    unknown = [name for name in checked if name not in checklist]
    if unknown:
        errors["items"] = [f"“{unknown[0]}”不在本小区的检查清单中"]
    for index, (item, deadline) in enumerate(zip(finding_items, deadlines, strict=True)):
        if item not in checked:
            errors[f"findings.{index}.item"] = ["请选择本次检查过的项目"]
        if deadline < today:
            errors[f"findings.{index}.deadline"] = ["整改期限不能早于今天"]
        elif deadline > today + timedelta(days=MAX_DEADLINE_DAYS):
            errors[f"findings.{index}.deadline"] = ["整改期限不能晚于一年以后"]
    if errors:
        raise RectificationRefused(next(iter(errors.values()))[0], errors=errors)


def check_photo_count(count: int) -> None:
    if count > MAX_PHOTOS:
        message = f"最多上传{MAX_PHOTOS}张照片"
        raise RectificationRefused(message, errors={"photos": [message]})


# ---- who inspects and who answers ----------------------------------------------------------------------------

# A supervision inspection (监督检查) is the street's or the housing department's (district, city); a community
# answers for its compounds rather than inspecting them.
INSPECTING_LEVELS = frozenset({AreaLevel.STREET, AreaLevel.DISTRICT, AreaLevel.CITY})
INSPECTORS_ONLY = "只有街道或住建部门的工作人员可以记录监督检查"
# The community may itself be the responsible party: what an inspection checks is set by those who inspect.
CHECKLIST_BY_INSPECTORS_ONLY = "只有街道或住建部门的工作人员可以修改检查清单"


def may_inspect(official_levels_over: Iterable[AreaLevel], admin: bool = False) -> bool:
    """`official_levels_over`: the levels of the areas above the compound where the person is an official."""
    return admin or bool(INSPECTING_LEVELS & set(official_levels_over))


_PARTY_ROLES = {
    ResponsibleParty.COMPANY: frozenset({Role.MANAGER, Role.STAFF}),
    ResponsibleParty.COMMITTEE: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY}),
}


def party_roles(party: ResponsibleParty) -> frozenset[Role]:
    """The compound roles that answer for the party (the community answers through its officials)."""
    return _PARTY_ROLES.get(party, frozenset())


def answers_for(party: ResponsibleParty, compound_roles: frozenset[Role], community_official: bool) -> bool:
    """Whether someone answers for `party`: the company = the compound's manager or staff; the committee = its
    committee or party secretary; the community = an official of the community the compound belongs to.
    `compound_roles` are the person's roles held in the compound itself (not an official's over an area)."""
    if party is ResponsibleParty.COMMUNITY:
        return community_official
    return bool(party_roles(party) & compound_roles)


# ---- the states ------------------------------------------------------------------------------------------------


class RectificationAction(enum.StrEnum):
    """What the rectification screens offer; the API names them in `actions`, the pages in `data-action`."""

    ANSWER = "answer"
    ACCEPT = "accept"
    RETURN = "return"
    ADD_PHOTOS = "add_photos"


_NEXT = {
    RectificationAction.ANSWER: RectificationStatus.ANSWERED,
    RectificationAction.ACCEPT: RectificationStatus.ACCEPTED,
    RectificationAction.RETURN: RectificationStatus.OPEN,
}


def allowed_actions(status: RectificationStatus, *, party: bool, inspector: bool) -> frozenset[RectificationAction]:
    """The party answers an open item (new, or returned); the inspector who recorded it accepts (销号) or returns
    an answered one, and adds photos of the finding while it is still open. Nobody else acts; 销号 is final."""
    allowed: set[RectificationAction] = set()
    if status is RectificationStatus.OPEN:
        if party:
            allowed.add(RectificationAction.ANSWER)
        if inspector:
            allowed.add(RectificationAction.ADD_PHOTOS)
    elif status is RectificationStatus.ANSWERED and inspector:
        allowed |= {RectificationAction.ACCEPT, RectificationAction.RETURN}
    return frozenset(allowed)


_WHO = {
    RectificationAction.ANSWER: "只有责任方可以回复整改情况",
    RectificationAction.ACCEPT: "只有记录这次检查的工作人员可以验收销号",
    RectificationAction.RETURN: "只有记录这次检查的工作人员可以退回整改",
    RectificationAction.ADD_PHOTOS: "只有记录这次检查的工作人员可以补充问题照片",
}
_WHEN = {
    RectificationAction.ANSWER: "这项整改现在不需要回复",
    RectificationAction.ACCEPT: "这项整改还没有回复，或已销号",
    RectificationAction.RETURN: "这项整改还没有回复，或已销号",
    RectificationAction.ADD_PHOTOS: "这项整改已回复，不能再补充问题照片",
}


def next_status(status: RectificationStatus, action: RectificationAction, *, party: bool,
                inspector: bool) -> RectificationStatus:
    """The status after `action`; refused FORBIDDEN when this person may never take it here, CONFLICT when the
    item's status does not allow it now."""
    if action in allowed_actions(status, party=party, inspector=inspector):
        return _NEXT.get(action, status)
    may_ever = any(action in allowed_actions(each, party=party, inspector=inspector) for each in RectificationStatus)
    if not may_ever:
        raise RectificationRefused(_WHO[action], Kind.FORBIDDEN)
    raise RectificationRefused(_WHEN[action], Kind.CONFLICT)


def is_overdue(status: RectificationStatus, deadline: date, today: date) -> bool:
    return status in UNFINISHED_RECTIFICATION_STATUSES and deadline < today


# ---- escalation ------------------------------------------------------------------------------------------------


class EscalationStep(enum.IntEnum):
    """督办 of an overdue open item, each step once: the party, then the street, then the district."""

    PARTY = 1
    STREET = 2
    DISTRICT = 3


ESCALATION_LABELS = {
    EscalationStep.PARTY: "已提醒责任方",
    EscalationStep.STREET: "已报街道督办",
    EscalationStep.DISTRICT: "已报区县住建督办",
}
# The street hears this long after the party was told, the district as long again.
ESCALATION_INTERVAL = timedelta(days=3)
_STEP_LEVEL = {EscalationStep.STREET: AreaLevel.STREET, EscalationStep.DISTRICT: AreaLevel.DISTRICT}


def step_level(step: EscalationStep) -> AreaLevel | None:
    """The level of the officials a step tells; None for the party's own step."""
    return _STEP_LEVEL.get(step)


def next_step(status: RectificationStatus, deadline: date, today: date, last: EscalationStep | None = None,
              last_on: date | None = None) -> EscalationStep | None:
    """The one step due by today for an item waiting on its party, after `last` (taken on `last_on`, a Beijing
    date): the party's the first day past the deadline, the street's ESCALATION_INTERVAL later, the district's as
    long again, and never sooner than ESCALATION_INTERVAL after the step before, so an item returned (or swept) long
    after its deadline still climbs one step at a time. An answered item waits on the inspector and an accepted one
    is done: no step."""
    if status is not RectificationStatus.OPEN or deadline >= today or last is max(EscalationStep):
        return None
    step = EscalationStep(int(last or 0) + 1)
    due = deadline + timedelta(days=1) + ESCALATION_INTERVAL * (int(step) - 1)
    if last_on is not None:
        due = max(due, last_on + ESCALATION_INTERVAL)
    return step if today >= due else None


def escalation_dedupe_key(rectification_id: int, step: EscalationStep) -> str:
    return f"rectification-{rectification_id}-escalation-{int(step)}"
