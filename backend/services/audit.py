"""Write audit events inside the caller's transaction, so the record and the change commit together."""
from __future__ import annotations

from backend.extensions import db
from backend.models import AuditEvent


def record_audit(
    *,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    compound_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    ip: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        compound_id=compound_id,
        before=before,
        after=after,
        ip=ip,
    )
    db.session.add(event)
    return event
