"""Household binding (住户绑定): who may be bound, and how a request is decided."""
from __future__ import annotations

import enum

from backend.domain.refusals import Refused
from backend.domain.roles import Role


class BindingStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Relation(enum.StrEnum):
    OWNER = "owner"  # 业主
    TENANT = "tenant"  # 租户 / 同住人


STATUS_LABELS = {BindingStatus.PENDING: "待审核", BindingStatus.APPROVED: "已认证", BindingStatus.REJECTED: "未通过"}
RELATION_LABELS = {Relation.OWNER: "业主", Relation.TENANT: "租户/同住人"}


class BindingAction(enum.StrEnum):
    """What the review list offers a reviewer on one request; the API names them in `actions`, the page in
    `data-action`."""

    APPROVE = "approve"
    REJECT = "reject"


class BindingRefused(Refused):
    """The decision cannot be taken; the message is shown to the user."""


def role_for(relation: Relation) -> Role:
    return Role.OWNER if relation is Relation.OWNER else Role.RESIDENT


def check_can_decide(status: BindingStatus) -> None:
    if status is not BindingStatus.PENDING:
        raise BindingRefused(f"该申请已处理（{STATUS_LABELS[status]}），不能再次审核")


def review_actions(status: BindingStatus, applicant_id: int, reviewer_id: int | None) -> frozenset[BindingAction]:
    """A pending request of someone else may be approved or rejected; nothing else (see the two checks below)."""
    if status is not BindingStatus.PENDING or reviewer_id is None or applicant_id == reviewer_id:
        return frozenset()
    return frozenset(BindingAction)


def check_not_own_request(applicant_id: int, reviewer_id: int | None) -> None:
    """Verified owners vote: nobody may verify themselves, not even a committee member."""
    if reviewer_id is not None and applicant_id == reviewer_id:
        raise BindingRefused("不能审核自己的申请，请由小区其他审核人员处理")


def verified_by_register(relation: Relation, phone_hash: str | None, registered_phone_hashes: set[str]) -> bool:
    """An owner whose phone matches the imported owner register (产权名册) is verified at once."""
    return relation is Relation.OWNER and phone_hash is not None and phone_hash in registered_phone_hashes
