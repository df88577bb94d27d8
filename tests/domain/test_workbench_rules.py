"""The rules behind the workbench's neighbours: call-button numbers, who may reveal a reporter's phone, the visit
window, and the one way a time span is written."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.domain.phones import InvalidPhone, normalize_contact_phone, tel_uri
from backend.domain.workorders import (
    Actor,
    HalfDay,
    WorkOrderRefused,
    check_reveal_phone,
    check_visit,
    format_duration,
    visit_label,
)


@pytest.mark.parametrize(("typed", "shown"), [
    ("13812341234", "13812341234"), ("+86 138 1234 1234", "13812341234"), ("0812-3334567", "0812-3334567"),
    ("（0812）3334567", "0812-3334567"), ("010 62345678", "010-62345678"), ("400 123 4567", "400-1234567"),
    ("８００１２３４５６７", "800-1234567"), ("", ""), ("  ", ""),
])
def test_contact_numbers_are_shown_one_way(typed, shown):
    assert normalize_contact_phone(typed) == shown


@pytest.mark.parametrize("typed", ["12345", "3334567", "0812-12345", "1381234123", "4001234", "+1 415 555 0100", "abc"])
def test_what_is_not_a_number_to_call_is_refused(typed):
    with pytest.raises(InvalidPhone):
        normalize_contact_phone(typed)


def test_a_tel_link_dials_digits_only():
    assert tel_uri("0812-3334567") == "tel:08123334567"


@pytest.mark.parametrize(("actors", "assigned", "allowed"), [
    ({Actor.MANAGER}, False, True), ({Actor.HANDLER}, True, True), ({Actor.HANDLER}, False, False),
    ({Actor.SUBMITTER}, False, False), ({Actor.OTHER}, False, False),
])
def test_only_the_assigned_staff_and_the_manager_reveal_a_phone(actors, assigned, allowed):
    if allowed:
        check_reveal_phone(actors, assigned_to_me=assigned)
    else:
        with pytest.raises(WorkOrderRefused):
            check_reveal_phone(actors, assigned_to_me=assigned)


TODAY = date(2026, 12, 31)


@pytest.mark.parametrize(("day", "half", "at_home", "ok"), [
    (None, None, False, True), (TODAY, HalfDay.MORNING, True, True), (TODAY + timedelta(days=30), HalfDay.AFTERNOON, True, True),
    (TODAY + timedelta(days=31), HalfDay.MORNING, True, False), (TODAY - timedelta(days=1), HalfDay.MORNING, True, False),
    (TODAY, None, True, False), (None, HalfDay.MORNING, True, False), (TODAY, HalfDay.MORNING, False, False),
])
def test_a_visit_is_booked_at_home_within_thirty_days(day, half, at_home, ok):
    if ok:
        check_visit(day, half, TODAY, at_home=at_home)
    else:
        with pytest.raises(WorkOrderRefused):
            check_visit(day, half, TODAY, at_home=at_home)


def test_a_visit_reads_as_a_day_and_its_half():
    assert visit_label(date(2027, 1, 8), HalfDay.MORNING) == "1月8日 上午"
    assert visit_label(None, None) == ""


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (20, "不到1分钟"), (45 * 60, "45分钟"), (3600, "1小时"), (9000, "2小时30分"), (72 * 3600, "72小时"),
])
def test_time_spans_are_written_one_way(seconds, text):
    assert format_duration(seconds) == text
