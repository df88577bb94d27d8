"""Approving a spending request under concurrency: committee members approving at the same instant leave exactly
two approvals, one approved request (the rest 409) and one notice to the requester; a member's double tap counts
once; the requester's own tap never counts."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.funds import Category, SpendingPurpose, SpendingStatus
from backend.domain.notifications import SPENDING_DECIDED
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Notice, SpendingApproval, SpendingRequest
from backend.services.auth import issue_tokens
from backend.services.spending import RequestDraft, create_request
from tests.support import race

pytestmark = pytest.mark.live


def test_approvals_at_the_same_instant_approve_once(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], model=ManagementModel.TRUST, buildings=1, households_per_building=2)
    requester, *members = [make_user(Role.COMMITTEE, compound) for _ in range(5)]
    request_id = create_request(compound.id, requester.id, RequestDraft(
        title="楼道灯更换", purpose=SpendingPurpose.OTHER, amount_fen=80_000, category=Category.REPAIR,
        payee="电工班")).id
    tokens = [issue_tokens(member)[0] for member in members] + [issue_tokens(requester)[0]]
    db.session.commit()
    db.session.close()
    path = f"/api/v1/spending-requests/{request_id}/approve"
    # Each member taps twice; the requester once.
    calls = [("POST", path, {"Authorization": f"Bearer {token}"}, None) for token in tokens[:-1] * 2]
    calls.append(("POST", path, {"Authorization": f"Bearer {tokens[-1]}"}, None))
    results = race(app, calls)
    statuses = sorted(status for status, _ in results[:-1])
    assert statuses == [200, 200] + [409] * (len(calls) - 3), statuses
    # The requester is refused as such, or finds it approved already.
    assert results[-1][0] in (403, 409)
    assert db.session.get(SpendingRequest, request_id).status is SpendingStatus.APPROVED
    assert db.session.scalar(select(func.count()).where(SpendingApproval.request_id == request_id)) == 2
    assert db.session.scalar(select(func.count()).where(
        Notice.kind == SPENDING_DECIDED, Notice.dedupe_key == f"spending-{request_id}-decided")) == 1
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "spending.approve", AuditEvent.target_id == request_id)) == 2
