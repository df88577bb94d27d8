"""Read counts under concurrency: the same person opening a notice from several requests at the same instant is
counted once (the database keeps one row per notice and person)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.announcements import Category
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AnnouncementRead
from backend.services.announcements import Draft, post_to_compound
from backend.services.auth import issue_tokens
from tests.support import first_household, race

pytestmark = pytest.mark.live


def test_openings_at_the_same_instant_count_one_reader(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    committee = make_user(Role.COMMITTEE, compound)
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    announcement_id = post_to_compound(compound.id, committee.id, Draft("停水通知", "明日停水", Category.OUTAGE)).id
    token = {"Authorization": f"Bearer {issue_tokens(owner)[0]}"}
    db.session.commit()
    db.session.close()
    results = race(app, [("GET", f"/api/v1/announcements/{announcement_id}", token, None)] * 8)
    assert [status for status, _ in results] == [200] * 8
    assert db.session.scalar(select(func.count()).select_from(AnnouncementRead)) == 1
