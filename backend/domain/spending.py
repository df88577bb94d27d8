"""Spending requests (支出申请) as plain rules: which path a request takes by its amount against the compound's
threshold, which owners' vote its purpose fixes (Civil Code Art. 278), the committee's two approvals, the status a
finished vote gives, when a request may be spent against, and what a person may do with one."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from backend.domain.compounds import ManagementModel
from backend.domain.consultations import Step
from backend.domain.funds import (
    APPROVALS_NEEDED,
    PURPOSE_CIVIL_CODE_ITEM,
    Category,
    Direction,
    FundRefused,
    SpendingPurpose,
    SpendingStatus,
    categories_kept,
    direction_of,
)
from backend.domain.refusals import Kind
from backend.domain.voting import ITEM_LABELS, VoteKind, VoteRule

TITLE_LIMIT = 60
PAYEE_LIMIT = 60
DESCRIPTION_LIMIT = 2000
NOTE_LIMIT = 300
MAX_QUOTES = 6
# ¥10,000,000: more than any compound's fund; an amount past it is a typing error.
MAX_AMOUNT_FEN = 1_000_000_000


class SpendingAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST = "request"


CATEGORY_MESSAGE = "请选择本小区账本可记的支出类别"


def spending_categories(model: ManagementModel) -> tuple[Category, ...]:
    """What a request may be for: an expense the compound's journal keeps and a person posts (never remuneration,
    which the month's close posts without a request): a request for anything else could never be spent."""
    return tuple(category for category in categories_kept(model)
                 if direction_of(category) is Direction.EXPENSE and category is not Category.REMUNERATION)


def check_category(model: ManagementModel, category: Category) -> None:
    if category not in spending_categories(model):
        raise FundRefused(CATEGORY_MESSAGE, Kind.INVALID, errors={"category": [CATEGORY_MESSAGE]})


def needs_owners_vote(amount_fen: int, threshold_fen: int) -> bool:
    """Above the threshold the owners decide; at or below it the committee does. A threshold of 0 sends every
    request to the owners."""
    return amount_fen > threshold_fen


def civil_code_item_for(purpose: SpendingPurpose) -> int | None:
    """Art. 278 para. 1: item 5 for the maintenance fund, item 8 for running a business on common parts; None: an
    ordinary consultation."""
    return PURPOSE_CIVIL_CODE_ITEM[purpose]


def vote_rule_for(purpose: SpendingPurpose) -> VoteRule:
    """The vote the purpose fixes: the reviewer of the topic must accept it with exactly this kind and item."""
    item = civil_code_item_for(purpose)
    return VoteRule(VoteKind.OWNERS_JOINT, item) if item is not None else VoteRule(VoteKind.CONSULTATION)


def vote_rule_label(rule: VoteRule) -> str:
    if rule.kind is VoteKind.CONSULTATION:
        return "一般协商事项（参与表决者过半数同意）"
    return f"业主共同决定事项：《民法典》第二百七十八条第一款第{rule.item}项（{ITEM_LABELS[rule.item]}）"


def check_approval(status: SpendingStatus, requester_id: int, approver_id: int) -> None:
    """A committee member approves a pending request of someone else; a request the owners decide is theirs."""
    if status is SpendingStatus.VOTING:
        raise FundRefused("该申请超过审批限额，由业主表决决定")
    if status is not SpendingStatus.PENDING:
        raise FundRefused("该申请已有审批结果")
    if approver_id == requester_id:
        raise FundRefused("申请人不能审批自己的申请", Kind.FORBIDDEN)


def check_rejection(status: SpendingStatus) -> None:
    if status is SpendingStatus.VOTING:
        raise FundRefused("该申请超过审批限额，由业主表决决定")
    if status is not SpendingStatus.PENDING:
        raise FundRefused("该申请已有审批结果")


def status_after_approvals(approvals: int) -> SpendingStatus:
    return SpendingStatus.APPROVED if approvals >= APPROVALS_NEEDED else SpendingStatus.PENDING


@dataclass(frozen=True)
class VoteOutcome:
    """The frozen result of the topic's ballot: what was decided (kind, item), whether it passed, and whether it was
    a motion (it had a "同意" option whose passing is the ballot's). A ballot of plain choices "passes" when any
    choice wins, "不同意" too: it says yes to nothing."""

    kind: VoteKind | str
    item: int | None
    passed: bool
    motion: bool


NOT_ADOPTED = "议题未被采纳，申请未获批准"
WRONG_VOTE = "表决事项与支出用途不符（应为{expected}），表决结果不能作为批准"
NOT_A_MOTION = "表决未设“同意”选项，结果不能作为对支出申请的批准"
VOTE_FAILED = "业主表决未通过"
VOTE_PASSED = "业主表决通过"


def status_from_vote(purpose: SpendingPurpose, step: Step, outcome: VoteOutcome | None
                     ) -> tuple[SpendingStatus, str]:
    """A request under the owners' vote: approved only by a passed motion ("同意") of exactly the kind and item its
    purpose fixes; a declined or merged topic, a failed ballot, a ballot on the wrong item or a ballot of plain
    choices rejects it; otherwise it is still voting."""
    if outcome is None:
        if step in (Step.DECLINED, Step.MERGED):
            return SpendingStatus.REJECTED, NOT_ADOPTED
        return SpendingStatus.VOTING, ""
    expected = vote_rule_for(purpose)
    if VoteKind(outcome.kind) is not expected.kind or outcome.item != expected.item:
        return SpendingStatus.REJECTED, WRONG_VOTE.format(expected=vote_rule_label(expected))
    if not outcome.motion:
        return SpendingStatus.REJECTED, NOT_A_MOTION
    if not outcome.passed:
        return SpendingStatus.REJECTED, VOTE_FAILED
    return SpendingStatus.APPROVED, VOTE_PASSED


def allowed_actions(status: SpendingStatus, requester_id: int, user_id: int | None, approver_ids: frozenset[int],
                    may_approve: bool) -> frozenset[SpendingAction]:
    """The buttons on a request: a committee member other than the requester who has not approved yet approves
    or rejects a pending request; nobody acts on one the owners decide or one already decided."""
    if status is not SpendingStatus.PENDING or not may_approve or user_id is None or user_id == requester_id:
        return frozenset()
    if user_id in approver_ids:
        return frozenset()
    return frozenset({SpendingAction.APPROVE, SpendingAction.REJECT})
