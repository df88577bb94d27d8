"""What the notice board (公示栏) screens show, built once for the API to dump and the pages to render: the board (the
posting that stands for each kind), the public-income statement owed now, the history of every posting, one posting
with its frozen figures, the form's choices, and what this person may do."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from backend.domain import disclosures as rules
from backend.domain.funds import DISCLOSURE_KIND_LABELS, DisclosureKind
from backend.models import Disclosure
from backend.presenters.documents import DocumentView
from backend.services import disclosures as service
from backend.services.fund_access import require


@dataclass(frozen=True)
class DisclosureLine:
    id: int
    compound_id: int
    kind: str
    kind_label: str
    period: str
    period_label: str
    title: str
    posted_at: datetime
    posted_by_name: str
    current: bool
    superseded: bool
    file: DocumentView | None


@dataclass(frozen=True)
class DisclosureDetail(DisclosureLine):
    body: str
    staff: list[str]
    figures: dict | None


@dataclass(frozen=True)
class DueView:
    quarter: str
    quarter_label: str
    due_on: date
    posted: bool
    overdue: bool


@dataclass(frozen=True)
class BoardItem:
    kind: str
    kind_label: str
    current: DisclosureLine | None


@dataclass(frozen=True)
class DisclosureBoard:
    compound_id: int
    items: list[DisclosureLine]
    total: int
    page: int
    page_size: int
    board: list[BoardItem]
    public_income_due: DueView | None
    actions: frozenset[str]
    kind: str | None


def file_url(disclosure_id: int) -> str:
    return f"/api/v1/disclosure-files/{disclosure_id}"


def _lines(disclosures: Sequence[Disclosure], current: set[int]) -> list[DisclosureLine]:
    names = service.poster_names([row.posted_by_id for row in disclosures])
    superseded = service.superseded_ids(disclosures)
    return [DisclosureLine(
        id=row.id, compound_id=row.compound_id, kind=row.kind.value, kind_label=DISCLOSURE_KIND_LABELS[row.kind],
        period=row.period, period_label=rules.period_label(row.period), title=row.title, posted_at=row.posted_at,
        posted_by_name=names.get(row.posted_by_id, "") or "物业服务人", current=row.id in current,
        superseded=row.id in superseded,
        file=DocumentView(url=file_url(row.id), content_type=row.file_type or service.JPEG) if row.file_key else None,
    ) for row in disclosures]


def _actions(access) -> frozenset[str]:
    return frozenset({"post"}) if access.rights.post_disclosures else frozenset()


def board(compound_id: int, user_id: int | None, kind: DisclosureKind | None, page: int, page_size: int,
          entry_compound_id: int | None = None) -> DisclosureBoard:
    access = service.board_access(compound_id, user_id, entry_compound_id)
    current = service.current_ids(compound_id)
    standing = service.by_ids(list(current.values()))
    current_lines = {line.id: line for line in _lines(list(standing.values()), set(current.values()))}
    history = service.history_page(compound_id, kind, page, page_size)
    due = service.public_income_due(compound_id)
    return DisclosureBoard(
        compound_id=compound_id,
        items=_lines(history.items, set(current.values())), total=history.total, page=page, page_size=page_size,
        board=[BoardItem(kind=item.value, kind_label=DISCLOSURE_KIND_LABELS[item],
                         current=current_lines.get(current[item]) if item in current else None)
               for item in DisclosureKind],
        public_income_due=DueView(quarter=str(due.quarter), quarter_label=due.quarter.label, due_on=due.due_on,
                                  posted=due.posted, overdue=due.overdue) if due else None,
        actions=_actions(access), kind=kind.value if kind else None,
    )


def detail(disclosure_id: int, user_id: int | None, entry_compound_id: int | None = None) -> DisclosureDetail:
    disclosure, _ = service.seen_by(disclosure_id, user_id, entry_compound_id)
    current = set(service.current_ids(disclosure.compound_id).values())
    line = _lines([disclosure], current)[0]
    figures = disclosure.figures
    return DisclosureDetail(**vars(line), body=disclosure.body,
                            staff=list((figures or {}).get("staff", [])) if disclosure.kind
                            is DisclosureKind.STAFF_ON_DUTY else [],
                            figures=figures)


@dataclass(frozen=True)
class PostingForm:
    compound_id: int
    kinds: list[tuple[str, str]]
    quarters: list[tuple[str, str]]
    years: list[str]
    suggested_quarter: str


def posting_form(compound_id: int, user_id: int | None) -> PostingForm:
    """The form's choices, for those who may post only (404 strangers, 403 other readers)."""
    access = service.fund_access(compound_id, user_id)
    require(access, "post_disclosures")
    owed = rules.quarter_due(service.today())
    quarters = [owed]
    for _ in range(7):
        quarters.append(quarters[-1].previous())
    return PostingForm(
        compound_id=compound_id,
        kinds=[(kind.value, DISCLOSURE_KIND_LABELS[kind]) for kind in DisclosureKind],
        quarters=[(str(quarter), quarter.label) for quarter in quarters],
        years=[str(service.today().year - offset) for offset in range(1, 4)],
        suggested_quarter=str(owed),
    )
