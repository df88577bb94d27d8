"""What the 党建+ activities' (社区活动) screens show, built once for the API to dump and the pages to render: the
list, an activity as this person sees it (places, their sign-up or place on the waiting list, the report) with the
actions open to them, the sign-up list for organisers, the check-in answer and poster, the compound home's block,
and the 志愿服务 record (a person's, and per person for those who organise)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain import activities as rules
from backend.domain.activities import (
    KIND_LABELS,
    SIGNUP_LABELS,
    ActivityAction,
    ActivityKind,
    ActivityStatus,
    SignupStatus,
    VolunteerService,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role, allows
from backend.models import Activity, ActivityPhoto
from backend.policy import authorize, roles_in_compound
from backend.services import activities as service
from backend.services.activities import CHECKIN_WINDOW_MESSAGE, ActivityRefused
from backend.shared.clock import utcnow

ORGANISERS_ONLY = "只有活动组织者可以进行此操作"


@dataclass(frozen=True)
class ActivityLine:
    id: int
    compound_id: int
    kind: ActivityKind
    kind_label: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    organiser: str
    capacity: int
    confirmed_count: int
    waiting_count: int
    status: ActivityStatus
    upcoming: bool

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.confirmed_count, 0)


@dataclass(frozen=True)
class ActivityList:
    items: list[ActivityLine]
    total: int
    page: int
    page_size: int
    actions: frozenset[ActivityAction]
    compound_code: str = ""

    @property
    def coming(self) -> list[ActivityLine]:
        return [line for line in self.items if line.upcoming]

    @property
    def past(self) -> list[ActivityLine]:
        return [line for line in self.items if not line.upcoming]


@dataclass(frozen=True)
class MySignup:
    status: SignupStatus
    status_label: str
    as_volunteer: bool
    waiting_position: int | None


@dataclass(frozen=True)
class ActivityDetail(ActivityLine):
    compound_code: str
    compound_name: str
    description: str
    checkin_opens_at: datetime
    checkin_count: int
    my_signup: MySignup | None
    my_checked_in_at: datetime | None
    report: str
    reported_at: datetime | None
    photos: list[ActivityPhoto]
    actions: frozenset[ActivityAction]
    created_at: datetime


@dataclass(frozen=True)
class SignupView:
    user_id: int
    name: str
    status: SignupStatus
    status_label: str
    as_volunteer: bool
    signed_up_at: datetime
    checked_in_at: datetime | None


@dataclass(frozen=True)
class SignupResult:
    activity_id: int
    status: SignupStatus
    status_label: str
    as_volunteer: bool
    waiting_position: int | None
    message: str


@dataclass(frozen=True)
class CheckInAnswer:
    activity_id: int
    kind_label: str
    title: str
    starts_at: datetime
    place: str
    checked_in_at: datetime
    as_volunteer: bool
    already_checked_in: bool
    message: str
    may_view_activity: bool


@dataclass(frozen=True)
class Poster:
    activity_id: int
    compound_name: str
    kind_label: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    organiser: str
    checkin_url: str
    window_message: str


@dataclass(frozen=True)
class HomeBlock:
    items: list[ActivityLine]
    may_organise: bool


@dataclass(frozen=True)
class ServiceView:
    activity_id: int
    title: str
    compound_name: str
    starts_at: datetime
    ends_at: datetime
    minutes: int
    hours: str


@dataclass(frozen=True)
class VolunteerRecord:
    year: int
    name: str
    lines: list[ServiceView]
    total_minutes: int
    total_hours: str


@dataclass(frozen=True)
class PersonTotalView:
    user_id: int
    name: str
    activities: int
    minutes: int
    hours: str


@dataclass(frozen=True)
class VolunteerTotals:
    year: int
    items: list[PersonTotalView]
    compound_code: str = ""
    compound_name: str = ""


def this_year() -> int:
    return rules.beijing_year(utcnow())


def _lines(activities: list[Activity], now: datetime) -> list[ActivityLine]:
    counted = service.counts([activity.id for activity in activities])
    return [ActivityLine(**_line(activity, now, counted[activity.id])) for activity in activities]


def _line(activity: Activity, now: datetime, counted: dict[SignupStatus, int]) -> dict:
    return {
        "id": activity.id, "compound_id": activity.compound_id, "kind": activity.kind,
        "kind_label": KIND_LABELS[activity.kind], "title": activity.title, "starts_at": activity.starts_at,
        "ends_at": activity.ends_at, "place": activity.place, "organiser": activity.organiser,
        "capacity": activity.capacity, "confirmed_count": counted[SignupStatus.CONFIRMED],
        "waiting_count": counted[SignupStatus.WAITING], "status": activity.status,
        "upcoming": activity.ends_at >= now,
    }


def activity_list(compound_id: int, user_id: int | None, entry_compound_id: int | None, page: int,
                  page_size: int) -> ActivityList:
    """Coming ones first (soonest on top), then past ones; open to everyone of the compound, QR visitors too."""
    access = authorize(Action.VIEW_ACTIVITIES, compound_id, user_id, entry_compound_id)
    now = utcnow()
    found = service.activities_page(compound_id, page, page_size, now)
    organises = user_id is not None and allows(access.roles, Action.ORGANISE_ACTIVITIES)
    return ActivityList(items=_lines(found.items, now), total=found.total, page=found.page,
                        page_size=found.page_size,
                        actions=frozenset({ActivityAction.ORGANISE}) if organises else frozenset())


def home_block(compound_id: int, user_id: int | None, roles: frozenset[Role]) -> HomeBlock:
    """社区活动 on the compound home: the next few activities; `roles` are the ones the home page has read."""
    now = utcnow()
    return HomeBlock(items=_lines(service.upcoming(compound_id, now), now),
                     may_organise=user_id is not None and allows(roles, Action.ORGANISE_ACTIVITIES))


def seen(activity_id: int, user_id: int | None, entry_compound_id: int | None) -> tuple[Activity, frozenset[Role]]:
    """The activity and the person's roles in its compound; 404 for anyone with nothing to do with it."""
    activity = service.get_activity(activity_id)
    if activity is None:
        raise ActivityRefused("活动不存在", Kind.NOT_FOUND)
    access = authorize(Action.VIEW_ACTIVITIES, activity.compound_id, user_id, entry_compound_id)
    return activity, access.roles


def _actions(activity: Activity, user_id: int | None, roles: frozenset[Role], now: datetime,
             my_status: SignupStatus | None, checked_in: bool) -> frozenset[ActivityAction]:
    return rules.allowed_actions(
        organises=service.may_organise(activity, user_id, roles),
        joins=user_id is not None and allows(roles, Action.JOIN_ACTIVITIES),
        status=activity.status, now=now, starts_at=activity.starts_at, ends_at=activity.ends_at,
        my_signup=my_status, checked_in=checked_in,
    )


def _my_signup(activity_id: int, user_id: int | None) -> MySignup | None:
    signup = service.my_signup(activity_id, user_id)
    if signup is None or signup.status is SignupStatus.CANCELLED:
        return None
    position = service.waiting_position(signup) if signup.status is SignupStatus.WAITING else None
    return MySignup(signup.status, SIGNUP_LABELS[signup.status], signup.as_volunteer, position)


def activity_detail(activity_id: int, user_id: int | None, entry_compound_id: int | None = None) -> ActivityDetail:
    activity, roles = seen(activity_id, user_id, entry_compound_id)
    now = utcnow()
    compound = service.compound_of(activity)
    mine = _my_signup(activity.id, user_id)
    checkin = service.my_checkin(activity.id, user_id)
    return ActivityDetail(
        **_line(activity, now, service.counts([activity.id])[activity.id]),
        compound_code=compound.code, compound_name=compound.name, description=activity.description,
        checkin_opens_at=activity.starts_at - rules.CHECKIN_OPENS_BEFORE,
        checkin_count=service.checkin_count(activity.id), my_signup=mine,
        my_checked_in_at=checkin.checked_in_at if checkin else None,
        report=activity.report, reported_at=activity.reported_at, photos=service.photos_of(activity.id),
        actions=_actions(activity, user_id, roles, now, mine.status if mine else None, checkin is not None),
        created_at=activity.created_at,
    )


def _require(activity_id: int, user_id: int | None, action: ActivityAction) -> tuple[Activity, frozenset[Role]]:
    activity, roles = seen(activity_id, user_id, None)
    signup = service.my_signup(activity.id, user_id)
    checked_in = service.my_checkin(activity.id, user_id) is not None
    if action not in _actions(activity, user_id, roles, utcnow(), signup.status if signup else None, checked_in):
        raise ActivityRefused(ORGANISERS_ONLY, Kind.FORBIDDEN)
    return activity, roles


def organiser_roles(activity_id: int, user_id: int | None) -> frozenset[Role]:
    """The person's roles for a service call that checks them itself; 404 for strangers."""
    return seen(activity_id, user_id, None)[1]


def signups(activity_id: int, user_id: int | None) -> list[SignupView]:
    """Who signed up: confirmed, then the waiting list in its order, then the cancelled; for organisers."""
    _require(activity_id, user_id, ActivityAction.VIEW_SIGNUPS)
    return [SignupView(line.user_id, line.name, line.status, SIGNUP_LABELS[line.status], line.as_volunteer,
                       line.signed_up_at, line.checked_in_at) for line in service.signup_lines(activity_id)]


def _result(activity_id: int, user_id: int, message: str) -> SignupResult:
    signup = service.my_signup(activity_id, user_id)
    position = service.waiting_position(signup) if signup.status is SignupStatus.WAITING else None
    return SignupResult(activity_id, signup.status, SIGNUP_LABELS[signup.status], signup.as_volunteer, position,
                        message)


def signed_up(activity_id: int, user_id: int, as_volunteer: bool) -> SignupResult:
    activity, _ = seen(activity_id, user_id, None)
    authorize(Action.JOIN_ACTIVITIES, activity.compound_id, user_id)
    signup = service.sign_up(activity_id, user_id, as_volunteer)
    if signup.status is SignupStatus.CONFIRMED:
        return _result(activity_id, user_id, "报名成功")
    return _result(activity_id, user_id, "名额已满，已加入候补，有人取消时按报名先后递补并通知您")


def signup_cancelled(activity_id: int, user_id: int) -> SignupResult:
    seen(activity_id, user_id, None)
    service.cancel_signup(activity_id, user_id)
    return _result(activity_id, user_id, "已取消报名")


def checked_in(activity_id: int, user_id: int, token: str, entry_compound_id: int | None) -> CheckInAnswer:
    """Check the person in with the QR code's token (a second scan: the first time). Anyone signed in holding
    the code is recorded, as at a meeting: a social worker may have no role in the compound."""
    result = service.check_in(activity_id, user_id, token)
    activity = result.activity
    return CheckInAnswer(
        activity_id=activity.id, kind_label=KIND_LABELS[activity.kind], title=activity.title,
        starts_at=activity.starts_at, place=activity.place, checked_in_at=result.checked_in_at,
        as_volunteer=result.as_volunteer, already_checked_in=result.already,
        message="已签到" if result.already else "签到成功",
        may_view_activity=bool(roles_in_compound(user_id, activity.compound_id, entry_compound_id)),
    )


def checkin_url(activity_id: int, user_id: int | None) -> str:
    return service.checkin_url(_require(activity_id, user_id, ActivityAction.PRINT_CHECKIN_POSTER)[0])


def poster(activity_id: int, user_id: int | None) -> Poster:
    activity, _ = _require(activity_id, user_id, ActivityAction.PRINT_CHECKIN_POSTER)
    return Poster(activity.id, service.compound_of(activity).name, KIND_LABELS[activity.kind], activity.title,
                  activity.starts_at, activity.ends_at, activity.place, activity.organiser,
                  service.checkin_url(activity), CHECKIN_WINDOW_MESSAGE)


def photo(activity_id: int, photo_id: int, user_id: int | None, entry_compound_id: int | None) -> ActivityPhoto | None:
    seen(activity_id, user_id, entry_compound_id)
    return service.photo_of(activity_id, photo_id)


def kinds() -> list[tuple[str, str]]:
    return [(kind.value, label) for kind, label in KIND_LABELS.items()]


# ---- 志愿服务 ------------------------------------------------------------------------------------------------------


def volunteer_record(user_id: int, year: int | None) -> VolunteerRecord:
    """A person's own record for the year: each activity served (checked in as a volunteer) and the total."""
    year = year or this_year()
    lines = service.service_lines(user_id, year)
    views = []
    for line in lines:
        minutes = rules.service_minutes(VolunteerService(line.activity_id, line.starts_at, line.ends_at))
        views.append(ServiceView(line.activity_id, line.title, line.compound_name, line.starts_at, line.ends_at,
                                 minutes, rules.hours_label(minutes)))
    total = rules.minutes_by_year(
        VolunteerService(line.activity_id, line.starts_at, line.ends_at) for line in lines).get(year, 0)
    return VolunteerRecord(year, service.person_name(user_id), views, total, rules.hours_label(total))


def volunteer_totals(compound_id: int, user_id: int | None, year: int | None) -> VolunteerTotals:
    """Per person, the year's hours at the compound's activities: for those who organise them."""
    access = authorize(Action.ORGANISE_ACTIVITIES, compound_id, user_id)
    year = year or this_year()
    compound = access.compound
    return VolunteerTotals(
        year,
        [PersonTotalView(t.user_id, t.name, t.activities, t.minutes, rules.hours_label(t.minutes))
         for t in service.compound_totals(compound_id, year)],
        compound.code, compound.name,
    )
