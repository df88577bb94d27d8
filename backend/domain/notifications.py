"""Notification rules: the kinds and who can receive each, urgency, channels, quiet hours (DESIGN §6), batching."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, time, timedelta

from backend.domain.roles import PERMISSIONS, Action, Role
from backend.shared.clock import SHANGHAI

QUIET_FROM, QUIET_UNTIL = time(22, 0), time(8, 0)
# One fan-out job writes this many inbox rows in one statement. A job costs a fork, a connection and its
# bookkeeping (tens of ms on 2 cores, more when loaded): 100,000 recipients in 10 jobs reached the inbox in
# 4.3-4.9 s against 6.3-6.7 s in 20 (bench.fanout, same machine and hour). A rerun of a whole batch writes
# nothing new (the inbox's unique key), so a large batch stays cheap to retry.
FAN_OUT_BATCH = 10_000
# One delivery job sends this many pushes, one by one, each committed: small enough that a job retried for a
# busy provider goes over few of them, and that pushes start while others are planned.
DELIVERY_BATCH = 500

# The kinds of notification, each with the label the settings page shows. A person can turn a kind's
# pushes off (urgent ones still come); its inbox rows are written either way.
BINDING_DECISION = "binding_decision"
BINDING_REVIEW = "binding_review"
WORK_ORDER_UPDATE = "work_order_update"
WORK_ORDER_ASSIGNED = "work_order_assigned"
WORK_ORDER_ESCALATED = "work_order_escalated"
WORK_ORDER_RATE_REMINDER = "work_order_rate_reminder"
TOPIC_UPDATE = "topic_update"
TOPIC_DESK = "topic_desk"
VOTE_REMINDER = "vote_reminder"
VOTE_RECEIPT = "vote_receipt"
MEETING_REMINDER = "meeting_reminder"
SURVEY_REMINDER = "survey_reminder"
SURVEY_RECEIPT = "survey_receipt"
FEE_BILL = "fee_bill"
FEE_REMINDER = "fee_reminder"
FEE_PAID = "fee_paid"
SUBSIDY_CHANGE = "subsidy_change"
ANNOUNCEMENT = "announcement"
DISPUTE_UPDATE = "dispute_update"
PROBLEM_FLAG = "problem_flag"
RECTIFICATION_NEW = "rectification_new"
RECTIFICATION_ANSWERED = "rectification_answered"
RECTIFICATION_DECIDED = "rectification_decided"
RECTIFICATION_OVERDUE = "rectification_overdue"
GOVERNANCE_TERM_END = "governance_term_end"
REPORT_READY = "report_ready"
SPENDING_DESK = "spending_desk"
SPENDING_DECIDED = "spending_decided"
DISCLOSURE_POSTED = "disclosure_posted"
DISCLOSURE_OVERDUE = "disclosure_overdue"
ACTIVITY_UPDATE = "activity_update"
# Issue 19: a renovation project set up for its party, completed for its creator.
RENOVATION_UPDATE = "renovation_update"
CONTRACT_DECIDED = "contract_decided"
CONTRACT_TERM_END = "contract_term_end"
KINDS = {
    BINDING_DECISION: "房屋认证结果",
    BINDING_REVIEW: "住户认证审核",
    WORK_ORDER_UPDATE: "报修进度",
    WORK_ORDER_ASSIGNED: "新报修与派单",
    WORK_ORDER_ESCALATED: "工单超时升级",
    WORK_ORDER_RATE_REMINDER: "报修评价提醒",
    TOPIC_UPDATE: "议事进展",
    # For the committee: co-signs reached the threshold, an objection arrived.
    TOPIC_DESK: "议题待办",
    VOTE_REMINDER: "表决提醒",
    # One's own vote recorded (or a paper ballot recorded for one's household): what, how and when.
    VOTE_RECEIPT: "表决回执",
    MEETING_REMINDER: "会议通知",
    SURVEY_REMINDER: "满意度测评提醒",
    SURVEY_RECEIPT: "测评提交回执",
    FEE_BILL: "物业费账单",
    FEE_REMINDER: "缴费提醒",
    FEE_PAID: "缴费成功",
    SUBSIDY_CHANGE: "补贴调整",
    ANNOUNCEMENT: "通知公告",
    DISPUTE_UPDATE: "调解进展",
    PROBLEM_FLAG: "问题小区提醒",
    RECTIFICATION_NEW: "整改通知",
    RECTIFICATION_ANSWERED: "整改待验收",
    RECTIFICATION_DECIDED: "整改验收结果",
    RECTIFICATION_OVERDUE: "整改超期督办",
    GOVERNANCE_TERM_END: "换届提醒",
    REPORT_READY: "定期通报",
    SPENDING_DESK: "支出待审批",
    SPENDING_DECIDED: "支出审批结果",
    DISCLOSURE_POSTED: "公示栏更新",
    DISCLOSURE_OVERDUE: "公示逾期提醒",
    # A place from the waiting list, the day-before reminder, an activity called off.
    ACTIVITY_UPDATE: "社区活动",
    RENOVATION_UPDATE: "改造项目",
    CONTRACT_DECIDED: "物业选聘结果",
    CONTRACT_TERM_END: "物业合同到期提醒",
}

_HOUSEHOLD = frozenset({Role.OWNER, Role.RESIDENT})
_RECTIFICATION_PARTIES = frozenset({Role.MANAGER, Role.STAFF, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.OFFICIAL})
# Who receives each kind, by the roles its senders address (services/*: each notify() call's recipients). The
# settings page lists only the kinds a person can receive. Anyone signed in may ask to bind a household, so its
# decision is for everyone, whatever roles they hold yet.
FOR_EVERYONE = frozenset({BINDING_DECISION})
RECIPIENT_ROLES: dict[str, frozenset[Role]] = {
    # Whoever may verify households is asked to (an admin member of a compound too).
    BINDING_REVIEW: PERMISSIONS[Action.REVIEW_BINDINGS],
    # The submitter and followers; the assignee hears of a 未解决 answer or a withdrawal.
    WORK_ORDER_UPDATE: _HOUSEHOLD | {Role.STAFF, Role.MANAGER},
    WORK_ORDER_ASSIGNED: frozenset({Role.STAFF, Role.MANAGER}),
    WORK_ORDER_ESCALATED: frozenset({Role.MANAGER, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.OFFICIAL}),
    WORK_ORDER_RATE_REMINDER: _HOUSEHOLD,
    # Followers: whoever may speak at the table (proposers, co-signers, voters, the desk, the company, the community).
    TOPIC_UPDATE: frozenset(Role) - {Role.VISITOR, Role.EVALUATOR},
    TOPIC_DESK: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY}),
    VOTE_REMINDER: _HOUSEHOLD,
    VOTE_RECEIPT: _HOUSEHOLD,
    # Invitees come from every party of the compound and the officials above it.
    MEETING_REMINDER: frozenset(Role) - {Role.VISITOR, Role.EVALUATOR},
    SURVEY_REMINDER: _HOUSEHOLD | {Role.EVALUATOR},
    SURVEY_RECEIPT: _HOUSEHOLD,
    FEE_BILL: _HOUSEHOLD,
    FEE_REMINDER: _HOUSEHOLD,
    # The payer: only the household's people pay its bills.
    FEE_PAID: _HOUSEHOLD,
    SUBSIDY_CHANGE: _HOUSEHOLD,
    # The compound's verified owners and residents.
    ANNOUNCEMENT: _HOUSEHOLD,
    # The resident parties of a case (its household's verified people): a new step, the outcome.
    DISPUTE_UPDATE: _HOUSEHOLD,
    # The street and district officials above a compound newly flagged as a problem compound.
    PROBLEM_FLAG: frozenset({Role.OFFICIAL}),
    # The responsible party: the company (manager, staff), the committee (and party secretary), the community.
    RECTIFICATION_NEW: _RECTIFICATION_PARTIES,
    # The inspector who recorded the finding.
    RECTIFICATION_ANSWERED: frozenset({Role.OFFICIAL}),
    RECTIFICATION_DECIDED: _RECTIFICATION_PARTIES,
    # The party, then the street's and the district's officials.
    RECTIFICATION_OVERDUE: _RECTIFICATION_PARTIES,
    # The body's term ends in 90 / 30 days: its committee, the party secretary, the community's officials.
    GOVERNANCE_TERM_END: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY, Role.OFFICIAL}),
    # The officials of the report's area.
    REPORT_READY: frozenset({Role.OFFICIAL}),
    # The committee (and party secretary) when a request waits for their approval.
    SPENDING_DESK: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY}),
    # The requester: someone who keeps the books or sits on the committee.
    SPENDING_DECIDED: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY, Role.MANAGER}),
    # The compound's verified owners and residents: a new posting on the notice board (公示栏).
    DISCLOSURE_POSTED: _HOUSEHOLD,
    # The street's officials: a quarter's public-income statement not posted by its due date.
    DISCLOSURE_OVERDUE: frozenset({Role.OFFICIAL}),
    # Whoever signed up: anyone of the compound who may join.
    ACTIVITY_UPDATE: PERMISSIONS[Action.JOIN_ACTIVITIES],
    # The party (company, committee, community) of a new project; its creator (an official or the committee) when done.
    RENOVATION_UPDATE: _RECTIFICATION_PARTIES,
    # The committee and party secretary: a selection vote decided (a draft contract, or a dismissal).
    CONTRACT_DECIDED: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY}),
    # The committee and party secretary: the company's contract ends in 180 / 90 days.
    CONTRACT_TERM_END: frozenset({Role.COMMITTEE, Role.PARTY_SECRETARY}),
}

# Issue 19, 治理骨干: a resident put themselves forward (to the keepers: the party secretary, the community), and the
# keepers' answer (to the resident).
BACKBONE_REVIEW = "backbone_review"
BACKBONE_DECISION = "backbone_decision"
KINDS |= {BACKBONE_REVIEW: "骨干申请待确认", BACKBONE_DECISION: "骨干申请结果"}
RECIPIENT_ROLES |= {
    BACKBONE_REVIEW: PERMISSIONS[Action.KEEP_BACKBONES],
    BACKBONE_DECISION: _HOUSEHOLD,
}


def receivable_kinds(roles: Iterable[Role]) -> list[str]:
    """The kinds (in KINDS order) someone holding `roles` anywhere can receive. A kind nobody has placed in
    RECIPIENT_ROLES yet is listed for everyone: better a switch too many than a notice one cannot turn off."""
    held = frozenset(roles)
    return [kind for kind in KINDS
            if kind in FOR_EVERYONE or kind not in RECIPIENT_ROLES or RECIPIENT_ROLES[kind] & held]


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class Channel(enum.StrEnum):
    WECHAT = "wechat"
    SMS = "sms"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DECLINED = "declined"  # the person withdrew consent (WeChat 43101): final
    FAILED = "failed"  # final failure (bad template data, unknown error)
    WITHDRAWN = "withdrawn"  # the notice was withdrawn before the push went out: never sent


def quoted(words: str) -> str:
    """Someone's own words (a reason, an answer) closed with one full stop, to end a notice's sentence."""
    words = words.strip().rstrip("。.")
    return words if words.endswith(("！", "？", "!", "?")) else f"{words}。"


def deliver_after(now: datetime, urgency: Urgency) -> datetime:
    """When a push may go out: at once, or for a non-urgent one in quiet hours (22:00–08:00 Beijing time)
    at the next 08:00. The in-app inbox row is written at once either way."""
    if urgency is Urgency.URGENT:
        return now
    local = now.astimezone(SHANGHAI)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return now
    wake_day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(wake_day, QUIET_UNTIL, tzinfo=SHANGHAI).astimezone(now.tzinfo)


def push_channels(urgency: Urgency, has_wechat: bool, has_phone: bool, kind_enabled: bool) -> list[Channel]:
    """WeChat when the person signed in with it; SMS only for urgent matters (it costs money and wakes
    people). A kind the person turned off gets no push unless urgent; the inbox row is written anyway."""
    if not kind_enabled and urgency is not Urgency.URGENT:
        return []
    channels = [Channel.WECHAT] if has_wechat else []
    if urgency is Urgency.URGENT and has_phone:
        channels.append(Channel.SMS)
    return channels


def batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    """Distinct ids in order, cut into lists of at most `size`."""
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]
