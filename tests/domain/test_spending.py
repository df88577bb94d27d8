"""The rules of spending requests without a database: the path by amount against the threshold, the vote each
purpose fixes, who may approve, the status a finished vote gives, when a request may be spent against."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import funds as funds_rules
from backend.domain import spending as rules
from backend.domain.compounds import ManagementModel
from backend.domain.consultations import Step
from backend.domain.funds import (
    Category,
    Direction,
    FundRefused,
    SpendingPurpose,
    SpendingStatus,
    categories_kept,
    direction_of,
)
from backend.domain.refusals import Kind
from backend.domain.spending import SpendingAction, VoteOutcome
from backend.domain.voting import VoteKind

fen = st.integers(min_value=0, max_value=rules.MAX_AMOUNT_FEN)


@given(amount=fen, threshold=fen)
def test_the_owners_vote_exactly_above_the_threshold(amount, threshold):
    assert rules.needs_owners_vote(amount, threshold) is (amount > threshold)


def test_the_purpose_fixes_the_vote():
    assert rules.civil_code_item_for(SpendingPurpose.MAINTENANCE_FUND) == 5
    assert rules.civil_code_item_for(SpendingPurpose.COMMON_PARTS_BUSINESS) == 8
    assert rules.civil_code_item_for(SpendingPurpose.OTHER) is None
    assert rules.vote_rule_for(SpendingPurpose.OTHER).kind is VoteKind.CONSULTATION
    assert rules.vote_rule_for(SpendingPurpose.MAINTENANCE_FUND).kind is VoteKind.OWNERS_JOINT
    assert "第5项" in rules.vote_rule_label(rules.vote_rule_for(SpendingPurpose.MAINTENANCE_FUND))


def test_approval_by_someone_other_than_the_requester_of_a_pending_request():
    rules.check_approval(SpendingStatus.PENDING, requester_id=1, approver_id=2)
    with pytest.raises(FundRefused) as own:
        rules.check_approval(SpendingStatus.PENDING, requester_id=1, approver_id=1)
    assert own.value.kind is Kind.FORBIDDEN
    for status in (SpendingStatus.VOTING, SpendingStatus.APPROVED, SpendingStatus.REJECTED):
        with pytest.raises(FundRefused) as late:
            rules.check_approval(status, requester_id=1, approver_id=2)
        assert late.value.kind is Kind.CONFLICT
    assert [rules.status_after_approvals(n) for n in range(4)] == [
        SpendingStatus.PENDING, SpendingStatus.PENDING, SpendingStatus.APPROVED, SpendingStatus.APPROVED]


@given(purpose=st.sampled_from(SpendingPurpose), kind=st.sampled_from(VoteKind),
       item=st.one_of(st.none(), st.integers(1, 9)), passed=st.booleans(), motion=st.booleans())
def test_only_a_passed_motion_of_the_purposes_item_approves(purpose, kind, item, passed, motion):
    status, note = rules.status_from_vote(purpose, Step.PUBLICITY, VoteOutcome(kind, item, passed, motion))
    expected = rules.vote_rule_for(purpose)
    matches = kind is expected.kind and item == expected.item
    assert (status is SpendingStatus.APPROVED) is (matches and passed and motion)
    assert status is not SpendingStatus.VOTING and note


@pytest.mark.parametrize(("step", "status"), [
    (Step.REVIEW, SpendingStatus.VOTING), (Step.DELIBERATION, SpendingStatus.VOTING),
    (Step.VOTING, SpendingStatus.VOTING), (Step.DECLINED, SpendingStatus.REJECTED),
    (Step.MERGED, SpendingStatus.REJECTED),
])
def test_without_a_result_the_topics_step_decides(step, status):
    assert rules.status_from_vote(SpendingPurpose.OTHER, step, None)[0] is status


@given(status=st.sampled_from(SpendingStatus), emergency=st.booleans())
def test_spendable_when_approved_or_an_emergency_not_turned_down(status, emergency):
    assert funds_rules.spendable(status, emergency) is (
        status is SpendingStatus.APPROVED or (emergency and status is not SpendingStatus.REJECTED))


def test_the_buttons():
    pending = SpendingStatus.PENDING
    assert rules.allowed_actions(pending, 1, 2, frozenset(), True) == {SpendingAction.APPROVE, SpendingAction.REJECT}
    assert rules.allowed_actions(pending, 1, 1, frozenset(), True) == frozenset()
    assert rules.allowed_actions(pending, 1, 2, frozenset({2}), True) == frozenset()
    assert rules.allowed_actions(pending, 1, 2, frozenset(), False) == frozenset()
    assert rules.allowed_actions(SpendingStatus.VOTING, 1, 2, frozenset(), True) == frozenset()


@pytest.mark.parametrize("model", list(ManagementModel))
def test_a_request_is_for_an_expense_a_person_posts_in_the_compounds_journal(model):
    allowed = rules.spending_categories(model)
    assert Category.REMUNERATION not in allowed and Category.REPAIR in allowed
    assert all(category in categories_kept(model) and direction_of(category) is Direction.EXPENSE
               for category in allowed)
    for category in Category:
        if category in allowed:
            rules.check_category(model, category)
        else:
            with pytest.raises(FundRefused) as refused:
                rules.check_category(model, category)
            assert list(refused.value.errors) == ["category"] and refused.value.status == 422
