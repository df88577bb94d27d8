"""The announcement rules: when a notice is current, which end dates and texts are taken, who may post, who may
change a compound's or an area's notice, what each may do, and the dedupe key of its notices."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.domain import announcements as rules
from backend.domain.announcements import (
    BODY_LIMIT,
    CATEGORY_LABELS,
    MAX_PHOTOS,
    TITLE_LIMIT,
    AnnouncementAction,
    AnnouncementRefused,
    Category,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.shared.clock import beijing_date, utcnow

DAY = timedelta(days=1)
POSTERS = {Role.COMMITTEE, Role.PARTY_SECRETARY, Role.MANAGER, Role.OFFICIAL, Role.ADMIN}


def test_every_category_has_its_chinese_label():
    assert [CATEGORY_LABELS[category] for category in Category] == ["停水停电", "施工", "缴费", "议事", "活动", "其他"]


def today() -> date:
    return beijing_date(utcnow())


@pytest.mark.parametrize(("days", "active"), [(None, True), (1, True), (0, True), (-1, False)])
def test_a_notice_is_current_to_the_end_of_its_end_date(days, active):
    ends_on = None if days is None else today() + days * DAY
    assert rules.is_active(ends_on, today()) is active


@pytest.mark.parametrize("days", [None, 0, 1, rules.MAX_DAYS_AHEAD])
def test_an_end_date_from_today_to_a_year_ahead_is_taken(days):
    rules.check_ends_on(None if days is None else today() + days * DAY, today())


@pytest.mark.parametrize(("days", "message"), [
    (-1, "结束日期不能早于今天"), (-3650, "结束日期不能早于今天"), (rules.MAX_DAYS_AHEAD + 1, "结束日期不能晚于一年以后"),
])
def test_an_end_date_in_the_past_or_too_far_ahead_is_refused_on_its_field(days, message):
    with pytest.raises(AnnouncementRefused) as refused:
        rules.check_ends_on(today() + days * DAY, today())
    assert (refused.value.kind, refused.value.message, refused.value.errors) == (
        Kind.INVALID, message, {"ends_on": [message]})


def test_an_ended_notice_keeps_its_end_date_when_corrected_but_cannot_be_moved_to_another_past_day():
    ended = today() - 3 * DAY
    rules.check_ends_on(ended, today(), current=ended)
    with pytest.raises(AnnouncementRefused):
        rules.check_ends_on(ended - DAY, today(), current=ended)


@pytest.mark.parametrize(("title", "body"), [("停水", "正文"), ("题" * TITLE_LIMIT, "文" * BODY_LIMIT)])
def test_a_title_and_body_within_the_limits_are_taken(title, body):
    rules.check_text(title, body)


@pytest.mark.parametrize(("title", "body", "errors"), [
    (" ", "正文", {"title": ["请填写标题"]}),
    ("停水", "\n", {"body": ["请填写正文"]}),
    ("题" * (TITLE_LIMIT + 1), "正文", {"title": [f"标题不能超过{TITLE_LIMIT}个字"]}),
    ("", "文" * (BODY_LIMIT + 1), {"title": ["请填写标题"], "body": [f"正文不能超过{BODY_LIMIT}个字"]}),
])
def test_a_missing_or_overlong_text_is_refused_on_its_fields(title, body, errors):
    with pytest.raises(AnnouncementRefused) as refused:
        rules.check_text(title, body)
    assert refused.value.errors == errors and refused.value.kind is Kind.INVALID


def test_at_most_six_photos():
    rules.check_photo_count(MAX_PHOTOS)
    with pytest.raises(AnnouncementRefused, match="最多上传6张照片"):
        rules.check_photo_count(MAX_PHOTOS + 1)


@pytest.mark.parametrize("role", list(Role))
def test_the_committee_secretary_manager_and_officials_post_and_no_one_else(role):
    assert rules.may_post(frozenset({role})) is (role in POSTERS)
    if role in POSTERS:
        rules.check_poster(frozenset({role}))
    else:
        with pytest.raises(AnnouncementRefused) as refused:
            rules.check_poster(frozenset({role}))
        assert refused.value.kind is Kind.FORBIDDEN


@pytest.mark.parametrize("role", list(Role))
def test_a_compounds_notice_is_changed_by_whoever_may_post_there_the_author_only_while_they_may(role):
    assert rules.may_manage(roles=frozenset({role}), area_post=False) is (role in POSTERS)


@pytest.mark.parametrize("role", list(Role))
def test_an_areas_notice_is_changed_by_those_over_the_area_only(role):
    assert rules.may_manage(roles=frozenset({role}), area_post=True) is (role in {Role.OFFICIAL, Role.ADMIN})


def test_nobody_without_a_role_changes_a_notice():
    assert rules.may_manage(roles=frozenset(), area_post=False) is False
    assert rules.may_manage(roles=frozenset(), area_post=True) is False


def test_those_who_change_a_notice_see_its_read_count_and_readers_do_nothing_with_it():
    assert rules.allowed_actions(manages=True) == {
        AnnouncementAction.EDIT, AnnouncementAction.DELETE, AnnouncementAction.VIEW_READS}
    assert rules.allowed_actions(manages=False) == frozenset()


def test_each_compound_and_urgency_has_its_own_dedupe_key():
    keys = {rules.dedupe_key(7, compound, urgent) for compound in (1, 2) for urgent in (False, True)}
    assert keys == {"announcement-7-1", "announcement-7-1-urgent", "announcement-7-2", "announcement-7-2-urgent"}
    assert rules.dedupe_key(7, 1, False) == rules.dedupe_key(7, 1, False)
