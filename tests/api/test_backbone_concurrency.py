"""Putting oneself forward twice at the same instant (a double tap, a retried request) leaves one application: the
partial unique index over live entries decides, the second request waits for the first's commit and is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BackboneMember
from backend.services.auth import issue_tokens
from tests.support import first_household, race

TAPS = 6


@pytest.mark.postgresql
@pytest.mark.live
def test_parallel_applications_of_one_resident_make_one_entry(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=1)
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    make_user(Role.PARTY_SECRETARY, compound)
    token = {"Authorization": f"Bearer {issue_tokens(owner)[0]}"}
    path, owner_id = f"/api/v1/compounds/{compound.id}/backbones/volunteer", owner.id
    db.session.commit()
    db.session.close()
    results = race(app, [("POST", path, token, {"name": "刘芳", "skills": ["理发"]})] * TAPS)
    assert sorted(status for status, _ in results) == [201] + [409] * (TAPS - 1)
    assert db.session.scalar(select(func.count()).select_from(BackboneMember).where(
        BackboneMember.user_id == owner_id)) == 1
