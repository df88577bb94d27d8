"""Notification rules: quiet hours (22:00–08:00 Beijing time), push channels per person, recipient batches, which
kinds each role can receive, and someone's words inside a notice's sentence."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.notifications import (
    BINDING_DECISION,
    BINDING_REVIEW,
    DELIVERY_BATCH,
    FAN_OUT_BATCH,
    FEE_BILL,
    FEE_REMINDER,
    FOR_EVERYONE,
    KINDS,
    MEETING_REMINDER,
    RECIPIENT_ROLES,
    SURVEY_RECEIPT,
    SURVEY_REMINDER,
    TOPIC_DESK,
    TOPIC_UPDATE,
    VOTE_RECEIPT,
    VOTE_REMINDER,
    WORK_ORDER_ASSIGNED,
    WORK_ORDER_ESCALATED,
    WORK_ORDER_UPDATE,
    Channel,
    Urgency,
    batches,
    deliver_after,
    push_channels,
    quoted,
    receivable_kinds,
)
from backend.domain.roles import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 2)


def beijing(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def every_minute_of(day: date):
    start = beijing(day, 0)
    return [start + timedelta(minutes=m) for m in range(24 * 60)]


# ---- quiet hours -----------------------------------------------------------------------------------


def test_every_minute_of_a_day_outside_quiet_hours_pushes_at_once_and_inside_waits_for_eight():
    waited = 0
    for local in every_minute_of(DAY):
        now = local.astimezone(UTC)
        when = deliver_after(now, Urgency.NORMAL)
        assert when.tzinfo is not None and when.utcoffset() == timedelta(0)
        if time(8, 0) <= local.time() < time(22, 0):
            assert when == now, local
            continue
        waited += 1
        wake_day = DAY if local.time() < time(8, 0) else DAY + timedelta(days=1)
        assert when == beijing(wake_day, 8).astimezone(UTC), local
    # 22:00–23:59 and 00:00–07:59: ten hours of minutes
    assert waited == 10 * 60


def test_every_minute_of_a_day_an_urgent_push_goes_at_once():
    for local in every_minute_of(DAY):
        now = local.astimezone(UTC)
        assert deliver_after(now, Urgency.URGENT) == now


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (beijing(DAY, 7, 59), beijing(DAY, 8)),
        (beijing(DAY, 8), beijing(DAY, 8)),
        (beijing(DAY, 21, 59), beijing(DAY, 21, 59)),
        (beijing(DAY, 22), beijing(DAY + timedelta(days=1), 8)),
        (beijing(DAY, 23), beijing(DAY + timedelta(days=1), 8)),
        (beijing(DAY, 0), beijing(DAY, 8)),
        # the last night of a year wakes on the first morning of the next
        (beijing(date(2026, 12, 31), 23, 30), beijing(date(2027, 1, 1), 8)),
    ],
)
def test_quiet_hour_edges(local, expected):
    assert deliver_after(local.astimezone(UTC), Urgency.NORMAL) == expected


def test_a_notice_at_23_beijing_waits_until_midnight_utc():
    # 23:00 Beijing = 15:00 UTC; the push waits until 08:00 Beijing = 00:00 UTC next day
    assert deliver_after(datetime(2026, 11, 2, 15, 0, tzinfo=UTC), Urgency.NORMAL) == datetime(
        2026, 11, 3, 0, 0, tzinfo=UTC
    )


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(Urgency),
)
def test_a_push_never_goes_early_never_in_quiet_hours_and_waits_under_ten_hours(now, urgency):
    when = deliver_after(now, urgency)
    assert when.tzinfo is not None and when.utcoffset() == timedelta(0)
    assert now <= when < now + timedelta(hours=10)
    if urgency is Urgency.URGENT:
        assert when == now
    else:
        local = when.astimezone(SHANGHAI).time()
        assert time(8, 0) <= local < time(22, 0)
        assert when == now or local == time(8, 0)


# ---- channels --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "has_wechat", "has_phone", "kind_enabled"),
    list(itertools.product(Urgency, (True, False), (True, False), (True, False))),
)
def test_push_channels_for_every_combination(urgency, has_wechat, has_phone, kind_enabled):
    channels = push_channels(urgency, has_wechat, has_phone, kind_enabled)
    urgent = urgency is Urgency.URGENT
    expected = []
    if kind_enabled or urgent:
        expected = ([Channel.WECHAT] if has_wechat else []) + ([Channel.SMS] if urgent and has_phone else [])
    assert channels == expected


def test_sms_is_only_for_urgent_matters():
    assert push_channels(Urgency.NORMAL, has_wechat=False, has_phone=True, kind_enabled=True) == []
    assert push_channels(Urgency.URGENT, has_wechat=False, has_phone=True, kind_enabled=True) == [Channel.SMS]


def test_a_kind_turned_off_gets_no_push_unless_urgent():
    assert push_channels(Urgency.NORMAL, has_wechat=True, has_phone=True, kind_enabled=False) == []
    assert push_channels(Urgency.URGENT, has_wechat=True, has_phone=True, kind_enabled=False) == [
        Channel.WECHAT,
        Channel.SMS,
    ]


# ---- batches ---------------------------------------------------------------------------------------


@given(
    st.lists(st.integers(min_value=1, max_value=3000), max_size=2000), st.integers(min_value=1, max_value=600)
)
def test_batches_are_distinct_in_order_bounded_and_cover_the_input(ids, size):
    cut = list(batches(ids, size))
    flat = [uid for batch in cut for uid in batch]
    assert flat == list(dict.fromkeys(ids))  # distinct, first-seen order
    assert set(flat) == set(ids)
    assert all(1 <= len(batch) <= size for batch in cut)
    assert all(len(batch) == size for batch in cut[:-1])  # only the last one is short


def test_twenty_five_thousand_recipients_make_three_fan_out_batches():
    assert [len(batch) for batch in batches(range(1, 25_001), FAN_OUT_BATCH)] == [10_000, 10_000, 5000]


def test_a_delivery_batch_holds_500_pushes():
    assert [len(batch) for batch in batches(range(1, 1201), DELIVERY_BATCH)] == [500, 500, 200]


def test_no_recipients_make_no_batch():
    assert list(batches([], FAN_OUT_BATCH)) == []


# ---- who can receive which kind (the settings page lists only those) --------------------------------------


def test_someone_without_a_role_can_only_hear_about_their_binding_request():
    assert receivable_kinds([]) == [BINDING_DECISION]


def test_a_resident_sees_no_switch_for_staff_or_desk_work():
    kinds = receivable_kinds([Role.RESIDENT])

    assert {WORK_ORDER_ASSIGNED, WORK_ORDER_ESCALATED, BINDING_REVIEW, TOPIC_DESK} & set(kinds) == set()
    assert {BINDING_DECISION, WORK_ORDER_UPDATE, VOTE_REMINDER, VOTE_RECEIPT, SURVEY_RECEIPT, FEE_BILL,
            MEETING_REMINDER} <= set(kinds)


@pytest.mark.parametrize(
    ("role", "receives", "never"),
    [
        (Role.STAFF, {WORK_ORDER_ASSIGNED, WORK_ORDER_UPDATE, BINDING_REVIEW}, {FEE_BILL, VOTE_REMINDER, TOPIC_DESK}),
        (Role.MANAGER, {WORK_ORDER_ASSIGNED, WORK_ORDER_ESCALATED}, {BINDING_REVIEW, FEE_REMINDER}),
        (Role.COMMITTEE, {TOPIC_DESK, BINDING_REVIEW, WORK_ORDER_ESCALATED}, {WORK_ORDER_ASSIGNED, VOTE_RECEIPT}),
        (Role.OFFICIAL, {WORK_ORDER_ESCALATED, MEETING_REMINDER}, {FEE_BILL, TOPIC_DESK, WORK_ORDER_ASSIGNED}),
        (Role.EVALUATOR, {SURVEY_REMINDER}, {SURVEY_RECEIPT, TOPIC_UPDATE, MEETING_REMINDER}),
        # An admin member of a compound may verify households, and is asked to.
        (Role.ADMIN, {BINDING_REVIEW}, {FEE_BILL, VOTE_RECEIPT}),
    ],
)
def test_each_role_receives_its_own_kinds(role, receives, never):
    kinds = set(receivable_kinds([role]))
    assert receives <= kinds and not never & kinds and BINDING_DECISION in kinds


def test_several_roles_receive_the_union_in_the_settings_order():
    owner, staff = receivable_kinds([Role.OWNER]), receivable_kinds([Role.STAFF])
    both = receivable_kinds([Role.OWNER, Role.STAFF])

    assert set(both) == set(owner) | set(staff)
    assert both == [kind for kind in KINDS if kind in both]


def test_every_kind_names_who_receives_it():
    assert set(KINDS) == set(RECIPIENT_ROLES) | FOR_EVERYONE
    assert all(RECIPIENT_ROLES[kind] for kind in RECIPIENT_ROLES)


def test_a_kind_nobody_has_placed_yet_is_listed_for_everyone(monkeypatch):
    monkeypatch.setitem(KINDS, "parcel", "快递到件")
    assert receivable_kinds([])[-1] == "parcel"


@pytest.mark.parametrize(
    ("words", "sentence"),
    [("房号不符", "房号不符。"), ("房号不符。", "房号不符。"), (" 房号不符. ", "房号不符。"), ("真的吗？", "真的吗？")],
)
def test_someones_words_end_with_one_full_stop(words, sentence):
    assert quoted(words) == sentence
