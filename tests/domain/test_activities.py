"""The activities' rules: who gets a place, when the check-in code works, what a screen offers, when the
day-before reminder is due, and volunteer hours (each activity once, per Beijing year)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import activities as rules
from backend.domain.activities import ActivityAction, ActivityStatus, SignupStatus, VolunteerService
from backend.shared.clock import SHANGHAI

# The rules take `now` as a value: any moment will do, so the run's own.
NOW = datetime.now(UTC).replace(microsecond=0)
START, END = NOW + timedelta(days=2), NOW + timedelta(days=2, hours=2)


def test_places_go_while_free_then_the_waiting_list():
    assert [rules.seat_for(n, 3) for n in range(5)] == [SignupStatus.CONFIRMED] * 3 + [SignupStatus.WAITING] * 2


@pytest.mark.parametrize(("starts", "ends", "message"), [
    (NOW, NOW + timedelta(hours=1), "活动开始时间须晚于现在"),
    (NOW + timedelta(days=367), NOW + timedelta(days=367, hours=1), "活动时间须在一年以内"),
    (START, START, "结束时间须晚于开始时间"),
    (START, START + timedelta(hours=12, minutes=1), "一次活动最长12小时"),
])
def test_times_that_do_not_hold_are_refused(starts, ends, message):
    with pytest.raises(rules.TimesRefusal, match=message):
        rules.check_times(starts, ends, NOW)
    rules.check_times(START, START + timedelta(hours=12), NOW)


def test_the_check_in_code_works_from_an_hour_before_the_start_to_the_end():
    assert not rules.checkin_open(START - timedelta(hours=1, seconds=1), START, END)
    assert rules.checkin_open(START - timedelta(hours=1), START, END)
    assert rules.checkin_open(END, START, END)
    assert not rules.checkin_open(END + timedelta(seconds=1), START, END)


def _actions(now=NOW, organises=False, joins=True, status=ActivityStatus.OPEN, mine=None, checked_in=False):
    return rules.allowed_actions(organises=organises, joins=joins, status=status, now=now, starts_at=START,
                                 ends_at=END, my_signup=mine, checked_in=checked_in)


def test_what_a_resident_is_offered_follows_their_sign_up_and_the_moment():
    assert _actions() == {ActivityAction.SIGN_UP}
    assert _actions(mine=SignupStatus.CANCELLED) == {ActivityAction.SIGN_UP}
    assert _actions(mine=SignupStatus.WAITING) == {ActivityAction.CANCEL_SIGNUP}
    during = START + timedelta(minutes=30)
    assert _actions(now=during, mine=SignupStatus.CONFIRMED) == {ActivityAction.CHECK_IN}
    assert _actions(now=during, checked_in=True) == set()
    assert _actions(joins=False) == set()
    assert _actions(status=ActivityStatus.CANCELLED, mine=SignupStatus.CONFIRMED) == set()


def test_an_organiser_cancels_before_the_start_and_reports_after_it():
    runs = {ActivityAction.VIEW_SIGNUPS, ActivityAction.PRINT_CHECKIN_POSTER, ActivityAction.RENEW_CHECKIN_CODE}
    assert _actions(organises=True, joins=False) == runs | {ActivityAction.CANCEL}
    assert _actions(now=END + timedelta(days=1), organises=True, joins=False) == runs | {ActivityAction.POST_REPORT}
    assert _actions(organises=True, joins=False, status=ActivityStatus.CANCELLED) == {ActivityAction.VIEW_SIGNUPS}


def test_the_reminder_is_due_the_day_before_for_those_who_signed_up_earlier():
    early = START - timedelta(days=3)
    assert not rules.reminder_due(START - timedelta(days=1, seconds=1), START, early)
    assert rules.reminder_due(START - timedelta(days=1), START, early)
    assert not rules.reminder_due(START, START, early)
    assert not rules.reminder_due(START - timedelta(hours=2), START, START - timedelta(hours=5))


def test_hours_are_shown_to_one_decimal_half_up():
    assert [rules.hours_label(m) for m in (0, 60, 90, 100, 3, 2, 720)] == ["0.0", "1.0", "1.5", "1.7", "0.1", "0.0",
                                                                          "12.0"]


def test_an_activity_counts_in_the_beijing_year_it_starts():
    year = NOW.astimezone(SHANGHAI).year
    new_years_eve = datetime(year, 12, 31, 23, 0, tzinfo=SHANGHAI).astimezone(UTC)  # 15:00 UTC, still this year there
    new_year = datetime(year + 1, 1, 1, 7, 0, tzinfo=SHANGHAI).astimezone(UTC)  # 23:00 UTC the day before
    services = [VolunteerService(1, new_years_eve, new_years_eve + timedelta(hours=1)),
                VolunteerService(2, new_year, new_year + timedelta(hours=2))]
    assert new_year.year == year
    assert rules.minutes_by_year(services) == {year: 60, year + 1: 120}


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
services = st.builds(
    lambda activity_id, start, minutes: VolunteerService(activity_id, start, start + timedelta(minutes=minutes)),
    st.integers(1, 30), moments, st.integers(1, 12 * 60),
)


@given(st.lists(services, max_size=40), st.randoms())
def test_hours_are_the_sum_of_the_activities_served_each_once(served, random):
    # Checking in twice (or the same activity listed again) adds nothing: the first record of an id stands.
    firsts: dict[int, VolunteerService] = {}
    for service in served:
        firsts.setdefault(service.activity_id, service)
    repeated = served + [random.choice(served) for _ in range(len(served))]
    expected: dict[int, int] = {}
    for service in firsts.values():
        year = service.starts_at.astimezone(SHANGHAI).year
        expected[year] = expected.get(year, 0) + (service.ends_at - service.starts_at) // timedelta(minutes=1)
    assert rules.minutes_by_year(repeated) == expected
    assert sum(rules.minutes_by_year(served).values()) == sum(rules.service_minutes(s) for s in firsts.values())
