"""The 治理骨干 roster's rules: the states and who moves them, building heads, what a resident may apply as, and
the skills tags."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.backbones import (
    MAX_SKILLS,
    SELF_KINDS,
    SKILL_LIMIT,
    BackboneAction,
    BackboneKind,
    BackboneRefused,
    BackboneStatus,
    check_building,
    check_self_kind,
    keeper_actions,
    next_status,
    skills_of,
)
from backend.domain.refusals import Kind

MOVES = {
    (BackboneStatus.PENDING, BackboneAction.CONFIRM): BackboneStatus.ACTIVE,
    (BackboneStatus.PENDING, BackboneAction.DECLINE): BackboneStatus.DECLINED,
    (BackboneStatus.ACTIVE, BackboneAction.END): BackboneStatus.ENDED,
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(BackboneStatus, BackboneAction)))
def test_each_step_moves_only_from_its_state_and_the_actions_offered_are_exactly_those(status, action):
    if (status, action) in MOVES:
        assert next_status(status, action) is MOVES[status, action]
    else:
        with pytest.raises(BackboneRefused) as refused:
            next_status(status, action)
        assert refused.value.kind is Kind.CONFLICT
    assert (action in keeper_actions(status, keeps=True)) is ((status, action) in MOVES)
    assert keeper_actions(status, keeps=False) == frozenset()


def test_ended_and_declined_entries_are_history_nothing_moves_them():
    for status in (BackboneStatus.ENDED, BackboneStatus.DECLINED):
        assert keeper_actions(status, keeps=True) == frozenset()


@pytest.mark.parametrize("kind", list(BackboneKind))
def test_only_a_building_head_must_name_a_building(kind):
    check_building(kind, 7)
    if kind is BackboneKind.BUILDING_HEAD:
        with pytest.raises(BackboneRefused) as refused:
            check_building(kind, None)
        assert refused.value.kind is Kind.INVALID and "building_id" in refused.value.errors
    else:
        check_building(kind, None)


@pytest.mark.parametrize("kind", list(BackboneKind))
def test_a_resident_applies_as_volunteer_capable_or_party_member_only(kind):
    if kind in SELF_KINDS:
        check_self_kind(kind)
    else:
        with pytest.raises(BackboneRefused):
            check_self_kind(kind)


def test_a_form_text_of_skills_is_split_trimmed_and_each_kept_once_in_order():
    assert skills_of(" 水电维修，调解、书法  水电维修;理发 ") == ["水电维修", "调解", "书法", "理发"]
    assert skills_of("") == []
    # A list (the API's) is taken as given: a tag may hold a space.
    assert skills_of(["陪伴 老人", " 理发 ", "理发", ""]) == ["陪伴 老人", "理发"]


def test_too_many_or_too_long_skills_are_refused_not_cut():
    with pytest.raises(BackboneRefused) as refused:
        skills_of("、".join(f"技能{n}" for n in range(MAX_SKILLS + 1)))
    assert "skills" in refused.value.errors
    with pytest.raises(BackboneRefused):
        skills_of(["长" * (SKILL_LIMIT + 1)])


TAGS = ["水电", "调解", " 书法 ", "", "  ", "陪伴老人", "书法", "理发" * 6, "理发" * 7, "心理 疏导"]


@given(st.lists(st.sampled_from(TAGS), max_size=10))
def test_kept_skills_are_never_blank_never_repeated_and_within_the_limits(raw):
    try:
        tags = skills_of(raw)
    except BackboneRefused:
        return
    assert len(tags) == len(set(tags)) <= MAX_SKILLS
    assert all(tag and tag == tag.strip() and len(tag) <= SKILL_LIMIT for tag in tags)
