"""Deliberation rounds (五步议事法): a topic's steps, who moves it on, its deadlines, and the meetings (四会)."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.domain.refusals import Kind, Refused


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


class Channel(enum.StrEnum):
    """How a household's vote reached the ballot; the household's receipt shows it."""

    ONLINE = "online"
    PAPER = "paper"  # 书面表决票, recorded by a committee member with a photo
    PROXY = "proxy"  # 委托书: someone voted for the owner in writing


CHANNEL_LABELS = {Channel.ONLINE: "线上表决", Channel.PAPER: "书面表决票", Channel.PROXY: "委托投票"}

DEFAULT_COSIGN_THRESHOLD = 5
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


@dataclass(frozen=True)
class Schedule:
    """The deadlines set when a topic is accepted (议题确定)."""

    deliberation_ends_at: datetime
    voting_hours: int
    publicity_days: int

    def check(self, now: datetime) -> None:
        if self.deliberation_ends_at <= now:
            raise TopicRefused("协商讨论截止时间须晚于现在", Kind.INVALID)
        if self.deliberation_ends_at - now > MAX_DELIBERATION_LEAD:
            raise TopicRefused("协商讨论截止时间须在一年以内", Kind.INVALID)
        if not MIN_VOTING_HOURS <= self.voting_hours <= MAX_VOTING_HOURS:
            raise TopicRefused(f"表决时长须在{MIN_VOTING_HOURS}小时至{MAX_VOTING_HOURS // 24}天之间", Kind.INVALID)
        if not 1 <= self.publicity_days <= 30:
            raise TopicRefused("公示期须在1至30天之间", Kind.INVALID)


def require_step(step: Step, *allowed: Step, message: str = "") -> None:
    if step not in allowed:
        raise TopicRefused(message or f"议题当前处于“{STEP_LABELS[step]}”阶段，不能进行此操作")


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


def objections_open(step: Step, now: datetime, publicity_ends_at: datetime | None) -> bool:
    """Objections are taken during the publicity period only: a publicity held past its end for an unanswered
    objection waits for the answer and takes no new ones."""
    return step is Step.PUBLICITY and publicity_ends_at is not None and now < publicity_ends_at


def step_after_publicity(passed: bool) -> Step:
    """A passed decision is carried out and overseen; a failed one ends with its published result."""
    return Step.IMPLEMENTATION if passed else Step.DONE


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
