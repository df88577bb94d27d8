"""What the inspection and rectification (整改台账) screens show, built once for the API to dump and the pages to
render: an item as this person sees it (labels, overdue, the last escalation step, its history with photos, the
actions open to them), the compound's and the area's lists (overdue first), an inspection with its items, the
record form's choices and the area's checklist."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from backend.domain import rectifications as rules
from backend.domain.rectifications import (
    ESCALATION_LABELS,
    RECTIFICATION_STATUS_LABELS,
    RESPONSIBLE_PARTY_LABELS,
    URGENCY_LABELS,
    EscalationStep,
    RectificationStatus,
)
from backend.models import Inspection, Rectification, RectificationPhoto
from backend.services import rectifications as service
from backend.services.rectifications import Viewer

EVENT_LABELS = {"record": "检查发现", "answer": "责任方回复", "return": "退回整改", "accept": "验收销号",
                "escalate": "超期督办"}


def photo_url(rectification_id: int, photo_id: int) -> str:
    return f"/api/v1/rectifications/{rectification_id}/photos/{photo_id}"


def _photo(photo: RectificationPhoto) -> dict:
    return {"id": photo.id, "url": photo_url(photo.rectification_id, photo.id), "width": photo.width,
            "height": photo.height}


def _line(item: Rectification, viewer: Viewer, today: date, compound_name: str, names: dict[int, str],
          last_step: int | None) -> dict:
    return {
        "id": item.id, "compound_id": item.compound_id, "compound_name": compound_name,
        "inspection_id": item.inspection_id, "item": item.item, "finding": item.finding,
        "responsible_party": item.responsible_party,
        "responsible_party_label": RESPONSIBLE_PARTY_LABELS[item.responsible_party],
        "urgency": item.urgency, "urgency_label": URGENCY_LABELS[item.urgency], "deadline": item.deadline,
        "status": item.status, "status_label": RECTIFICATION_STATUS_LABELS[item.status],
        "overdue": rules.is_overdue(item.status, item.deadline, today),
        "escalation_label": ESCALATION_LABELS[EscalationStep(last_step)] if last_step else "",
        "inspector_name": names.get(item.inspector_id, "工作人员"), "created_at": item.created_at,
        "answered_at": item.answered_at, "accepted_at": item.accepted_at, "actions": viewer.actions,
    }


def _lines(items: Sequence[Rectification], user_id: int) -> list[dict]:
    viewers = service.viewers_of(items, user_id)
    names = service.user_names([item.inspector_id for item in items])
    compounds = service.compound_names(sorted({item.compound_id for item in items}))
    steps = service.last_steps([item.id for item in items])
    today = service.today()
    return [_line(item, viewers[item.id], today, compounds.get(item.compound_id, ""), names, steps.get(item.id))
            for item in items]


def detail(rectification_id: int, user_id: int | None) -> dict:
    """The item with its history (each answer with its photos) as this person sees it."""
    item, viewer = service.seen_by(rectification_id, user_id)
    events = service.events_of(item.id)
    photos: dict[int, list[dict]] = {}
    for photo in service.photos_of(item.id):
        photos.setdefault(photo.event_id, []).append(_photo(photo))
    names = service.user_names([item.inspector_id] + [event.actor_id for event in events])
    line = _line(item, viewer, service.today(), service.compound_names([item.compound_id]).get(item.compound_id, ""),
                 names, service.last_steps([item.id]).get(item.id))
    return line | {"events": [
        {"action": event.action, "label": EVENT_LABELS.get(event.action, event.action), "note": event.note,
         "actor_name": names.get(event.actor_id, "系统") if event.actor_id else "系统",
         "created_at": event.created_at, "photos": photos.get(event.id, [])}
        for event in events]}


def _page(found, user_id: int, overdue_count: int) -> dict:
    return {"items": _lines(found.items, user_id), "total": found.total, "page": found.page,
            "page_size": found.page_size, "overdue_count": overdue_count}


def compound_list(compound_id: int, user_id: int | None, status: RectificationStatus | None, overdue: bool,
                  page: int, page_size: int) -> dict:
    found = service.compound_page(compound_id, user_id, status, overdue, page, page_size)
    counts = service.overdue_counts([compound_id], service.today())
    return _page(found, user_id, counts[compound_id])


def area_list(area_id: int, user_id: int | None, status: RectificationStatus | None, overdue: bool, page: int,
              page_size: int) -> dict:
    """The area's 整改台账; each item's actions are the viewer's in its compound."""
    area, found = service.area_page(area_id, user_id, status, overdue, page, page_size)
    overdue_total = service.area_overdue_total(area.path)
    return _page(found, user_id, overdue_total) | {"area_id": area.id, "area_name": area.name}


def inspection_view(inspection: Inspection, rectifications: Sequence[Rectification], user_id: int) -> dict:
    names = service.user_names([inspection.inspector_id])
    return {
        "id": inspection.id, "kind": "supervision", "compound_id": inspection.compound_id,
        "company_id": inspection.company_id, "inspected_on": inspection.inspected_on, "points": None,
        "max_points": None, "score_centi": None, "note": inspection.note,
        "inspector_name": names.get(inspection.inspector_id, "工作人员"),
        "items": [{"position": item.position, "name": item.name, "max_points": None, "points": None,
                   "finding": item.finding, "has_photo": False} for item in inspection.items],
        "rectifications": _lines(rectifications, user_id),
    }


def inspection(inspection_id: int, user_id: int | None) -> dict:
    found, items = service.inspection_seen_by(inspection_id, user_id)
    return inspection_view(found, items, user_id)


def inspections(compound_id: int, user_id: int | None, page: int, page_size: int) -> dict:
    found = service.inspections_page(compound_id, user_id, page, page_size)
    return {"items": [inspection_view(each, service.items_of_inspection(each.id), user_id) for each in found.items],
            "total": found.total, "page": found.page, "page_size": found.page_size}


def photo(rectification_id: int, photo_id: int, user_id: int | None) -> RectificationPhoto | None:
    return service.visible_photo(rectification_id, photo_id, user_id)


@dataclass(frozen=True)
class RecordForm:
    compound_id: int
    checklist: tuple[str, ...]
    parties: list[tuple[str, str]]
    urgencies: list[tuple[str, str]]
    max_photos: int
    today: date


def record_form(compound_id: int, user_id: int | None) -> RecordForm:
    """The record page's choices, for those who may record an inspection here (404 strangers, 403 others)."""
    return RecordForm(
        compound_id=compound_id, checklist=service.inspection_form(compound_id, user_id),
        parties=[(party.value, label) for party, label in RESPONSIBLE_PARTY_LABELS.items()],
        urgencies=[(urgency.value, label) for urgency, label in URGENCY_LABELS.items()],
        max_photos=rules.MAX_PHOTOS, today=service.today(),
    )


def checklist(area_id: int, user_id: int | None) -> dict:
    found = service.area_checklist(area_id, user_id)
    return {"area_id": found.area.id, "area_name": found.area.name, "items": list(found.items),
            "source_area_id": found.source.id if found.source else None,
            "source_label": found.source.name if found.source else "默认清单",
            "may_edit": service.may_set_checklist(found.area, user_id)}

