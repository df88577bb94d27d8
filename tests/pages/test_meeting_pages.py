"""The four meetings (四会) pages: convening through the form with invitees by party, who may open each page,
the list in Beijing time, the detail as a resident and as the convener, minutes and invitations from the
detail, the printable poster, and the page the check-in QR code opens."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import time_machine
from sqlalchemy import select

from backend.domain.consultations import MeetingKind, Party, Step
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Meeting, MeetingAttendance, MeetingInvitee, Topic
from backend.services import meetings as service
from backend.services.meetings import InviteeSpec
from tests.support import first_household

pytestmark = pytest.mark.calendar

# 10:00 on a Tuesday in Beijing; the meeting is on Friday at 19:30 Beijing time.
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
START = datetime(2026, 12, 4, 11, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区", buildings=1, households_per_building=2)


@pytest.fixture
def people(compound, make_user, make_compound):
    return {
        "committee": make_user(Role.COMMITTEE, compound),
        "secretary": make_user(Role.PARTY_SECRETARY, compound),
        "manager": make_user(Role.MANAGER, compound),
        "staff": make_user(Role.STAFF, compound),
        "resident": make_user(Role.OWNER, compound, household=first_household(compound)),
        "stranger": make_user(Role.COMMITTEE, make_compound()),
    }


@pytest.fixture
def phone(app, page_sign_in):
    """A phone signed in as `user` at the current (travelled) time; `.csrf` is the value its forms carry."""

    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def convene(compound, people, **overrides) -> Meeting:
    fields = dict(
        compound_id=compound.id,
        convener_id=people["committee"].id,
        kind=MeetingKind.HEARING,
        title="物业费调整听证会",
        agenda="一、物业说明调价方案\n二、居民代表发言",
        starts_at=START,
        place="党群服务站",
        invitees=[InviteeSpec(Party.PROPERTY_COMPANY, user_id=people["manager"].id)],
    )
    with time_machine.travel(T0, tick=False):
        return service.create_meeting(**(fields | overrides))


def form_data(csrf: str, **overrides) -> dict:
    return {
        "csrf_token": csrf,
        "kind": "hearing",
        "title": "物业费调整听证会",
        "agenda": "一、物业说明调价方案",
        "starts_at": "2026-12-04T19:30",
        "place": "党群服务站",
        "topic_id": "",
        "merchant_names": "",
        "resident_names": "",
    } | overrides


# ---- convening ---------------------------------------------------------------------------------------------------


def test_committee_convenes_through_the_form_with_invitees_by_party(compound, people, phone):
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        page = committee.get(f"/h5/c/{compound.code}/meetings/new")
        assert page.status_code == 200
        body = text(page)
        for label in ("议事会", "听证会", "协调会", "评议会"):
            assert label in body
        # The compound's people to tick, each under the party they sit for; residents are typed by name.
        assert f'value="party_organisation:{people["secretary"].id}"' in body
        assert f'value="property_company:{people["manager"].id}"' in body
        assert f'value="property_company:{people["staff"].id}"' in body
        assert f':{people["resident"].id}"' not in body

        response = committee.post(
            f"/h5/c/{compound.code}/meetings/new",
            data=form_data(
                committee.csrf,
                members=[
                    f"party_organisation:{people['secretary'].id}",
                    f"property_company:{people['manager'].id}",
                ],
                merchant_names="东门超市 李老板",
                resident_names="王秀英、张建国\n李桂兰",
            ),
        )
        assert response.status_code == 302
        meeting = db.session.scalar(select(Meeting))
        assert response.headers["Location"].endswith(f"/h5/meetings/{meeting.id}")
        # 19:30 Beijing time is 11:30 UTC.
        assert (meeting.kind, meeting.starts_at, meeting.convener_id) == (
            MeetingKind.HEARING,
            START,
            people["committee"].id,
        )
        invitees = db.session.execute(
            select(MeetingInvitee.party, MeetingInvitee.user_id, MeetingInvitee.name)
            .where(MeetingInvitee.meeting_id == meeting.id)
            .order_by(MeetingInvitee.id)
        ).all()
        assert [tuple(row) for row in invitees] == [
            (Party.PARTY_ORGANISATION, people["secretary"].id, ""),
            (Party.PROPERTY_COMPANY, people["manager"].id, ""),
            (Party.MERCHANT, None, "东门超市 李老板"),
            (Party.RESIDENT, None, "王秀英"),
            (Party.RESIDENT, None, "张建国"),
            (Party.RESIDENT, None, "李桂兰"),
        ]

        detail = text(committee.get(response.headers["Location"]))
        assert "会议已发布，受邀人会收到通知" in detail
        assert "2026-12-04 19:30" in detail and "听证会" in detail
        assert "王秀英、张建国、李桂兰" in detail and "东门超市 李老板" in detail
        assert "签到二维码海报" in detail and 'id="minutes-form"' in detail and 'id="invite-form"' in detail


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"title": " "}, "请填写会议名称"),
        ({"agenda": ""}, "请填写会议议程"),
        ({"kind": "party"}, "请选择会议类型"),
        ({"starts_at": "2026-13-40T19:30"}, "请选择会议日期和时间"),
        ({"starts_at": "0001-01-01T00:00+09:00"}, "请选择会议日期和时间"),
        ({"starts_at": "0001-01-01T00:00"}, "会议时间须晚于现在"),
        ({"starts_at": "2026-11-30T19:30"}, "会议时间须晚于现在"),
        ({"starts_at": "2028-12-04T19:30"}, "会议时间须在一年以内"),
        ({"title": "长" * 61}, "会议名称不能超过60个字"),
        ({"merchant_names": "长" * 65}, "受邀人姓名不能超过64个字"),
        ({"topic_id": "abc"}, "请选择关联议题"),
        ({"topic_id": "99999"}, "请选择本小区的议题"),
    ],
)
def test_a_bad_form_comes_back_with_its_reason_and_input(compound, people, phone, overrides, message):
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        response = committee.post(
            f"/h5/c/{compound.code}/meetings/new",
            data=form_data(committee.csrf, **({"resident_names": "王秀英"} | overrides)),
        )
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert "王秀英" in body and "党群服务站" in body
    assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 0


def test_someone_of_another_compound_cannot_be_ticked_in(compound, people, phone):
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        response = committee.post(
            f"/h5/c/{compound.code}/meetings/new",
            data=form_data(committee.csrf, members=[f"committee:{people['stranger'].id}"]),
        )
    assert response.status_code == 422
    assert "只能邀请本小区的成员或其上级社区工作人员" in text(response)


def test_who_may_open_the_convening_form(compound, people, phone, client):
    with time_machine.travel(T0, tick=False):
        assert phone(people["resident"]).get(f"/h5/c/{compound.code}/meetings/new").status_code == 403
        assert phone(people["staff"]).get(f"/h5/c/{compound.code}/meetings/new").status_code == 403
        assert phone(people["stranger"]).get(f"/h5/c/{compound.code}/meetings/new").status_code == 404
        assert phone(people["secretary"]).get(f"/h5/c/{compound.code}/meetings/new").status_code == 200
        signed_out = client.get(f"/h5/c/{compound.code}/meetings/new")
        assert signed_out.status_code == 302 and "/h5/login" in signed_out.headers["Location"]
        resident = phone(people["resident"])
        refused = resident.post(f"/h5/c/{compound.code}/meetings/new", data=form_data(resident.csrf))
    assert refused.status_code == 403
    assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 0


def test_a_form_without_its_csrf_value_is_refused(compound, people, phone):
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        response = committee.post(f"/h5/c/{compound.code}/meetings/new", data=form_data(""))
    assert response.status_code == 403
    assert db.session.scalar(select(db.func.count()).select_from(Meeting)) == 0


# ---- the list and the detail ----------------------------------------------------------------------------------------


def test_the_list_shows_coming_and_past_meetings_in_beijing_time(compound, people, phone, client, scan):
    convene(compound, people, title="下周评议会", kind=MeetingKind.EVALUATION)
    convene(compound, people, title="上月协调会", kind=MeetingKind.COORDINATION, starts_at=T0 + HOUR)
    with time_machine.travel(T0 + 5 * HOUR, tick=False):
        resident = phone(people["resident"])
        body = text(resident.get(f"/h5/c/{compound.code}/meetings"))
        coming, past = body.split("往期会议")
        assert "即将召开" in coming and "下周评议会" in coming and "2026-12-04 19:30" in coming
        assert "上月协调会" in past and "2026-12-01 11:00" in past
        assert "召集会议" not in body
        assert "召集会议" in text(phone(people["committee"]).get(f"/h5/c/{compound.code}/meetings"))

        signed_out = client.get(f"/h5/c/{compound.code}/meetings")
        assert signed_out.status_code == 302 and "/h5/login" in signed_out.headers["Location"]
        # A neighbour who scanned the compound's poster reads the list without signing in.
        scan(client, compound)
        assert "下周评议会" in text(client.get(f"/h5/c/{compound.code}/meetings"))
        assert phone(people["stranger"]).get(f"/h5/c/{compound.code}/meetings").status_code == 404


def test_residents_see_the_count_and_published_minutes_but_no_names_or_drafts(compound, people, phone):
    meeting = convene(compound, people)
    with time_machine.travel(START, tick=False):
        service.check_in(meeting.id, people["manager"].id, service.make_checkin_token(meeting))
        service.record_minutes(
            meeting.id, people["committee"].id, frozenset({Role.COMMITTEE}), "草稿纪要", "", False
        )
        body = text(phone(people["resident"]).get(f"/h5/meetings/{meeting.id}"))
        assert "1 人" in body and "物业服务企业" in body and people["manager"].display_name in body
        assert "草稿纪要" not in body and "会议纪要尚未公布" in body
        assert 'id="attendance"' not in body and 'id="minutes-form"' not in body and "海报" not in body

        committee = phone(people["committee"])
        response = committee.post(
            f"/h5/meetings/{meeting.id}/minutes",
            data={
                "csrf_token": committee.csrf,
                "minutes": "各方充分发言",
                "resolutions": "同意调价",
                "publish": "1",
            },
        )
        assert response.status_code == 302
        convener_view = text(committee.get(f"/h5/meetings/{meeting.id}"))
        assert "纪要已公布，居民可以查看" in convener_view
        assert "签到名单（1 人）" in convener_view

        body = text(phone(people["resident"]).get(f"/h5/meetings/{meeting.id}"))
    assert "各方充分发言" in body and "同意调价" in body and "2026-12-04 19:30 公布" in body


def test_minutes_cannot_be_published_before_the_start_and_residents_cannot_post_them(compound, people, phone):
    meeting = convene(compound, people)
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        data = {"csrf_token": committee.csrf, "minutes": "纪要", "resolutions": "", "publish": "1"}
        response = committee.post(f"/h5/meetings/{meeting.id}/minutes", data=data, follow_redirects=True)
        assert "会议开始后才能公布纪要" in text(response)
        resident = phone(people["resident"])
        data["csrf_token"] = resident.csrf
        assert resident.post(f"/h5/meetings/{meeting.id}/minutes", data=data).status_code == 403
        stranger = phone(people["stranger"])
        data["csrf_token"] = stranger.csrf
        assert stranger.post(f"/h5/meetings/{meeting.id}/minutes", data=data).status_code == 404
    assert db.session.get(Meeting, meeting.id).minutes == ""


def test_the_convener_invites_more_from_the_detail(compound, people, phone):
    meeting = convene(compound, people)
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        page = text(committee.get(f"/h5/meetings/{meeting.id}"))
        # Whoever is already invited is not offered again.
        assert f'value="property_company:{people["manager"].id}"' not in page
        response = committee.post(
            f"/h5/meetings/{meeting.id}/invitees",
            data={
                "csrf_token": committee.csrf,
                "members": [f"property_company:{people['staff'].id}"],
                "resident_names": "王秀英",
            },
            follow_redirects=True,
        )
        assert "已邀请，受邀人会收到通知" in text(response)
        # Refused, the detail comes back with the reason (and whatever was typed).
        empty = committee.post(f"/h5/meetings/{meeting.id}/invitees", data={"csrf_token": committee.csrf})
        assert empty.status_code == 422 and "请选择或填写要邀请的人" in text(empty)
    names = [line.name for line in service.invitee_lines(meeting.id)]
    assert names == [people["manager"].display_name, people["staff"].display_name, "王秀英"]


def test_neighbours_read_how_many_residents_representatives_not_their_names(
    compound, people, phone, client, scan
):
    meeting = convene(
        compound,
        people,
        invitees=[
            InviteeSpec(Party.PROPERTY_COMPANY, user_id=people["manager"].id),
            InviteeSpec(Party.RESIDENT, user_id=people["resident"].id),
            InviteeSpec(Party.RESIDENT, name="王秀英"),
        ],
    )
    with time_machine.travel(T0, tick=False):
        scan(client, compound)
        for body in (
            text(phone(people["resident"]).get(f"/h5/meetings/{meeting.id}")),
            text(client.get(f"/h5/meetings/{meeting.id}")),
        ):
            residents = body.split('data-party="resident"')[1].split("</div></div>")[0]
            assert "2 位居民代表" in residents and "王秀英" not in body
            assert people["resident"].display_name not in body and people["manager"].display_name in body
        convener_view = text(phone(people["committee"]).get(f"/h5/meetings/{meeting.id}"))
    assert f"{people['resident'].display_name}、王秀英" in convener_view


def test_the_convener_voids_the_printed_code_from_the_detail(compound, people, phone):
    meeting = convene(compound, people)
    shared = service.make_checkin_token(meeting)
    with time_machine.travel(START, tick=False):
        committee = phone(people["committee"])
        assert 'id="renew-checkin-form"' in text(committee.get(f"/h5/meetings/{meeting.id}"))
        response = committee.post(
            f"/h5/meetings/{meeting.id}/checkin-code",
            data={"csrf_token": committee.csrf, "confirm": "1"},
            follow_redirects=True,
        )
        assert "旧签到二维码已作废，请打印新的签到海报" in text(response)

        resident = phone(people["resident"])
        assert 'id="renew-checkin-form"' not in text(resident.get(f"/h5/meetings/{meeting.id}"))
        refused = resident.post(f"/h5/meetings/{meeting.id}/checkin-code", data={"csrf_token": resident.csrf})
        assert refused.status_code == 403
        stale = resident.get(checkin_path(meeting, shared))
        assert stale.status_code == 403 and "已停用" in text(stale)
        db.session.expire_all()
        assert resident.get(checkin_path(db.session.get(Meeting, meeting.id))).status_code == 200
    assert service.attendance_count(meeting.id) == 1


def test_the_topic_page_lists_the_meetings_held_on_it(compound, people, phone):
    topic = Topic(
        compound_id=compound.id,
        proposer_id=people["committee"].id,
        title="2栋加装电梯",
        body="…",
        step=Step.DELIBERATION,
    )
    db.session.add(topic)
    db.session.commit()
    convene(compound, people)
    held = convene(compound, people, kind=MeetingKind.DELIBERATION, title="加装电梯议事会", topic_id=topic.id)
    with time_machine.travel(T0, tick=False):
        body = text(phone(people["resident"]).get(f"/h5/topics/{topic.id}"))
    linked = body.split('id="topic-meetings"')[1].split("</div>\n</div>")[0]
    assert f'href="/h5/meetings/{held.id}"' in linked and "议事会：加装电梯议事会" in linked
    assert "2026-12-04 19:30" in linked and "物业费调整听证会" not in linked


def test_a_meeting_of_another_compound_is_not_found(compound, people, phone):
    meeting = convene(compound, people)
    with time_machine.travel(T0, tick=False):
        stranger = phone(people["stranger"])
        for path in ("", "/poster"):
            assert stranger.get(f"/h5/meetings/{meeting.id}{path}").status_code == 404
        assert stranger.get("/h5/meetings/2147483648").status_code == 404


# ---- the poster and check-in ------------------------------------------------------------------------------------------


def test_the_poster_carries_the_qr_code_and_its_checkin_url(compound, people, phone):
    meeting = convene(compound, people)
    with time_machine.travel(T0, tick=False):
        response = phone(people["committee"]).get(f"/h5/meetings/{meeting.id}/poster")
        assert response.status_code == 200
        body = text(response)
        assert "<svg" in body and "扫码签到" in body and "物业费调整听证会" in body
        assert "2026-12-04 19:30" in body and "党群服务站" in body
        assert "签到时间为会议开始前1小时至开始后2小时" in body
        assert f'data-checkin-url="{service.checkin_url(meeting)}"' in body
        assert phone(people["resident"]).get(f"/h5/meetings/{meeting.id}/poster").status_code == 403


def checkin_path(meeting: Meeting, token: str | None = None) -> str:
    url = urlsplit(service.checkin_url(meeting))
    return f"{url.path}?t={token}" if token else f"{url.path}?{url.query}"


def test_scanning_signed_out_signs_in_and_comes_back_to_check_in(compound, people, client, page_sign_in):
    meeting = convene(compound, people)
    path = checkin_path(meeting)
    with time_machine.travel(START - timedelta(minutes=10), tick=False):
        response = client.get(path)
        assert response.status_code == 302
        login = urlsplit(response.headers["Location"])
        assert login.path == "/h5/login"
        assert unquote(parse_qs(login.query)["next"][0]) == path
        page_sign_in(client, people["resident"])
        first = client.get(path)
        assert first.status_code == 200
        assert "签到成功" in text(first) and "签到时间 2026-12-04 19:20" in text(first)
    with time_machine.travel(START + HOUR, tick=False):
        page_sign_in(client, people["resident"])
        again = text(client.get(path))
    assert "已签到" in again and "签到时间 2026-12-04 19:20" in again and "签到成功" not in again
    assert db.session.scalars(select(MeetingAttendance.user_id)).all() == [people["resident"].id]


def test_bad_codes_and_the_wrong_time_end_on_a_chinese_page(compound, people, phone):
    meeting = convene(compound, people)
    other = convene(compound, people, title="另一场")
    with time_machine.travel(START, tick=False):
        resident = phone(people["resident"])
        for token in ("forged", service.make_checkin_token(other)):
            response = resident.get(checkin_path(meeting, token))
            assert response.status_code == 403
            assert "签到二维码" in text(response)
        # No code or one longer than any we sign: the API's answer (its schema's limit), 422.
        for path in (checkin_path(meeting, "x" * 600), f"/h5/meetings/{meeting.id}/checkin"):
            response = resident.get(path)
            assert response.status_code == 422 and "签到二维码无效" in text(response)
    with time_machine.travel(START + 2 * HOUR + timedelta(seconds=1), tick=False):
        late = phone(people["resident"]).get(checkin_path(meeting))
    assert late.status_code == 409
    assert "签到时间为会议开始前1小时至开始后2小时" in text(late)
    assert db.session.scalar(select(db.func.count()).select_from(MeetingAttendance)) == 0


def test_a_representative_with_no_role_checks_in_but_sees_no_detail_link(compound, people, phone, make_user):
    meeting = convene(compound, people)
    with time_machine.travel(START, tick=False):
        body = text(phone(make_user()).get(checkin_path(meeting)))
    assert "签到成功" in body and "查看会议详情" not in body


def test_a_linked_topic_is_offered_in_the_form_and_linked_from_the_detail(compound, people, phone):
    topic = Topic(
        compound_id=compound.id,
        proposer_id=people["committee"].id,
        title="2栋加装电梯",
        body="…",
        step=Step.DELIBERATION,
    )
    db.session.add(topic)
    db.session.commit()
    with time_machine.travel(T0, tick=False):
        committee = phone(people["committee"])
        assert "2栋加装电梯" in text(committee.get(f"/h5/c/{compound.code}/meetings/new"))
        response = committee.post(
            f"/h5/c/{compound.code}/meetings/new",
            data=form_data(committee.csrf, kind="deliberation", topic_id=str(topic.id)),
        )
        body = text(committee.get(response.headers["Location"]))
    assert f'href="/h5/topics/{topic.id}"' in body and "2栋加装电梯" in body
