"""What the four meetings' (四会) screens show, built once for the API to dump and the pages to render: the list
with whether this person may convene, a meeting as this person sees it (invitees by party, attendance, minutes
once published) with the actions open to them, the convening form's choices, the check-in answer and the poster."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain.consultations import (
    CHECKIN_CLOSES_AFTER,
    CHECKIN_OPENS_BEFORE,
    MEETING_KIND_LABELS,
    PARTY_LABELS,
    MeetingKind,
    Party,
    checkin_open,
)
from backend.domain.meetings import MeetingAction, allowed_actions
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role, allows
from backend.models import Meeting
from backend.policy import authorize, roles_in_compound
from backend.presenters.confirmations import Confirmation
from backend.schemas.meetings import NAME_FIELDS
from backend.services import meetings as service
from backend.services.meetings import CHECKIN_WINDOW_MESSAGE, MeetingRefused
from backend.shared.clock import utcnow
from backend.shared.pagination import Page

# What the convener's screens answer anyone else who asks for them.
CONVENERS_ONLY = "只有会议召集人可以进行此操作"
# The forms' boxes for representatives typed by name: (field, label).
NAMED_PARTIES = [(field, PARTY_LABELS[party]) for field, party in NAME_FIELDS.items()]


@dataclass(frozen=True)
class MeetingLine:
    """A meeting in the list."""

    id: int
    compound_id: int
    kind: MeetingKind
    kind_label: str
    title: str
    starts_at: datetime
    place: str
    convener_id: int
    convener_name: str
    topic_id: int | None
    upcoming: bool  # not started, or its check-in still open
    minutes_published: bool


@dataclass(frozen=True)
class MeetingList:
    items: list[MeetingLine]
    total: int
    page: int
    page_size: int
    actions: frozenset[MeetingAction]

    @property
    def coming(self) -> list[MeetingLine]:
        return [line for line in self.items if line.upcoming]

    @property
    def past(self) -> list[MeetingLine]:
        return [line for line in self.items if not line.upcoming]


@dataclass(frozen=True)
class Invitee:
    party: Party
    party_label: str
    user_id: int | None
    name: str


@dataclass(frozen=True)
class PartyGroup:
    """The invitees of one party; residents' representatives are neighbours, counted but not named to them."""

    party: Party
    label: str
    names: tuple[str, ...]
    names_hidden: bool

    @property
    def count(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class MeetingDetail(MeetingLine):
    """A meeting as one person sees it: minutes only once published (or to those who run it)."""

    compound_code: str
    compound_name: str
    agenda: str
    topic_title: str | None
    invitees: list[Invitee]
    attendance_count: int
    checkin_opens_at: datetime
    checkin_closes_at: datetime
    my_checked_in_at: datetime | None
    minutes: str | None
    resolutions: str | None
    minutes_published_at: datetime | None
    started: bool
    can_manage: bool
    actions: frozenset[MeetingAction]
    created_at: datetime

    @property
    def parties(self) -> list[PartyGroup]:
        hidden = not self.can_manage
        return [
            PartyGroup(party, PARTY_LABELS[party], names, names_hidden=hidden and party is Party.RESIDENT)
            for party in Party
            if (names := tuple(line.name for line in self.invitees if line.party is party))
        ]


@dataclass(frozen=True)
class MemberChoice:
    """One of the compound's people the forms offer to tick, under the party they sit for."""

    value: str  # "<party>:<user id>", as the form posts it
    name: str
    party_label: str


@dataclass(frozen=True)
class ConveningForm:
    compound_id: int
    kinds: list[tuple[str, str]]
    members: list[MemberChoice]
    topics: list[tuple[int, str]]
    named_parties: list[tuple[str, str]]


@dataclass(frozen=True)
class CheckInAnswer:
    meeting_id: int
    kind_label: str
    title: str
    starts_at: datetime
    place: str
    checked_in_at: datetime
    already_checked_in: bool
    message: str
    may_view_meeting: bool  # a merchant or a company's representative holds no role in the compound


@dataclass(frozen=True)
class Poster:
    meeting_id: int
    compound_name: str
    kind_label: str
    title: str
    starts_at: datetime
    place: str
    checkin_url: str
    window_message: str


def _line(meeting: Meeting, now: datetime) -> dict:
    return {
        "id": meeting.id,
        "compound_id": meeting.compound_id,
        "kind": meeting.kind,
        "kind_label": MEETING_KIND_LABELS[meeting.kind],
        "title": meeting.title,
        "starts_at": meeting.starts_at,
        "place": meeting.place,
        "convener_id": meeting.convener_id,
        "convener_name": meeting.convener.display_name or "召集人",
        "topic_id": meeting.topic_id,
        "upcoming": service.is_upcoming(meeting, now),
        "minutes_published": meeting.minutes_published_at is not None,
    }


def meeting_list(
    compound_id: int, user_id: int | None, entry_compound_id: int | None, page: int, page_size: int
) -> MeetingList:
    """Coming meetings first (soonest on top, until their check-in closes), then past ones, latest first; open to
    everyone of the compound, QR visitors included."""
    access = authorize(Action.VIEW_MEETINGS, compound_id, user_id, entry_compound_id)
    now = utcnow()
    found = service.meetings_page(compound_id, page, page_size, now)
    may_convene = user_id is not None and allows(access.roles, Action.CONVENE_MEETINGS)
    return MeetingList(
        items=[MeetingLine(**_line(meeting, now)) for meeting in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        actions=frozenset({MeetingAction.CONVENE}) if may_convene else frozenset(),
    )


def seen(meeting_id: int, user_id: int | None, entry_compound_id: int | None) -> tuple[Meeting, frozenset[Role]]:
    """The meeting and the person's roles in its compound; 404 for anyone with nothing to do with it."""
    meeting = service.get_meeting(meeting_id)
    if meeting is None:
        raise MeetingRefused("会议不存在", Kind.NOT_FOUND)
    access = authorize(Action.VIEW_MEETINGS, meeting.compound_id, user_id, entry_compound_id)
    return meeting, access.roles


def meeting_detail(meeting_id: int, user_id: int | None, entry_compound_id: int | None = None) -> MeetingDetail:
    """The meeting read afresh (a commit before expired the rows) as this person sees it."""
    meeting, roles = seen(meeting_id, user_id, entry_compound_id)
    return detail(meeting, user_id, roles)


def _actions(
    meeting: Meeting, user_id: int | None, roles: frozenset[Role], now: datetime, checked_in: bool = True
) -> frozenset[MeetingAction]:
    return allowed_actions(
        manages=service.may_manage(meeting, user_id, roles),
        started=meeting.starts_at <= now,
        minutes_published=meeting.minutes_published_at is not None,
        may_check_in=user_id is not None and not checked_in and checkin_open(now, meeting.starts_at),
    )


def detail(meeting: Meeting, user_id: int | None, roles: frozenset[Role]) -> MeetingDetail:
    now = utcnow()
    manage = service.may_manage(meeting, user_id, roles)
    minutes_visible = manage or meeting.minutes_published_at is not None
    compound = service.compound_of(meeting)
    my_checked_in_at = service.my_checkin_at(meeting.id, user_id)
    return MeetingDetail(
        **_line(meeting, now),
        compound_code=compound.code,
        compound_name=compound.name,
        agenda=meeting.agenda,
        topic_title=service.topic_title(meeting.topic_id),
        invitees=[
            Invitee(line.party, PARTY_LABELS[line.party], line.user_id, line.name)
            for line in service.invitee_lines(meeting.id, names_of_residents=manage)
        ],
        attendance_count=service.attendance_count(meeting.id),
        checkin_opens_at=meeting.starts_at - CHECKIN_OPENS_BEFORE,
        checkin_closes_at=meeting.starts_at + CHECKIN_CLOSES_AFTER,
        my_checked_in_at=my_checked_in_at,
        minutes=meeting.minutes if minutes_visible else None,
        resolutions=meeting.resolutions if minutes_visible else None,
        minutes_published_at=meeting.minutes_published_at,
        started=meeting.starts_at <= now,
        can_manage=manage,
        actions=_actions(meeting, user_id, roles, now, checked_in=my_checked_in_at is not None),
        created_at=meeting.created_at,
    )


def _require(meeting_id: int, user_id: int | None, entry_compound_id: int | None, action: MeetingAction):
    meeting, roles = seen(meeting_id, user_id, entry_compound_id)
    if action not in _actions(meeting, user_id, roles, utcnow()):
        raise MeetingRefused(CONVENERS_ONLY, Kind.FORBIDDEN)
    return meeting


def renew_checkin_confirmation(meeting_id: int, user_id: int | None) -> Confirmation | None:
    """What voiding the check-in codes will do, and whether people are checking in right now; None when the
    person may not (the service says why)."""
    meeting, roles = seen(meeting_id, user_id, None)
    now = utcnow()
    if MeetingAction.RENEW_CHECKIN_CODE not in _actions(meeting, user_id, roles, now):
        return None
    warnings = ("签到正在进行：作废后，还没签到的人要扫描新张贴的二维码才能签到。",) if checkin_open(
        now, meeting.starts_at) else ()
    return Confirmation(
        question="作废签到二维码？",
        sentence=(f"作废后，“{meeting.title}”已打印或外传的签到二维码立即失效，需要打印并张贴新的签到海报；"
                  "已签到的记录保留。"),
        button="确认作废并生成新码",
        warnings=warnings,
    )


def attendance(meeting_id: int, user_id: int | None, page: int, page_size: int) -> Page:
    """Who checked in, in the order they came: for those who run the meeting; everyone else sees the count."""
    _require(meeting_id, user_id, None, MeetingAction.VIEW_ATTENDANCE)
    return service.attendance_page(meeting_id, page, page_size)


def checkin_url(meeting_id: int, user_id: int | None) -> str:
    """The address the check-in QR code opens (for those who print it)."""
    return service.checkin_url(_require(meeting_id, user_id, None, MeetingAction.PRINT_CHECKIN_POSTER))


def poster(meeting_id: int, user_id: int | None) -> Poster:
    """The A4 poster for the meeting room: title, time, place and the check-in QR code."""
    meeting = _require(meeting_id, user_id, None, MeetingAction.PRINT_CHECKIN_POSTER)
    return Poster(
        meeting_id=meeting.id,
        compound_name=service.compound_of(meeting).name,
        kind_label=MEETING_KIND_LABELS[meeting.kind],
        title=meeting.title,
        starts_at=meeting.starts_at,
        place=meeting.place,
        checkin_url=service.checkin_url(meeting),
        window_message=CHECKIN_WINDOW_MESSAGE,
    )


def _members(compound_id: int, leave_out: set[int]) -> list[MemberChoice]:
    """The compound's people to tick, without those told anyway or already invited."""
    return [
        MemberChoice(f"{party.value}:{user.id}", user.display_name or "用户", PARTY_LABELS[party])
        for party, user in service.invitable_members(compound_id)
        if user.id not in leave_out
    ]


def convening_form(compound_id: int, convener_id: int) -> ConveningForm:
    """The new-meeting form's choices: the four kinds, the compound's people (the convener is told anyway) and
    its open topics."""
    return ConveningForm(
        compound_id=compound_id,
        kinds=[(kind.value, label) for kind, label in MEETING_KIND_LABELS.items()],
        members=_members(compound_id, {convener_id}),
        topics=[(topic.id, topic.title) for topic in service.linkable_topics(compound_id)],
        named_parties=NAMED_PARTIES,
    )


def members_to_invite(meeting: MeetingDetail) -> list[MemberChoice]:
    """The compound's people not yet invited, for the detail's invite form (none once invitations closed)."""
    if MeetingAction.INVITE not in meeting.actions:
        return []
    invited = {line.user_id for line in meeting.invitees if line.user_id is not None} | {meeting.convener_id}
    return _members(meeting.compound_id, invited)


def checked_in(meeting_id: int, user_id: int, token: str, entry_compound_id: int | None) -> CheckInAnswer:
    """Check the person in with the QR code's token and say so (a second scan: the first time)."""
    result = service.check_in(meeting_id, user_id, token)
    meeting = result.meeting
    return CheckInAnswer(
        meeting_id=meeting.id,
        kind_label=MEETING_KIND_LABELS[meeting.kind],
        title=meeting.title,
        starts_at=meeting.starts_at,
        place=meeting.place,
        checked_in_at=result.checked_in_at,
        already_checked_in=result.already,
        message="已签到" if result.already else "签到成功",
        may_view_meeting=bool(roles_in_compound(user_id, meeting.compound_id, entry_compound_id)),
    )

