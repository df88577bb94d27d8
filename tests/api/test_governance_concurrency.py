"""Governance under concurrency: two officials sending a first secretary at the same instant make one assignment
(the other gets 409); changes sent at once each append one history row, every "before" the row the last left."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import FirstSecretary, GovernanceRecord, Membership
from backend.services import governance
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests.support import race

pytestmark = pytest.mark.live


def _token(user) -> dict:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def test_first_secretaries_sent_at_once_make_one_assignment(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3])
    officials = [make_user(Role.OFFICIAL, area=area_tree[1]) for _ in range(4)]
    people = [make_user() for _ in range(4)]
    requests = [("POST", f"/api/v1/compounds/{compound.id}/first-secretary", _token(official),
                 {"user_id": person.id, "started_on": beijing_date(utcnow()).isoformat(), "goals": "成立业委会"})
                for official, person in zip(officials, people, strict=True)]
    compound_id = compound.id
    db.session.commit()
    db.session.close()

    statuses = sorted(status for status, _ in race(app, requests))

    assert statuses == [201, 409, 409, 409]
    assert db.session.scalar(select(func.count()).select_from(FirstSecretary)) == 1
    assert db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.compound_id == compound_id, Membership.role == Role.PARTY_SECRETARY)) == 1


def test_changes_at_once_each_append_one_row(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3])
    official = make_user(Role.OFFICIAL, area=area_tree[2])
    governance.apply(compound, {"party_org_form": "single"}, official.id, governance.SOURCE_FORM)
    token = _token(official)
    compound_id = compound.id
    db.session.commit()
    db.session.close()

    results = race(app, [("PUT", f"/api/v1/compounds/{compound_id}/governance", token, {"party_members": n})
                         for n in (1, 2, 3, 4)])

    assert [status for status, _ in results] == [200] * 4
    rows = db.session.scalars(select(GovernanceRecord).where(GovernanceRecord.compound_id == compound_id)
                              .order_by(GovernanceRecord.id)).all()
    assert len(rows) == 5 and all(row.changed == ["party_members"] for row in rows[1:])
    assert sorted(row.party_members for row in rows[1:]) == [1, 2, 3, 4]
