"""Binding rules: a request is decided once, owners become owners and tenants residents, and only an owner
whose phone is on the owner register is verified without a reviewer."""

from __future__ import annotations

import pytest

from backend.domain.bindings import (
    BindingRefused,
    BindingStatus,
    Relation,
    check_can_decide,
    check_not_own_request,
    review_actions,
    role_for,
    verified_by_register,
)
from backend.domain.roles import Role


def test_a_pending_request_can_be_decided():
    assert check_can_decide(BindingStatus.PENDING) is None


@pytest.mark.parametrize(
    ("status", "label"), [(BindingStatus.APPROVED, "已认证"), (BindingStatus.REJECTED, "未通过")]
)
def test_a_decided_request_cannot_be_decided_again(status, label):
    with pytest.raises(BindingRefused, match=label):
        check_can_decide(status)


@pytest.mark.parametrize(
    ("relation", "role"), [(Relation.OWNER, Role.OWNER), (Relation.TENANT, Role.RESIDENT)]
)
def test_role_for_relation(relation, role):
    assert role_for(relation) is role


def test_every_relation_maps_to_a_household_role():
    assert {role_for(relation) for relation in Relation} == {Role.OWNER, Role.RESIDENT}


@pytest.mark.parametrize(
    ("relation", "phone_hash", "register", "verified"),
    [
        (Relation.OWNER, "h1", {"h1", "h2"}, True),
        (Relation.OWNER, "h3", {"h1", "h2"}, False),
        (Relation.OWNER, None, {"h1"}, False),
        (Relation.OWNER, "h1", set(), False),
        # A tenant living with the owner may share the phone on the register; they are still not the owner.
        (Relation.TENANT, "h1", {"h1"}, False),
        (Relation.TENANT, None, set(), False),
    ],
)
def test_verified_by_register_only_for_an_owner_with_a_registered_phone(
    relation, phone_hash, register, verified
):
    assert verified_by_register(relation, phone_hash, register) is verified


def test_nobody_decides_their_own_request():
    with pytest.raises(BindingRefused, match="自己"):
        check_not_own_request(applicant_id=7, reviewer_id=7)
    assert check_not_own_request(applicant_id=7, reviewer_id=8) is None
    assert check_not_own_request(applicant_id=7, reviewer_id=None) is None


@pytest.mark.parametrize(
    ("status", "applicant", "reviewer", "actions"),
    [
        (BindingStatus.PENDING, 1, 2, {"approve", "reject"}),
        (BindingStatus.PENDING, 1, 1, set()),
        (BindingStatus.PENDING, 1, None, set()),
        (BindingStatus.APPROVED, 1, 2, set()),
        (BindingStatus.REJECTED, 1, 2, set()),
    ],
)
def test_a_reviewer_is_offered_the_decision_of_someone_elses_pending_request_only(status, applicant, reviewer, actions):
    assert review_actions(status, applicant, reviewer) == actions
