"""Party organisation and self-governance of a compound: the one writer of its state (a page, the API and the
ledger import all come through `apply`), its history, area coverage figures and the term-end reminders."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from backend.domain.governance import (
    TERM_END_REMINDER_DAYS,
    Coverage,
    GovernanceState,
    changed_fields,
    normalized,
    problems,
    term_end_reminder_step,
)
from backend.domain.governance import (
    coverage as coverage_figures,
)
from backend.domain.notifications import GOVERNANCE_TERM_END
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.extensions import db
from backend.models import Area, Compound, GovernanceRecord, Membership, Notice
from backend.policy import authorize, authorize_area
from backend.services.audit import record_audit
from backend.services.notifications import notify

SOURCE_FORM = "form"
SOURCE_LEDGER = "ledger"


def _state_of(record: GovernanceRecord) -> GovernanceState:
    return GovernanceState(
        party_org_form=record.party_org_form, party_secretary_name=record.party_secretary_name,
        party_members=record.party_members, body=record.body, body_formed_on=record.body_formed_on,
        body_term_ends_on=record.body_term_ends_on, body_members=record.body_members,
    )


def _newest(compound_id: int) -> GovernanceRecord | None:
    return db.session.scalars(
        select(GovernanceRecord).where(GovernanceRecord.compound_id == compound_id)
        .order_by(GovernanceRecord.id.desc()).limit(1)
    ).first()


def current_state(compound: Compound) -> GovernanceState:
    """The newest record; a compound nobody has recorded yet has the forms its ledger row carries."""
    record = _newest(compound.id)
    if record is not None:
        return _state_of(record)
    return GovernanceState(party_org_form=compound.party_org_form, body=compound.governance_body)


def history(compound_id: int) -> list[GovernanceRecord]:
    return list(db.session.scalars(
        select(GovernanceRecord).where(GovernanceRecord.compound_id == compound_id).order_by(GovernanceRecord.id.desc())
    ))


def apply(compound: Compound, changes: dict, actor_id: int | None, source: str) -> tuple[dict, dict]:
    """Write `changes` (fields of GovernanceState) as the compound's new state, in the caller's transaction, and
    return (before, after) of the fields that changed: both empty when nothing did, and then nothing is written.
    Refused(INVALID) for a state that cannot be. The caller authorizes, audits and commits."""
    before = current_state(compound)
    after = normalized(before.replaced(changes))
    errors = problems(after)
    if errors:
        raise Refused(next(iter(errors.values())), Kind.INVALID, errors={k: [v] for k, v in errors.items()})
    changed = changed_fields(before, after)
    if not changed:
        return {}, {}
    db.session.add(GovernanceRecord(compound_id=compound.id, changed=changed, source=source, actor_id=actor_id,
                                    **after.as_dict()))
    compound.party_org_form = after.party_org_form
    compound.governance_body = after.body
    old, new = before.as_dict(), after.as_dict()
    return ({name: _plain(old[name]) for name in changed}, {name: _plain(new[name]) for name in changed})


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def update(compound_id: int, user_id: int, changes: dict, ip: str | None = None) -> tuple[dict, dict]:
    """An official over the compound (or an admin) changes it; a change appends to the history and is audited,
    an unchanged form writes nothing."""
    authorize(Action.MANAGE_GOVERNANCE, compound_id, user_id)
    # One writer at a time per compound, so each record's "before" is the one the last writer left.
    compound = db.session.scalar(select(Compound).where(Compound.id == compound_id).with_for_update())
    before, after = apply(compound, changes, user_id, SOURCE_FORM)
    if after:
        record_audit(actor_id=user_id, action="governance.update", target_type="compound", target_id=compound_id,
                     compound_id=compound_id, before=before, after=after, ip=ip)
    db.session.commit()
    return before, after


# ---- coverage ---------------------------------------------------------------------------------------------------


def coverage(area_id: int) -> Coverage:
    """How many compounds below the area have each party form and each body, and their share in basis points: one
    statement, whatever the number of compounds."""
    area = db.session.get(Area, area_id)
    rows = db.session.execute(
        select(Compound.party_org_form, Compound.governance_body, func.count())
        .join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(area.path))
        .group_by(Compound.party_org_form, Compound.governance_body)
    ).all()
    return coverage_figures((form, body, count) for form, body, count in rows)


def area_coverage(area_id: int, user_id: int | None) -> tuple[Area, Coverage]:
    area = authorize_area(Action.VIEW_COVERAGE, area_id, user_id)
    return area, coverage(area_id)


# ---- term-end reminders -----------------------------------------------------------------------------------------


def term_end_key(compound_id: int, term_ends_on: date, step: int) -> str:
    return f"governance-term-{compound_id}-{term_ends_on.isoformat()}-{step}"


def _due_terms(today: date) -> list[tuple[int, date, int]]:
    """(compound, term end, step) for every compound whose current body's term ends within the furthest step."""
    newest = (
        select(func.max(GovernanceRecord.id)).group_by(GovernanceRecord.compound_id).scalar_subquery()
    )
    rows = db.session.execute(
        select(GovernanceRecord.compound_id, GovernanceRecord.body_term_ends_on)
        .where(GovernanceRecord.id.in_(newest), GovernanceRecord.body_term_ends_on >= today,
               GovernanceRecord.body_term_ends_on <= today + timedelta(days=max(TERM_END_REMINDER_DAYS)))
    ).all()
    due = []
    for compound_id, term_ends_on in rows:
        step = term_end_reminder_step(today, term_ends_on)
        if step is not None:
            due.append((compound_id, term_ends_on, step))
    return due


def term_end_recipients(compound: Compound) -> list[int]:
    """The compound's committee and party secretaries, and the officials of its community."""
    return list(db.session.scalars(
        select(Membership.user_id).distinct().where(
            ((Membership.compound_id == compound.id) & Membership.role.in_((Role.COMMITTEE, Role.PARTY_SECRETARY)))
            | ((Membership.area_id == compound.area_id) & (Membership.role == Role.OFFICIAL))
        ).order_by(Membership.user_id)
    ))


def due_term_end_reminders(today: date) -> list[tuple[int, date, int]]:
    due = _due_terms(today)
    keys = [term_end_key(*item) for item in due]
    sent = set(db.session.scalars(select(Notice.dedupe_key).where(Notice.dedupe_key.in_(keys)))) if keys else set()
    return [item for item in due if term_end_key(*item) not in sent]


def remind_term_end(compound_id: int, term_ends_on: date, step: int) -> int:
    """Tell the compound's people and its community that the body's term ends in `step` days; the notice's key
    (compound, term end, step) makes it once however often this runs. Returns how many were told."""
    compound = db.session.get(Compound, compound_id)
    people = term_end_recipients(compound)
    notify(people, GOVERNANCE_TERM_END, f"{compound.name}自治组织任期将于{term_ends_on.isoformat()}届满",
           f"距任期届满不足{step}天，请及时筹备换届。", link=f"/h5/compounds/{compound_id}/governance",
           dedupe_key=term_end_key(compound_id, term_ends_on, step))
    return len(people)
