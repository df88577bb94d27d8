"""What the problem-compound (问题小区) screens show, built once for the API to dump and the pages to render: an
area's flags (as a list, or grouped by compound), a compound's current flags and history, the thresholds in force."""
from __future__ import annotations

from dataclasses import asdict

from backend.domain.flags import (
    DEFAULT_THRESHOLDS,
    FLAG_RULE_LABELS,
    THRESHOLD_FIELDS,
    THRESHOLD_LABELS,
    FlagRule,
)
from backend.services import flags as service
from backend.services.flags import FlagLine, SweepCount


def flag_item(line: FlagLine) -> dict:
    return {
        "id": line.id, "compound_id": line.compound_id, "compound_name": line.compound_name, "rule": line.rule.value,
        "rule_label": FLAG_RULE_LABELS[line.rule], "reason": line.reason, "raised_at": line.raised_at,
        "cleared_at": line.cleared_at, "active": line.cleared_at is None,
    }


def area_flags(area_id: int, user_id: int | None, rule: FlagRule | None, active: bool, page: int,
               page_size: int) -> dict:
    area, result = service.area_flags(area_id, user_id, rule, active, page, page_size)
    return {"area_id": area.id, "area_name": area.name, "items": [flag_item(line) for line in result.items],
            "total": result.total, "page": result.page, "page_size": result.page_size}


def problem_compounds(area_id: int, user_id: int | None, rule: FlagRule | None, active: bool, page: int,
                      page_size: int) -> dict:
    """The page's view: the same list grouped by compound (the list is ordered by compound, so a group is whole
    within a page unless the page ends inside it)."""
    listing = area_flags(area_id, user_id, rule, active, page, page_size)
    groups: list[dict] = []
    for item in listing["items"]:
        if not groups or groups[-1]["compound_id"] != item["compound_id"]:
            groups.append({"compound_id": item["compound_id"], "compound_name": item["compound_name"], "flags": []})
        groups[-1]["flags"].append(item)
    pages = max(1, -(-listing["total"] // page_size))
    return {**listing, "groups": groups, "pages": pages, "rule": rule.value if rule else "", "active": active,
            "rules": [(r.value, label) for r, label in FLAG_RULE_LABELS.items()]}


def compound_flags(compound_id: int, user_id: int | None) -> dict:
    compound, lines = service.compound_flags(compound_id, user_id)
    items = [flag_item(line) for line in lines]
    return {"compound_id": compound.id, "compound_name": compound.name,
            "active": [item for item in items if item["active"]],
            "history": [item for item in items if not item["active"]]}


def swept(compound_id: int, user_id: int | None, count: SweepCount) -> dict:
    return {**compound_flags(compound_id, user_id), **asdict(count)}


def thresholds(area_id: int, user_id: int | None) -> dict:
    area, row = service.read_thresholds(area_id, user_id)
    values = ({name: getattr(row, name) for name in THRESHOLD_FIELDS} if row is not None
              else asdict(DEFAULT_THRESHOLDS))
    return {
        "area_id": area.id, "area_name": area.name,
        "source_area_id": row.area_id if row else None,
        "source_area_name": service.area_name(row.area_id) if row else None,
        "inherited": row is not None and row.area_id != area.id,
        "defaults": row is None,
        "may_edit": service.may_set_thresholds(area, user_id),
        "labels": THRESHOLD_LABELS,
        **values,
    }
