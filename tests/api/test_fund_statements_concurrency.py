"""Closing a month at the same instant from several phones: one close, the others 409, one remuneration entry and one
frozen row per account."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.funds import AccountKind, Category, EntryOrigin
from backend.domain.roles import Role
from backend.extensions import db
from backend.models.funds import FundEntry, FundMonth
from backend.services.auth import issue_tokens
from tests.fund_statements_support import month_text, months_ago, open_account, post, set_remuneration
from tests.support import race

pytestmark = pytest.mark.live


def test_closing_a_month_twice_at_once_closes_it_once(app, make_compound, make_user):
    compound = make_compound(model=ManagementModel.TRUST)
    month = months_ago(1)
    trust = open_account(compound, month)
    cash = open_account(compound, month, kind=AccountKind.NONE)
    set_remuneration(compound, rate_bp=800)
    post(trust, month.replace(day=5), Category.PROPERTY_FEE, 100_000, origin=EntryOrigin.FEE_PAYMENT)
    post(cash, month.replace(day=6), Category.PARKING, 300)
    keepers = [make_user(Role.COMMITTEE, compound), make_user(Role.PARTY_SECRETARY, compound)]
    tokens = [issue_tokens(keeper)[0] for keeper in keepers]
    compound_id, trust_id = compound.id, trust.id
    db.session.commit()
    db.session.close()
    close = [("POST", f"/api/v1/compounds/{compound_id}/fund-statements/{month_text(month)}/close",
              {"Authorization": f"Bearer {tokens[index % 2]}"},
              {"bank_balances": [{"account_id": trust_id, "bank_balance_fen": 92_000}]}) for index in range(6)]
    results = race(app, close)
    assert sorted(status for status, _ in results) == [200, 409, 409, 409, 409, 409]
    assert db.session.scalar(select(func.count()).select_from(FundMonth)
                             .where(FundMonth.compound_id == compound_id)) == 2
    assert db.session.scalars(select(FundEntry.amount_fen).where(
        FundEntry.compound_id == compound_id, FundEntry.origin == EntryOrigin.REMUNERATION)).all() == [8_000]
