"""What the governance screens show, for the API and the pages alike: a compound's party organisation and
self-governance body with history and first secretary, an area's coverage, a first secretary's monthly log."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date

from backend.domain.governance import (
    FIELD_LABELS,
    GOVERNANCE_BODY_LABELS,
    PARTY_ORG_FORM_LABELS,
    Coverage,
    GovernanceState,
    log_editable,
)
from backend.domain.roles import Action
from backend.extensions import db
from backend.models import Area, Compound, FirstSecretary, User
from backend.policy import authorize
from backend.services import first_secretaries as secretary_service
from backend.services import governance as service
from backend.shared.clock import beijing_date, utcnow


def _state(state: GovernanceState) -> dict:
    return state.as_dict() | {"party_org_form_label": PARTY_ORG_FORM_LABELS[state.party_org_form],
                              "body_label": GOVERNANCE_BODY_LABELS[state.body]}


def _secretary(assignment: FirstSecretary | None) -> dict | None:
    if assignment is None:
        return None
    user = db.session.get(User, assignment.user_id)
    return {"id": assignment.id, "user_id": assignment.user_id, "name": user.display_name or "",
            "started_on": assignment.started_on, "ended_on": assignment.ended_on, "goals": assignment.goals}


def governance(compound_id: int, user_id: int | None) -> dict:
    """Current state, history newest first, the current first secretary and this person's actions: `edit`,
    `assign_first_secretary`, `end_first_secretary`, `read_logs`."""
    access = authorize(Action.VIEW_GOVERNANCE, compound_id, user_id)
    compound = db.session.get(Compound, compound_id)
    history = [
        _state(GovernanceState(
            party_org_form=r.party_org_form, party_secretary_name=r.party_secretary_name,
            party_members=r.party_members, body=r.body, body_formed_on=r.body_formed_on,
            body_term_ends_on=r.body_term_ends_on, body_members=r.body_members,
        )) | {"id": r.id, "changed": list(r.changed), "changed_labels": [FIELD_LABELS[f] for f in r.changed],
              "source": r.source, "created_at": r.created_at}
        for r in service.history(compound_id)
    ]
    current = secretary_service.current(compound_id)
    actions = []
    if access.may(Action.MANAGE_GOVERNANCE):
        actions.append("edit")
    if access.may(Action.ASSIGN_FIRST_SECRETARY) and secretary_service.may_assign(compound_id, user_id):
        actions.append("end_first_secretary" if current else "assign_first_secretary")
    if current and (current.user_id == user_id or access.may(Action.MANAGE_GOVERNANCE)):
        actions.append("read_logs")
    return {"compound_id": compound_id, "compound_name": compound.name,
            "current": _state(service.current_state(compound)), "history": history,
            "first_secretary": _secretary(current), "actions": actions}


def coverage(area_id: int, user_id: int | None) -> dict:
    area, figures = service.area_coverage(area_id, user_id)
    return coverage_of(area, figures)


def coverage_of(area: Area, figures: Coverage | None = None) -> dict:
    """The coverage block as the coverage page and the area's dashboard both show it (the caller has authorized)."""
    figures = figures if figures is not None else service.coverage(area.id)
    return {"area_id": area.id, "area_name": area.name} | asdict(figures)


def log_list(assignment_id: int, user_id: int | None) -> dict:
    assignment, logs = secretary_service.logs(assignment_id, user_id)
    today = beijing_date(utcnow())
    compound = db.session.get(Compound, assignment.compound_id)
    writable = assignment.user_id == user_id and assignment.ended_on is None
    return {
        "first_secretary": _secretary(assignment), "compound_id": compound.id, "compound_name": compound.name,
        "items": [{"month": log.month, "body": log.body, "editable": writable and log_editable(log.month, today),
                   "updated_at": log.updated_at} for log in logs],
        "actions": ["write_log"] if writable else [],
    }


def area_logs(area_id: int, user_id: int | None, month: date) -> dict:
    return {"items": secretary_service.area_logs(area_id, user_id, month)}
