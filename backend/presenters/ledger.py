"""What the ledger (台账) screens show: an import's result (counts, every change in words, or the row errors)."""
from __future__ import annotations

from backend.domain.compounds import (
    MANAGEMENT_MODEL_LABELS,
    GovernanceBody,
    ManagementModel,
    PartyOrgForm,
    format_floor_area,
)
from backend.domain.governance import GOVERNANCE_BODY_LABELS, PARTY_ORG_FORM_LABELS
from backend.domain.roles import Action
from backend.models import Area
from backend.policy import authorize_area
from backend.services.ledger_import import FIELD_LABELS, ImportReport


def ledger_page(area_id: int, user_id: int | None) -> Area:
    """The 台账 page is for those who may import here (officials of the area or above, admins)."""
    return authorize_area(Action.IMPORT_LEDGER, area_id, user_id)


def _shown(field: str, value) -> str:
    """A change's value as the page writes it (the API keeps the stored value)."""
    if value is None or value == "":
        return "（空）"
    if field == "management_model":
        return MANAGEMENT_MODEL_LABELS[ManagementModel(value)]
    if field == "party_org_form":
        return PARTY_ORG_FORM_LABELS[PartyOrgForm(value)]
    if field == "governance_body":
        return GOVERNANCE_BODY_LABELS[GovernanceBody(value)]
    if field == "floor_area":
        return f"{format_floor_area(value)} m²"
    return str(value)


def import_result(report: ImportReport) -> dict:
    return {
        "compounds_created": report.compounds_created, "buildings_created": report.buildings_created,
        "households_created": report.households_created, "households_updated": report.households_updated,
        "no_changes": report.no_changes, "changes": report.changes,
    }


def import_screen(report: ImportReport) -> dict:
    """The page's view of an import: the API's result plus each change as a line of Chinese."""
    lines = [
        {"where": " ".join(p for p in (c["compound"], c["household"] or "") if p), "label": c["label"],
         "before": _shown(c["field"], c["before"]), "after": _shown(c["field"], c["after"])}
        for c in report.changes
    ]
    errors = [error | {"label": FIELD_LABELS.get(error["field"], error["field"])} for error in report.errors]
    return import_result(report) | {"lines": lines, "errors": errors}
