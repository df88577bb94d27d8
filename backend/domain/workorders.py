"""Work order (报事报修) rules: the state machine of DESIGN §3, SLA deadlines, escalation steps, urging, following,
rating, and the words every screen uses for them."""
from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action as Permission
from backend.domain.roles import Role, allows


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


class HalfDay(enum.StrEnum):
    """The half of the day a resident wants staff to come (预约上门时间)."""

    MORNING = "am"
    AFTERNOON = "pm"


HALF_DAY_LABELS = {HalfDay.MORNING: "上午", HalfDay.AFTERNOON: "下午"}
# A visit is booked from today up to this many days ahead (Asia/Shanghai).
VISIT_DAYS_AHEAD = 30


def check_visit(visit_date: date | None, half_day: HalfDay | None, today: date, *, at_home: bool) -> None:
    """预约上门时间: only for a repair at the resident's home, a day from today to 30 days on, with its half-day."""
    if visit_date is None and half_day is None:
        return
    if not at_home:
        raise WorkOrderRefused("只有房屋内的报修可以预约上门时间", Kind.INVALID)
    if visit_date is None or half_day is None:
        raise WorkOrderRefused("请同时选择预约日期和上午/下午", Kind.INVALID)
    if not today <= visit_date <= today + timedelta(days=VISIT_DAYS_AHEAD):
        raise WorkOrderRefused(f"预约日期请选今天起{VISIT_DAYS_AHEAD}天内", Kind.INVALID)


def visit_label(visit_date: date | None, half_day: HalfDay | str | None) -> str:
    """"12月8日 上午", or empty when no visit was booked."""
    if visit_date is None or half_day is None:
        return ""
    return f"{visit_date.month}月{visit_date.day}日 {HALF_DAY_LABELS[HalfDay(half_day)]}"


class WorkOrderRefused(Refused):
    """A request the order's rules refuse; the kind says why (its state, this person, the input, too soon)."""


class TransitionRefused(WorkOrderRefused):
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
# A rejection's reason is kept with the order, for the resident to read whole.
REJECT_REASON_LIMIT = 200


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


def next_urge_at(last_urged_at: datetime | None, now: datetime) -> datetime | None:
    """When the order may be urged again; None when it may be now."""
    if last_urged_at is None or now - last_urged_at >= URGE_INTERVAL:
        return None
    return last_urged_at + URGE_INTERVAL


# ---- what else a person may do with an order, besides its steps -----------------------------------------
# Each check raises the refusal the service answers with; `permitted` asks the same check whether a screen
# offers the action, so the button and the answer to pressing it never disagree.

PHOTO_TAKERS = frozenset({Actor.SUBMITTER, Actor.HANDLER, Actor.MANAGER})


def check_reporter(roles: frozenset[Role] | set[Role]) -> None:
    """A verified household's people report problems; anyone else of the compound learns how to become one."""
    if not allows(roles, Permission.SUBMIT_WORK_ORDER):
        raise WorkOrderRefused("绑定并认证房屋后才能报修", Kind.FORBIDDEN)


def check_urge(status: Status, last_urged_at: datetime | None, now: datetime, *, concerned: bool) -> None:
    """催办: the order's submitter or a follower (`concerned`), while it is open, once per URGE_INTERVAL."""
    if not concerned:
        raise WorkOrderRefused("只有报修人和关注者可以催办", Kind.FORBIDDEN)
    if status not in OPEN_STATUSES:
        raise WorkOrderRefused("工单已结束，无需催办", Kind.CONFLICT)
    again_at = next_urge_at(last_urged_at, now)
    if again_at is not None:
        raise WorkOrderRefused("4小时内已催办过，请耐心等待", Kind.TOO_MANY,
                               retry_after=max(1, math.ceil((again_at - now).total_seconds())))


def check_follow(status: Status, roles: frozenset[Role] | set[Role], *, own_place: bool) -> None:
    """Join an order about the same problem instead of filing another: a reporter, a common area's order or
    one of their own household's (`own_place`; another household's stays hidden), while it is open."""
    if not allows(roles, Permission.SUBMIT_WORK_ORDER):
        raise WorkOrderRefused("绑定并认证房屋后才能关注工单", Kind.FORBIDDEN)
    if not own_place:
        raise WorkOrderRefused("工单不存在", Kind.NOT_FOUND)
    if status not in OPEN_STATUSES:
        raise WorkOrderRefused("该工单已结束，请重新报修", Kind.CONFLICT)


def check_rating(status: Status, *, submitter: bool, confirmed: bool, rated: bool) -> None:
    """Once, by the submitter, after they confirmed 已解决."""
    if not submitter:
        raise WorkOrderRefused("只有报修人可以评价", Kind.FORBIDDEN)
    if status is not Status.CLOSED or not confirmed:
        raise WorkOrderRefused("确认已解决后才能评价", Kind.CONFLICT)
    if rated:
        raise WorkOrderRefused("该工单已评价过", Kind.CONFLICT)


def check_reply(roles: frozenset[Role] | set[Role], *, rated: bool) -> None:
    """The manager's public answer to a rating."""
    if not allows(roles, Permission.REPLY_TO_RATINGS):
        raise WorkOrderRefused("只有物业经理可以回复评价", Kind.FORBIDDEN)
    if not rated:
        raise WorkOrderRefused("该工单还没有评价", Kind.NOT_FOUND)


def check_photo(status: Status, actors: frozenset[Actor] | set[Actor]) -> None:
    """Photos come from the submitter and the handlers, while the order is open or closed (after-photos)."""
    if not PHOTO_TAKERS & set(actors):
        raise WorkOrderRefused("只有报修人和处理人员可以上传照片", Kind.FORBIDDEN)
    if status not in OPEN_STATUSES and status is not Status.CLOSED:
        raise WorkOrderRefused(f"工单{STATUS_LABELS[status]}，不能再上传照片", Kind.CONFLICT)


def check_reveal_phone(actors: frozenset[Actor] | set[Actor], *, assigned_to_me: bool) -> None:
    """个人信息保护法: the reporter's whole phone only to who handles the order, the staff it is assigned to and
    the compound's manager; everyone else sees the mask."""
    if Actor.MANAGER not in actors and not (Actor.HANDLER in actors and assigned_to_me):
        raise WorkOrderRefused("只有受理此工单的工作人员和物业经理可以查看报修人电话", Kind.FORBIDDEN)


def permitted(check: Callable[..., None], *args, **kwargs) -> bool:
    """Whether `check` lets this through: what a screen offers is what the service would do."""
    try:
        check(*args, **kwargs)
    except WorkOrderRefused:
        return False
    return True


# ---- rating -------------------------------------------------------------------------------------

RATING_TAGS = ("及时", "态度好", "专业", "干净整洁", "没修好", "拖延", "态度差")
# The same report from the same person again within this long is a double tap or a retried request on a bad
# connection: it files once.
RESUBMIT_WINDOW = timedelta(minutes=2)
# Open orders of the same category at the same place within this long are offered to join instead.
DUPLICATE_WINDOW = timedelta(days=14)
# The submitter is reminded once to rate an order closed this long ago and not yet answered.
RATE_REMINDER_AFTER = timedelta(days=3)


# ---- the words of the timeline -----------------------------------------------------------------------

# Every event an order's timeline shows: its steps, and what happens around them.
EVENT_LABELS = {
    **{action.value: label for action, label in ACTION_LABELS.items()},
    "submit": "提交报修",
    "follow": "关注工单",
    "urge": "催办",
    "rate": "评价",
    "escalate": "超时升级",
}
# What residents do. 个人信息保护法: to other residents the person doing it has no name, only a title.
RESIDENT_EVENTS = frozenset({"submit", "withdraw", "confirm", "dispute", "follow", "urge", "rate"})
SYSTEM_TITLE = "系统"
SUBMITTER_TITLE = "报修人"
RESIDENT_TITLE = "居民"
# The title of someone acting for the compound, by their roles there, first match wins.
ROLE_TITLES = (
    (Role.MANAGER, "物业经理"),
    (Role.STAFF, "物业人员"),
    (Role.PARTY_SECRETARY, "党组织书记"),
    (Role.COMMITTEE, "业委会"),
    (Role.OFFICIAL, "社区工作人员"),
    (Role.ADMIN, "平台管理员"),
)
WORKER_TITLE = "工作人员"
# How the timeline names the person reading it.
ME = "我"
OVERDUE_LABELS = {Phase.ACCEPT: "受理超时", Phase.CLOSE: "办结超时"}


def format_duration(seconds: float | None) -> str:
    """Every time span a page shows (SLA, medians), one way: minutes under an hour, else hours and minutes
    ("45分钟", "2小时", "2小时30分")."""
    if seconds is None:
        return "—"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes}分钟" if minutes else "不到1分钟"
    return f"{hours}小时{minutes}分" if minutes else f"{hours}小时"


def brief(description: str, limit: int = 30) -> str:
    """The problem in a notice's sentence: its first line, cut to `limit` characters."""
    line = description.strip().splitlines()[0] if description.strip() else ""
    return line if len(line) <= limit else f"{line[:limit]}…"


def title_of(roles: frozenset[Role] | set[Role]) -> str:
    return next((title for role, title in ROLE_TITLES if role in roles), WORKER_TITLE)


def place_label(building: str | None, unit: str | None, room: str | None, spot: str) -> str:
    """Where, as residents say it: "1栋 1单元 101室 · 厨房", "2栋 公共区域 · 北门车棚", "公共区域 · 东门"."""
    where = f"{unit}单元 {room}室" if room is not None else "公共区域"
    text = f"{building} {where}" if building else where
    return f"{text} · {spot}" if spot else text


# ---- the words of notices: sentences a person reads in the inbox, not a dump of the order's fields -------


class Audience(enum.StrEnum):
    """Who reads a step's notice: its reporter, someone who joined the order, or the staff handling it."""

    SUBMITTER = "submitter"
    FOLLOWER = "follower"
    HANDLER = "handler"


def step_notice(action: Action, audience: Audience, *, status: Status, actor: str, problem: str, note: str = "",
                merged_into_id: int | None = None) -> tuple[str, str]:
    """The title and sentence telling `audience` of a step `actor` (a name, or a title like 物业人员) took:
    "刘师傅已受理您的报修：厨房水管漏水", "您的报修已办结：厨房水管漏水，请确认并评价"."""
    if audience is Audience.HANDLER:
        if action is Action.WITHDRAW:
            return "居民已撤回报修", f"居民已撤回报修：{problem}，无需再处理。"
        return "居民反馈未解决", f"居民反馈报修未解决：{problem}，请重新处理。" + (f"居民说：{note}" if note else "")
    whose = "您的报修" if audience is Audience.SUBMITTER else "您关注的报修"
    reason = f"原因：{note}" if note else ""
    sentences = {
        Action.ACCEPT: f"{actor}已受理{whose}：{problem}",
        Action.START: f"{actor}已开始处理{whose}：{problem}",
        Action.CLOSE: f"{whose}已办结：{problem}" + ("，请确认并评价" if audience is Audience.SUBMITTER else "")
        + (f"。处理结果：{note}" if note else ""),
        Action.REJECT: f"{whose}未予受理：{problem}。{reason}",
        Action.MERGE: f"{whose}与工单#{merged_into_id}是同一问题，已合并处理：{problem}",
        Action.ASSIGN: f"{actor}已为{whose}派单：{problem}",
        Action.DISPUTE: f"{whose}已重新处理：{problem}",
        Action.CONFIRM: f"{whose}已确认解决：{problem}",
        Action.WITHDRAW: f"{whose}已被报修人撤回：{problem}",
    }
    return f"报修进度：{STATUS_LABELS[status]}", sentences[action].rstrip("。")
