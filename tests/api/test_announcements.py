"""Announcements (通知公告) through the API: posting (multipart, with photos), the list's order and its ended
notices, changing and deleting, who may post and change (403), other compounds' notices (404), QR visitors reading,
refused input (422), read counts made once, an official's post to every compound of an area, and telling the
compounds' verified people through the real outbox, Redis and an in-process worker: once each, urgent ones at once
even at night."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.notifications import ANNOUNCEMENT, DeliveryStatus, Urgency
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.announcements import tell_residents
from backend.models import (
    Announcement,
    AnnouncementPhoto,
    AnnouncementRead,
    AuditEvent,
    Compound,
    Delivery,
    Household,
    Membership,
    Notice,
    Notification,
    User,
)
from backend.services.auth import issue_tokens
from backend.services.photos import PhotoMissing, load_photo
from backend.services.qr import make_entry_token
from backend.services.queueing import QUEUES
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape, first_household, link_wechat

pytestmark = pytest.mark.calendar


@dataclass
class World:
    a: Compound
    b: Compound  # in another street
    c: Compound  # another compound of A's street
    committee: User
    secretary: User
    manager: User
    staff: User
    owner: User
    tenant: User
    unverified: User  # asked to be bound, not yet verified
    community_official: User  # over A's community
    street_official: User  # over A's street (A and C)
    b_owner: User
    b_committee: User


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    a = make_compound(name="甲小区", area=community, buildings=1, households_per_building=3)
    b = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY,
                                                   make_area("B街道", AreaLevel.STREET, district)))
    c = make_compound(name="丙小区", area=make_area("丙社区", AreaLevel.COMMUNITY, street), buildings=1,
                      households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == a.id).order_by(Household.id)))
    unverified = make_user()
    db.session.add(Membership(user_id=unverified.id, compound_id=a.id, role=Role.RESIDENT, household_id=homes[2].id))
    db.session.commit()
    return World(
        a=a, b=b, c=c,
        committee=make_user(Role.COMMITTEE, a),
        secretary=make_user(Role.PARTY_SECRETARY, a),
        manager=make_user(Role.MANAGER, a),
        staff=make_user(Role.STAFF, a),
        owner=make_user(Role.OWNER, a, household=homes[0]),
        tenant=make_user(Role.RESIDENT, a, household=homes[1]),
        unverified=unverified,
        community_official=make_user(Role.OFFICIAL, area=community),
        street_official=make_user(Role.OFFICIAL, area=street),
        b_owner=make_user(Role.OWNER, b, household=first_household(b)),
        b_committee=make_user(Role.COMMITTEE, b),
    )


def headers(user: User | None = None, entry: Compound | None = None) -> dict:
    found = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
    return found | ({"X-Entry-Token": make_entry_token(entry)} if entry else {})


def fields(**overrides) -> dict:
    return {"title": "3栋明日停水", "body": "因管网维修，3栋明日8:00至18:00停水，请提前储水。", "category": "outage"} | overrides


def post(client, user: User, compound: Compound, **overrides):
    return client.post(f"/api/v1/compounds/{compound.id}/announcements", data=fields(**overrides),
                       headers=headers(user), content_type="multipart/form-data")


def posted(client, user: User, compound: Compound, **overrides) -> dict:
    response = post(client, user, compound, **overrides)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(client, path: str, user: User | None = None, entry: Compound | None = None):
    return client.get(path, headers=headers(user, entry))


def listed(client, compound: Compound, user: User | None = None, **query) -> list[str]:
    response = client.get(f"/api/v1/compounds/{compound.id}/announcements", query_string=query, headers=headers(user))
    assert response.status_code == 200, response.get_json()
    return [item["title"] for item in response.get_json()["items"]]


def today():
    return beijing_date(utcnow())


def work(app) -> None:
    """Run every queued job (fan-out, push planning, pushes) in this process, as the worker would."""
    redis_conn = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn).work(
        burst=True, logging_level="WARNING")


def told(dedupe_prefix: str) -> list[tuple[int, Urgency]]:
    return sorted(db.session.execute(
        select(Notification.user_id, Notice.urgency).join(Notice, Notice.id == Notification.notice_id)
        .where(Notice.kind == ANNOUNCEMENT, Notice.dedupe_key.startswith(dedupe_prefix))
    ).all())


# ---- posting and reading ---------------------------------------------------------------------------------------


def test_the_committee_posts_and_everyone_of_the_compound_reads_it(client, world):
    ends = today() + timedelta(days=1)
    created = posted(client, world.committee, world.a, pinned="true", ends_on=ends.isoformat())
    assert created["title"] == "3栋明日停水" and created["category_label"] == "停水停电"
    assert (created["pinned"], created["urgent"], created["ends_on"], created["active"]) == (
        True, False, ends.isoformat(), True)
    assert (created["compound_id"], created["area_id"], created["source"]) == (world.a.id, None, "本小区")
    assert created["author_name"] == world.committee.display_name and created["status_label"] == ""
    assert created["actions"] == ["delete", "edit", "view_reads"] and created["read_count"] == 0
    assert created["updated_at"] == created["created_at"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "announcement.post"))
    assert (audit.actor_id, audit.target_id, audit.compound_id) == (world.committee.id, created["id"], world.a.id)

    seen = get(client, f"/api/v1/announcements/{created['id']}", world.owner).get_json()
    assert seen["body"] == "因管网维修，3栋明日8:00至18:00停水，请提前储水。"
    assert (seen["actions"], seen["read_count"]) == ([], None)
    listing = client.get(f"/api/v1/compounds/{world.a.id}/announcements", headers=headers(world.tenant)).get_json()
    assert (listing["total"], listing["page"], listing["page_size"], listing["actions"]) == (1, 1, 20, [])
    assert listing["items"][0]["excerpt"].startswith("因管网维修")
    assert listing["items"][0]["read_count"] is None
    # The committee, party secretary and manager may post; each sees `post`.
    for poster in (world.committee, world.secretary, world.manager, world.community_official):
        answer = client.get(f"/api/v1/compounds/{world.a.id}/announcements", headers=headers(poster)).get_json()
        assert answer["actions"] == ["post"]


def test_a_qr_visitor_reads_the_list_and_the_notice_but_is_not_counted(client, world):
    created = posted(client, world.committee, world.a)
    visitor_list = get(client, f"/api/v1/compounds/{world.a.id}/announcements", entry=world.a)
    assert visitor_list.status_code == 200 and visitor_list.get_json()["total"] == 1
    detail = get(client, f"/api/v1/announcements/{created['id']}", entry=world.a)
    assert detail.status_code == 200 and detail.get_json()["read_count"] is None
    assert db.session.scalar(select(func.count()).select_from(AnnouncementRead)) == 0
    # The QR code of another compound proves nothing here.
    assert_error_shape(get(client, f"/api/v1/announcements/{created['id']}", entry=world.b), 404)
    assert_error_shape(get(client, f"/api/v1/compounds/{world.a.id}/announcements", entry=world.b), 404)


def test_the_list_shows_pinned_ones_first_then_the_newest(client, world):
    posted(client, world.committee, world.a, title="最早的通知")
    posted(client, world.manager, world.a, title="置顶的通知", pinned="true")
    posted(client, world.secretary, world.a, title="最新的通知")
    assert listed(client, world.a, world.owner) == ["置顶的通知", "最新的通知", "最早的通知"]
    assert listed(client, world.a, world.owner, page=2, page_size=2) == ["最早的通知"]


def test_ended_ones_leave_the_default_list_and_lose_their_pin(client, world):
    posted(client, world.committee, world.a, title="今天结束的置顶通知", pinned="true", ends_on=today().isoformat())
    posted(client, world.committee, world.a, title="长期通知")
    assert listed(client, world.a, world.owner) == ["今天结束的置顶通知", "长期通知"]
    with time_machine.travel(utcnow() + timedelta(days=1)):
        assert listed(client, world.a, world.owner) == ["长期通知"]
        response = client.get(f"/api/v1/compounds/{world.a.id}/announcements", query_string={"include_ended": "true"},
                              headers=headers(world.owner)).get_json()
        assert [(item["title"], item["active"], item["status_label"]) for item in response["items"]] == [
            ("长期通知", True, ""), ("今天结束的置顶通知", False, "已结束")]
        assert response["include_ended"] is True


# ---- changing and deleting -------------------------------------------------------------------------------------


def test_the_author_and_the_compounds_posters_change_it_and_readers_may_not(client, world):
    created = posted(client, world.committee, world.a, photos=[samples.camera_jpeg(160, 120).upload()])
    url = f"/api/v1/announcements/{created['id']}"
    [photo] = created["photos"]
    assert photo["url"] == f"{url}/photos/{photo['id']}" and (photo["width"], photo["height"]) == (160, 120)
    old_key = db.session.get(AnnouncementPhoto, photo["id"]).storage_key
    changed = client.patch(url, data={"title": "3栋停水时间调整", "urgent": "true",
                                      "photos": [samples.png_with_alpha(80, 60).upload()],
                                      "remove_photo_ids": str(photo["id"])},
                           headers=headers(world.manager), content_type="multipart/form-data")
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["title"], body["urgent"], body["category"], body["pinned"]) == ("3栋停水时间调整", True, "outage", False)
    assert [(item["width"], item["height"]) for item in body["photos"]] == [(80, 60)]
    assert body["updated_at"] > body["created_at"]
    # The removed photo's row and file are gone (SQLite may give its id to the new one).
    assert db.session.scalar(select(AnnouncementPhoto).where(AnnouncementPhoto.storage_key == old_key)) is None
    with pytest.raises(PhotoMissing):
        load_photo(old_key)
    assert get(client, body["photos"][0]["url"], world.owner).headers["Content-Type"] == "image/jpeg"
    # An end date may be cleared with an empty value.
    cleared = client.patch(url, data={"ends_on": ""}, headers=headers(world.committee),
                           content_type="multipart/form-data")
    assert cleared.status_code == 200 and cleared.get_json()["ends_on"] is None
    for reader in (world.owner, world.staff):
        refused = client.patch(url, data={"title": "改"}, headers=headers(reader), content_type="multipart/form-data")
        assert_error_shape(refused, 403)
        assert_error_shape(client.delete(url, headers=headers(reader)), 403)


def test_a_deleted_notice_is_not_found_by_anyone_but_stays_on_record(client, world):
    created = posted(client, world.committee, world.a)
    url = f"/api/v1/announcements/{created['id']}"
    assert client.delete(url, headers=headers(world.secretary)).status_code == 204
    for person in (world.committee, world.secretary, world.owner):
        assert_error_shape(get(client, url, person), 404)
    assert_error_shape(client.delete(url, headers=headers(world.committee)), 404)
    assert listed(client, world.a, world.owner, include_ended="true") == []
    row = db.session.get(Announcement, created["id"])
    assert row.deleted_at is not None and row.deleted_by_id == world.secretary.id


def test_another_compounds_notice_is_not_found(client, world):
    created = posted(client, world.committee, world.a)
    url = f"/api/v1/announcements/{created['id']}"
    for stranger in (world.b_owner, world.b_committee):
        assert_error_shape(get(client, url, stranger), 404)
        assert_error_shape(get(client, f"/api/v1/compounds/{world.a.id}/announcements", stranger), 404)
        assert_error_shape(client.patch(url, data={"title": "改"}, headers=headers(stranger),
                                        content_type="multipart/form-data"), 404)
        assert_error_shape(client.delete(url, headers=headers(stranger)), 404)
    photo_url = f"{url}/photos/1"
    assert_error_shape(get(client, photo_url, world.b_owner), 404)
    assert_error_shape(post(client, world.b_committee, world.a), 404)
    assert listed(client, world.b, world.b_owner) == []


def test_residents_and_staff_cannot_post(client, world):
    for person in (world.owner, world.tenant, world.staff):
        assert_error_shape(post(client, person, world.a), 403)
    assert_error_shape(client.post(f"/api/v1/compounds/{world.a.id}/announcements", data=fields(),
                                   content_type="multipart/form-data"), 401)
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": "  "}, "title", "请填写标题"),
    ({"title": "长" * 61}, "title", "标题不能超过60个字"),
    ({"body": ""}, "body", "请填写正文"),
    ({"category": "gossip"}, "category", "请选择类别"),
    ({"ends_on": "明天"}, "ends_on", "请选择结束日期"),
    ({"ends_on": "past"}, "ends_on", "结束日期不能早于今天"),
    ({"ends_on": "far"}, "ends_on", "结束日期不能晚于一年以后"),
    ({"pinned": "maybe"}, "pinned", "应为是或否"),
    ({"photos": "not a file"}, "photos", "请上传一张照片"),
])
def test_bad_input_is_refused_with_the_field_named(client, world, overrides, field, message):
    dates = {"past": today() - timedelta(days=1), "far": today() + timedelta(days=400)}
    if overrides.get("ends_on") in dates:
        overrides = {"ends_on": dates[overrides["ends_on"]].isoformat()}
    response = post(client, world.committee, world.a, **overrides)
    assert_error_shape(response, 422)
    errors = response.get_json()["errors"]
    # The schema names the body's fields under its location; the rules (the end date) name them directly.
    assert message in str(errors.get("files", errors)[field])


def test_too_many_photos_or_a_file_that_is_no_photo_is_refused(client, world):
    seven = [samples.camera_jpeg(40, 30).upload() for _ in range(7)]
    assert_error_shape(post(client, world.committee, world.a, photos=seven), 422)
    refused = post(client, world.committee, world.a, photos=[samples.php_named_jpg().upload()])
    assert_error_shape(refused, 422)
    assert db.session.scalar(select(func.count()).select_from(Announcement)) == 0


# ---- read counts ------------------------------------------------------------------------------------------------


def test_each_reader_is_counted_once_and_only_its_managers_see_the_count(client, world):
    created = posted(client, world.committee, world.a)
    url = f"/api/v1/announcements/{created['id']}"
    for reader in (world.owner, world.owner, world.tenant, world.owner):
        assert get(client, url, reader).status_code == 200
    assert get(client, url, world.committee).get_json()["read_count"] == 3  # the committee's own opening counts
    assert get(client, url, world.manager).get_json()["read_count"] == 4
    assert get(client, url, world.owner).get_json()["read_count"] is None
    line = client.get(f"/api/v1/compounds/{world.a.id}/announcements", headers=headers(world.secretary)).get_json()
    assert line["items"][0]["read_count"] == 4
    # Who read it is kept for the count, never shown.
    assert "readers" not in get(client, url, world.committee).get_json()


# ---- an official's post to an area ------------------------------------------------------------------------------


def test_an_official_posts_once_to_every_compound_below_the_area(client, world):
    street_id = world.c.area.parent_id
    response = client.post(f"/api/v1/areas/{street_id}/announcements",
                           data=fields(title="街道防汛通知", category="other", urgent="true"),
                           headers=headers(world.street_official), content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert (created["compound_id"], created["area_id"], created["source"]) == (None, street_id, "炳草岗街道")
    assert listed(client, world.a, world.owner) == ["街道防汛通知"]
    assert listed(client, world.c, world.street_official) == ["街道防汛通知"]
    assert listed(client, world.b, world.b_owner) == []
    url = f"/api/v1/announcements/{created['id']}"
    assert_error_shape(get(client, url, world.b_owner), 404)
    # Those over the street change it; the community's official and A's committee read it only.
    assert get(client, url, world.community_official).get_json()["actions"] == []
    assert get(client, url, world.committee).get_json()["actions"] == []
    for reader in (world.community_official, world.committee):
        assert_error_shape(client.delete(url, headers=headers(reader)), 403)
    assert client.delete(url, headers=headers(world.street_official)).status_code == 204
    # A community official may not post to the street; the committee posts to no area.
    for person in (world.community_official, world.committee):
        refused = client.post(f"/api/v1/areas/{street_id}/announcements", data=fields(), headers=headers(person),
                              content_type="multipart/form-data")
        assert_error_shape(refused, 403)


def test_an_official_posts_to_one_compound_below_their_area(client, world):
    created = posted(client, world.community_official, world.a, title="社区通知")
    assert (created["compound_id"], created["source"]) == (world.a.id, "本小区")
    # The compound's committee may change a notice posted to its compound.
    url = f"/api/v1/announcements/{created['id']}"
    assert get(client, url, world.committee).get_json()["actions"] == ["delete", "edit", "view_reads"]
    assert_error_shape(post(client, world.community_official, world.b), 404)


# ---- telling the people ------------------------------------------------------------------------------------------


def test_an_urgent_notice_reaches_every_verified_person_once_at_once_even_at_night(app, client, world):
    for number, person in enumerate((world.owner, world.tenant, world.unverified), start=1):
        link_wechat(person, f"openid-announce-{number}")
    night = datetime.combine(today(), time(23, 0), tzinfo=SHANGHAI)
    with time_machine.travel(night, tick=False):
        created = posted(client, world.committee, world.a, urgent="true")
        # The post queued the job; it and a replay of it run, then a third time by hand.
        work(app)
        assert tell_residents(created["id"]) == 0
        work(app)
        deliveries = db.session.execute(
            select(Delivery.deliver_after, Delivery.status).join(Notification).join(Notice)
            .where(Notice.kind == ANNOUNCEMENT)).all()
    assert told(f"announcement-{created['id']}-") == sorted(
        [(world.owner.id, Urgency.URGENT), (world.tenant.id, Urgency.URGENT)])
    assert [(when, status) for when, status in deliveries] == [(night, DeliveryStatus.SENT)] * 2
    notice = db.session.scalar(select(Notice).where(Notice.kind == ANNOUNCEMENT))
    assert (notice.title, notice.link) == ("停水停电：3栋明日停水", f"/h5/announcements/{created['id']}")


def test_a_normal_notice_waits_for_the_morning_and_made_urgent_it_is_pushed_once_more(app, client, world):
    link_wechat(world.owner, "openid-announce-morning")
    night = datetime.combine(today(), time(23, 0), tzinfo=SHANGHAI)
    with time_machine.travel(night, tick=False):
        created = posted(client, world.committee, world.a)
        work(app)
        held = db.session.scalar(select(Delivery.deliver_after).join(Notification).join(Notice)
                                 .where(Notice.kind == ANNOUNCEMENT))
        assert held == datetime.combine(today() + timedelta(days=1), time(8, 0), tzinfo=SHANGHAI)
        assert told(f"announcement-{created['id']}-") == sorted(
            [(world.owner.id, Urgency.NORMAL), (world.tenant.id, Urgency.NORMAL)])
        url = f"/api/v1/announcements/{created['id']}"
        for _ in range(2):
            answer = client.patch(url, data={"urgent": "true"}, headers=headers(world.committee),
                                  content_type="multipart/form-data")
            assert answer.status_code == 200
        work(app)
    assert told(f"announcement-{created['id']}-") == sorted(
        [(world.owner.id, Urgency.NORMAL), (world.tenant.id, Urgency.NORMAL),
         (world.owner.id, Urgency.URGENT), (world.tenant.id, Urgency.URGENT)])


def test_a_notice_deleted_before_its_job_runs_reaches_nobody(app, client, world):
    created = posted(client, world.committee, world.a)
    deleted = client.delete(f"/api/v1/announcements/{created['id']}", headers=headers(world.committee))
    assert deleted.status_code == 204
    work(app)
    assert told("announcement-") == []


def test_a_deleted_notice_leaves_the_inboxes_it_reached(app, client, world):
    created = posted(client, world.committee, world.a, urgent="true")
    work(app)
    assert [person for person, _ in told(f"announcement-{created['id']}-")] == sorted([world.owner.id, world.tenant.id])
    assert client.get("/api/v1/me/notifications", headers=headers(world.owner)).get_json()["total"] == 1

    deleted = client.delete(f"/api/v1/announcements/{created['id']}", headers=headers(world.committee))

    assert deleted.status_code == 204
    for person in (world.owner, world.tenant):
        inbox = client.get("/api/v1/me/notifications", headers=headers(person)).get_json()
        assert (inbox["total"], inbox["items"]) == (0, [])


def test_the_list_costs_the_same_statements_for_two_notices_as_for_eight(client, count_queries, world):
    """No N+1: authors, photos, read counts and areas are each read once per page, whatever its length."""
    street_id = world.c.area.parent_id

    def statements() -> int:
        db.session.expire_all()
        with count_queries() as seen:
            response = client.get(f"/api/v1/compounds/{world.a.id}/announcements",
                                  headers=headers(world.committee))
        assert response.status_code == 200
        return len(seen)

    for author in (world.committee, world.manager):
        posted(client, author, world.a, photos=[samples.camera_jpeg(40, 30).upload()])
    client.post(f"/api/v1/areas/{street_id}/announcements", data=fields(title="街道通知"),
                headers=headers(world.street_official), content_type="multipart/form-data")
    few = statements()
    for author in (world.committee, world.secretary, world.manager, world.community_official):
        posted(client, author, world.a, photos=[samples.camera_jpeg(40, 30).upload()])
    client.post(f"/api/v1/areas/{street_id}/announcements", data=fields(title="又一条街道通知"),
                headers=headers(world.street_official), content_type="multipart/form-data")
    assert few == statements()
