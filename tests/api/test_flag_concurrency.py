"""Sweeps at the same instant (the nightly job and officials' 重新研判 together): each flag is raised once and the
officials are told once, because the insert is an upsert on the active-flag index, never check-then-insert."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.notifications import PROBLEM_FLAG
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Notice, ProblemFlag
from backend.services.auth import issue_tokens
from tests.flags_support import add_open_disputes
from tests.support import race

pytestmark = pytest.mark.live


def test_parallel_sweeps_raise_each_flag_once(app, area_tree, make_compound, make_user):
    city, district, street, community = area_tree
    compound = make_compound(area=community)
    add_open_disputes(compound, 3)
    officials = [make_user(Role.OFFICIAL, area=area) for area in (district, street, street, district)]
    compound_id = compound.id
    requests = [("POST", f"/api/v1/compounds/{compound_id}/flags/sweep",
                 {"Authorization": f"Bearer {issue_tokens(official)[0]}"}, None) for official in officials * 2]
    db.session.commit()
    db.session.close()
    results = race(app, requests)
    assert [status for status, _ in results] == [200] * len(requests)
    assert sum(body["raised"] for _, body in results) == 2
    rules = db.session.execute(
        select(ProblemFlag.rule, func.count()).where(ProblemFlag.compound_id == compound_id).group_by(ProblemFlag.rule)
    ).all()
    assert sorted((rule.value, count) for rule, count in rules) == [("no_self_governance", 1), ("open_disputes", 1)]
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == PROBLEM_FLAG)) == 1
