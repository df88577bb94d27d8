"""The four meetings (四会): convene, invite by party, check in by signed QR code, minutes, reminders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from backend.domain.consultations import (
    CHECKIN_CLOSES_AFTER,
    MEETING_KIND_LABELS,
    MEETING_REMINDERS,
    OPEN_STEPS,
    MeetingKind,
    Party,
    checkin_open,
    due_meeting_reminders,
)
from backend.domain.notifications import MEETING_REMINDER
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role, allows
from backend.extensions import db, dialect_insert
from backend.models import Area, Compound, Meeting, MeetingAttendance, MeetingInvitee, Membership, Topic, User
from backend.policy import ancestor_area_ids, roles_in_compound
from backend.services.audit import record_audit
from backend.services.notifications import notify
from backend.shared.clock import SHANGHAI, utcnow
from backend.shared.pagination import Page

_CHECKIN_SALT = "linli-meeting-checkin"
# A meeting further ahead than this is a typo in the year (and keeps every deadline sum far from overflow).
MAX_LEAD = timedelta(days=366)
# What neighbours read in place of a residents' representative's name (个人信息保护法); the convener sees names.
RESIDENT_REPRESENTATIVE = "居民代表"
CHECKIN_WINDOW_MESSAGE = "签到时间为会议开始前1小时至开始后2小时"
# Who the new-meeting form offers, under the party they sit for; officials and residents are added by name
# or through the API.
MEMBER_PARTIES = {
    Role.PARTY_SECRETARY: Party.PARTY_ORGANISATION,
    Role.COMMITTEE: Party.COMMITTEE,
    Role.MANAGER: Party.PROPERTY_COMPANY,
    Role.STAFF: Party.PROPERTY_COMPANY,
}


class MeetingRefused(Refused):
    """A request the meeting's rules refuse."""


@dataclass(frozen=True)
class InviteeSpec:
    """One invitee as asked for: a person with an account here (user_id), or only a name."""

    party: Party
    user_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class InviteeLine:
    party: Party
    user_id: int | None
    name: str


@dataclass(frozen=True)
class CheckIn:
    meeting: Meeting
    checked_in_at: datetime
    already: bool  # a second scan: nothing recorded, the first time is shown


@dataclass(frozen=True)
class Attendee:
    user_id: int
    name: str
    checked_in_at: datetime


def local_label(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


def is_upcoming(meeting: Meeting, now: datetime) -> bool:
    """Listed with the coming meetings while its check-in is still open."""
    return meeting.starts_at + CHECKIN_CLOSES_AFTER >= now


def may_manage(meeting: Meeting, user_id: int | None, roles: frozenset[Role]) -> bool:
    return user_id is not None and (meeting.convener_id == user_id or allows(roles, Action.CONVENE_MEETINGS))


# ---- the check-in code ---------------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_CHECKIN_SALT)


def make_checkin_token(meeting: Meeting) -> str:
    return _serializer().dumps({"m": meeting.id, "v": meeting.checkin_version})


def checkin_url(meeting: Meeting) -> str:
    return f"{current_app.config['LINLI_PUBLIC_URL']}/h5/meetings/{meeting.id}/checkin?t={make_checkin_token(meeting)}"


def _check_token(meeting: Meeting, token: str) -> None:
    try:
        payload = _serializer().loads(token)
    except BadSignature as exc:
        raise MeetingRefused("签到二维码无效或已被篡改，请扫描会场张贴的签到二维码", Kind.FORBIDDEN) from exc
    if not isinstance(payload, dict) or payload.get("m") != meeting.id:
        raise MeetingRefused("该签到二维码不属于这场会议", Kind.FORBIDDEN)
    if payload.get("v") != meeting.checkin_version:
        raise MeetingRefused("该签到二维码已停用，请扫描会场最新张贴的二维码", Kind.FORBIDDEN)


def renew_checkin_code(
    meeting_id: int, actor_id: int, roles: frozenset[Role], ip: str | None = None
) -> Meeting:
    """Void every check-in code printed so far (a poster photographed and shared lets people check in from
    home) and issue a new one; check-ins already recorded stay."""
    meeting = _locked(meeting_id)
    if not may_manage(meeting, actor_id, roles):
        raise MeetingRefused("只有会议召集人可以重新生成签到二维码", Kind.FORBIDDEN)
    before = meeting.checkin_version
    meeting.checkin_version += 1
    record_audit(
        actor_id=actor_id,
        action="meeting.renew_checkin_code",
        target_type="meeting",
        target_id=meeting.id,
        compound_id=meeting.compound_id,
        before={"checkin_version": before},
        after={"checkin_version": meeting.checkin_version},
        ip=ip,
    )
    db.session.commit()
    return meeting


# ---- convening ------------------------------------------------------------------------------------------------


def _check_start(starts_at: datetime, now: datetime) -> datetime:
    """Lengths, blanks and the time zone are the schema's (schemas/meetings.py); when a meeting may be held is
    the rule's."""
    if starts_at <= now:
        raise MeetingRefused("会议时间须晚于现在", Kind.INVALID)
    if starts_at - now > MAX_LEAD:
        raise MeetingRefused("会议时间须在一年以内", Kind.INVALID)
    return starts_at.astimezone(UTC)


def _check_topic(compound_id: int, topic_id: int | None) -> int | None:
    if topic_id is None:
        return None
    if db.session.scalar(select(Topic.compound_id).where(Topic.id == topic_id)) != compound_id:
        raise MeetingRefused("请选择本小区的议题", Kind.INVALID)
    return topic_id


def _people_of_compound(compound_id: int, user_ids: set[int]) -> set[int]:
    """Those of `user_ids` who hold a role in the compound or are officials over it (one query)."""
    if not user_ids:
        return set()
    path = db.session.scalar(
        select(Area.path).join(Compound, Compound.area_id == Area.id).where(Compound.id == compound_id)
    )
    return set(
        db.session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.user_id.in_(user_ids),
                User.is_active.is_(True),
                or_(
                    Membership.compound_id == compound_id,
                    and_(
                        Membership.role == Role.OFFICIAL,
                        Membership.area_id.in_(ancestor_area_ids(path or "")),
                    ),
                ),
            )
        )
    )


def _existing_invitees(meeting_id: int) -> list:
    return db.session.execute(
        select(MeetingInvitee.party, MeetingInvitee.user_id, MeetingInvitee.name).where(
            MeetingInvitee.meeting_id == meeting_id
        )
    ).all()


def _new_invitees(
    compound_id: int, existing: Sequence, invitees: Sequence[InviteeSpec]
) -> list[MeetingInvitee]:
    """Rows for the invitees not on the list yet; an unknown person is refused (422)."""
    user_ids = {spec.user_id for spec in invitees if spec.user_id is not None}
    if user_ids - _people_of_compound(compound_id, user_ids):
        raise MeetingRefused("只能邀请本小区的成员或其上级社区工作人员", Kind.INVALID)
    seen_users = {row.user_id for row in existing if row.user_id is not None}
    seen_names = {(row.party, row.name) for row in existing if row.user_id is None}
    rows = []
    for spec in invitees:
        if spec.user_id is not None:
            if spec.user_id not in seen_users:
                seen_users.add(spec.user_id)
                rows.append(MeetingInvitee(party=spec.party, user_id=spec.user_id, name=""))
            continue
        if (spec.party, spec.name) not in seen_names:
            seen_names.add((spec.party, spec.name))
            rows.append(MeetingInvitee(party=spec.party, user_id=None, name=spec.name))
    return rows


def _invite(meeting: Meeting, rows: list[MeetingInvitee], also_tell: Sequence[int] = ()) -> None:
    """Store the rows and send the invitation at once to the people among them (and to `also_tell`)."""
    for row in rows:
        row.meeting_id = meeting.id
        db.session.add(row)
    recipients = sorted({row.user_id for row in rows if row.user_id is not None} | set(also_tell))
    if recipients:
        # One key per meeting: someone invited later still gets the invitation, and nobody gets it twice.
        notify(
            recipients,
            MEETING_REMINDER,
            f"您受邀参加{MEETING_KIND_LABELS[meeting.kind]}：{meeting.title}",
            f"会议定于{local_label(meeting.starts_at)}在{meeting.place}召开，请准时参加。",
            link=f"/h5/meetings/{meeting.id}",
            dedupe_key=f"meeting-{meeting.id}-invitation",
        )


def create_meeting(
    *,
    compound_id: int,
    convener_id: int,
    kind: MeetingKind,
    title: str,
    agenda: str,
    starts_at: datetime,
    place: str,
    invitees: Sequence[InviteeSpec] = (),
    topic_id: int | None = None,
    ip: str | None = None,
) -> Meeting:
    if not allows(roles_in_compound(convener_id, compound_id), Action.CONVENE_MEETINGS):
        raise MeetingRefused("只有业委会、党组织书记或社区工作人员可以召集会议", Kind.FORBIDDEN)
    now = utcnow()
    meeting = Meeting(
        compound_id=compound_id,
        kind=kind,
        title=title,
        agenda=agenda,
        starts_at=_check_start(starts_at, now),
        place=place,
        convener_id=convener_id,
        topic_id=_check_topic(compound_id, topic_id),
        minutes="",
        resolutions="",
        checkin_version=1,
        created_at=now,
    )
    # The invitation itself covers any reminder whose time has already passed (a meeting called at short notice).
    meeting.reminders_sent = due_meeting_reminders(now, meeting.starts_at, 0)
    rows = _new_invitees(compound_id, [], invitees)
    db.session.add(meeting)
    db.session.flush()
    _invite(meeting, rows, also_tell=[convener_id])
    record_audit(
        actor_id=convener_id,
        action="meeting.create",
        target_type="meeting",
        target_id=meeting.id,
        compound_id=compound_id,
        ip=ip,
        after={
            "kind": kind.value,
            "title": meeting.title,
            "starts_at": meeting.starts_at.isoformat(),
            "place": meeting.place,
            "topic_id": meeting.topic_id,
            "invitees": len(rows),
        },
    )
    db.session.commit()
    return meeting


def invite(
    meeting_id: int,
    actor_id: int,
    roles: frozenset[Role],
    invitees: Sequence[InviteeSpec],
    ip: str | None = None,
) -> Meeting:
    """Add invitees before the meeting starts; those already invited are left as they are."""
    meeting = _locked(meeting_id)
    if not may_manage(meeting, actor_id, roles):
        raise MeetingRefused("只有会议召集人可以邀请参会人", Kind.FORBIDDEN)
    if meeting.starts_at <= utcnow():
        raise MeetingRefused("会议已开始，不能再邀请")
    rows = _new_invitees(meeting.compound_id, _existing_invitees(meeting.id), invitees)
    _invite(meeting, rows)
    if rows:
        record_audit(
            actor_id=actor_id,
            action="meeting.invite",
            target_type="meeting",
            target_id=meeting.id,
            compound_id=meeting.compound_id,
            ip=ip,
            after={
                "invitees": [
                    {"party": row.party.value, "user_id": row.user_id, "name": row.name} for row in rows
                ]
            },
        )
    db.session.commit()
    return meeting


def _locked(meeting_id: int) -> Meeting:
    meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.id == meeting_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if meeting is None:
        raise MeetingRefused("会议不存在", Kind.NOT_FOUND)
    return meeting


# ---- reading -----------------------------------------------------------------------------------------------------


def compound_of(meeting: Meeting) -> Compound:
    return db.session.get(Compound, meeting.compound_id)


def get_meeting(meeting_id: int) -> Meeting | None:
    return db.session.scalar(
        select(Meeting).options(joinedload(Meeting.convener)).where(Meeting.id == meeting_id)
    )


def meetings_page(compound_id: int, page: int, page_size: int, now: datetime | None = None) -> Page:
    """Coming meetings first, the soonest on top (one stays there until its check-in closes); then past ones,
    the latest first."""
    now = now or utcnow()
    coming = Meeting.starts_at >= now - CHECKIN_CLOSES_AFTER
    query = select(Meeting).where(Meeting.compound_id == compound_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(joinedload(Meeting.convener))
        .order_by(
            case((coming, 0), else_=1),
            case((coming, Meeting.starts_at)),
            Meeting.starts_at.desc(),
            Meeting.id.desc(),
        )
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return Page(items=list(items), total=total, page=page, page_size=page_size)


def invitee_lines(meeting_id: int, names_of_residents: bool = True) -> list[InviteeLine]:
    """The invitees by party. Residents' representatives are neighbours: without `names_of_residents` they are
    listed by their party only, like the authors of comments."""
    rows = db.session.execute(
        select(MeetingInvitee.party, MeetingInvitee.user_id, MeetingInvitee.name, User.display_name)
        .outerjoin(User, User.id == MeetingInvitee.user_id)
        .where(MeetingInvitee.meeting_id == meeting_id)
        .order_by(MeetingInvitee.id)
    ).all()
    order = list(Party)
    lines = [
        InviteeLine(row.party, row.user_id, row.name if row.user_id is None else row.display_name or "用户")
        if names_of_residents or row.party is not Party.RESIDENT
        else InviteeLine(row.party, None, RESIDENT_REPRESENTATIVE)
        for row in rows
    ]
    return sorted(lines, key=lambda line: order.index(line.party))


def attendance_count(meeting_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(MeetingAttendance)
            .where(MeetingAttendance.meeting_id == meeting_id)
        )
        or 0
    )


def attendance_page(meeting_id: int, page: int, page_size: int) -> Page:
    """Who checked in, in the order they came."""
    query = (
        select(MeetingAttendance.user_id, User.display_name, MeetingAttendance.checked_in_at)
        .join(User, User.id == MeetingAttendance.user_id)
        .where(MeetingAttendance.meeting_id == meeting_id)
    )
    total = attendance_count(meeting_id)
    rows = db.session.execute(
        query.order_by(MeetingAttendance.checked_in_at, MeetingAttendance.user_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    items = [Attendee(row.user_id, row.display_name or "用户", row.checked_in_at) for row in rows]
    return Page(items=items, total=total, page=page, page_size=page_size)


def my_checkin_at(meeting_id: int, user_id: int | None) -> datetime | None:
    """When the person checked in at the meeting (None: not, or signed out)."""
    if user_id is None:
        return None
    return db.session.scalar(
        select(MeetingAttendance.checked_in_at).where(
            MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.user_id == user_id
        )
    )


def topic_title(topic_id: int | None) -> str | None:
    return db.session.scalar(select(Topic.title).where(Topic.id == topic_id)) if topic_id else None


def invitable_members(compound_id: int) -> list[tuple[Party, User]]:
    """The compound's party secretary, committee, manager and staff, each under the party they sit for."""
    rows = db.session.execute(
        select(Membership.role, User)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.compound_id == compound_id,
            Membership.role.in_(MEMBER_PARTIES),
            User.is_active.is_(True),
        )
        .order_by(User.id)
    ).all()
    chosen: dict[int, tuple[Party, User]] = {}
    ranking = list(MEMBER_PARTIES)
    for role, user in sorted(rows, key=lambda row: ranking.index(row.role)):
        chosen.setdefault(user.id, (MEMBER_PARTIES[role], user))
    parties = list(Party)
    return sorted(chosen.values(), key=lambda item: (parties.index(item[0]), item[1].id))


def meetings_of_topic(topic_id: int) -> list[Meeting]:
    """The meetings held on a topic (协商讨论 may be linked to a meeting), in the order they are held."""
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.topic_id == topic_id).order_by(Meeting.starts_at, Meeting.id)
        )
    )


def linkable_topics(compound_id: int) -> list[Topic]:
    """Open topics of the compound, newest first, for the form's optional link."""
    return list(
        db.session.scalars(
            select(Topic)
            .where(Topic.compound_id == compound_id, Topic.step.in_(OPEN_STEPS))
            .order_by(Topic.id.desc())
            .limit(50)
        )
    )


# ---- check-in ------------------------------------------------------------------------------------------------------


def check_in(meeting_id: int, user_id: int, token: str) -> CheckIn:
    """Record the person once. A second scan records nothing and answers with the first time, even after the
    window has closed; a first scan outside the window is refused (409)."""
    meeting = get_meeting(meeting_id)
    if meeting is None:
        raise MeetingRefused("会议不存在", Kind.NOT_FOUND)
    _check_token(meeting, token)
    now = utcnow()
    if not my_checkin_at(meeting.id, user_id) and not checkin_open(now, meeting.starts_at):
        raise MeetingRefused(CHECKIN_WINDOW_MESSAGE)
    # Two phones of one person scanning at once: the key keeps one row, the second insert does nothing.
    inserted = db.session.scalar(
        dialect_insert(MeetingAttendance)
        .values(meeting_id=meeting.id, user_id=user_id, checked_in_at=now)
        .on_conflict_do_nothing(index_elements=["meeting_id", "user_id"])
        .returning(MeetingAttendance.checked_in_at)
    )
    db.session.commit()
    if inserted is not None:
        return CheckIn(meeting, now, already=False)
    return CheckIn(meeting, my_checkin_at(meeting.id, user_id), already=True)


# ---- minutes ---------------------------------------------------------------------------------------------------------


def record_minutes(
    meeting_id: int,
    actor_id: int,
    roles: frozenset[Role],
    minutes: str,
    resolutions: str,
    publish: bool,
    ip: str | None = None,
) -> Meeting:
    """Save the minutes and resolutions; publishing shows them to everyone of the compound. Published minutes
    stay published (a later edit corrects them in public); each save is audited with the text before and after."""
    meeting = _locked(meeting_id)
    if not may_manage(meeting, actor_id, roles):
        raise MeetingRefused("只有会议召集人可以填写会议纪要", Kind.FORBIDDEN)
    minutes, resolutions = minutes.strip(), resolutions.strip()
    now = utcnow()
    publishing = publish and meeting.minutes_published_at is None
    if publishing and meeting.starts_at > now:
        raise MeetingRefused("会议开始后才能公布纪要")
    if (publish or meeting.minutes_published_at) and not minutes:
        raise MeetingRefused("请填写会议纪要", Kind.INVALID)
    before = _minutes_state(meeting)
    meeting.minutes, meeting.resolutions = minutes, resolutions
    if publishing:
        meeting.minutes_published_at = now
        _tell_minutes_published(meeting)
    record_audit(
        actor_id=actor_id,
        action="meeting.publish_minutes" if publishing else "meeting.minutes",
        target_type="meeting",
        target_id=meeting.id,
        compound_id=meeting.compound_id,
        before=before,
        after=_minutes_state(meeting),
        ip=ip,
    )
    db.session.commit()
    return meeting


def _minutes_state(meeting: Meeting) -> dict:
    return {
        "minutes": meeting.minutes,
        "resolutions": meeting.resolutions,
        "published": meeting.minutes_published_at is not None,
    }


def _tell_minutes_published(meeting: Meeting) -> None:
    invited = select(MeetingInvitee.user_id).where(
        MeetingInvitee.meeting_id == meeting.id, MeetingInvitee.user_id.is_not(None)
    )
    came = select(MeetingAttendance.user_id).where(MeetingAttendance.meeting_id == meeting.id)
    recipients = sorted(
        set(db.session.scalars(invited)) | set(db.session.scalars(came)) | {meeting.convener_id}
    )
    notify(
        recipients,
        MEETING_REMINDER,
        f"{MEETING_KIND_LABELS[meeting.kind]}“{meeting.title}”的纪要已公布",
        "会议纪要和决议已经公布，请查看。",
        link=f"/h5/meetings/{meeting.id}",
        dedupe_key=f"meeting-{meeting.id}-minutes",
    )


# ---- reminders (cron sweep) ----------------------------------------------------------------------------------------


def due_reminder_ids(now: datetime, limit: int = 500) -> list[int]:
    """Meetings not yet started with a reminder due and not sent: the n-th reminder is due once the meeting is
    within its lead (MEETING_REMINDERS runs from the longest lead to the shortest, as the domain counts them)."""
    due = [
        and_(Meeting.reminders_sent < number, Meeting.starts_at <= now + lead)
        for number, lead in enumerate(MEETING_REMINDERS, start=1)
    ]
    return list(
        db.session.scalars(
            select(Meeting.id)
            .where(Meeting.starts_at > now, or_(*due))
            .order_by(Meeting.starts_at)
            .limit(limit)
        )
    )


def remind(meeting_id: int, now: datetime) -> bool:
    """Send the latest reminder that is due and not yet sent (one message even when the sweep was down for a
    while) to the user invitees and the convener; False when there is nothing to send."""
    meeting = _locked(meeting_id)
    due = due_meeting_reminders(now, meeting.starts_at, meeting.reminders_sent)
    if due == meeting.reminders_sent:
        db.session.rollback()
        return False
    invited = db.session.scalars(
        select(MeetingInvitee.user_id).where(
            MeetingInvitee.meeting_id == meeting.id, MeetingInvitee.user_id.is_not(None)
        )
    )
    recipients = sorted(set(invited) | {meeting.convener_id})
    notify(
        recipients,
        MEETING_REMINDER,
        f"{MEETING_KIND_LABELS[meeting.kind]}“{meeting.title}”即将召开",
        f"会议将于{local_label(meeting.starts_at)}在{meeting.place}召开，请准时参加。",
        link=f"/h5/meetings/{meeting.id}",
        dedupe_key=f"meeting-{meeting.id}-reminder-{due}",
    )
    meeting.reminders_sent = due
    db.session.commit()
    return True
