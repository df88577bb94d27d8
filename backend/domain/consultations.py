"""Deliberation rounds (五步议事法): a topic's steps, who moves it on, its deadlines, and the meetings (四会)."""
from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.shared.clock import SHANGHAI


class Step(enum.StrEnum):
    PROPOSED = "proposed"  # 1 议题征集: collecting co-signs
    REVIEW = "review"  # 2 议题确定: waiting for the party secretary (or committee)
    DELIBERATION = "deliberation"  # 3 协商讨论
    VOTING = "voting"  # 4 表决决议
    PUBLICITY = "publicity"  # 5 公示: objections may be filed
    IMPLEMENTATION = "implementation"  # 5 监督: the responsible party reports progress
    DONE = "done"
    DECLINED = "declined"
    MERGED = "merged"


STEP_LABELS = {
    Step.PROPOSED: "议题征集",
    Step.REVIEW: "议题确定",
    Step.DELIBERATION: "协商讨论",
    Step.VOTING: "表决决议",
    Step.PUBLICITY: "结果公示",
    Step.IMPLEMENTATION: "落实监督",
    Step.DONE: "已办结",
    Step.DECLINED: "未采纳",
    Step.MERGED: "已合并",
}

# The step bar of the five-step method: which of the five a step belongs to (1–5); 0 for ended-early topics.
FIVE_STEPS = ("议题征集", "议题确定", "协商讨论", "表决决议", "公示监督")
STEP_NUMBER = {
    Step.PROPOSED: 1,
    Step.REVIEW: 2,
    Step.DELIBERATION: 3,
    Step.VOTING: 4,
    Step.PUBLICITY: 5,
    Step.IMPLEMENTATION: 5,
    Step.DONE: 5,
    Step.DECLINED: 0,
    Step.MERGED: 0,
}

OPEN_STEPS = frozenset({Step.PROPOSED, Step.REVIEW, Step.DELIBERATION, Step.VOTING, Step.PUBLICITY,
                        Step.IMPLEMENTATION})
AFTER_THE_BALLOT = frozenset({Step.PUBLICITY, Step.IMPLEMENTATION, Step.DONE})
RATEABLE_STEPS = frozenset({Step.IMPLEMENTATION, Step.DONE})


class Channel(enum.StrEnum):
    """How a household's vote reached the ballot; the household's receipt shows it."""

    ONLINE = "online"
    PAPER = "paper"  # 书面表决票, recorded by a committee member with a photo
    PROXY = "proxy"  # 委托书: someone voted for the owner in writing


CHANNEL_LABELS = {Channel.ONLINE: "线上表决", Channel.PAPER: "书面表决票", Channel.PROXY: "委托投票"}

DEFAULT_COSIGN_THRESHOLD = 5
MIN_COSIGN_THRESHOLD, MAX_COSIGN_THRESHOLD = 1, 1000
DEFAULT_PUBLICITY_DAYS = 7
MIN_OPTIONS, MAX_OPTIONS = 2, 20
# A ballot shorter than a day shuts out people who work shifts; longer than 60 days the count goes stale.
MIN_VOTING_HOURS, MAX_VOTING_HOURS = 24, 60 * 24
# A deliberation that ends more than a year ahead is a typo, not a plan.
MAX_DELIBERATION_LEAD = timedelta(days=366)
# Reminders to eligible non-voters before the ballot closes (the issue: 24 h and 2 h).
VOTING_REMINDERS = (timedelta(hours=24), timedelta(hours=2))
MAX_RATING_STARS = 5


class TopicRefused(Refused):
    """An action the topic's step forbids (CONFLICT) or the person may not take (FORBIDDEN)."""


def reached_cosign_threshold(cosigns: int, threshold: int) -> bool:
    return cosigns >= threshold


VOTING_HOURS_MESSAGE = f"表决时长须在{MIN_VOTING_HOURS}小时至{MAX_VOTING_HOURS // 24}天之间"
MIN_PUBLICITY_DAYS, MAX_PUBLICITY_DAYS = 1, 30


@dataclass(frozen=True)
class Schedule:
    """The deadlines set when a topic is accepted (议题确定); no `publicity_days`: the compound's setting."""

    deliberation_ends_at: datetime
    voting_hours: int
    publicity_days: int | None = None

    def check(self, now: datetime) -> None:
        if self.deliberation_ends_at <= now:
            raise TopicRefused("协商讨论截止时间须晚于现在", Kind.INVALID)
        if self.deliberation_ends_at - now > MAX_DELIBERATION_LEAD:
            raise TopicRefused("协商讨论截止时间须在一年以内", Kind.INVALID)
        if not MIN_VOTING_HOURS <= self.voting_hours <= MAX_VOTING_HOURS:
            raise TopicRefused(VOTING_HOURS_MESSAGE, Kind.INVALID)
        if self.publicity_days is not None and not MIN_PUBLICITY_DAYS <= self.publicity_days <= MAX_PUBLICITY_DAYS:
            raise TopicRefused(f"公示期须在{MIN_PUBLICITY_DAYS}至{MAX_PUBLICITY_DAYS}天之间", Kind.INVALID)


def require_step(step: Step, *allowed: Step, message: str = "") -> None:
    if step not in allowed:
        raise TopicRefused(message or f"议题当前处于“{STEP_LABELS[step]}”阶段，不能进行此操作")


def ballot_open(step: Step, now: datetime, closes_at: datetime | None) -> bool:
    return step is Step.VOTING and closes_at is not None and now < closes_at


def voting_closes_at(opened_at: datetime, voting_hours: int) -> datetime:
    return opened_at + timedelta(hours=voting_hours)


def may_close_ballot(now: datetime, closes_at: datetime, voted_households: int, roll_households: int) -> bool:
    """A ballot runs its whole window, so that no owner loses the time promised to them; it may close early
    only when every household on the roll has already voted (nobody is left to wait for)."""
    return now >= closes_at or (roll_households > 0 and voted_households >= roll_households)


def due_voting_reminders(now: datetime, closes_at: datetime, already_sent: int) -> int:
    """How many of VOTING_REMINDERS are due by now (the sweep sends those past `already_sent`, each once)."""
    due = sum(1 for before in VOTING_REMINDERS if now >= closes_at - before)
    return max(due, already_sent)


def open_ballot_warnings(now: datetime, deliberation_ends_at: datetime | None,
                         meetings: Sequence[tuple[str, datetime]]) -> tuple[str, ...]:
    """What the committee should know before opening a ballot, each in one sentence: that it cuts the deliberation
    short of its own end, and that a meeting held on the topic (`meetings`: its name and start) has not taken place
    yet."""
    warnings = []
    if deliberation_ends_at is not None and now < deliberation_ends_at:
        warnings.append(f"协商讨论原定{minute_label(deliberation_ends_at)}结束，现在开启表决会提前结束讨论。")
    warnings.extend(
        f"相关的{name}定于{minute_label(starts_at)}召开，还没有举行；现在开启表决，会上的意见将来不及反映到表决中。"
        for name, starts_at in meetings if now < starts_at
    )
    return tuple(warnings)


def minute_label(moment: datetime) -> str:
    """11月25日 10:00, Beijing time."""
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


def ballot_open_notice_key(topic_id: int) -> str:
    return f"topic-{topic_id}-ballot-open"


def vote_reminder_key(topic_id: int, number: int) -> str:
    """The n-th of VOTING_REMINDERS (1-based) for the topic's non-voters."""
    return f"topic-{topic_id}-vote-reminder-{number}"


def vote_reminder_keys(topic_id: int) -> list[str]:
    """Every notice asking the topic's voters to vote by the close (the opening, each reminder): no longer true
    for a person once each household they may vote for has voted, nor for anyone once the ballot closed."""
    return [ballot_open_notice_key(topic_id)] + [
        vote_reminder_key(topic_id, number) for number in range(1, len(VOTING_REMINDERS) + 1)
    ]


def vote_receipt_key(topic_id: int, household_id: int, cast: int) -> str:
    """The receipt of a household's n-th cast: a changed vote has a receipt of its own."""
    return f"topic-{topic_id}-household-{household_id}-vote-{cast}"


def objections_open(step: Step, now: datetime, publicity_ends_at: datetime | None) -> bool:
    """Objections are taken during the publicity period only: a publicity held past its end for an unanswered
    objection waits for the answer and takes no new ones."""
    return step is Step.PUBLICITY and publicity_ends_at is not None and now < publicity_ends_at


def step_after_publicity(passed: bool) -> Step:
    """A passed decision is carried out and overseen; a failed one ends with its published result."""
    return Step.IMPLEMENTATION if passed else Step.DONE


# ---- what a person may do with a topic ------------------------------------------------------------------------


class TopicAction(enum.StrEnum):
    """What a person may do with a topic now: the API's `actions`, the page's forms (data-action)."""

    COSIGN = "cosign"
    ADD_PHOTO = "add_photo"
    REVIEW = "review"  # accept, decline or merge
    COMMENT = "comment"
    HIDE_COMMENT = "hide_comment"
    FOLLOW = "follow"
    SET_OPTIONS = "set_options"
    OPEN_BALLOT = "open_ballot"
    VOTE = "vote"
    RECORD_PAPER_VOTE = "record_paper_vote"
    CLOSE_BALLOT = "close_ballot"
    FILE_OBJECTION = "file_objection"
    ANSWER_OBJECTION = "answer_objection"
    POST_PROGRESS = "post_progress"
    RATE = "rate"


RUNS = "只有业委会成员或党组织书记可以"
# The permission each action needs from the table (domain/roles), and what a person without it is told. Adding
# a photo needs none: it is the proposer's, whoever they are.
NEEDS: dict[TopicAction, tuple[Action, str]] = {
    TopicAction.COSIGN: (Action.PROPOSE_TOPIC, "只有已认证房屋的业主或住户可以联名"),
    TopicAction.REVIEW: (Action.REVIEW_TOPICS, "议题由小区党组织书记确定（未成立党组织的小区由业委会确定）"),
    TopicAction.COMMENT: (Action.COMMENT_ON_TOPICS, "小区住户和各方代表才能发表评论"),
    TopicAction.HIDE_COMMENT: (Action.RUN_CONSULTATIONS, RUNS + "隐藏评论"),
    TopicAction.FOLLOW: (Action.COMMENT_ON_TOPICS, "小区住户和各方代表才能关注议题"),
    TopicAction.SET_OPTIONS: (Action.RUN_CONSULTATIONS, RUNS + "拟定表决选项"),
    TopicAction.OPEN_BALLOT: (Action.RUN_CONSULTATIONS, RUNS + "开启表决"),
    TopicAction.VOTE: (Action.VOTE, "只有已认证房屋的业主可以表决"),
    TopicAction.RECORD_PAPER_VOTE: (Action.RUN_CONSULTATIONS, RUNS + "录入书面表决"),
    TopicAction.CLOSE_BALLOT: (Action.RUN_CONSULTATIONS, RUNS + "结束表决"),
    TopicAction.FILE_OBJECTION: (Action.FILE_OBJECTION, "只有已认证的业主可以提出异议"),
    TopicAction.ANSWER_OBJECTION: (Action.RUN_CONSULTATIONS, RUNS + "答复异议"),
    TopicAction.POST_PROGRESS: (Action.REPORT_PROGRESS, "只有落实责任方可以发布进展"),
    TopicAction.RATE: (Action.RATE_IMPLEMENTATION, "只有已认证房屋的业主或住户可以评价"),
}


@dataclass(frozen=True)
class Standing:
    """What a person's actions on a topic depend on, as plain values. `permitted`: the table's answer in the topic's
    compound. The last three cost a query each: they are asked only once the cheaper conditions hold."""

    step: Step
    now: datetime
    ballot_closes_at: datetime | None
    publicity_ends_at: datetime | None
    permitted: frozenset[Action]
    signed_in: bool
    proposer: bool
    has_household: bool
    owns_household: bool
    # A verified household of theirs that has not co-signed yet; one on the frozen roll they may vote for.
    household_to_cosign: bool
    household_to_vote: bool
    following: bool
    options: int
    ballot_may_close: Callable[[], bool]
    visible_comments: Callable[[], bool]
    unanswered_objections: Callable[[], bool]


def allowed_actions(standing: Standing) -> tuple[TopicAction, ...]:
    """Every action the person may take now, in TopicAction order."""
    s, step = standing, standing.step

    def may(action: TopicAction) -> bool:
        return NEEDS[action][0] in s.permitted

    voting = ballot_open(step, s.now, s.ballot_closes_at)
    checks = {
        TopicAction.COSIGN: step is Step.PROPOSED and may(TopicAction.COSIGN) and s.household_to_cosign,
        TopicAction.ADD_PHOTO: step in (Step.PROPOSED, Step.REVIEW) and s.proposer,
        TopicAction.REVIEW: step is Step.REVIEW and may(TopicAction.REVIEW),
        TopicAction.COMMENT: s.signed_in and step in OPEN_STEPS and may(TopicAction.COMMENT),
        TopicAction.HIDE_COMMENT: may(TopicAction.HIDE_COMMENT) and s.visible_comments(),
        TopicAction.FOLLOW: s.signed_in and step in OPEN_STEPS and may(TopicAction.FOLLOW) and not s.following,
        TopicAction.SET_OPTIONS: step is Step.DELIBERATION and may(TopicAction.SET_OPTIONS),
        TopicAction.OPEN_BALLOT: step is Step.DELIBERATION and may(TopicAction.OPEN_BALLOT)
        and s.options >= MIN_OPTIONS,
        TopicAction.VOTE: voting and may(TopicAction.VOTE) and s.household_to_vote,
        TopicAction.RECORD_PAPER_VOTE: voting and may(TopicAction.RECORD_PAPER_VOTE),
        TopicAction.CLOSE_BALLOT: step is Step.VOTING and may(TopicAction.CLOSE_BALLOT) and s.ballot_may_close(),
        TopicAction.FILE_OBJECTION: objections_open(step, s.now, s.publicity_ends_at) and s.owns_household
        and may(TopicAction.FILE_OBJECTION),
        TopicAction.ANSWER_OBJECTION: step in AFTER_THE_BALLOT and may(TopicAction.ANSWER_OBJECTION)
        and s.unanswered_objections(),
        TopicAction.POST_PROGRESS: step is Step.IMPLEMENTATION and may(TopicAction.POST_PROGRESS),
        TopicAction.RATE: step in RATEABLE_STEPS and s.has_household and may(TopicAction.RATE),
    }
    return tuple(action for action, allowed in checks.items() if allowed)


NO_HOUSEHOLD = "您在本小区没有可用于此操作的已认证房屋"
CHOOSE_HOUSEHOLD = "请选择房屋"


def acting_household(chosen: int | None, choices: Sequence[int]) -> int:
    """The household a person acts for: the one they chose (the service checks it is one of theirs), else their
    only one; with several, they must choose."""
    if chosen is not None:
        return chosen
    if not choices:
        raise TopicRefused(NO_HOUSEHOLD, Kind.FORBIDDEN)
    if len(choices) > 1:
        raise TopicRefused(CHOOSE_HOUSEHOLD, Kind.INVALID, errors={"household_id": ["请选择以哪一户的名义"]})
    return choices[0]


def in_my_ballots(may_vote: bool, on_roll: bool, voted: bool) -> bool:
    """"我的表决" lists each of a person's households that they may vote for (one bound after the roll was frozen
    too, to say why it cannot), that is on the roll, or that has voted."""
    return may_vote or on_roll or voted


def choice_shown(may_vote: bool) -> bool:
    """How a household voted is shown to those who may vote for it: in an owners' joint decision a tenant learns
    that the household has voted, never how (the owner's choice is secret from them too)."""
    return may_vote


# ---- labels: who speaks, which household, how long ---------------------------------------------------------------

# Who speaks, as neighbours know it: the first of these roles a person holds; anyone else is a resident (居民).
SPEAKER_TITLES = (
    (Role.PARTY_SECRETARY, "党组织书记"),
    (Role.COMMITTEE, "业委会"),
    (Role.MANAGER, "物业"),
    (Role.STAFF, "物业"),
    (Role.OFFICIAL, "社区"),
    (Role.ADMIN, "平台"),
)
RESIDENT_TITLE = "居民"
# An objection's author to neighbours (only owners object); a topic raised without a household.
OWNER_TITLE = "业主"
DESK_TITLE = "业委会/党组织"
MYSELF = "我"


def speaker_title(roles: frozenset[Role] | set[Role]) -> str:
    return next((title for role, title in SPEAKER_TITLES if role in roles), RESIDENT_TITLE)


def window_label(hours: int | None) -> str:
    """A ballot's length as the committee set it: 3天, or 36小时."""
    if not hours:
        return ""
    return f"{hours // 24}天" if hours % 24 == 0 else f"{hours}小时"


# ---- the four meetings (四会) -------------------------------------------------------------------------------


class MeetingKind(enum.StrEnum):
    DELIBERATION = "deliberation"  # 议事会
    HEARING = "hearing"  # 听证会, e.g. before a fee change
    COORDINATION = "coordination"  # 协调会: a dispute between parties
    EVALUATION = "evaluation"  # 评议会: property service, committee work or an implementation


MEETING_KIND_LABELS = {
    MeetingKind.DELIBERATION: "议事会",
    MeetingKind.HEARING: "听证会",
    MeetingKind.COORDINATION: "协调会",
    MeetingKind.EVALUATION: "评议会",
}


class Party(enum.StrEnum):
    """The multi-party platform of measure 4: who sits at the table."""

    PARTY_ORGANISATION = "party_organisation"
    COMMITTEE = "committee"
    PROPERTY_COMPANY = "property_company"
    MERCHANT = "merchant"
    RESIDENT = "resident"


PARTY_LABELS = {
    Party.PARTY_ORGANISATION: "党组织",
    Party.COMMITTEE: "业委会/物管委",
    Party.PROPERTY_COMPANY: "物业服务企业",
    Party.MERCHANT: "商户代表",
    Party.RESIDENT: "居民代表",
}

CHECKIN_OPENS_BEFORE = timedelta(hours=1)
CHECKIN_CLOSES_AFTER = timedelta(hours=2)
MEETING_REMINDERS = (timedelta(days=1), timedelta(hours=1))


def checkin_open(now: datetime, starts_at: datetime) -> bool:
    """The check-in QR works from 1 h before to 2 h after the start."""
    return starts_at - CHECKIN_OPENS_BEFORE <= now <= starts_at + CHECKIN_CLOSES_AFTER


def due_meeting_reminders(now: datetime, starts_at: datetime, already_sent: int) -> int:
    """How many of MEETING_REMINDERS are due (none once the meeting has started)."""
    if now >= starts_at:
        return already_sent
    due = sum(1 for before in MEETING_REMINDERS if now >= starts_at - before)
    return max(due, already_sent)
