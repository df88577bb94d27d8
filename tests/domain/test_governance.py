"""Governance rules as tables: coverage arithmetic in basis points, the term-end reminder's days, who sends a first
secretary, what a change is, and when a month's log can still be edited."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.compounds import AreaLevel, GovernanceBody, PartyOrgForm
from backend.domain.governance import (
    GovernanceState,
    basis_points,
    changed_fields,
    coverage,
    log_editable,
    may_assign_first_secretary,
    normalized,
    problems,
    term_end_reminder_step,
)

TERM_END = date(2027, 6, 30)


@pytest.mark.parametrize(("part", "whole", "expected"), [
    (0, 0, 0), (0, 5, 0), (5, 5, 10_000), (1, 3, 3333), (2, 3, 6667), (1, 8, 1250), (1, 6, 1667),
    # Half a basis point rounds up: 1/16000 = 0.625 bp → 1; 1/40000 = 0.25 bp → 0; 1/20000 = 0.5 bp → 1.
    (1, 16_000, 1), (1, 40_000, 0), (1, 20_000, 1),
])
def test_basis_points_round_half_up(part, whole, expected):
    assert basis_points(part, whole) == expected


@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_basis_points_are_within_half_a_point_of_the_exact_share(part, whole):
    part = min(part, whole)
    assert abs(basis_points(part, whole) * whole - part * 10_000) * 2 <= whole


def test_coverage_lists_every_form_and_body_and_the_headline_shares():
    figures = coverage([(PartyOrgForm.SINGLE, GovernanceBody.NONE, 2), (PartyOrgForm.NONE, GovernanceBody.NONE, 1),
                        (PartyOrgForm.GRID, GovernanceBody.OWNERS_COMMITTEE, 1)])
    assert figures.compounds == 4
    assert [(line.value, line.count, line.basis_points) for line in figures.party_forms] == [
        ("single", 2, 5000), ("joint", 0, 0), ("grid", 1, 2500), ("none", 1, 2500)]
    assert [(line.label, line.count) for line in figures.bodies] == [
        ("业主大会+业委会", 1), ("物管委", 0), ("自管委", 0), ("无", 3)]
    assert (figures.with_party_org.count, figures.with_party_org.basis_points) == (3, 7500)
    assert (figures.with_body.count, figures.with_body.basis_points) == (1, 2500)


def test_coverage_of_no_compounds_is_all_zero():
    figures = coverage([])
    assert figures.compounds == 0 and {line.basis_points for line in figures.party_forms + figures.bodies} == {0}


@pytest.mark.parametrize(("days_left", "step"), [
    (120, None), (91, None), (90, 90), (89, 90), (31, 90), (30, 30), (1, 30), (0, 30), (-1, None),
])
def test_term_end_reminder_step_by_days_left(days_left, step):
    assert term_end_reminder_step(TERM_END - timedelta(days=days_left), TERM_END) == step


def test_no_term_end_no_reminder():
    assert term_end_reminder_step(TERM_END, None) is None


@pytest.mark.parametrize(("levels", "admin", "may"), [
    ([AreaLevel.DISTRICT], False, True),
    ([AreaLevel.CITY], False, True),
    ([AreaLevel.STREET], False, False),
    ([AreaLevel.COMMUNITY], False, False),
    ([AreaLevel.COMMUNITY, AreaLevel.DISTRICT], False, True),
    ([], False, False),
    ([], True, True),
])
def test_who_sends_a_first_secretary(levels, admin, may):
    assert may_assign_first_secretary(levels, admin) is may


def test_setting_a_form_to_none_clears_its_details():
    state = GovernanceState(PartyOrgForm.SINGLE, "王书记", 12, GovernanceBody.SELF_COMMITTEE, TERM_END,
                            TERM_END + timedelta(days=1000), 5)
    cleared = normalized(state.replaced({"party_org_form": PartyOrgForm.NONE, "body": GovernanceBody.NONE}))
    assert cleared == GovernanceState()
    assert changed_fields(state, cleared) == list(GovernanceState.__dataclass_fields__)


@pytest.mark.parametrize(("changes", "field"), [
    ({"party_members": -1}, "party_members"),
    ({"body_members": 100_001}, "body_members"),
    ({"body_formed_on": TERM_END, "body_term_ends_on": TERM_END}, "body_term_ends_on"),
])
def test_impossible_states(changes, field):
    assert field in problems(GovernanceState().replaced(changes))


@pytest.mark.parametrize(("log_month", "today", "editable"), [
    (date(2026, 12, 1), date(2026, 12, 31), True),
    (date(2026, 12, 1), date(2027, 1, 1), False),
    (date(2026, 11, 1), date(2026, 12, 1), False),
])
def test_a_log_is_edited_within_its_month(log_month, today, editable):
    assert log_editable(log_month, today) is editable
