"""Announcement (通知公告) pages: the compound home page's block (current ones, pinned first, urgent marked, at most
three and 查看全部), posting through the form without JavaScript (refusals beside their fields, in Chinese), the
detail with its photos, Beijing time and read count for those who may see it, editing, deleting after a
confirmation step, and who may open which page."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.announcements import Category
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Announcement
from backend.services import announcements as service
from backend.services.announcements import Draft
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests import photo_samples as samples
from tests.support import first_household

pytestmark = pytest.mark.calendar


@pytest.fixture
def compound(make_compound):
    return make_compound(name="金沙苑小区", buildings=1, households_per_building=2)


@pytest.fixture
def people(compound, make_user, make_compound):
    return {
        "committee": make_user(Role.COMMITTEE, compound),
        "manager": make_user(Role.MANAGER, compound),
        "resident": make_user(Role.OWNER, compound, household=first_household(compound)),
        "stranger": make_user(Role.COMMITTEE, make_compound()),
    }


@pytest.fixture
def phone(app, page_sign_in):
    """A phone signed in as `user`; `.csrf` is the value its forms carry."""

    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_one(compound, author, title: str, **overrides) -> int:
    draft = Draft(title=title, body=f"{title}的正文", category=overrides.pop("category", Category.OTHER), **overrides)
    return service.post_to_compound(compound.id, author.id, draft).id


def home_rows(page: str) -> list[str]:
    block = page.split('id="home-announcements"', 1)[1].split('<div class="weui-grids', 1)[0]
    return re.findall(r'<p class="ll-wo-row__title">(.*?)</p>', block)


def test_the_home_page_shows_three_current_notices_pinned_first_and_urgent_in_red(phone, compound, people):
    committee = people["committee"]
    post_one(compound, committee, "已结束的通知", ends_on=beijing_date(utcnow()))
    for title in ("第一条", "第二条", "第三条"):
        post_one(compound, committee, title)
    post_one(compound, committee, "置顶通知", pinned=True)
    post_one(compound, committee, "紧急停电", urgent=True, category=Category.OUTAGE)
    with time_machine.travel(utcnow() + timedelta(days=1)):
        page = text(phone(people["resident"]).get(f"/h5/c/{compound.code}"))
    assert home_rows(page) == ["置顶通知", "紧急停电", "第三条"]
    block = page.split('id="home-announcements"', 1)[1].split('<div class="weui-grids', 1)[0]
    assert block.count('class="ll-badge ll-badge_urgent"') == 1 and "查看全部" in block
    assert 'data-action="post"' not in block
    assert 'data-action="post"' in text(phone(committee).get(f"/h5/c/{compound.code}"))


def test_the_home_page_says_so_when_there_is_none(phone, compound, people):
    page = text(phone(people["resident"]).get(f"/h5/c/{compound.code}"))
    assert "暂无通知公告" in page and home_rows(page) == []


def test_a_committee_member_posts_through_the_form_and_residents_read_it(phone, compound, people):
    committee = phone(people["committee"])
    form = committee.get(f"/h5/c/{compound.code}/announcements/new")
    assert form.status_code == 200 and 'name="ends_on"' in text(form)
    ends = beijing_date(utcnow()) + timedelta(days=2)
    response = committee.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": committee.csrf, "title": "3栋停水通知", "body": "明日8:00—18:00停水\n请提前储水",
        "category": "outage", "ends_on": ends.isoformat(), "pinned": "true",
        "photos": [samples.camera_jpeg(160, 120).upload()],
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    announcement = db.session.scalar(select(Announcement))
    assert response.headers["Location"] == f"/h5/announcements/{announcement.id}"
    assert (announcement.pinned, announcement.urgent, announcement.ends_on) == (True, False, ends)

    page = text(committee.get(response.headers["Location"]))
    assert "通知已发布" in page and "停水停电" in page and 'id="read-count">1 人' in page
    assert announcement.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in page
    assert set(re.findall(r'data-action="(\w+)"', page)) == {"view_reads", "edit", "delete"}
    [photo_url] = re.findall(r'<img src="([^"]+)"', page)
    resident = phone(people["resident"])
    detail = text(resident.get(f"/h5/announcements/{announcement.id}"))
    assert "明日8:00—18:00停水\n请提前储水" in detail and "read-count" not in detail
    assert re.findall(r'data-action="(\w+)"', detail) == []
    assert resident.get(photo_url).headers["Content-Type"] == "image/jpeg"
    assert 'id="read-count">2 人' in text(committee.get(f"/h5/announcements/{announcement.id}"))
    listing = text(resident.get(f"/h5/c/{compound.code}/announcements"))
    assert "3栋停水通知" in listing and "人已读" not in listing


def test_a_refused_form_comes_back_with_each_message_beside_its_field(phone, compound, people):
    committee = phone(people["committee"])
    yesterday = beijing_date(utcnow()) - timedelta(days=1)
    response = committee.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": committee.csrf, "title": "  ", "body": "正文", "category": "outage",
    }, content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 422
    assert '<p class="ll-error" role="alert" id="error-title">请填写标题</p>' in page
    assert 'value="outage" checked' in page and "正文</textarea>" in page
    response = committee.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": committee.csrf, "title": "停水", "body": "正文", "ends_on": yesterday.isoformat(),
        "photos": [samples.truncated_jpeg().upload()],
    }, content_type="multipart/form-data")
    page = text(response)
    assert '<p class="ll-error" role="alert" id="error-category">请选择类别</p>' in page
    response = committee.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": committee.csrf, "title": "停水", "body": "正文", "category": "other",
        "ends_on": yesterday.isoformat(),
    }, content_type="multipart/form-data")
    assert '<p class="ll-error" role="alert" id="error-ends_on">结束日期不能早于今天</p>' in text(response)
    response = committee.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": committee.csrf, "title": "停水", "body": "正文", "category": "other",
        "photos": [samples.truncated_jpeg().upload()],
    }, content_type="multipart/form-data")
    assert 'id="error-photos">照片已损坏或不完整' in text(response)
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


def test_only_those_who_may_post_open_the_form(phone, compound, people):
    assert phone(people["manager"]).get(f"/h5/c/{compound.code}/announcements/new").status_code == 200
    assert phone(people["resident"]).get(f"/h5/c/{compound.code}/announcements/new").status_code == 403
    assert phone(people["stranger"]).get(f"/h5/c/{compound.code}/announcements/new").status_code == 404
    resident = phone(people["resident"])
    refused = resident.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": resident.csrf, "title": "我要发通知", "body": "正文", "category": "other"})
    assert refused.status_code == 403


def test_editing_keeps_what_was_not_changed_and_removes_ticked_photos(phone, compound, people):
    committee = phone(people["committee"])
    committee.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": committee.csrf, "title": "电梯检修", "body": "周三电梯检修", "category": "construction",
        "photos": [samples.camera_jpeg(160, 120).upload()],
    }, content_type="multipart/form-data")
    announcement = db.session.scalar(select(Announcement))
    [photo] = service.photos_of([announcement.id])[announcement.id]
    form = text(committee.get(f"/h5/announcements/{announcement.id}/edit"))
    assert 'value="电梯检修"' in form and 'value="construction" checked' in form
    assert f'name="remove_photo_ids" value="{photo.id}"' in form
    manager = phone(people["manager"])
    response = manager.post(f"/h5/announcements/{announcement.id}/edit", data={
        "csrf_token": manager.csrf, "title": "电梯检修改期", "body": "改为周四", "category": "construction",
        "remove_photo_ids": str(photo.id),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    assert (announcement.title, announcement.body) == ("电梯检修改期", "改为周四")
    assert service.photos_of([announcement.id])[announcement.id] == []
    assert phone(people["resident"]).get(f"/h5/announcements/{announcement.id}/edit").status_code == 403


def test_deleting_asks_first_and_then_the_notice_is_gone(phone, compound, people):
    announcement_id = post_one(compound, people["committee"], "周末停电")
    committee = phone(people["committee"])
    confirm = committee.get(f"/h5/announcements/{announcement_id}/delete")
    assert confirm.status_code == 200 and "删除这条通知？" in text(confirm) and "周末停电" in text(confirm)
    assert db.session.get(Announcement, announcement_id).deleted_at is None
    assert phone(people["resident"]).get(f"/h5/announcements/{announcement_id}/delete").status_code == 403
    response = committee.post(f"/h5/announcements/{announcement_id}/delete", data={"csrf_token": committee.csrf})
    assert response.status_code == 302 and response.headers["Location"] == f"/h5/c/{compound.code}/announcements"
    assert "通知已删除" in text(committee.get(response.headers["Location"]))
    assert phone(people["resident"]).get(f"/h5/announcements/{announcement_id}").status_code == 404


def test_visitors_read_and_strangers_find_nothing(app, phone, scan, compound, people):
    announcement_id = post_one(compound, people["committee"], "社区义诊活动", category=Category.ACTIVITY)
    visitor = app.test_client()
    assert visitor.get(f"/h5/announcements/{announcement_id}").status_code == 302  # to the sign-in page
    scan(visitor, compound)
    assert "社区义诊活动" in text(visitor.get(f"/h5/c/{compound.code}/announcements"))
    assert "社区义诊活动" in text(visitor.get(f"/h5/announcements/{announcement_id}"))
    stranger = phone(people["stranger"])
    assert stranger.get(f"/h5/announcements/{announcement_id}").status_code == 404
    assert stranger.get(f"/h5/c/{compound.code}/announcements").status_code == 404


def test_the_list_offers_ended_notices_on_request(phone, compound, people):
    post_one(compound, people["committee"], "上周的停水通知", ends_on=beijing_date(utcnow()))
    with time_machine.travel(utcnow() + timedelta(days=1)):
        resident = phone(people["resident"])
        current = text(resident.get(f"/h5/c/{compound.code}/announcements"))
        everything = text(resident.get(f"/h5/c/{compound.code}/announcements?ended=1"))
    assert "上周的停水通知" not in current and "暂无通知公告" in current
    assert "上周的停水通知" in everything and 'data-ended="1">已结束' in everything


def test_an_official_chooses_to_post_to_every_compound_of_their_street(phone, area_tree, make_user, make_compound):
    *_, street, community = area_tree
    compound = make_compound(area=community)
    official = phone(make_user(Role.OFFICIAL, area=street))
    form = text(official.get(f"/h5/c/{compound.code}/announcements/new"))
    scopes = re.findall(r'name="scope" value="([^"]+)"', form)
    assert scopes == ["compound", f"area:{community.id}", f"area:{street.id}"]
    assert f"{street.name}全部小区" in form
    neighbour = make_compound(area=community)
    response = official.post(f"/h5/c/{compound.code}/announcements/new", data={
        "csrf_token": official.csrf, "title": "社区防汛通知", "body": "雨季请检查阳台排水", "category": "other",
        "scope": f"area:{community.id}",
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    announcement = db.session.scalar(select(Announcement))
    assert (announcement.area_id, announcement.compound_id) == (community.id, None)
    assert sorted(service.target_compound_ids(announcement.id)) == sorted([compound.id, neighbour.id])
    # A committee member is offered no choice: the compound only.
    committee_form = text(phone(make_user(Role.COMMITTEE, compound)).get(f"/h5/c/{compound.code}/announcements/new"))
    assert 'name="scope"' not in committee_form
