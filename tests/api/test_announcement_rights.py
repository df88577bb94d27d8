"""Announcements (issue 15), as a reviewer probed them: who may change a notice once their role is gone, area posts and the
compounds below them, another compound's notice (404), QR visitors, and odd input (4xx, never 500)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Announcement, AnnouncementPhoto, Household, Membership
from tests import photo_samples as samples
from tests.api.test_announcements import (
    fields,
    headers,
    posted,
    world,  # noqa: F401  (fixture)
)
from tests.support import assert_error_shape


def patch(client, user, announcement_id, **form):
    return client.patch(f"/api/v1/announcements/{announcement_id}", data=form, headers=headers(user),
                        content_type="multipart/form-data")


def step_down(user, compound, household_id: int | None = None) -> None:
    """The person no longer holds their committee (or official) role; they may still live in the compound."""
    # Through the session, as every membership change must be: the sign-in cache hears of it.
    for membership in db.session.scalars(select(Membership).where(Membership.user_id == user.id)):
        db.session.delete(membership)
    if household_id is not None:
        db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role.OWNER,
                                  household_id=household_id, verified_at=db.func.now()))
    db.session.commit()


def a_home(compound) -> int:
    return db.session.scalar(select(Household.id).where(Household.compound_id == compound.id).order_by(Household.id)
                             .offset(2).limit(1))


# ---- who may change a notice ---------------------------------------------------------------------------------


def test_a_committee_member_who_stepped_down_but_lives_here_can_no_longer_edit_or_delete(client, world):  # noqa: F811
    notice = posted(client, world.committee, world.a)
    step_down(world.committee, world.a, household_id=a_home(world.a))

    shown = client.get(f"/api/v1/announcements/{notice['id']}", headers=headers(world.committee)).json
    edited = patch(client, world.committee, notice["id"], title="改过的标题")
    deleted = client.delete(f"/api/v1/announcements/{notice['id']}", headers=headers(world.committee))

    assert "edit" not in shown["actions"] and shown["read_count"] is None
    assert_error_shape(edited, 403)
    assert_error_shape(deleted, 403)
    db.session.expire_all()
    found = db.session.get(Announcement, notice["id"])
    assert (found.title, found.deleted_at) == (fields()["title"], None)


def test_an_official_who_left_the_area_but_lives_below_it_can_no_longer_change_the_area_post(client, world):  # noqa: F811
    response = client.post(f"/api/v1/areas/{world.a.area.parent_id}/announcements", data=fields(),
                           headers=headers(world.street_official), content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    notice = response.get_json()
    step_down(world.street_official, world.a, household_id=a_home(world.a))

    assert_error_shape(patch(client, world.street_official, notice["id"], title="改过的标题"), 403)
    assert_error_shape(client.delete(f"/api/v1/announcements/{notice['id']}",
                                     headers=headers(world.street_official)), 403)


def test_a_compounds_committee_and_manager_cannot_change_an_area_post(client, world):  # noqa: F811
    response = client.post(f"/api/v1/areas/{world.a.area.parent_id}/announcements", data=fields(),
                           headers=headers(world.street_official), content_type="multipart/form-data")
    notice = response.get_json()

    for user in (world.committee, world.secretary, world.manager):
        assert_error_shape(patch(client, user, notice["id"], title="改过的标题"), 403)
        assert_error_shape(client.delete(f"/api/v1/announcements/{notice['id']}", headers=headers(user)), 403)
    for user in (world.b_committee, world.b_owner):
        assert_error_shape(client.get(f"/api/v1/announcements/{notice['id']}", headers=headers(user)), 404)
        assert_error_shape(patch(client, user, notice["id"], title="改过的标题"), 404)
    # The community official below the street may not change the street's post either.
    assert_error_shape(patch(client, world.community_official, notice["id"], title="改过的标题"), 403)


def test_an_official_cannot_post_to_an_area_beside_theirs_or_a_compound_outside_it(client, world):  # noqa: F811
    beside = client.post(f"/api/v1/areas/{world.b.area_id}/announcements", data=fields(),
                         headers=headers(world.street_official), content_type="multipart/form-data")
    compound = client.post(f"/api/v1/compounds/{world.b.id}/announcements", data=fields(),
                           headers=headers(world.street_official), content_type="multipart/form-data")

    assert beside.status_code in (403, 404)
    assert_error_shape(compound, 404)
    assert db.session.scalar(select(db.func.count()).select_from(Announcement)) == 0


def test_a_qr_visitor_of_one_compound_does_not_read_anothers_notice(client, world):  # noqa: F811
    notice = posted(client, world.b_committee, world.b)

    response = client.get(f"/api/v1/announcements/{notice['id']}", headers=headers(entry=world.a))
    listed = client.get(f"/api/v1/compounds/{world.b.id}/announcements", headers=headers(entry=world.a))

    assert_error_shape(response, 404)
    assert_error_shape(listed, 404)


def test_removing_another_notices_photo_through_a_patch_leaves_it(client, world):  # noqa: F811
    mine = posted(client, world.committee, world.a)
    theirs = client.post(f"/api/v1/compounds/{world.b.id}/announcements",
                         data=fields() | {"photos": [samples.camera_jpeg(160, 120).upload()]},
                         headers=headers(world.b_committee), content_type="multipart/form-data").get_json()
    photo_id = theirs["photos"][0]["id"]

    response = patch(client, world.committee, mine["id"], remove_photo_ids=str(photo_id))

    assert response.status_code == 200, response.get_json()
    assert db.session.get(AnnouncementPhoto, photo_id) is not None
    assert_error_shape(client.get(f"/api/v1/announcements/{mine['id']}/photos/{photo_id}",
                                  headers=headers(world.committee)), 404)


# ---- odd input: 4xx, never 500 -------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [
    {"ends_on": "99999-01-01"}, {"ends_on": "0000-01-01"}, {"ends_on": "2026-02-30"}, {"ends_on": "9999-12-31"},
    {"pinned": "maybe"}, {"urgent": "2"}, {"category": "OUTAGE"}, {"title": "\x00"}, {"body": " "},
    {"photos": "not a file"}, {"title": "标" * 10_000},
], ids=lambda form: str(form)[:30])
def test_post_odd_fields_are_4xx(client, world, form):  # noqa: F811
    response = client.post(f"/api/v1/compounds/{world.a.id}/announcements", data=fields(**form),
                           headers=headers(world.committee), content_type="multipart/form-data")

    assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize("form", [
    {"remove_photo_ids": "abc"}, {"remove_photo_ids": "2147483648"}, {"remove_photo_ids": "-1"},
    {"ends_on": "99999-01-01"}, {"category": ""}, {"title": ""},
], ids=lambda form: str(form)[:30])
def test_patch_odd_fields_are_4xx(client, world, form):  # noqa: F811
    notice = posted(client, world.committee, world.a)

    response = patch(client, world.committee, notice["id"], **form)

    assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize("query", ["page=0", "page=99999999999", "page_size=0", "page_size=100000",
                                   "include_ended=maybe", "page=1e3"])
def test_list_odd_queries_are_4xx_or_empty(client, world, query):  # noqa: F811
    response = client.get(f"/api/v1/compounds/{world.a.id}/announcements?{query}", headers=headers(world.owner))

    assert response.status_code in (200, 422), response.status_code


def test_json_instead_of_multipart_is_4xx(client, world):  # noqa: F811
    response = client.post(f"/api/v1/compounds/{world.a.id}/announcements", json=fields(),
                           headers=headers(world.committee))

    assert 400 <= response.status_code < 500, response.status_code


# ---- the post page's scope ------------------------------------------------------------------------------------


@pytest.fixture
def browser(app, page_sign_in):  # noqa: F811
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


@pytest.mark.parametrize("scope", ["area:9999999999", "area:2147483648"])
def test_an_area_scope_out_of_range_is_refused_not_posted_to_the_compound(world, browser, scope):  # noqa: F811
    page = browser(world.street_official)

    response = page.post(f"/h5/c/{world.a.code}/announcements/new",
                         data=fields(scope=scope) | {"csrf_token": page.csrf})

    assert 400 <= response.status_code < 500, response.status_code
    assert db.session.scalar(select(db.func.count()).select_from(Announcement)) == 0


def test_a_committee_cannot_post_to_its_street_through_the_page(world, browser):  # noqa: F811
    page = browser(world.committee)

    response = page.post(f"/h5/c/{world.a.code}/announcements/new",
                         data=fields(scope=f"area:{world.a.area.parent_id}") | {"csrf_token": page.csrf})

    assert response.status_code in (403, 404), response.status_code
    assert db.session.scalar(select(db.func.count()).select_from(Announcement)) == 0


def test_the_post_page_without_a_photo_chosen_posts(world, browser):  # noqa: F811
    """A form without JavaScript sends its empty file input as a part with no filename and no bytes."""
    page = browser(world.committee)

    response = page.post(f"/h5/c/{world.a.code}/announcements/new", content_type="multipart/form-data",
                         data=fields() | {"csrf_token": page.csrf, "photos": (io.BytesIO(b""), "")})

    assert response.status_code == 302, response.status_code
    assert db.session.scalar(select(db.func.count()).select_from(AnnouncementPhoto)) == 0


@pytest.mark.parametrize("photos", [
    [(io.BytesIO(b""), "")], [(io.BytesIO(b"hello"), "a.txt", "text/plain")], [(io.BytesIO(b"\xff\xd8\xff"), "a.jpg")],
], ids=["empty part", "text file", "truncated jpeg"])
def test_odd_photo_parts_are_4xx_or_ignored(client, world, photos):  # noqa: F811
    response = client.post(f"/api/v1/compounds/{world.a.id}/announcements", data=fields() | {"photos": photos},
                           headers=headers(world.committee), content_type="multipart/form-data")

    assert response.status_code in (201, 400, 413, 415, 422), response.status_code


def test_a_field_sent_twice_is_4xx_or_one_of_them(client, world):  # noqa: F811
    response = client.post(f"/api/v1/compounds/{world.a.id}/announcements",
                           data=MultiDict([*fields().items(), ("title", "第二个标题")]), headers=headers(world.committee),
                           content_type="multipart/form-data")

    assert response.status_code in (201, 422), response.status_code
