"""Work order (报事报修) rules: the state machine of DESIGN §3, SLA deadlines, escalation steps, rating."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.domain.refusals import Kind, Refused


class Status(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS})

STATUS_LABELS = {
    Status.SUBMITTED: "待受理",
    Status.ACCEPTED: "已受理",
    Status.IN_PROGRESS: "处理中",
    Status.CLOSED: "已办结",
    Status.REJECTED: "已驳回",
    Status.WITHDRAWN: "已撤回",
}


class Action(enum.StrEnum):
    ACCEPT = "accept"
    START = "start"
    CLOSE = "close"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    ASSIGN = "assign"
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    # A duplicate is closed as rejected ("与工单#12重复") and its submitter follows the survivor.
    MERGE = "merge"


ACTION_LABELS = {
    Action.ACCEPT: "受理",
    Action.START: "开始处理",
    Action.CLOSE: "办结",
    Action.REJECT: "驳回",
    Action.WITHDRAW: "撤回",
    Action.ASSIGN: "派单",
    Action.CONFIRM: "确认已解决",
    Action.DISPUTE: "反馈未解决",
    Action.MERGE: "合并重复",
}


class Actor(enum.StrEnum):
    """How the person stands to this order; one person can stand several ways."""

    SUBMITTER = "submitter"
    # Staff to whom the order is assigned, or any staff of the compound while it is unassigned.
    HANDLER = "handler"
    MANAGER = "manager"
    OTHER = "other"


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    # Water, gas, electricity cut, someone trapped in a lift.
    URGENT = "urgent"


URGENCY_LABELS = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急"}


class TransitionRefused(Refused):
    """CONFLICT when the order's state forbids the step, FORBIDDEN when this person may not take it."""


@dataclass(frozen=True)
class Rule:
    sources: frozenset[Status]
    target: Status | None  # None: the status does not change (assign)
    actors: frozenset[Actor]


_HANDLERS = frozenset({Actor.HANDLER, Actor.MANAGER})

RULES: dict[Action, Rule] = {
    Action.ACCEPT: Rule(frozenset({Status.SUBMITTED}), Status.ACCEPTED, _HANDLERS),
    Action.REJECT: Rule(frozenset({Status.SUBMITTED}), Status.REJECTED, _HANDLERS),
    Action.MERGE: Rule(frozenset({Status.SUBMITTED}), Status.REJECTED, _HANDLERS),
    Action.WITHDRAW: Rule(frozenset({Status.SUBMITTED}), Status.WITHDRAWN, frozenset({Actor.SUBMITTER})),
    Action.START: Rule(frozenset({Status.ACCEPTED}), Status.IN_PROGRESS, _HANDLERS),
    Action.CLOSE: Rule(frozenset({Status.IN_PROGRESS}), Status.CLOSED, _HANDLERS),
    Action.ASSIGN: Rule(OPEN_STATUSES, None, frozenset({Actor.MANAGER})),
    Action.CONFIRM: Rule(frozenset({Status.CLOSED}), Status.CLOSED, frozenset({Actor.SUBMITTER})),
    # 未解决 reopens the order; it counts against the SLA figures.
    Action.DISPUTE: Rule(frozenset({Status.CLOSED}), Status.IN_PROGRESS, frozenset({Actor.SUBMITTER})),
}

# After staff close an order the resident has this long to answer 已解决 or 未解决.
CONFIRM_WINDOW = timedelta(days=7)
# Actions that need a note the resident reads.
NOTE_REQUIRED = frozenset({Action.REJECT, Action.CLOSE, Action.DISPUTE})


def next_status(
    status: Status, action: Action, actors: frozenset[Actor] | set[Actor], *, awaiting_confirmation: bool = False
) -> Status:
    """The status after `action`, or TransitionRefused. `awaiting_confirmation`: the order is closed, its
    submitter has not answered yet and the 7 days are not over; only then may they confirm or dispute."""
    rule = RULES[action]
    if status not in rule.sources:
        raise TransitionRefused(f"工单{STATUS_LABELS[status]}，不能{ACTION_LABELS[action]}", Kind.CONFLICT)
    if action in (Action.CONFIRM, Action.DISPUTE) and not awaiting_confirmation:
        raise TransitionRefused("已过确认期限或已确认，不能再次反馈", Kind.CONFLICT)
    if not rule.actors & set(actors):
        raise TransitionRefused(f"您无权{ACTION_LABELS[action]}此工单", Kind.FORBIDDEN)
    return rule.target or status


def allowed_actions(
    status: Status, actors: frozenset[Actor] | set[Actor], *, awaiting_confirmation: bool = False
) -> list[Action]:
    """Every action next_status would take now, in Action order: the steps a page offers as buttons."""
    allowed = []
    for action in Action:
        try:
            next_status(status, action, actors, awaiting_confirmation=awaiting_confirmation)
        except TransitionRefused:
            continue
        allowed.append(action)
    return allowed


def awaiting_confirmation(status: Status, closed_at: datetime | None, confirmed: bool, now: datetime) -> bool:
    return status == Status.CLOSED and not confirmed and closed_at is not None and now < closed_at + CONFIRM_WINDOW


# ---- SLA ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sla:
    accept: timedelta
    close: timedelta


DEFAULT_SLA = {
    Urgency.URGENT: Sla(accept=timedelta(minutes=30), close=timedelta(hours=24)),
    Urgency.NORMAL: Sla(accept=timedelta(hours=4), close=timedelta(hours=72)),
}

DEFAULT_CATEGORIES = ("水电维修", "公共设施", "环境卫生", "绿化", "安全秩序", "电梯", "停车", "噪音扰民", "其他")


class Phase(enum.StrEnum):
    """Which deadline an open order is running against."""

    ACCEPT = "accept"
    CLOSE = "close"


def phase_of(status: Status) -> Phase | None:
    if status == Status.SUBMITTED:
        return Phase.ACCEPT
    if status in (Status.ACCEPTED, Status.IN_PROGRESS):
        return Phase.CLOSE
    return None


def sla_due(submitted_at: datetime, sla: Sla, phase: Phase) -> datetime:
    """Both deadlines run from submission: accept within `accept`, close within `close`."""
    return submitted_at + (sla.accept if phase is Phase.ACCEPT else sla.close)


def is_overdue(status: Status, due_at: datetime | None, now: datetime) -> bool:
    return status in OPEN_STATUSES and due_at is not None and now > due_at


class EscalationLevel(enum.IntEnum):
    """Measure 10 (压实责任): an order that stalls climbs, one step at a time, each step once."""

    MANAGER = 1
    COMMITTEE = 2  # the committee and the party secretary
    COMMUNITY = 3  # the community's officials


ESCALATION_LABELS = {
    EscalationLevel.MANAGER: "已提醒物业经理",
    EscalationLevel.COMMITTEE: "已上报业委会和党组织",
    EscalationLevel.COMMUNITY: "已上报社区",
}


# Four urges bring every step a whole window forward, no more: the committee is never told before the deadline.
MAX_URGES_COUNTED = 4


def escalation_at(due_at: datetime, window: timedelta, level: EscalationLevel, urges: int) -> datetime:
    """When `level` is due: the manager at the deadline, the committee one SLA window later, the community
    two windows later. Each urge (催办) brings every step a quarter window forward, up to a whole window."""
    return due_at + window * (level - 1) - window * min(urges, MAX_URGES_COUNTED) / 4


def next_escalation(
    due_at: datetime, window: timedelta, levels_done: int, urges: int
) -> tuple[EscalationLevel, datetime] | None:
    """The next step still to take in this phase, and when; None when all three are done."""
    if levels_done >= EscalationLevel.COMMUNITY:
        return None
    level = EscalationLevel(levels_done + 1)
    return level, escalation_at(due_at, window, level, urges)


# A resident may urge an open order once in this long.
URGE_INTERVAL = timedelta(hours=4)


def may_urge(status: Status, last_urged_at: datetime | None, now: datetime) -> bool:
    return status in OPEN_STATUSES and (last_urged_at is None or now - last_urged_at >= URGE_INTERVAL)


# ---- rating -------------------------------------------------------------------------------------

RATING_TAGS = ("及时", "态度好", "专业", "干净整洁", "没修好", "拖延", "态度差")
# The same report from the same person again within this long is a double tap or a retried request on a bad
# connection: it files once.
RESUBMIT_WINDOW = timedelta(minutes=2)
# Open orders of the same category at the same place within this long are offered to join instead.
DUPLICATE_WINDOW = timedelta(days=14)
# The submitter is reminded once to rate an order closed this long ago and not yet answered.
RATE_REMINDER_AFTER = timedelta(days=3)
