"""What the dispute mediation (矛盾纠纷调解) screens show, built once for the API to dump and the pages to render: the
lists (a compound's, an area's, one's own), a case as this person sees it (parties' phones only to those who
mediate or oversee) with the actions open to them, and the open-case form's choices."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backend.domain.disputes import (
    DISPUTE_KIND_LABELS,
    DISPUTE_STATUS_LABELS,
    LINK_KIND_LABELS,
    OUTCOME_LABELS,
    PARTY_KIND_LABELS,
    CaseRole,
    DisputeAction,
    DisputeKind,
    LinkKind,
    Outcome,
    PartyKind,
)
from backend.domain.roles import Action
from backend.models import DisputeCase
from backend.policy import authorize
from backend.services import disputes as service

_LINK_URLS = {LinkKind.WORK_ORDER: "/h5/work-orders/{}", LinkKind.TOPIC: "/h5/topics/{}"}


@dataclass(frozen=True)
class DisputeLine:
    id: int
    compound_id: int
    compound_name: str
    title: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    opened_at: datetime
    closed_at: datetime | None
    mediator_name: str
    party_names: list[str]


@dataclass(frozen=True)
class PartyView:
    id: int
    kind: str
    kind_label: str
    name: str
    phone_masked: str | None
    mine: bool


@dataclass(frozen=True)
class StepView:
    id: int
    happened_on: date
    note: str
    author_name: str
    created_at: datetime


@dataclass(frozen=True)
class LinkView:
    kind: str
    kind_label: str
    id: int
    title: str
    url: str | None


@dataclass(frozen=True)
class AgreementView:
    url: str
    content_type: str
    uploaded_at: datetime

    @property
    def is_pdf(self) -> bool:
        return self.content_type == service.PDF


@dataclass(frozen=True)
class DisputeDetail(DisputeLine):
    summary: str
    # The pages' way back to the compound's list.
    compound_code: str
    mediator_area_name: str
    parties: list[PartyView]
    steps: list[StepView]
    referred_to: str
    outcome_note: str
    agreement: AgreementView | None
    link: LinkView | None
    actions: frozenset[DisputeAction]
    # The pages' choices for the mediator's forms (empty for readers).
    mediators: list[service.Mediator]
    outcomes: list[tuple[str, str]]


@dataclass(frozen=True)
class DisputeList:
    items: list[DisputeLine]
    total: int
    page: int
    page_size: int
    actions: frozenset[DisputeAction]
    status: str | None


def agreement_url(case_id: int) -> str:
    return f"/api/v1/disputes/{case_id}/agreement"


def _party_name(party, households: dict[int, str], users: dict) -> str:
    if party.name:
        return party.name
    if party.household_id is not None:
        return households.get(party.household_id, "")
    return (users.get(party.user_id) or ("", None))[0] or PARTY_KIND_LABELS[party.kind]


def _lines(cases: Sequence[DisputeCase]) -> list[DisputeLine]:
    ids = [case.id for case in cases]
    parties = service.parties_of(ids)
    everyone = [party for found in parties.values() for party in found]
    households = service.household_labels([party.household_id for party in everyone])
    users = service.user_names([party.user_id for party in everyone] + [case.mediator_id for case in cases])
    compounds = service.compound_names([case.compound_id for case in cases])
    return [
        DisputeLine(
            id=case.id, compound_id=case.compound_id, compound_name=compounds.get(case.compound_id, ""),
            title=case.title, kind=case.kind.value, kind_label=DISPUTE_KIND_LABELS[case.kind],
            status=case.status.value, status_label=DISPUTE_STATUS_LABELS[case.status], opened_at=case.opened_at,
            closed_at=case.closed_at, mediator_name=(users.get(case.mediator_id) or ("", None))[0] or "",
            party_names=[_party_name(party, households, users) for party in parties[case.id]],
        )
        for case in cases
    ]


def _listing(found, actions: frozenset[DisputeAction], status) -> DisputeList:
    return DisputeList(items=_lines(found.items), total=found.total, page=found.page, page_size=found.page_size,
                       actions=actions, status=status.value if status else None)


def compound_list(compound_id: int, user_id: int | None, status, page: int, page_size: int) -> DisputeList:
    found, may_open = service.compound_page(compound_id, user_id, status, page, page_size)
    return _listing(found, frozenset({DisputeAction.OPEN}) if may_open else frozenset(), status)


def area_list(area_id: int, user_id: int | None, status, page: int, page_size: int) -> DisputeList:
    return _listing(service.area_page(area_id, user_id, status, page, page_size), frozenset(), status)


def my_list(user_id: int, page: int, page_size: int) -> DisputeList:
    return _listing(service.my_page(user_id, page, page_size), frozenset(), None)


def detail(case_id: int, user_id: int | None) -> DisputeDetail:
    """The case as this person sees it (404 for anyone neither over it nor a party)."""
    case, standing = service.seen_by(case_id, user_id)
    line = _lines([case])[0]
    parties = service.parties_of([case.id])[case.id]
    steps = service.steps_of(case.id)
    households = service.household_labels([party.household_id for party in parties])
    users = service.user_names([party.user_id for party in parties] + [step.author_id for step in steps])
    own = service.own_households(user_id)
    contacts = DisputeAction.VIEW_CONTACTS in standing.actions
    linked = service.link_title(case)
    mediating = standing.role in (CaseRole.MEDIATOR, CaseRole.ABOVE)
    return DisputeDetail(
        **vars(line),
        summary=case.summary,
        compound_code=service.compound_code(case.compound_id),
        mediator_area_name=service.area_name(case.mediator_area_id),
        parties=[PartyView(
            id=party.id, kind=party.kind.value, kind_label=PARTY_KIND_LABELS[party.kind],
            name=_party_name(party, households, users),
            phone_masked=(users.get(party.user_id) or ("", None))[1] if contacts else None,
            mine=party.user_id == user_id or (party.household_id is not None and party.household_id in own),
        ) for party in parties],
        steps=[StepView(id=step.id, happened_on=step.happened_on, note=step.note,
                        author_name=(users.get(step.author_id) or ("", None))[0] or "调解员",
                        created_at=step.created_at) for step in steps],
        referred_to=case.referred_to,
        outcome_note=case.outcome_note,
        agreement=AgreementView(url=agreement_url(case.id), content_type=case.agreement_type or service.JPEG,
                                uploaded_at=case.agreement_uploaded_at) if case.agreement_key else None,
        link=LinkView(kind=linked[0].value, kind_label=LINK_KIND_LABELS[linked[0]], id=linked[1],
                      title=linked[2] or "", url=_LINK_URLS[linked[0]].format(linked[1])
                      if linked[0] in _LINK_URLS else None) if linked else None,
        actions=standing.actions,
        mediators=service.mediator_candidates(case.compound_id)
        if DisputeAction.CHANGE_MEDIATOR in standing.actions else [],
        outcomes=[(outcome.value, OUTCOME_LABELS[outcome]) for outcome in Outcome] if mediating else [],
    )


@dataclass(frozen=True)
class OpeningForm:
    compound_id: int
    kinds: list[tuple[str, str]]
    party_kinds: list[tuple[str, str]]
    link_kinds: list[tuple[str, str]]
    mediators: list[service.Mediator]
    households: list[tuple[int, str]]


def opening_form(compound_id: int, user_id: int | None) -> OpeningForm:
    """The open-case form's choices, for officials over the compound only (404 strangers, 403 others)."""
    authorize(Action.OPEN_DISPUTES, compound_id, user_id)
    return OpeningForm(
        compound_id=compound_id,
        kinds=[(kind.value, DISPUTE_KIND_LABELS[kind]) for kind in DisputeKind],
        party_kinds=[(kind.value, PARTY_KIND_LABELS[kind]) for kind in PartyKind],
        link_kinds=[(kind.value, LINK_KIND_LABELS[kind]) for kind in LinkKind],
        mediators=service.mediator_candidates(compound_id),
        households=service.households_with_people(compound_id),
    )
