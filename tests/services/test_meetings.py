"""The four meetings (四会) as use cases: who may convene and whom, the start and the topic link, the list
order, check-in once per person inside its window with a signed code, and minutes residents see only once
published. Notices are read from the outbox (who the fan-out jobs will reach)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from marshmallow import ValidationError
from sqlalchemy import select

from backend.domain.compounds import AreaLevel
from backend.domain.consultations import MeetingKind, Party, Step
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    AuditEvent,
    Meeting,
    MeetingAttendance,
    MeetingInvitee,
    Notice,
    OutboxJob,
    Topic,
    User,
)
from backend.presenters import meetings as presenter
from backend.schemas.meetings import MeetingCreateSchema
from backend.services import meetings as service
from backend.services.meetings import CHECKIN_WINDOW_MESSAGE, InviteeSpec, MeetingRefused
from backend.services.notifications import FAN_OUT_JOB
from tests.support import first_household

pytestmark = pytest.mark.calendar

# 10:00 on a Monday in Beijing.
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
START = T0 + timedelta(days=3)
CONVENERS = frozenset({Role.COMMITTEE})
RESIDENTS = frozenset({Role.RESIDENT})


@dataclass
class People:
    compound_id: int
    committee: User
    secretary: User
    manager: User
    resident: User
    official: User
    stranger: User  # committee of another compound
    other_compound_id: int


@pytest.fixture
def people(area_tree, make_area, make_compound, make_user) -> People:
    _, district, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=2)
    other = make_compound(area=make_area("B社区", AreaLevel.COMMUNITY, street))
    return People(
        compound_id=compound.id,
        committee=make_user(Role.COMMITTEE, compound),
        secretary=make_user(Role.PARTY_SECRETARY, compound),
        manager=make_user(Role.MANAGER, compound),
        resident=make_user(Role.OWNER, compound, household=first_household(compound)),
        official=make_user(Role.OFFICIAL, area=district),
        stranger=make_user(Role.COMMITTEE, other),
        other_compound_id=other.id,
    )


def convene(
    people: People, *, at: datetime = T0, starts_at: datetime = START, invitees=(), **overrides
) -> Meeting:
    fields = dict(
        compound_id=people.compound_id,
        convener_id=people.committee.id,
        kind=MeetingKind.HEARING,
        title="物业费调整听证会",
        agenda="一、物业说明调价方案；二、居民代表发言",
        starts_at=starts_at,
        place="党群服务站",
        invitees=invitees,
    )
    with time_machine.travel(at, tick=False):
        return service.create_meeting(**(fields | overrides))


def told(meeting_id: int) -> dict[str, set[int]]:
    """Each notice about the meeting, by its dedupe key, with the people its fan-out jobs will reach."""
    notices = db.session.scalars(select(Notice).where(Notice.link == f"/h5/meetings/{meeting_id}")).all()
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.func_path == FAN_OUT_JOB)).all()
    return {
        notice.dedupe_key: {user_id for job in jobs if job.args[0] == notice.id for user_id in job.args[1]}
        for notice in notices
    }


def refused(call, status: int) -> str:
    with pytest.raises(MeetingRefused) as caught:
        call()
    db.session.rollback()
    assert caught.value.status == status, caught.value.message
    return caught.value.message


# ---- convening --------------------------------------------------------------------------------------------------


def test_committee_convenes_with_invitees_by_party_who_are_told_at_once(people):
    meeting = convene(
        people,
        invitees=[
            InviteeSpec(Party.PARTY_ORGANISATION, user_id=people.secretary.id),
            InviteeSpec(Party.PROPERTY_COMPANY, user_id=people.manager.id),
            InviteeSpec(Party.PROPERTY_COMPANY, user_id=people.manager.id),  # ticked twice: invited once
            InviteeSpec(Party.MERCHANT, name="东门超市 李老板"),
            InviteeSpec(Party.RESIDENT, name="王秀英"),
        ],
    )

    rows = db.session.scalars(
        select(MeetingInvitee).where(MeetingInvitee.meeting_id == meeting.id).order_by(MeetingInvitee.id)
    ).all()
    assert [(row.party, row.user_id, row.name) for row in rows] == [
        (Party.PARTY_ORGANISATION, people.secretary.id, ""),
        (Party.PROPERTY_COMPANY, people.manager.id, ""),
        (Party.MERCHANT, None, "东门超市 李老板"),
        (Party.RESIDENT, None, "王秀英"),
    ]
    # Named representatives have no account to tell; the convener hears it went out.
    assert told(meeting.id) == {
        f"meeting-{meeting.id}-invitation": {people.committee.id, people.secretary.id, people.manager.id}
    }
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting.create"))
    assert (audit.actor_id, audit.target_id, audit.compound_id) == (
        people.committee.id,
        meeting.id,
        people.compound_id,
    )
    assert audit.after["invitees"] == 4


def test_an_official_over_the_compound_convenes_and_may_be_invited(people):
    meeting = convene(
        people,
        convener_id=people.official.id,
        kind=MeetingKind.COORDINATION,
        invitees=[InviteeSpec(Party.COMMITTEE, user_id=people.committee.id)],
    )
    assert meeting.convener_id == people.official.id
    convene(people, invitees=[InviteeSpec(Party.PARTY_ORGANISATION, user_id=people.official.id)])


def test_a_resident_or_another_compounds_committee_may_not_convene(people):
    for user in (people.resident, people.stranger):
        assert refused(lambda user=user: convene(people, convener_id=user.id), 403)
    assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"starts_at": T0}, "会议时间须晚于现在"),
        ({"starts_at": T0 - timedelta(minutes=1)}, "会议时间须晚于现在"),
        ({"starts_at": T0 + timedelta(days=367)}, "会议时间须在一年以内"),
    ],
)
def test_bad_meetings_are_refused_with_a_reason(people, overrides, message):
    assert refused(lambda: convene(people, **overrides), 422) == message


def api_body(**overrides) -> dict:
    return {
        "kind": "hearing", "title": "物业费调整听证会", "agenda": "一、说明", "starts_at": START.isoformat(),
        "place": "党群服务站",
    } | overrides


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"title": "   "}, "title", "请填写会议名称"),
        ({"agenda": ""}, "agenda", "请填写会议议程"),
        ({"place": " "}, "place", "请填写会议地点"),
        ({"title": "长" * 61}, "title", "会议名称不能超过60个字"),
        ({"kind": "party"}, "kind", "请选择会议类型"),
        ({"starts_at": "2026-11-05T19:30"}, "starts_at", "会议时间须带时区"),
        ({"invitees": [{"party": "resident", "name": "  "}]}, "invitees", "请填写受邀人姓名或选择本小区成员"),
        ({"invitees": [{"party": "resident", "name": "长" * 65}]}, "invitees", "受邀人姓名不能超过64个字"),
        ({"invitees": [{"party": "resident", "name": "王"}] * 101}, "invitees", "一次最多邀请100人"),
    ],
)
def test_input_limits_are_the_schemas_written_once_for_api_and_page(overrides, field, message):
    """Blanks, lengths and choices are the schema's (the API's body and the page's form); the service keeps the
    rules that are no input limit (the start, the topic, who is invited)."""
    with pytest.raises(ValidationError) as caught:
        MeetingCreateSchema().load(api_body(**overrides))
    assert message in str(caught.value.messages[field])


def test_the_schema_trims_what_it_keeps():
    body = MeetingCreateSchema().load(
        api_body(title=" 听证会 ", invitees=[{"party": "merchant", "name": " 东门超市 李老板 "}])
    )
    assert (body["title"], body["invitees"]) == ("听证会", [InviteeSpec(Party.MERCHANT, name="东门超市 李老板")])


def test_only_people_of_the_compound_may_be_invited_by_account(people, make_user):
    nobody = make_user()
    for user in (people.stranger, nobody):
        message = refused(
            lambda user=user: convene(people, invitees=[InviteeSpec(Party.COMMITTEE, user.id)]), 422
        )
        assert message == "只能邀请本小区的成员或其上级社区工作人员"


def test_a_linked_topic_must_be_of_the_same_compound(people):
    mine = Topic(
        compound_id=people.compound_id,
        proposer_id=people.committee.id,
        title="加装电梯",
        body="…",
        step=Step.DELIBERATION,
    )
    theirs = Topic(
        compound_id=people.other_compound_id,
        proposer_id=people.stranger.id,
        title="他们的议题",
        body="…",
        step=Step.DELIBERATION,
    )
    db.session.add_all([mine, theirs])
    db.session.commit()

    assert convene(people, topic_id=mine.id).topic_id == mine.id
    assert refused(lambda: convene(people, topic_id=theirs.id), 422) == "请选择本小区的议题"
    assert refused(lambda: convene(people, topic_id=2_000_000_000), 422) == "请选择本小区的议题"


def test_invite_more_before_the_start_only_adds_new_people(people, make_user):
    meeting = convene(people, invitees=[InviteeSpec(Party.RESIDENT, name="王秀英")])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        service.invite(
            meeting.id,
            people.committee.id,
            CONVENERS,
            [
                InviteeSpec(Party.RESIDENT, name="王秀英"),
                InviteeSpec(Party.COMMITTEE, user_id=people.secretary.id),
            ],
        )
    assert [line.name for line in service.invitee_lines(meeting.id)] == [
        people.secretary.display_name,
        "王秀英",
    ]
    assert told(meeting.id)[f"meeting-{meeting.id}-invitation"] == {people.committee.id, people.secretary.id}

    with time_machine.travel(START, tick=False):
        late = [InviteeSpec(Party.RESIDENT, name="迟到的人")]
        assert refused(lambda: service.invite(meeting.id, people.committee.id, CONVENERS, late), 409)
    assert refused(lambda: service.invite(meeting.id, people.resident.id, RESIDENTS, late), 403)


def test_the_list_shows_coming_meetings_soonest_first_then_past_ones_latest_first(people):
    hour = timedelta(hours=1)
    convene(people, title="后天", starts_at=T0 + 48 * hour)
    convene(people, title="明天", starts_at=T0 + 24 * hour)
    convene(people, title="上周", at=T0 - 200 * hour, starts_at=T0 - 160 * hour)
    convene(people, title="上上周", at=T0 - 400 * hour, starts_at=T0 - 330 * hour)
    # Started an hour ago: it stays on top while its check-in is open (until 2 h after the start).
    convene(people, title="进行中", at=T0 - 10 * hour, starts_at=T0 - hour)

    def titles(at: datetime, page: int = 1, page_size: int = 20) -> list[str]:
        with time_machine.travel(at, tick=False):
            return [m.title for m in service.meetings_page(people.compound_id, page, page_size).items]

    assert titles(T0) == ["进行中", "明天", "后天", "上周", "上上周"]
    assert titles(T0, page=2, page_size=2) == ["后天", "上周"]
    assert titles(T0 + hour + timedelta(seconds=1)) == ["明天", "后天", "进行中", "上周", "上上周"]
    with time_machine.travel(T0, tick=False):
        assert service.meetings_page(people.compound_id, 3, 2).total == 5


# ---- check-in -------------------------------------------------------------------------------------------------------


def check_in(meeting: Meeting, user: User, at: datetime, token: str | None = None) -> service.CheckIn:
    with time_machine.travel(at, tick=False):
        return service.check_in(meeting.id, user.id, token or service.make_checkin_token(meeting))


def test_check_in_opens_exactly_one_hour_before_and_closes_two_hours_after_the_start(people, make_user):
    meeting = convene(people)
    second = timedelta(seconds=1)
    opens, closes = START - timedelta(hours=1), START + timedelta(hours=2)
    people = [make_user() for _ in range(4)]

    assert refused(lambda: check_in(meeting, people[0], opens - second), 409) == CHECKIN_WINDOW_MESSAGE
    assert check_in(meeting, people[0], opens).checked_in_at == opens
    assert check_in(meeting, people[1], closes).checked_in_at == closes
    assert refused(lambda: check_in(meeting, people[2], closes + second), 409) == CHECKIN_WINDOW_MESSAGE
    assert service.attendance_count(meeting.id) == 2


def test_a_person_is_recorded_once_however_often_they_scan(people):
    meeting = convene(people)
    first = check_in(meeting, people.resident, START - timedelta(minutes=10))
    again = [check_in(meeting, people.resident, START + timedelta(minutes=m)) for m in (1, 2, 3)]
    # Even after the window has closed, a second scan answers with the first time.
    after = check_in(meeting, people.resident, START + timedelta(hours=5))

    assert not first.already
    assert all(result.already for result in again + [after])
    assert {result.checked_in_at for result in again + [after]} == {START - timedelta(minutes=10)}
    rows = db.session.scalars(
        select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id)
    ).all()
    assert len(rows) == 1


def test_anyone_signed_in_with_a_valid_code_may_check_in(people, make_user):
    representative = make_user()  # a merchant's representative: no role anywhere
    meeting = convene(people)
    assert not check_in(meeting, representative, START).already


def test_forged_voided_or_another_meetings_codes_are_refused(people):
    meeting = convene(people)
    other = convene(people, title="另一场")
    token = service.make_checkin_token(meeting)

    assert refused(lambda: check_in(meeting, people.resident, START, token[:-2] + "xx"), 403)
    assert refused(lambda: check_in(meeting, people.resident, START, "a" * 600), 403)
    assert refused(lambda: check_in(meeting, people.resident, START, service.make_checkin_token(other)), 403)
    meeting = db.session.get(Meeting, meeting.id)
    meeting.checkin_version += 1
    db.session.commit()
    assert "已停用" in refused(lambda: check_in(meeting, people.resident, START, token), 403)
    assert service.attendance_count(meeting.id) == 0


def test_the_checkin_url_carries_the_signed_token_under_the_public_address(app, people):
    meeting = convene(people)
    url = service.checkin_url(meeting)
    assert (
        url == f"http://linli.test/h5/meetings/{meeting.id}/checkin?t={service.make_checkin_token(meeting)}"
    )


# ---- minutes ---------------------------------------------------------------------------------------------------------


def test_minutes_are_a_draft_until_published_after_the_start(people, make_user):
    meeting = convene(people, invitees=[InviteeSpec(Party.PROPERTY_COMPANY, user_id=people.manager.id)])
    walk_in = make_user()
    check_in(meeting, walk_in, START)

    with time_machine.travel(START - timedelta(hours=2), tick=False):
        service.record_minutes(meeting.id, people.committee.id, CONVENERS, "草稿", "", publish=False)
        assert refused(
            lambda: service.record_minutes(
                meeting.id, people.committee.id, CONVENERS, "草稿", "", publish=True
            ),
            409,
        )
    resident_view = presenter.detail(db.session.get(Meeting, meeting.id), people.resident.id, RESIDENTS)
    assert (resident_view.minutes, resident_view.resolutions) == (None, None)
    assert presenter.detail(db.session.get(Meeting, meeting.id), people.committee.id, CONVENERS).minutes == "草稿"

    with time_machine.travel(START + timedelta(hours=3), tick=False):
        service.record_minutes(
            meeting.id, people.committee.id, CONVENERS, " 各方充分发言 ", "同意调价", publish=True
        )
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.minutes_published_at == START + timedelta(hours=3)
    view = presenter.detail(meeting, people.resident.id, RESIDENTS)
    assert (view.minutes, view.resolutions) == ("各方充分发言", "同意调价")
    assert told(meeting.id)[f"meeting-{meeting.id}-minutes"] == {
        people.committee.id,
        people.manager.id,
        walk_in.id,
    }

    # A later correction stays public and keeps the first publication time; both saves are audited.
    with time_machine.travel(START + timedelta(days=1), tick=False):
        service.record_minutes(
            meeting.id, people.committee.id, CONVENERS, "各方充分发言（更正）", "同意调价", False
        )
    meeting = db.session.get(Meeting, meeting.id)
    assert (meeting.minutes, meeting.minutes_published_at) == (
        "各方充分发言（更正）",
        START + timedelta(hours=3),
    )
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == meeting.id).order_by(AuditEvent.id)
    ).all()
    assert actions == ["meeting.create", "meeting.minutes", "meeting.publish_minutes", "meeting.minutes"]


def test_only_the_convener_or_a_convening_role_writes_minutes(people):
    meeting = convene(people)
    with time_machine.travel(START, tick=False):
        assert refused(
            lambda: service.record_minutes(meeting.id, people.resident.id, RESIDENTS, "x", "", True), 403
        )
        service.record_minutes(
            meeting.id, people.secretary.id, frozenset({Role.PARTY_SECRETARY}), "纪要", "", True
        )
        assert refused(
            lambda: service.record_minutes(meeting.id, people.committee.id, CONVENERS, " ", "", True), 422
        )
