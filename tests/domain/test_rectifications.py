"""The rectification rules as tables: who may do what in which status, the status each action leads to, who
answers for which party, who may inspect, which escalation steps are due, the nearest checklist."""
from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.compounds import AreaLevel
from backend.domain.rectifications import (
    DEFAULT_CHECKLIST,
    ESCALATION_INTERVAL,
    EscalationStep,
    RectificationAction,
    RectificationRefused,
    RectificationStatus,
    ResponsibleParty,
    allowed_actions,
    answers_for,
    check_inspection,
    is_overdue,
    may_inspect,
    nearest_checklist,
    next_status,
    next_step,
    normalised_checklist,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Role

A = RectificationAction
S = RectificationStatus

# (status, party, inspector) → allowed actions
ALLOWED = [
    (S.OPEN, False, False, set()),
    (S.OPEN, True, False, {A.ANSWER}),
    (S.OPEN, False, True, {A.ADD_PHOTOS}),
    (S.OPEN, True, True, {A.ANSWER, A.ADD_PHOTOS}),
    (S.ANSWERED, False, False, set()),
    (S.ANSWERED, True, False, set()),
    (S.ANSWERED, False, True, {A.ACCEPT, A.RETURN}),
    (S.ANSWERED, True, True, {A.ACCEPT, A.RETURN}),
    (S.ACCEPTED, False, False, set()),
    (S.ACCEPTED, True, False, set()),
    (S.ACCEPTED, False, True, set()),
    (S.ACCEPTED, True, True, set()),
]


@pytest.mark.parametrize(("status", "party", "inspector", "expected"), ALLOWED)
def test_allowed_actions(status, party, inspector, expected):
    assert allowed_actions(status, party=party, inspector=inspector) == expected


NEXT = [
    (S.OPEN, A.ANSWER, S.ANSWERED),
    (S.ANSWERED, A.ACCEPT, S.ACCEPTED),
    (S.ANSWERED, A.RETURN, S.OPEN),
    (S.OPEN, A.ADD_PHOTOS, S.OPEN),
]


@pytest.mark.parametrize(("status", "action", "after"), NEXT)
def test_next_status(status, action, after):
    assert next_status(status, action, party=True, inspector=True) == after


@pytest.mark.parametrize(("status", "party", "inspector", "expected"), ALLOWED)
@pytest.mark.parametrize("action", list(A))
def test_a_refused_action_says_forbidden_to_the_wrong_person_and_conflict_at_the_wrong_time(
        status, party, inspector, expected, action):
    if action in expected:
        return
    with pytest.raises(RectificationRefused) as refused:
        next_status(status, action, party=party, inspector=inspector)
    may_ever = any(action in allowed_actions(each, party=party, inspector=inspector) for each in S)
    assert refused.value.kind is (Kind.CONFLICT if may_ever else Kind.FORBIDDEN)


ANSWERS = [
    (ResponsibleParty.COMPANY, {Role.MANAGER}, False, True),
    (ResponsibleParty.COMPANY, {Role.STAFF}, False, True),
    (ResponsibleParty.COMPANY, {Role.COMMITTEE}, False, False),
    (ResponsibleParty.COMPANY, {Role.OFFICIAL}, True, False),
    (ResponsibleParty.COMMITTEE, {Role.COMMITTEE}, False, True),
    (ResponsibleParty.COMMITTEE, {Role.PARTY_SECRETARY}, False, True),
    (ResponsibleParty.COMMITTEE, {Role.MANAGER}, False, False),
    (ResponsibleParty.COMMITTEE, {Role.OWNER}, False, False),
    (ResponsibleParty.COMMUNITY, {Role.OFFICIAL}, True, True),
    (ResponsibleParty.COMMUNITY, {Role.OFFICIAL}, False, False),
    (ResponsibleParty.COMMUNITY, {Role.MANAGER, Role.COMMITTEE}, False, False),
]


@pytest.mark.parametrize(("party", "roles", "community_official", "expected"), ANSWERS)
def test_who_answers_for_a_party(party, roles, community_official, expected):
    assert answers_for(party, frozenset(roles), community_official) is expected


@pytest.mark.parametrize(("levels", "admin", "expected"), [
    (set(), False, False),
    ({AreaLevel.COMMUNITY}, False, False),
    ({AreaLevel.STREET}, False, True),
    ({AreaLevel.DISTRICT}, False, True),
    ({AreaLevel.CITY}, False, True),
    ({AreaLevel.COMMUNITY, AreaLevel.STREET}, False, True),
    (set(), True, True),
])
def test_who_inspects(levels, admin, expected):
    assert may_inspect(levels, admin=admin) is expected


DEADLINE = date(2026, 3, 10)


P, T, D = EscalationStep.PARTY, EscalationStep.STREET, EscalationStep.DISTRICT
GAP = ESCALATION_INTERVAL.days


@pytest.mark.parametrize(("days_after", "last", "last_after", "expected"), [
    (-1, None, None, None),
    (0, None, None, None),
    (1, None, None, P),
    (400, None, None, P),
    # The street: ESCALATION_INTERVAL after the party's place in the schedule and after the party was told.
    (1 + GAP - 1, P, 1, None),
    (1 + GAP, P, 1, T),
    (1 + GAP, P, 2, None),
    (2 + GAP, P, 2, T),
    # Told late (an item returned long after its deadline): the next step waits its interval all the same.
    (13, P, 13, None),
    (13 + GAP - 1, P, 13, None),
    (13 + GAP, P, 13, T),
    (1 + 2 * GAP - 1, T, 1 + GAP, None),
    (1 + 2 * GAP, T, 1 + GAP, D),
    (400, D, 7, None),
])
def test_the_next_step_of_an_open_item(days_after, last, last_after, expected):
    last_on = DEADLINE + timedelta(days=last_after) if last_after is not None else None
    assert next_step(S.OPEN, DEADLINE, DEADLINE + timedelta(days=days_after), last, last_on) is expected


@given(st.sampled_from([S.ANSWERED, S.ACCEPTED]), st.integers(min_value=-10, max_value=400),
       st.sampled_from([None, *EscalationStep]))
def test_an_item_not_waiting_on_its_party_is_never_escalated(status, days_after, last):
    assert next_step(status, DEADLINE, DEADLINE + timedelta(days=days_after), last,
                     DEADLINE + timedelta(days=1) if last else None) is None


@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=30))
def test_steps_climb_one_at_a_time_and_never_closer_than_the_interval(sweep_days):
    """Whatever days the sweep runs on, each step follows the one before by ESCALATION_INTERVAL at least."""
    taken: list[tuple[EscalationStep, date]] = []
    for day in sorted(set(sweep_days)):
        on = DEADLINE + timedelta(days=day)
        step = next_step(S.OPEN, DEADLINE, on, *(taken[-1] if taken else (None, None)))
        if step is not None:
            taken.append((step, on))
    assert [step for step, _ in taken] == list(EscalationStep)[:len(taken)]
    assert all(later - earlier >= ESCALATION_INTERVAL for (_, earlier), (_, later) in pairwise(taken))


@pytest.mark.parametrize(("status", "days_after", "expected"), [
    (S.OPEN, 0, False), (S.OPEN, 1, True), (S.ANSWERED, 1, True), (S.ACCEPTED, 1, False),
])
def test_overdue(status, days_after, expected):
    assert is_overdue(status, DEADLINE, DEADLINE + timedelta(days=days_after)) is expected


def test_the_nearest_checklist_wins_and_else_the_default():
    assert nearest_checklist([9, 4, 1], {}) == DEFAULT_CHECKLIST
    assert nearest_checklist([9, 4, 1], {1: ["城市"], 4: ["街道"]}) == ("街道",)
    assert nearest_checklist([9, 4, 1], {1: ["城市"]}) == ("城市",)


@pytest.mark.parametrize(("items", "ok"), [
    ([], False), (["  "], False), (["a" * 21], False), ([str(n) for n in range(31)], False),
    ([" 消防 ", "消防", "电梯"], True),
])
def test_a_checklist_as_kept(items, ok):
    if ok:
        assert normalised_checklist(items) == ("消防", "电梯")
    else:
        with pytest.raises(RectificationRefused):
            normalised_checklist(items)


@pytest.mark.parametrize(("inspected", "checked", "finding_item", "deadline", "field"), [
    (1, ["消防"], "消防", 3, "inspected_on"),
    (0, ["游泳"], "游泳", 3, "items"),
    (0, ["消防"], "电梯", 3, "findings.0.item"),
    (0, ["消防"], "消防", -1, "findings.0.deadline"),
    (0, ["消防"], "消防", 367, "findings.0.deadline"),
    (0, ["消防"], "消防", 0, None),
    (-30, ["消防"], "消防", 366, None),
])
def test_an_inspection_as_recorded(inspected, checked, finding_item, deadline, field):
    today = DEADLINE
    args = (today + timedelta(days=inspected), today, checked, ["消防", "电梯"], [finding_item],
            [today + timedelta(days=deadline)])
    if field is None:
        check_inspection(*args)
        return
    with pytest.raises(RectificationRefused) as refused:
        check_inspection(*args)
    assert field in refused.value.errors
