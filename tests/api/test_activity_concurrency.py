"""Activity places under concurrency, on PostgreSQL with committed data: thirty people signing up at once for twenty
places leave exactly twenty confirmed and ten waiting, in the order they came; a cancellation promotes the first
waiting, once; a volunteer's check-in and cancellation at the same moment never leave hours for a place given up."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.activities import ActivityKind, SignupStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import ActivityCheckin, ActivitySignup, Household
from backend.services import activities as service
from backend.shared.clock import utcnow
from tests.presenters.two_doors import api_headers
from tests.support import race

PEOPLE, PLACES = 30, 20
VOLUNTEERS = 12


@pytest.mark.postgresql
@pytest.mark.live
def test_thirty_sign_ups_for_twenty_places_leave_twenty_confirmed_and_ten_waiting(app, make_compound, make_user):
    compound = make_compound(buildings=2, households_per_building=PEOPLE // 2)
    secretary = make_user(Role.PARTY_SECRETARY, compound)
    homes = db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()
    people = [make_user(Role.RESIDENT, compound, household=home) for home in homes]
    starts = utcnow() + timedelta(days=2)
    activity = service.create_activity(
        compound_id=compound.id, creator_id=secretary.id, kind=ActivityKind.CLINIC, title="义诊", description="",
        starts_at=starts, ends_at=starts + timedelta(hours=2), place="党群服务站", organiser="社区", capacity=PLACES,
    )
    activity_id = activity.id
    requests = [("PUT", f"/api/v1/activities/{activity_id}/signup", api_headers(person), {"as_volunteer": False})
                for person in people]
    db.session.remove()

    answers = race(app, requests)
    assert [status for status, _ in answers] == [200] * PEOPLE, answers
    assert Counter(body["status"] for _, body in answers) == {"confirmed": PLACES, "waiting": PEOPLE - PLACES}
    rows = db.session.scalars(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)).all()
    assert Counter(row.status for row in rows) == {SignupStatus.CONFIRMED: PLACES, SignupStatus.WAITING: PEOPLE - PLACES}
    # Every place was counted under the lock: no one waits who signed up before someone confirmed.
    confirmed = [row for row in rows if row.status is SignupStatus.CONFIRMED]
    waiting = sorted((row for row in rows if row.status is SignupStatus.WAITING), key=lambda r: (r.signed_up_at, r.id))
    assert max(row.signed_up_at for row in confirmed) <= waiting[0].signed_up_at
    # The waiting list answers each its place, 1 to 10.
    assert sorted(body["waiting_position"] for _, body in answers if body["status"] == "waiting") == list(
        range(1, PEOPLE - PLACES + 1))

    # Two confirmed people cancel at once: the first two waiting take their places, nobody else.
    leaving = [confirmed[0].user_id, confirmed[1].user_id]
    by_id = {person.id: person for person in people}
    db.session.remove()
    answers = race(app, [("DELETE", f"/api/v1/activities/{activity_id}/signup", api_headers(by_id[user_id]), None)
                         for user_id in leaving])
    assert [status for status, _ in answers] == [200, 200]
    after = {row.user_id: row.status for row in db.session.scalars(
        select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)).all()}
    assert Counter(after.values()) == {SignupStatus.CONFIRMED: PLACES, SignupStatus.WAITING: PEOPLE - PLACES - 2,
                                       SignupStatus.CANCELLED: 2}
    assert [after[row.user_id] for row in waiting] == [SignupStatus.CONFIRMED] * 2 + [SignupStatus.WAITING] * 8


@pytest.mark.postgresql
@pytest.mark.live
def test_a_volunteer_checking_in_while_cancelling_never_keeps_hours_for_a_place_given_up(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=VOLUNTEERS)
    secretary = make_user(Role.PARTY_SECRETARY, compound)
    homes = db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()
    people = [make_user(Role.RESIDENT, compound, household=home) for home in homes]
    # Half an hour before the start: check-in is open and so is cancelling.
    starts = utcnow() + timedelta(minutes=30)
    activity = service.create_activity(
        compound_id=compound.id, creator_id=secretary.id, kind=ActivityKind.CLEANING, title="清洁家园", description="",
        starts_at=starts, ends_at=starts + timedelta(hours=2), place="小区广场", organiser="党支部", capacity=VOLUNTEERS,
    )
    for person in people:
        service.sign_up(activity.id, person.id, as_volunteer=True)
    activity_id, token = activity.id, service.make_checkin_token(activity)
    requests = [request for person in people for request in (
        ("POST", f"/api/v1/activities/{activity_id}/checkin", api_headers(person), {"token": token}),
        ("DELETE", f"/api/v1/activities/{activity_id}/signup", api_headers(person), None))]
    db.session.remove()

    answers = race(app, requests)
    assert all(status in (200, 201, 409) for status, _ in answers), answers
    signups = {row.user_id: row.status for row in db.session.scalars(
        select(ActivitySignup).where(ActivitySignup.activity_id == activity_id))}
    volunteers = set(db.session.scalars(select(ActivityCheckin.user_id).where(
        ActivityCheckin.activity_id == activity_id, ActivityCheckin.as_volunteer.is_(True))))
    # Each person either checked in as a volunteer and kept the place, or gave it up and counts no hours.
    assert all(signups[user_id] is SignupStatus.CONFIRMED for user_id in volunteers)
    assert all(user_id in volunteers or status is SignupStatus.CANCELLED for user_id, status in signups.items())
