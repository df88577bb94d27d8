"""Floor areas are integer 0.01 m² shown with two decimals; the ledger vocabulary is DESIGN's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.compounds import (
    MANAGEMENT_MODEL_LABELS,
    GovernanceBody,
    ManagementModel,
    PartyOrgForm,
    format_floor_area,
    household_label,
)


@given(st.integers(min_value=0, max_value=10**12))
def test_shown_floor_area_is_exactly_the_stored_value(centi_m2):
    shown = format_floor_area(centi_m2)
    assert Decimal(shown) * 100 == centi_m2
    assert len(shown.split(".")[1]) == 2


@pytest.mark.parametrize(
    ("centi_m2", "shown"),
    [(0, "0.00"), (5, "0.05"), (50, "0.50"), (8950, "89.50"), (12_345_678, "123456.78")],
)
def test_floor_area_examples(centi_m2, shown):
    assert format_floor_area(centi_m2) == shown


def test_the_five_management_models_of_the_policy_each_have_a_chinese_label():
    assert {m.value for m in ManagementModel} == {
        "market",
        "owner_self",
        "unit_self",
        "trust",
        "community_fallback",
    }
    assert set(MANAGEMENT_MODEL_LABELS) == set(ManagementModel)
    assert all(MANAGEMENT_MODEL_LABELS.values())


def test_party_and_governance_forms_are_those_of_the_ledger():
    assert {f.value for f in PartyOrgForm} == {"single", "joint", "grid", "none"}
    assert {b.value for b in GovernanceBody} == {
        "owners_committee",
        "property_committee",
        "self_committee",
        "none",
    }


@pytest.mark.parametrize(("building", "unit", "room", "label"), [
    ("1栋", "1", "101", "1栋1单元101室"),
    ("12栋", "3", "1502", "12栋3单元1502室"),
    ("3栋", "", "102", "3栋102室"),          # no units in a low block
    ("3栋", None, "102", "3栋102室"),
    ("2栋", "2单元", "301室", "2栋2单元301室"),  # a ledger that wrote the words already
    (" 1栋", " 1 ", " 101 ", "1栋1单元101室"),
])
def test_one_way_to_write_a_house(building, unit, room, label):
    assert household_label(building, unit, room) == label
