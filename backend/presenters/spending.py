"""What the spending request (支出申请) screens show, built once for the API to dump and the pages to render: a
compound's requests, one request with its quotes, approvals, the vote its purpose fixes and this person's actions,
and the new-request form's choices."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain import funds as funds_rules
from backend.domain import spending as rules
from backend.domain.consultations import STEP_LABELS
from backend.domain.fees import format_fen
from backend.domain.funds import (
    APPROVALS_NEEDED,
    CATEGORY_LABELS,
    SPENDING_PURPOSE_LABELS,
    SPENDING_STATUS_LABELS,
    SpendingStatus,
)
from backend.domain.spending import SpendingAction
from backend.models import SpendingRequest
from backend.presenters.documents import DocumentView
from backend.services import spending as service


@dataclass(frozen=True)
class TopicView:
    id: int
    url: str
    step: str
    step_label: str


@dataclass(frozen=True)
class VoteView:
    kind: str
    civil_code_item: int | None
    label: str


@dataclass(frozen=True)
class SpendingLine:
    id: int
    compound_id: int
    title: str
    purpose: str
    purpose_label: str
    amount_fen: int
    category: str
    category_label: str
    payee: str
    status: str
    status_label: str
    emergency: bool
    spendable: bool
    requester_name: str
    created_at: datetime

    @property
    def amount_text(self) -> str:
        return format_fen(self.amount_fen)


@dataclass(frozen=True)
class SpendingDetail(SpendingLine):
    description: str
    threshold_fen: int
    path: str
    approvals_needed: int
    approver_names: list[str]
    decided_at: datetime | None
    decision_note: str
    quotes: list[DocumentView]
    vote: VoteView | None
    topic: TopicView | None
    actions: frozenset[SpendingAction]
    compound_name: str

    @property
    def threshold_text(self) -> str:
        return format_fen(self.threshold_fen)


@dataclass(frozen=True)
class SpendingList:
    compound_id: int
    compound_name: str
    items: list[SpendingLine]
    total: int
    page: int
    page_size: int
    status: str | None
    actions: frozenset[SpendingAction]


@dataclass(frozen=True)
class SpendingForm:
    compound_id: int
    compound_name: str
    threshold_fen: int
    purposes: list[tuple[str, str]]
    categories: list[tuple[str, str]]

    @property
    def threshold_text(self) -> str:
        return format_fen(self.threshold_fen)


def quote_url(quote_id: int) -> str:
    return f"/api/v1/spending-quotes/{quote_id}"


def _line(request: SpendingRequest, names: dict[int, str]) -> dict:
    return {
        "id": request.id, "compound_id": request.compound_id, "title": request.title,
        "purpose": request.purpose.value, "purpose_label": SPENDING_PURPOSE_LABELS[request.purpose],
        "amount_fen": request.amount_fen, "category": request.category.value,
        "category_label": CATEGORY_LABELS[request.category], "payee": request.payee,
        "status": request.status.value, "status_label": SPENDING_STATUS_LABELS[request.status],
        "emergency": request.emergency, "spendable": funds_rules.spendable(request.status, request.emergency),
        "requester_name": names.get(request.requester_id, ""), "created_at": request.created_at,
    }


def request_list(compound_id: int, user_id: int | None, status: SpendingStatus | None, page: int, page_size: int,
                 entry_compound_id: int | None = None) -> SpendingList:
    found, access = service.requests_page(compound_id, user_id, status, page, page_size, entry_compound_id)
    names = service.names_of([request.requester_id for request in found.items])
    return SpendingList(
        compound_id=compound_id, compound_name=service.compound_name(compound_id),
        items=[SpendingLine(**_line(request, names)) for request in found.items],
        total=found.total, page=page, page_size=page_size, status=status.value if status else None,
        actions=frozenset({SpendingAction.REQUEST}) if access.rights.request_spending else frozenset(),
    )


def detail(request_id: int, user_id: int | None, entry_compound_id: int | None = None) -> SpendingDetail:
    request, access = service.seen(request_id, user_id, entry_compound_id)
    approvers = service.approvals_of([request.id])[request.id]
    names = service.names_of([request.requester_id])
    voting = request.topic_id is not None
    rule = rules.vote_rule_for(request.purpose) if voting else None
    step = service.topic_step(request.topic_id)
    return SpendingDetail(
        **_line(request, names),
        description=request.description, threshold_fen=request.threshold_fen,
        path="owners" if voting else "committee", approvals_needed=0 if voting else APPROVALS_NEEDED,
        approver_names=[name for _, name in approvers], decided_at=request.decided_at,
        decision_note=request.decision_note,
        quotes=[DocumentView(id=quote.id, url=quote_url(quote.id), content_type=quote.content_type)
                for quote in service.quotes_of(request.id)],
        vote=VoteView(kind=rule.kind.value, civil_code_item=rule.item, label=rules.vote_rule_label(rule))
        if rule else None,
        topic=TopicView(id=request.topic_id, url=f"/h5/topics/{request.topic_id}", step=step.value,
                        step_label=STEP_LABELS[step]) if voting and step else None,
        actions=rules.allowed_actions(request.status, request.requester_id, user_id,
                                      frozenset(approver_id for approver_id, _ in approvers),
                                      access.rights.approve_spending),
        compound_name=service.compound_name(request.compound_id),
    )


def new_form(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> SpendingForm:
    """The form's choices, for those who may file a request (403 for the others, 404 for strangers)."""
    access = service.check_may_request(compound_id, user_id, entry_compound_id)
    return SpendingForm(
        compound_id=compound_id, compound_name=service.compound_name(compound_id),
        threshold_fen=service.threshold_for(compound_id),
        purposes=[(purpose.value, label) for purpose, label in SPENDING_PURPOSE_LABELS.items()],
        categories=[(category.value, CATEGORY_LABELS[category])
                    for category in rules.spending_categories(access.model)],
    )
