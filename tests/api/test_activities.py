"""党建+ activities through the API: who organises, signing up with a waiting list and the promotion a cancellation
brings (told to the promoted), check-in by QR code once, volunteer hours from check-ins (each activity once), the
photo report, the day-before reminder once, the compound home's 社区活动, and another compound's activity unseen."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select

from backend.domain.activities import beijing_year
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.activities import send_reminders
from backend.models import Activity, Compound, Notice, Notification, User
from backend.services import activities as service
from backend.services.queueing import QUEUES
from backend.shared.clock import utcnow
from tests import photo_samples as samples
from tests.presenters.two_doors import api_headers
from tests.support import assert_error_shape, first_household

HOUR = timedelta(hours=1)


@dataclass
class World:
    compound: Compound
    committee: User
    secretary: User
    official: User
    residents: list[User]
    stranger: User  # the committee of another compound


@pytest.fixture
def world(area_tree, make_compound, make_user) -> World:
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=4)
    home = first_household(compound)
    return World(
        compound=compound,
        committee=make_user(Role.COMMITTEE, compound),
        secretary=make_user(Role.PARTY_SECRETARY, compound),
        official=make_user(Role.OFFICIAL, area=community),
        residents=[make_user(Role.OWNER, compound, household=home) for _ in range(4)],
        stranger=make_user(Role.COMMITTEE, make_compound()),
    )


def body(starts_in: timedelta = timedelta(days=3), hours: int = 2, capacity: int = 2, **changes) -> dict:
    starts = utcnow() + starts_in
    return {"kind": "clinic", "title": "义诊进小区", "description": "测血压", "starts_at": starts.isoformat(),
            "ends_at": (starts + hours * HOUR).isoformat(), "place": "党群服务站", "organiser": "社区卫生服务中心",
            "capacity": capacity} | changes


def organise(client, world: World, **kwargs) -> dict:
    response = client.post(f"/api/v1/compounds/{world.compound.id}/activities", json=body(**kwargs),
                           headers=api_headers(world.secretary))
    assert response.status_code == 201, response.json
    return response.json


def sign_up(client, user: User, activity_id: int, volunteer: bool = False):
    return client.put(f"/api/v1/activities/{activity_id}/signup", json={"as_volunteer": volunteer},
                      headers=api_headers(user))


def work(app) -> None:
    """Run the queued jobs (the notices' fan-out) here, as the worker would."""
    redis_conn = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn).work(
        burst=True, logging_level="WARNING")


def inbox_titles(user: User) -> list[str]:
    return list(db.session.scalars(select(Notice.title).join(Notification, Notification.notice_id == Notice.id)
                                   .where(Notification.user_id == user.id).order_by(Notification.id)))


def token_of(activity_id: int) -> str:
    return service.make_checkin_token(db.session.get(Activity, activity_id))


def test_the_party_secretary_committee_and_officials_organise_residents_may_not(client, world):
    for organiser in (world.secretary, world.committee, world.official):
        response = client.post(f"/api/v1/compounds/{world.compound.id}/activities", json=body(),
                               headers=api_headers(organiser))
        assert response.status_code == 201, response.json
    assert_error_shape(client.post(f"/api/v1/compounds/{world.compound.id}/activities", json=body(),
                                   headers=api_headers(world.residents[0])), 403)
    assert_error_shape(client.post(f"/api/v1/compounds/{world.compound.id}/activities", json=body(),
                                   headers=api_headers(world.stranger)), 404)
    for bad in (body(hours=0), body(hours=13), body(capacity=0), body(starts_in=-HOUR), body(kind="party")):
        assert_error_shape(client.post(f"/api/v1/compounds/{world.compound.id}/activities", json=bad,
                                       headers=api_headers(world.secretary)), 422)
    listing = client.get(f"/api/v1/compounds/{world.compound.id}/activities", headers=api_headers(world.residents[0]))
    assert listing.json["total"] == 3 and listing.json["actions"] == []


def test_another_compounds_activity_is_not_found(client, world):
    activity = organise(client, world)
    stranger = api_headers(world.stranger)
    for method, path in (("GET", ""), ("PUT", "/signup"), ("DELETE", "/signup"), ("GET", "/signups"),
                         ("POST", "/cancellation"), ("GET", "/checkin-qr.png")):
        json = {"as_volunteer": False} if method == "PUT" else None
        assert_error_shape(client.open(f"/api/v1/activities/{activity['id']}{path}", method=method, json=json,
                                       headers=stranger), 404)
    assert_error_shape(client.get(f"/api/v1/compounds/{world.compound.id}/volunteer-hours", headers=stranger), 404)
    assert_error_shape(client.get("/api/v1/activities/2147483648", headers=stranger), 404)


def test_a_full_activity_puts_people_on_the_waiting_list_and_a_cancellation_promotes_the_first(app, client, world):
    activity = organise(client, world, capacity=2)
    first, second, third, fourth = world.residents
    answers = [sign_up(client, person, activity["id"]).json for person in (first, second, third, fourth)]
    assert [(a["status"], a["waiting_position"]) for a in answers] == [
        ("confirmed", None), ("confirmed", None), ("waiting", 1), ("waiting", 2)]
    # Signing up again changes only whether one comes to help, never the place.
    assert sign_up(client, third, activity["id"], volunteer=True).json["status"] == "waiting"

    cancelled = client.delete(f"/api/v1/activities/{activity['id']}/signup", headers=api_headers(second))
    assert cancelled.json["status"] == "cancelled"
    detail = client.get(f"/api/v1/activities/{activity['id']}", headers=api_headers(third)).json
    assert detail["my_signup"] == {"status": "confirmed", "status_label": "已报名", "as_volunteer": True,
                                   "waiting_position": None}
    assert (detail["confirmed_count"], detail["waiting_count"]) == (2, 1)
    signups = client.get(f"/api/v1/activities/{activity['id']}/signups", headers=api_headers(world.secretary)).json
    assert [(line["user_id"], line["status"]) for line in signups] == [
        (first.id, "confirmed"), (third.id, "confirmed"), (fourth.id, "waiting"), (second.id, "cancelled")]
    assert_error_shape(client.get(f"/api/v1/activities/{activity['id']}/signups", headers=api_headers(first)), 403)
    # Back again: at the end of the waiting list.
    assert sign_up(client, second, activity["id"]).json["waiting_position"] == 2
    work(app)
    assert inbox_titles(third) == ["候补成功：义诊进小区"]
    assert inbox_titles(fourth) == []


def test_check_in_by_qr_counts_volunteer_hours_once_per_activity(client, world):
    volunteer, helper_not, walk_in = world.residents[:3]
    two_hours = organise(client, world, starts_in=timedelta(days=1), hours=2, capacity=5)
    ninety_minutes = organise(client, world, starts_in=timedelta(days=2), hours=1, capacity=5, title="助老探访")
    for activity in (two_hours, ninety_minutes):
        sign_up(client, volunteer, activity["id"], volunteer=True)
    sign_up(client, helper_not, two_hours["id"])
    path = f"/api/v1/activities/{two_hours['id']}/checkin"

    # Before the window opens: refused, nothing recorded.
    assert_error_shape(client.post(path, json={"token": token_of(two_hours["id"])}, headers=api_headers(volunteer)),
                       409)
    with time_machine.travel(utcnow() + timedelta(days=1, minutes=10)):
        assert_error_shape(client.post(path, json={"token": token_of(ninety_minutes["id"])},
                                       headers=api_headers(volunteer)), 403)
        assert_error_shape(client.post(path, json={"token": "forged"}, headers=api_headers(volunteer)), 403)
        first = client.post(path, json={"token": token_of(two_hours["id"])}, headers=api_headers(volunteer)).json
        again = client.post(path, json={"token": token_of(two_hours["id"])}, headers=api_headers(volunteer)).json
        assert (first["message"], first["as_volunteer"], again["message"]) == ("签到成功", True, "已签到")
        assert again["checked_in_at"] == first["checked_in_at"]
        for person in (helper_not, walk_in):
            assert client.post(path, json={"token": token_of(two_hours["id"])},
                               headers=api_headers(person)).json["as_volunteer"] is False
        # A poster photographed and shared: the organiser voids it; the old code no longer checks anyone in.
        old_token, late = token_of(two_hours["id"]), world.residents[3]
        renewed = client.post(f"/api/v1/activities/{two_hours['id']}/checkin-qr/renew",
                              headers=api_headers(world.committee))
        assert renewed.status_code == 200 and renewed.json["checkin_count"] == 3
        assert_error_shape(client.post(path, json={"token": old_token}, headers=api_headers(late)), 403)
        assert client.post(path, json={"token": token_of(two_hours["id"])}, headers=api_headers(late)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=2, minutes=30)):
        client.post(f"/api/v1/activities/{ninety_minutes['id']}/checkin",
                    json={"token": token_of(ninety_minutes["id"])}, headers=api_headers(volunteer))
    # Each activity counts in the Beijing year it starts in (the run's clock may stand at a year's end).
    years = {beijing_year(datetime.fromisoformat(a["starts_at"])) for a in (two_hours, ninety_minutes)}
    records = [client.get(f"/api/v1/me/volunteer-hours?year={year}", headers=api_headers(volunteer)).json
               for year in years]
    totals = [client.get(f"/api/v1/compounds/{world.compound.id}/volunteer-hours?year={year}",
                         headers=api_headers(world.committee)).json for year in years]
    # The hours are the sum of the checked-in activities, each once: 2 h + 1 h, the second check-in adding nothing.
    assert sum(record["total_minutes"] for record in records) == 180
    assert sorted(line["minutes"] for record in records for line in record["lines"]) == [60, 120]
    assert all(record["total_minutes"] == sum(line["minutes"] for line in record["lines"]) for record in records)
    assert [[(t["user_id"], t["minutes"]) for t in total["items"]] for total in totals] == [
        [(volunteer.id, record["total_minutes"])] for record in records]
    assert client.get("/api/v1/me/volunteer-hours", headers=api_headers(helper_not)).json["total_minutes"] == 0
    assert_error_shape(client.get(f"/api/v1/compounds/{world.compound.id}/volunteer-hours",
                                  headers=api_headers(volunteer)), 403)
    assert_error_shape(client.get("/api/v1/me/volunteer-hours?year=1999", headers=api_headers(volunteer)), 422)


def test_the_report_with_photos_comes_after_the_start_from_the_organisers(client, world):
    activity = organise(client, world, starts_in=timedelta(days=1))
    url = f"/api/v1/activities/{activity['id']}/report"

    def post(user):
        return client.post(url, data={"report": "为60位老人测了血压", "photos": [samples.camera_jpeg(160, 120).upload()]},
                           headers=api_headers(user), content_type="multipart/form-data")

    assert_error_shape(post(world.secretary), 409)
    with time_machine.travel(utcnow() + timedelta(days=1, hours=3)):
        assert_error_shape(post(world.residents[0]), 403)
        assert_error_shape(post(world.stranger), 404)
        reported = post(world.committee)
        assert reported.status_code == 200, reported.json
        [photo] = reported.json["photos"]
        assert reported.json["report"] == "为60位老人测了血压"
        picture = client.get(photo["url"], headers=api_headers(world.residents[0]))
        assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
        assert_error_shape(client.get(photo["url"], headers=api_headers(world.stranger)), 404)


@pytest.mark.calendar
def test_confirmed_sign_ups_are_reminded_the_day_before_once(app, client, world):
    early, waiting, late = world.residents[:3]
    activity = organise(client, world, starts_in=timedelta(days=3), capacity=1)
    sign_up(client, early, activity["id"])
    sign_up(client, waiting, activity["id"])
    with time_machine.travel(utcnow() + timedelta(days=1)):
        assert send_reminders() == 0
    with time_machine.travel(utcnow() + timedelta(days=2, hours=1)):
        client.delete(f"/api/v1/activities/{activity['id']}/signup", headers=api_headers(early))
        sign_up(client, late, activity["id"])  # within the day: on the waiting list, never reminded
        # The waiting one took the place within the day, but signed up before it: reminded once, however often.
        assert send_reminders() == 1
        assert send_reminders() == 0
    work(app)
    assert inbox_titles(waiting) == ["候补成功：义诊进小区", "活动提醒：义诊进小区"]
    assert inbox_titles(early) == [] and inbox_titles(late) == []


def test_cancelling_an_activity_tells_everyone_signed_up(app, client, world):
    activity = organise(client, world, capacity=1)
    for person in world.residents[:2]:
        sign_up(client, person, activity["id"])
    cancelled = client.post(f"/api/v1/activities/{activity['id']}/cancellation", headers=api_headers(world.secretary))
    assert cancelled.json["status"] == "cancelled" and cancelled.json["actions"] == ["view_signups"]
    assert_error_shape(sign_up(client, world.residents[2], activity["id"]), 409)
    work(app)
    assert [inbox_titles(person) for person in world.residents[:3]] == [["活动“义诊进小区”已取消"]] * 2 + [[]]
