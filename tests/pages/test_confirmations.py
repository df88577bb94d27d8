"""Actions that cannot be undone ask first, without JavaScript (issue 15, item 6): opening a ballot (saying so when
it cuts the deliberation short or comes before a meeting on the topic), closing a ballot, voiding the check-in
codes and rejecting a binding. The first submit shows what will happen in one sentence and changes nothing; the
confirm step's form posts the same address with `confirm=1`, and that acts. The API acts at once."""
from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
import time_machine

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.consultations import MeetingKind, Schedule, Step
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import BindingRequest, Household, Meeting, Topic
from backend.policy import roles_in_compound
from backend.services import bindings as binding_service
from backend.services import consultations as service
from backend.services import meetings as meeting_service
from backend.services.auth import issue_tokens
from backend.services.consultations import Acceptance, OptionDraft
from backend.shared.clock import SHANGHAI, utcnow
from tests.support import buildings_of

MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区", buildings=1, households_per_building=2)


@pytest.fixture
def homes(compound) -> list[Household]:
    return list(db.session.scalars(
        db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))


@pytest.fixture
def browser(app, page_sign_in):
    def open_as(user):
        phone = app.test_client()
        phone.csrf = page_sign_in(phone, user)
        phone.user = user
        return phone

    return open_as


@pytest.fixture
def committee(compound, make_user, browser):
    return browser(make_user(Role.COMMITTEE, compound))


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def minute(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


def asked(response, question: str, path: str, sentence: str) -> str:
    """The confirm step: 200, the question, the sentence, a form posting `path` again with confirm=1, a way back."""
    page = text(response)
    assert response.status_code == 200, page[:800]
    assert f'<h1 class="ll-hero__title">{question}</h1>' in page
    assert re.search(r'<p id="confirm-sentence">(.*?)</p>', page).group(1) == sentence
    form = page.split('id="confirm-form"')[0].rsplit("<form", 1)[1] + page.split('id="confirm-form"')[1]
    assert f'action="{path}"' in form and '<input type="hidden" name="confirm" value="1">' in form
    assert 'id="confirm-cancel"' in page
    return page


def warnings(page: str) -> list[str]:
    return re.findall(r'<p class="ll-tp-warn" role="alert" data-warning>(.*?)</p>', page)


def deliberating(committee, compound, ends_in=timedelta(days=3)) -> Topic:
    desk = service.participant(committee.user.id, compound.id, roles_in_compound(committee.user.id, compound.id))
    topic = service.raise_topic(compound.id, desk, "更换单元门禁", "门禁坏了三个月")
    service.accept_topic(topic.id, desk, Acceptance(
        rule=VoteRule(VoteKind.CONSULTATION),
        schedule=Schedule(utcnow() + ends_in, voting_hours=72, publicity_days=7)))
    service.set_options(topic.id, desk, MOTION)
    return db.session.get(Topic, topic.id)


def step_of(topic_id: int) -> Step:
    db.session.expire_all()
    return db.session.get(Topic, topic_id).step


# ---- opening a ballot ------------------------------------------------------------------------------------------


def test_opening_a_ballot_early_and_before_its_meeting_asks_first_and_says_both(committee, compound):
    topic = deliberating(committee, compound)
    meeting_at = utcnow() + timedelta(days=2)
    meeting_service.create_meeting(
        compound_id=compound.id, convener_id=committee.user.id, kind=MeetingKind.DELIBERATION, title="门禁议事会",
        agenda="听取各方意见", starts_at=meeting_at, place="党群服务站", topic_id=topic.id)
    path = f"/h5/topics/{topic.id}/ballot/open"
    now = utcnow().replace(second=0, microsecond=0)

    with time_machine.travel(now, tick=False):
        first = committee.post(path, data={"csrf_token": committee.csrf})
    page = asked(first, "开启表决？", path, "开启后表决选项不能再修改，表决名单按此刻的房屋和面积确定，表决3天，"
                                         f"到{minute(now + timedelta(hours=72))}截止。")
    assert warnings(page) == [
        f"协商讨论原定{minute(topic.deliberation_ends_at)}结束，现在开启表决会提前结束讨论。",
        f"相关的议事会“门禁议事会”定于{minute(meeting_at)}召开，还没有举行；现在开启表决，会上的意见将来不及反映到表决中。",
    ]
    assert step_of(topic.id) is Step.DELIBERATION
    # The topic page says the same beside its button, from the same presenter.
    detail = text(committee.get(f"/h5/topics/{topic.id}"))
    assert detail.count("现在开启表决会提前结束讨论") == 1 and detail.count("还没有举行") == 1

    confirmed = committee.post(path, data={"csrf_token": committee.csrf, "confirm": "1"})
    assert confirmed.status_code == 302 and step_of(topic.id) is Step.VOTING


def test_opening_a_ballot_when_its_deliberation_has_ended_asks_without_warnings(committee, compound):
    topic = deliberating(committee, compound, ends_in=timedelta(minutes=1))
    path = f"/h5/topics/{topic.id}/ballot/open"
    later = (utcnow() + timedelta(minutes=2)).replace(second=0, microsecond=0)

    with time_machine.travel(later, tick=False):
        page = asked(committee.post(path, data={"csrf_token": committee.csrf}), "开启表决？", path,
                     "开启后表决选项不能再修改，表决名单按此刻的房屋和面积确定，表决3天，"
                     f"到{minute(later + timedelta(hours=72))}截止。")

    assert warnings(page) == [] and step_of(topic.id) is Step.DELIBERATION


def test_the_api_opens_the_ballot_at_once_and_carries_the_warnings(client, committee, compound):
    topic = deliberating(committee, compound)
    headers = {"Authorization": f"Bearer {issue_tokens(committee.user)[0]}"}

    detail = client.get(f"/api/v1/topics/{topic.id}", headers=headers).json
    assert detail["open_ballot_warnings"] == [
        f"协商讨论原定{minute(topic.deliberation_ends_at)}结束，现在开启表决会提前结束讨论。"]
    response = client.post(f"/api/v1/topics/{topic.id}/ballot/open", headers=headers)
    assert response.status_code == 200, response.json
    assert step_of(topic.id) is Step.VOTING


# ---- closing a ballot ------------------------------------------------------------------------------------------


def test_closing_a_ballot_asks_first_with_the_count_then_closes(committee, compound, homes, make_user, browser):
    topic = deliberating(committee, compound)
    service.open_ballot(topic.id, committee.user.id)
    agree = next(option.id for option in service.options_of(topic.id) if option.label == "同意")
    for home in homes:
        owner = make_user(Role.OWNER, compound, household=home)
        service.cast_vote(topic.id, service.participant(owner.id, compound.id,
                                                        roles_in_compound(owner.id, compound.id)), home.id, agree)
    path = f"/h5/topics/{topic.id}/ballot/close"

    asked(committee.post(path, data={"csrf_token": committee.csrf}), "结束表决？", path,
          "结束后不能再表决，将按名单上2户中已表决的2户计票，并立即公示结果。")
    assert step_of(topic.id) is Step.VOTING

    confirmed = committee.post(path, data={"csrf_token": committee.csrf, "confirm": "1"})
    assert confirmed.status_code == 302 and step_of(topic.id) is Step.PUBLICITY


def test_an_early_close_still_refused_is_refused_on_the_first_submit(committee, compound):
    topic = deliberating(committee, compound)
    service.open_ballot(topic.id, committee.user.id)

    response = committee.post(f"/h5/topics/{topic.id}/ballot/close", data={"csrf_token": committee.csrf})

    assert response.status_code == 409 and "仍有住户未表决" in text(response)
    assert 'id="confirm-form"' not in text(response)


# ---- voiding the check-in codes --------------------------------------------------------------------------------


def test_voiding_the_check_in_codes_asks_first_then_voids(committee, compound, homes, make_user, browser):
    starts = utcnow() + timedelta(days=1)
    meeting = meeting_service.create_meeting(
        compound_id=compound.id, convener_id=committee.user.id, kind=MeetingKind.HEARING, title="物业费调整听证会",
        agenda="说明调价方案", starts_at=starts, place="党群服务站")
    path = f"/h5/meetings/{meeting.id}/checkin-code"

    page = asked(committee.post(path, data={"csrf_token": committee.csrf}), "作废签到二维码？", path,
                 "作废后，“物业费调整听证会”已打印或外传的签到二维码立即失效，需要打印并张贴新的签到海报；已签到的记录保留。")
    assert warnings(page) == []
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).checkin_version == 1
    # During the check-in window (from an hour before the start) it says that people are checking in.
    soon = meeting_service.create_meeting(
        compound_id=compound.id, convener_id=committee.user.id, kind=MeetingKind.HEARING, title="临时听证会",
        agenda="说明调价方案", starts_at=utcnow() + timedelta(minutes=30), place="党群服务站")
    during = text(committee.post(f"/h5/meetings/{soon.id}/checkin-code", data={"csrf_token": committee.csrf}))
    assert warnings(during) == ["签到正在进行：作废后，还没签到的人要扫描新张贴的二维码才能签到。"]

    resident = browser(make_user(Role.RESIDENT, compound, household=homes[0]))
    assert resident.post(path, data={"csrf_token": resident.csrf}).status_code == 403
    confirmed = committee.post(path, data={"csrf_token": committee.csrf, "confirm": "1"})
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).checkin_version == 2


# ---- rejecting a binding ---------------------------------------------------------------------------------------


def test_rejecting_a_binding_asks_first_with_the_reason_then_rejects(committee, compound, make_user):
    applicant = make_user()
    binding = binding_service.request_binding(
        user_id=applicant.id, compound_id=compound.id, building_id=buildings_of(compound)[0].id, unit="1",
        room="201", name="张三", relation=Relation.OWNER, ip=None)
    path = f"/h5/bindings/{binding.id}/reject"

    page = asked(committee.post(path, data={"csrf_token": committee.csrf, "reason": "房号与产权证不符"}),
                 "驳回这个绑定申请？", path,
                 "驳回后，张三绑定1栋1单元201室的申请就此结束，申请人会收到通知和原因：房号与产权证不符。")
    # The reason typed is carried to the confirming submit.
    assert '<input type="hidden" name="reason" value="房号与产权证不符">' in page
    db.session.expire_all()
    assert db.session.get(BindingRequest, binding.id).status is BindingStatus.PENDING

    blank = committee.post(path, data={"csrf_token": committee.csrf, "reason": " "})
    assert blank.status_code == 422 and 'id="confirm-form"' not in text(blank)

    confirmed = committee.post(path, data={"csrf_token": committee.csrf, "reason": "房号与产权证不符", "confirm": "1"})
    assert confirmed.status_code == 302
    db.session.expire_all()
    rejected = db.session.get(BindingRequest, binding.id)
    assert (rejected.status, rejected.reason) == (BindingStatus.REJECTED, "房号与产权证不符")
