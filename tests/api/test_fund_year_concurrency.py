"""The year's surplus decided at the same instant by several bookkeepers: one decision (the others 409), one set of
refunds adding up to the surplus, one audit event."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, FundYear, SurplusRefund
from backend.services.auth import issue_tokens
from tests.fund_books import EXPENSE_FEN, INCOME_FEN, REMUNERATION_FEN, write_books
from tests.support import race

pytestmark = pytest.mark.live


def test_decisions_at_the_same_instant_leave_one(app, make_compound, make_user):
    compound = make_compound(model=ManagementModel.TRUST, buildings=2, households_per_building=3)
    members = [make_user(Role.COMMITTEE, compound), make_user(Role.PARTY_SECRETARY, compound)]
    books = write_books(compound)
    tokens = [issue_tokens(member)[0] for member in members]
    compound_id = compound.id
    db.session.commit()
    db.session.close()
    path = f"/api/v1/compounds/{compound_id}/fund-years/{books.year}"
    results = race(app, [("POST", path, {"Authorization": f"Bearer {tokens[index % 2]}"},
                          {"use": "refund" if index % 2 else "carry_forward"}) for index in range(6)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409, 409, 409, 409], results
    decided = db.session.scalar(select(FundYear))
    assert decided.surplus_fen == INCOME_FEN - EXPENSE_FEN - REMUNERATION_FEN
    refunds = db.session.scalars(select(SurplusRefund)).all()
    assert sum(refund.amount_fen for refund in refunds) == (decided.surplus_fen if refunds else 0)
    assert len(refunds) == (6 if decided.use == "refund" else 0)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "fund_year.decide")) == 1
