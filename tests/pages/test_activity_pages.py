"""Activity pages beyond what the browser drives: the organising form read as Beijing time and shown again with the
reason when the rule refuses it, the compound home's 社区活动 only where the compound has activities (or for those
who organise them), renewing the check-in code and a report posted with a photo from the page, and the organisers'
志愿服务统计 closed to others."""
from __future__ import annotations

import html
from datetime import timedelta

import time_machine

from backend.domain.activities import ActivityKind
from backend.domain.roles import Role
from backend.services import activities as service
from backend.shared.clock import SHANGHAI, utcnow
from tests import photo_samples as samples
from tests.support import first_household


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def open_as(app, page_sign_in, user):
    client = app.test_client()
    client.csrf = page_sign_in(client, user)
    return client


def local(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def test_the_form_reads_beijing_time_and_a_refusal_shows_it_again(app, make_compound, make_user, page_sign_in):
    compound = make_compound(buildings=1, households_per_building=1)
    secretary = open_as(app, page_sign_in, make_user(Role.PARTY_SECRETARY, compound))
    starts = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    form = {"csrf_token": secretary.csrf, "kind": "talk", "title": "垃圾分类宣讲", "place": "小区广场",
            "organiser": "社区党委", "capacity": "50", "starts_at": local(starts), "ends_at": local(starts)}

    refused = secretary.post(f"/h5/c/{compound.code}/activities/new", data=form)
    assert refused.status_code == 422 and "结束时间须晚于开始时间" in text(refused)
    assert 'value="垃圾分类宣讲"' in text(refused)

    created = secretary.post(f"/h5/c/{compound.code}/activities/new",
                             data=form | {"ends_at": local(starts + timedelta(hours=1, minutes=30))})
    assert created.status_code == 302
    detail = text(secretary.get(created.headers["Location"]))
    assert f"{starts.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 至" in detail and "0/50 人" in detail


def test_the_home_shows_coming_activities_and_organisers_post_a_report(app, make_compound, make_user, page_sign_in):
    compound = make_compound(buildings=1, households_per_building=1)
    owner_user = make_user(Role.OWNER, compound, household=first_household(compound))
    committee_user = make_user(Role.COMMITTEE, compound)
    owner = open_as(app, page_sign_in, owner_user)
    committee = open_as(app, page_sign_in, committee_user)
    assert 'id="home-activities"' not in text(owner.get(f"/h5/c/{compound.code}"))
    assert 'id="home-activities"' in text(committee.get(f"/h5/c/{compound.code}"))

    starts = utcnow() + timedelta(minutes=20)
    activity = service.create_activity(
        compound_id=compound.id, creator_id=committee_user.id, kind=ActivityKind.CULTURE_SPORTS, title="广场舞比赛",
        description="", starts_at=starts, ends_at=starts + timedelta(hours=2), place="小区广场", organiser="业委会",
        capacity=10)
    home = text(owner.get(f"/h5/c/{compound.code}"))
    assert 'id="home-activities"' in home and f'data-activity="{activity.id}"' in home and "广场舞比赛" in home

    owner.post(f"/h5/activities/{activity.id}/signup", data={"csrf_token": owner.csrf, "as_volunteer": "1"})
    assert "已报名 · 志愿者" in text(owner.get(f"/h5/activities/{activity.id}"))
    assert owner.get(f"/h5/c/{compound.code}/volunteering").status_code == 403
    assert committee.get(f"/h5/c/{compound.code}/volunteering").status_code == 200
    renewed = committee.post(f"/h5/activities/{activity.id}/checkin-code", data={"csrf_token": committee.csrf},
                             follow_redirects=True)
    assert "旧签到二维码已作废，请打印新的签到海报" in text(renewed)
    assert owner.post(f"/h5/activities/{activity.id}/checkin-code", data={"csrf_token": owner.csrf}).status_code == 403

    # Ten minutes after the start, signed in afresh (an access token lasts less than that).
    with time_machine.travel(starts + timedelta(minutes=10)):
        committee = open_as(app, page_sign_in, committee_user)
        posted = committee.post(f"/h5/activities/{activity.id}/report", content_type="multipart/form-data",
                                data={"csrf_token": committee.csrf, "report": "30位居民参加",
                                      "photos": [samples.camera_jpeg(160, 120).upload()]})
        assert posted.status_code == 302 and posted.headers["Location"] == f"/h5/activities/{activity.id}"
        page = text(committee.get(f"/h5/activities/{activity.id}"))
    assert "30位居民参加" in page and f"/h5/activities/{activity.id}/photos/" in page
