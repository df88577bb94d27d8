"""What the company's life-cycle screens show, built once for the API to dump and the pages to render: a compound's
contracts and selections (with the form's choices), one contract with its terms, file, reminders, inspections and
this person's actions, and one handover inspection with its items, photos, signatures and actions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backend.domain import contracts as rules
from backend.domain.consultations import STEP_LABELS
from backend.domain.contracts import (
    CONTRACT_STATUS_LABELS,
    HANDOVER_DIRECTION_LABELS,
    HANDOVER_STATUS_LABELS,
    ITEM_STATE_LABELS,
    SELECTION_PURPOSE_LABELS,
    SELECTION_STATUS_LABELS,
    SERVICE_LEVEL_LABELS,
    ContractAction,
    HandoverStatus,
    ItemState,
    SelectionStatus,
    Side,
)
from backend.domain.fees import format_fen
from backend.models import CompanySelection, HandoverInspection, PropertyContract
from backend.presenters.documents import DocumentView
from backend.services import contracts as service


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class SelectionView:
    id: int
    purpose: str
    purpose_label: str
    status: str
    status_label: str
    candidates: list[Choice]
    topic_id: int
    topic_url: str
    topic_step_label: str
    contract_id: int | None
    decision_note: str
    decided_at: datetime | None


@dataclass(frozen=True)
class ContractLine:
    id: int
    compound_id: int
    company_id: int
    company_name: str
    status: str
    status_label: str
    term_start: date | None
    term_end: date | None
    url: str


@dataclass(frozen=True)
class InspectionLine:
    id: int
    direction: str
    direction_label: str
    status: str
    status_label: str
    open_items: int
    url: str


@dataclass(frozen=True)
class ContractDetail(ContractLine):
    compound_name: str
    service_level: int | None
    service_level_label: str
    fee_schedule_id: int | None
    fee_standard_label: str
    file: DocumentView | None
    activated_at: datetime | None
    ended_at: datetime | None
    end_note: str
    selection_id: int
    reminders_sent: list[int]
    inspections: list[InspectionLine]
    selections: list[SelectionView]
    fee_schedules: list[Choice]
    companies: list[Choice]
    actions: frozenset[ContractAction]


@dataclass(frozen=True)
class CompoundContracts:
    compound_id: int
    compound_name: str
    contracts: list[ContractLine]
    selections: list[SelectionView]
    companies: list[Choice]
    actions: frozenset[str]


@dataclass(frozen=True)
class PhotoView:
    id: int
    url: str


@dataclass(frozen=True)
class ItemView:
    id: int
    position: int
    name: str
    state: str
    state_label: str
    note: str
    is_open: bool
    checked_by_name: str
    checked_at: datetime | None
    resolved_at: datetime | None
    photos: list[PhotoView]
    actions: frozenset[str]


@dataclass(frozen=True)
class Signature:
    side: str
    side_label: str
    signer_name: str
    signed_at: datetime | None


@dataclass(frozen=True)
class HandoverDetail:
    id: int
    contract_id: int
    contract_url: str
    compound_id: int
    company_name: str
    direction: str
    direction_label: str
    status: str
    status_label: str
    open_items: int
    items: list[ItemView]
    signatures: list[Signature]
    states: list[Option]
    closed_at: datetime | None
    actions: frozenset[str]


def _fee_label(schedule) -> str:
    return f"{format_fen(schedule.standard_fen_per_m2)}/㎡·月（{schedule.effective_from.isoformat()}起）"


def _selections(rows: list[CompanySelection]) -> list[SelectionView]:
    names = service.company_names([company_id for row in rows for company_id in row.candidate_ids])
    steps = service.topic_steps([row.topic_id for row in rows])
    return [SelectionView(
        id=row.id, purpose=row.purpose.value, purpose_label=SELECTION_PURPOSE_LABELS[row.purpose],
        status=row.status.value, status_label=SELECTION_STATUS_LABELS[row.status],
        candidates=[Choice(company_id, names.get(company_id, "")) for company_id in row.candidate_ids],
        topic_id=row.topic_id, topic_url=f"/h5/topics/{row.topic_id}",
        topic_step_label=STEP_LABELS[steps[row.topic_id]] if row.topic_id in steps else "",
        contract_id=row.contract_id, decision_note=row.decision_note, decided_at=row.decided_at,
    ) for row in rows]


def _line(contract: PropertyContract, names: dict[int, str]) -> ContractLine:
    return ContractLine(id=contract.id, compound_id=contract.compound_id, company_id=contract.company_id,
                        company_name=names.get(contract.company_id, ""), status=contract.status.value,
                        status_label=CONTRACT_STATUS_LABELS[contract.status], term_start=contract.term_start,
                        term_end=contract.term_end, url=service.contract_link(contract.id))


def _companies() -> list[Choice]:
    return [Choice(company.id, company.name) for company in service.all_companies()]


def compound_contracts(compound_id: int, user_id: int | None) -> CompoundContracts:
    seen, contracts, selections = service.compound_overview(compound_id, user_id)
    names = service.company_names([contract.company_id for contract in contracts])
    return CompoundContracts(
        compound_id=compound_id, compound_name=service.compound_name(compound_id),
        contracts=[_line(contract, names) for contract in contracts], selections=_selections(selections),
        companies=_companies() if seen.may_manage else [],
        actions=frozenset({"select"}) if seen.may_manage else frozenset(),
    )


def _inspection_line(inspection: HandoverInspection) -> InspectionLine:
    items = service.items_of(inspection.id)
    return InspectionLine(
        id=inspection.id, direction=inspection.direction.value,
        direction_label=HANDOVER_DIRECTION_LABELS[inspection.direction], status=inspection.status.value,
        status_label=HANDOVER_STATUS_LABELS[inspection.status],
        open_items=rules.open_count((item.state, item.resolved_at is not None) for item in items),
        url=service.handover_link(inspection.id))


def contract_detail(contract_id: int, user_id: int | None) -> ContractDetail:
    contract, seen = service.contract_seen(contract_id, user_id)
    names = service.company_names([contract.company_id])
    about = service.selections_about(contract.id)
    schedules = service.fee_schedules(contract.compound_id)
    schedule = next((row for row in schedules if row.id == contract.fee_schedule_id), None)
    selection_open = any(row.status is SelectionStatus.VOTING for row in about)
    inspections = service.inspections_of(contract.id)
    return ContractDetail(
        **vars(_line(contract, names)), compound_name=service.compound_name(contract.compound_id),
        service_level=contract.service_level,
        service_level_label=SERVICE_LEVEL_LABELS.get(contract.service_level, "未填写"),
        fee_schedule_id=contract.fee_schedule_id,
        fee_standard_label=_fee_label(schedule) if schedule is not None else "未关联",
        file=DocumentView(url=f"/api/v1/contracts/{contract.id}/file", content_type=contract.file_type)
        if contract.file_key else None,
        activated_at=contract.activated_at, ended_at=contract.ended_at, end_note=contract.end_note,
        selection_id=contract.selection_id,
        reminders_sent=sorted({row.days_before for row in service.reminders_of(contract.id)}, reverse=True),
        inspections=[_inspection_line(row) for row in inspections], selections=_selections(about),
        fee_schedules=[Choice(row.id, _fee_label(row)) for row in schedules] if seen.may_manage else [],
        companies=_companies() if seen.may_manage else [],
        actions=rules.allowed_actions(contract.status, seen.may_manage, selection_open,
                                      frozenset(row.direction for row in inspections)),
    )


def handover_detail(inspection_id: int, user_id: int | None) -> HandoverDetail:
    inspection, seen = service.inspection_seen(inspection_id, user_id)
    contract = service.contract_of(inspection)
    items = service.items_of(inspection.id)
    photos = service.photos_of([item.id for item in items])
    people = service.user_names([item.checked_by_id for item in items]
                                + [inspection.committee_signer_id, inspection.company_signer_id])
    open_items = rules.open_count((item.state, item.resolved_at is not None) for item in items)
    signed_any = bool(inspection.committee_signed_at or inspection.company_signed_at)
    is_open = inspection.status is HandoverStatus.OPEN
    recording = is_open and not signed_any and seen.may_manage
    actions: set[str] = set()
    if is_open and not open_items:
        if seen.may_manage and inspection.committee_signed_at is None:
            actions.add("sign_committee")
        if seen.signs_for_company and inspection.company_signed_at is None:
            actions.add("sign_company")

    def item_actions(item) -> frozenset[str]:
        if not recording:
            return frozenset()
        found = {"record"}
        if item.state in (ItemState.DEFECTIVE, ItemState.MISSING) and item.resolved_at is None:
            found.add("resolve")
        return frozenset(found)

    return HandoverDetail(
        id=inspection.id, contract_id=contract.id, contract_url=service.contract_link(contract.id),
        compound_id=inspection.compound_id, company_name=service.company_names([contract.company_id])[contract.company_id],
        direction=inspection.direction.value, direction_label=HANDOVER_DIRECTION_LABELS[inspection.direction],
        status=inspection.status.value, status_label=HANDOVER_STATUS_LABELS[inspection.status],
        open_items=open_items,
        items=[ItemView(
            id=item.id, position=item.position, name=item.name, state=item.state.value,
            state_label=ITEM_STATE_LABELS[item.state], note=item.note,
            is_open=rules.is_open(item.state, item.resolved_at is not None),
            checked_by_name=people.get(item.checked_by_id, ""), checked_at=item.checked_at,
            resolved_at=item.resolved_at,
            photos=[PhotoView(photo.id, f"/api/v1/handovers/{inspection.id}/photos/{photo.id}")
                    for photo in photos[item.id]],
            actions=item_actions(item),
        ) for item in items],
        signatures=[
            Signature(Side.COMMITTEE.value, rules.SIDE_LABELS[Side.COMMITTEE],
                      people.get(inspection.committee_signer_id, ""), inspection.committee_signed_at),
            Signature(Side.COMPANY.value, rules.SIDE_LABELS[Side.COMPANY],
                      people.get(inspection.company_signer_id, ""), inspection.company_signed_at),
        ],
        states=[Option(state.value, ITEM_STATE_LABELS[state]) for state in ItemState] if recording else [],
        closed_at=inspection.closed_at, actions=frozenset(actions),
    )


def photo(inspection_id: int, photo_id: int, user_id: int | None):
    return service.visible_photo(inspection_id, photo_id, user_id)


def contract_file(contract_id: int, user_id: int | None) -> service.ContractFile:
    return service.contract_file(contract_id, user_id)


def selection_view(selection_id: int) -> SelectionView:
    """A selection just raised by this person (the service has checked they may)."""
    return _selections([service.selection_of(selection_id)])[0]
