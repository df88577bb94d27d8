"""党建+ service activities (社区活动) and volunteer hours (志愿服务): the kinds, who gets a place, when the check-in
code works, what a screen offers, when the reminder is due, and how a person's hours add up. Plain functions."""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.shared.clock import SHANGHAI


class ActivityKind(enum.StrEnum):
    CLINIC = "clinic"
    CLEANING = "cleaning"
    ELDER_CARE = "elder_care"
    CULTURE_SPORTS = "culture_sports"
    TALK = "talk"
    OTHER = "other"


KIND_LABELS = {
    ActivityKind.CLINIC: "义诊",
    ActivityKind.CLEANING: "清洁",
    ActivityKind.ELDER_CARE: "助老",
    ActivityKind.CULTURE_SPORTS: "文体",
    ActivityKind.TALK: "宣讲",
    ActivityKind.OTHER: "其他",
}


class ActivityStatus(enum.StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class SignupStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"


SIGNUP_LABELS = {SignupStatus.CONFIRMED: "已报名", SignupStatus.WAITING: "候补中", SignupStatus.CANCELLED: "已取消"}


class ActivityAction(enum.StrEnum):
    """What an activity's screens offer; the API names them in `actions`, the pages in `data-action`."""

    ORGANISE = "organise"
    SIGN_UP = "sign_up"
    CANCEL_SIGNUP = "cancel_signup"
    # With the QR code at the place, from an hour before the start to the end.
    CHECK_IN = "check_in"
    PRINT_CHECKIN_POSTER = "print_checkin_poster"
    # A poster photographed and shared lets people check in from home: void the printed codes.
    RENEW_CHECKIN_CODE = "renew_checkin_code"
    VIEW_SIGNUPS = "view_signups"
    POST_REPORT = "post_report"
    CANCEL = "cancel"


CHECKIN_OPENS_BEFORE = timedelta(hours=1)
# An activity is an afternoon's or a day's work: longer is a typo, and would inflate volunteer hours.
MAX_DURATION = timedelta(hours=12)
MAX_LEAD = timedelta(days=366)
MAX_CAPACITY = 1000
# 活动前一天: confirmed people are reminded once the activity is a day away.
REMINDER_LEAD = timedelta(days=1)
MAX_PHOTOS = 9


class TimesRefusal(ValueError):
    """The times of an activity do not hold: the message says why."""


def check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise TimesRefusal("活动开始时间须晚于现在")
    if starts_at - now > MAX_LEAD:
        raise TimesRefusal("活动时间须在一年以内")
    if ends_at <= starts_at:
        raise TimesRefusal("结束时间须晚于开始时间")
    if ends_at - starts_at > MAX_DURATION:
        raise TimesRefusal("一次活动最长12小时")


def seat_for(confirmed: int, capacity: int) -> SignupStatus:
    """A place while one is free (counted under the activity's row lock), else the waiting list."""
    return SignupStatus.CONFIRMED if confirmed < capacity else SignupStatus.WAITING


def checkin_open(now: datetime, starts_at: datetime, ends_at: datetime) -> bool:
    return starts_at - CHECKIN_OPENS_BEFORE <= now <= ends_at


def signup_open(now: datetime, starts_at: datetime, status: ActivityStatus) -> bool:
    return status is ActivityStatus.OPEN and now < starts_at


def reminder_due(now: datetime, starts_at: datetime, signed_up_at: datetime) -> bool:
    """The day before: once the start is within REMINDER_LEAD; someone who signed up inside that day has just read
    the time and is not reminded."""
    return starts_at - REMINDER_LEAD <= now < starts_at and signed_up_at < starts_at - REMINDER_LEAD


def allowed_actions(
    *,
    organises: bool,
    joins: bool,
    status: ActivityStatus,
    now: datetime,
    starts_at: datetime,
    ends_at: datetime,
    my_signup: SignupStatus | None,
    checked_in: bool,
) -> frozenset[ActivityAction]:
    """`organises`: the creator or an organising role; `joins`: signed in and of the compound; `my_signup`: the
    person's sign-up (None: never signed up)."""
    actions: set[ActivityAction] = set()
    live = status is ActivityStatus.OPEN
    if joins and signup_open(now, starts_at, status):
        if my_signup in (None, SignupStatus.CANCELLED):
            actions.add(ActivityAction.SIGN_UP)
        elif not checked_in:
            # Checked in (the window opens before the start): the place is taken and the hours are counted.
            actions.add(ActivityAction.CANCEL_SIGNUP)
    if joins and live and not checked_in and checkin_open(now, starts_at, ends_at):
        actions.add(ActivityAction.CHECK_IN)
    if organises:
        actions |= {ActivityAction.VIEW_SIGNUPS}
        if live:
            actions |= {ActivityAction.PRINT_CHECKIN_POSTER, ActivityAction.RENEW_CHECKIN_CODE}
            if now < starts_at:
                actions.add(ActivityAction.CANCEL)
            else:
                actions.add(ActivityAction.POST_REPORT)
    return frozenset(actions)


# ---- volunteer hours (志愿服务时长) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerService:
    """An activity the person checked in at as a volunteer."""

    activity_id: int
    starts_at: datetime
    ends_at: datetime


def beijing_year(moment: datetime) -> int:
    return moment.astimezone(SHANGHAI).year


def service_minutes(service: VolunteerService) -> int:
    return int((service.ends_at - service.starts_at).total_seconds()) // 60


def minutes_by_year(services: Iterable[VolunteerService]) -> dict[int, int]:
    """Per Beijing year of the activity's start, the sum of the durations of the activities served, each activity
    once however many check-ins it has."""
    seen: dict[int, VolunteerService] = {}
    for service in services:
        seen.setdefault(service.activity_id, service)
    totals: dict[int, int] = {}
    for service in seen.values():
        year = beijing_year(service.starts_at)
        totals[year] = totals.get(year, 0) + service_minutes(service)
    return totals


def hours_label(minutes: int) -> str:
    """Hours to one decimal, half up (90 → "1.5"; 100 → "1.7"), in integers: no float rounding."""
    tenths = (minutes * 10 + 30) // 60
    return f"{tenths // 10}.{tenths % 10}"
