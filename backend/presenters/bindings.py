"""What the household-binding (住户绑定) screens show, built once for the API to dump and the pages to render: a
request as a line (the household, the applicant, its status and labels), the reviewers' queue with what this
reviewer may do with each request, and a person's own requests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain.bindings import (
    RELATION_LABELS,
    STATUS_LABELS,
    BindingAction,
    BindingRefused,
    BindingStatus,
    Relation,
    review_actions,
)
from backend.domain.compounds import household_label
from backend.domain.notifications import quoted
from backend.domain.refusals import Kind
from backend.domain.roles import Action
from backend.models import BindingRequest
from backend.policy import Access, authorize
from backend.presenters.confirmations import Confirmation
from backend.services import bindings as service

# The review list's tabs: the requests waiting first, then the decided ones.
REVIEW_TABS = [(status.value, STATUS_LABELS[status]) for status in BindingStatus]


@dataclass(frozen=True)
class HouseholdRef:
    id: int
    building_name: str
    unit: str
    room: str
    floor_area_centi_m2: int


@dataclass(frozen=True)
class BindingLine:
    id: int
    compound_id: int
    household: HouseholdRef
    address: str
    claimed_name: str
    relation: Relation
    relation_label: str
    status: BindingStatus
    status_label: str
    reason: str
    applicant_phone_masked: str | None
    decided_at: datetime | None
    created_at: datetime
    actions: frozenset[BindingAction]


@dataclass(frozen=True)
class ReviewQueue:
    """One page of a compound's requests, newest first; `status` None lists every status."""

    items: list[BindingLine]
    total: int
    page: int
    page_size: int
    status: BindingStatus | None


def line(binding: BindingRequest, reviewer_id: int | None = None) -> BindingLine:
    """A request as shown; `reviewer_id`: what that reviewer may do with it (nothing to the applicant)."""
    household = binding.household
    building_name = household.building.name
    return BindingLine(
        id=binding.id,
        compound_id=binding.compound_id,
        household=HouseholdRef(
            household.id, building_name, household.unit, household.room, household.floor_area_centi_m2
        ),
        address=household_label(building_name, household.unit, household.room),
        claimed_name=binding.claimed_name,
        relation=binding.relation,
        relation_label=RELATION_LABELS[binding.relation],
        status=binding.status,
        status_label=STATUS_LABELS[binding.status],
        reason=binding.reason,
        applicant_phone_masked=binding.user.phone_masked,
        decided_at=binding.decided_at,
        created_at=binding.created_at,
        actions=review_actions(binding.status, binding.user_id, reviewer_id),
    )


def binding(binding_id: int, reviewer_id: int | None = None) -> BindingLine:
    """One request read afresh (a decision's commit expired the row)."""
    found = service.get_binding(binding_id)
    if found is None:
        raise BindingRefused("没有找到该申请", Kind.NOT_FOUND)
    return line(found, reviewer_id)


def review_queue(
    compound_id: int, reviewer_id: int, status: BindingStatus | None, page: int, page_size: int
) -> ReviewQueue:
    """The compound's requests for its reviewers (committee, party secretary, staff), with each one's actions:
    a pending request of someone else may be approved or rejected; one's own never."""
    found = service.bindings_page(compound_id, status, page, page_size)
    return ReviewQueue(
        items=[line(item, reviewer_id) for item in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        status=status,
    )


def reviewing(binding_id: int, reviewer_id: int | None) -> Access:
    """The reviewer's access to the request's compound: 404 for an unknown request or one of a compound that is
    none of theirs, 403 for someone there who does not review."""
    compound_id = service.binding_compound_id(binding_id)
    if compound_id is None:
        raise BindingRefused("没有找到该申请", Kind.NOT_FOUND)
    return authorize(Action.REVIEW_BINDINGS, compound_id, reviewer_id)


def reject_confirmation(binding_id: int, reviewer_id: int, reason: str) -> Confirmation | None:
    """What rejecting the request will do, with the reason the applicant will read; None when this reviewer may
    not reject it now (decided already, their own): the service says why."""
    request = binding(binding_id, reviewer_id)
    if BindingAction.REJECT not in request.actions:
        return None
    return Confirmation(
        question="驳回这个绑定申请？",
        sentence=(f"驳回后，{request.claimed_name}绑定{request.address}的申请就此结束，"
                  f"申请人会收到通知和原因：{quoted(reason)}"),
        button="确认驳回",
    )


def my_requests(user_id: int) -> list[BindingLine]:
    """The person's own requests, newest first (the applicant decides nothing)."""
    return [line(item) for item in service.my_bindings(user_id)]
