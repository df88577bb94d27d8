"""The company's life-cycle rules without a database: what a finished selection vote decides (only a passed
item-4 owners' joint decision acts), the term-end reminder steps, when a handover may be signed, and the contract's
buttons."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain import contracts as rules
from backend.domain.consultations import Step
from backend.domain.contracts import (
    BallotOutcome,
    ContractAction,
    ContractsRefused,
    ContractStatus,
    HandoverDirection,
    HandoverStatus,
    ItemState,
    SelectionPurpose,
    Verdict,
)

CANDIDATES = {7: "安居物业", 9: "宜居物业"}


def outcome(*options: tuple[str, bool, bool], kind: str = "owners_joint", item: int | None = 4,
            passed: bool = True) -> BallotOutcome:
    return BallotOutcome(kind=kind, item=item, passed=passed, options=options)


def test_the_candidate_whose_option_carried_is_chosen():
    decided = rules.decide(SelectionPurpose.HIRE, CANDIDATES, Step.PUBLICITY,
                           outcome(("安居物业", False, False), ("宜居物业", False, True), ("弃权", False, False)))
    assert (decided.verdict, decided.company_id, decided.note) == (Verdict.CONTRACT, 9, "业主表决通过，选定宜居物业")


def test_a_single_candidate_is_chosen_by_the_motion():
    decided = rules.decide(SelectionPurpose.RENEW, {7: "安居物业"}, Step.PUBLICITY,
                           outcome(("同意", True, True), ("不同意", False, False)))
    assert (decided.verdict, decided.company_id) == (Verdict.CONTRACT, 7)


@pytest.mark.parametrize(("purpose", "result", "step", "verdict", "note"), [
    (SelectionPurpose.HIRE, None, Step.VOTING, Verdict.WAITING, ""),
    (SelectionPurpose.HIRE, None, Step.DECLINED, Verdict.NONE, rules.NOT_ADOPTED),
    (SelectionPurpose.HIRE, outcome(("安居物业", False, True), item=9), Step.PUBLICITY, Verdict.NONE, rules.WRONG_ITEM),
    (SelectionPurpose.HIRE, outcome(("安居物业", False, True), kind="consultation", item=None), Step.PUBLICITY,
     Verdict.NONE, rules.WRONG_ITEM),
    (SelectionPurpose.HIRE, outcome(("安居物业", False, False), passed=False), Step.PUBLICITY, Verdict.NONE,
     rules.NOT_PASSED),
    # A motion with two candidates names nobody; a carried label that is not a candidate names nobody either.
    (SelectionPurpose.HIRE, outcome(("同意", True, True)), Step.PUBLICITY, Verdict.NONE, rules.NO_CANDIDATE),
    (SelectionPurpose.HIRE, outcome(("康泰物业", False, True)), Step.PUBLICITY, Verdict.NONE, rules.NO_CANDIDATE),
    (SelectionPurpose.DISMISS, outcome(("同意", True, True)), Step.PUBLICITY, Verdict.DISMISS, rules.DISMISSED),
    (SelectionPurpose.DISMISS, outcome(("同意", True, True), item=3), Step.PUBLICITY, Verdict.NONE, rules.WRONG_ITEM),
    # "不同意" carrying a list "passes" the ballot without saying yes to the dismissal.
    (SelectionPurpose.DISMISS, outcome(("同意", True, False), ("不同意", False, True)), Step.PUBLICITY, Verdict.NONE,
     rules.NO_CANDIDATE),
])
def test_nothing_but_a_passed_item_4_decision_acts(purpose, result, step, verdict, note):
    decided = rules.decide(purpose, CANDIDATES if purpose is SelectionPurpose.HIRE else {}, step, result)
    assert (decided.verdict, decided.note) == (verdict, note)
    assert (decided.company_id is None) == (verdict is not Verdict.CONTRACT)


@given(item=st.integers(1, 9), kind=st.sampled_from(["owners_joint", "consultation"]), passed=st.booleans(),
       approved=st.lists(st.booleans(), min_size=3, max_size=3))
def test_a_contract_or_dismissal_only_ever_comes_from_a_passed_item_4_decision(item, kind, passed, approved):
    options = (("安居物业", False, approved[0]), ("宜居物业", False, approved[1]), ("同意", True, approved[2]))
    for purpose in SelectionPurpose:
        decided = rules.decide(purpose, CANDIDATES, Step.PUBLICITY,
                               outcome(*options, kind=kind, item=None if kind == "consultation" else item,
                                       passed=passed))
        if decided.verdict in (Verdict.CONTRACT, Verdict.DISMISS):
            assert kind == "owners_joint" and item == 4 and passed


@pytest.mark.parametrize(("purpose", "ids", "fine"), [
    (SelectionPurpose.HIRE, [1], True), (SelectionPurpose.HIRE, [1, 2, 3, 4, 5], True),
    (SelectionPurpose.HIRE, [], False), (SelectionPurpose.HIRE, [1, 2, 3, 4, 5, 6], False),
    (SelectionPurpose.HIRE, [1, 1], False), (SelectionPurpose.DISMISS, [], True), (SelectionPurpose.DISMISS, [1], False),
])
def test_candidates(purpose, ids, fine):
    if fine:
        rules.check_candidates(purpose, ids)
    else:
        with pytest.raises(ContractsRefused):
            rules.check_candidates(purpose, ids)


@given(days_left=st.integers(-400, 400))
def test_the_reminder_step_of_each_day(days_left):
    end = date(2027, 6, 30)
    step = rules.reminder_step(end - timedelta(days=days_left), end)
    if days_left < 0 or days_left > 180:
        assert step is None
    else:
        assert step == (90 if days_left <= 90 else 180)


def test_no_term_end_no_reminder():
    assert rules.reminder_step(date(2027, 1, 1), None) is None


@given(st.lists(st.tuples(st.sampled_from(list(ItemState)), st.booleans()), max_size=12))
def test_a_handover_is_signed_only_with_nothing_open(items):
    open_items = rules.open_count(items)
    assert open_items == sum(state is ItemState.UNCHECKED or (state in (ItemState.DEFECTIVE, ItemState.MISSING)
                                                              and not resolved) for state, resolved in items)
    if open_items:
        with pytest.raises(ContractsRefused):
            rules.check_may_sign(HandoverStatus.OPEN, open_items, already_signed=False)
    else:
        rules.check_may_sign(HandoverStatus.OPEN, open_items, already_signed=False)


def test_a_signed_side_or_a_closed_handover_is_not_signed_again():
    with pytest.raises(ContractsRefused):
        rules.check_may_sign(HandoverStatus.OPEN, 0, already_signed=True)
    with pytest.raises(ContractsRefused):
        rules.check_may_sign(HandoverStatus.CLOSED, 0, already_signed=False)


def test_the_contracts_buttons():
    none = frozenset()
    assert rules.allowed_actions(ContractStatus.DRAFT, False, False, none) == none
    assert rules.allowed_actions(ContractStatus.DRAFT, True, False, none) == {
        ContractAction.EDIT, ContractAction.ACTIVATE, ContractAction.START_HANDOVER}
    taken = frozenset({HandoverDirection.TAKE_OVER})
    assert rules.allowed_actions(ContractStatus.ACTIVE, True, False, taken) == {
        ContractAction.RENEW, ContractAction.RESELECT, ContractAction.DISMISS}
    assert rules.allowed_actions(ContractStatus.ACTIVE, True, True, taken) == none
    assert rules.allowed_actions(ContractStatus.DISMISSED, True, False, none) == none


def test_terms_and_activation():
    rules.check_terms(date(2027, 1, 1), date(2029, 12, 31))
    for start, end in ((date(2027, 1, 1), date(2027, 1, 1)), (date(2027, 1, 1), date(2038, 1, 2))):
        with pytest.raises(ContractsRefused):
            rules.check_terms(start, end)
    assert rules.missing_for_activation(None, None, None, False) == ["合同期限", "服务等级", "合同文件"]
    with pytest.raises(ContractsRefused, match="合同文件"):
        rules.check_activation(ContractStatus.DRAFT, ["合同文件"])
    with pytest.raises(ContractsRefused):
        rules.check_activation(ContractStatus.ACTIVE, [])
