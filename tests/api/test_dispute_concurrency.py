"""Recording a dispute's outcome under concurrency: several requests at the same instant leave one outcome (the others
409) and one notice of it to the parties; a step racing the outcome is either recorded before it or refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.disputes import DisputeKind, PartyKind
from backend.domain.notifications import DISPUTE_UPDATE
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import DisputeStep, Notice
from backend.services.auth import issue_tokens
from backend.services.disputes import CaseDraft, PartyInput, open_case
from backend.shared.clock import beijing_date, utcnow
from tests.support import first_household, race

pytestmark = pytest.mark.live

BOUNDARY = "dispute-race"


def _multipart(**fields: str) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def test_outcomes_at_the_same_instant_leave_one(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    official = make_user(Role.OFFICIAL, area=area_tree[3])
    make_user(Role.OWNER, compound, household=first_household(compound))
    case_id = open_case(compound.id, official.id, CaseDraft(
        title="漏水纠纷", kind=DisputeKind.NEIGHBOUR,
        parties=[PartyInput(PartyKind.OWNER, household_id=first_household(compound).id),
                 PartyInput(PartyKind.COMPANY, name="物业")])).id
    token = issue_tokens(official)[0]
    db.session.commit()
    db.session.close()
    outcome = ("POST", f"/api/v1/disputes/{case_id}/outcome",
               {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
               _multipart(outcome="settled"))
    step = ("POST", f"/api/v1/disputes/{case_id}/steps", {"Authorization": f"Bearer {token}"},
            {"happened_on": beijing_date(utcnow()).isoformat(), "note": "面谈"})
    results = race(app, [outcome] * 5 + [step] * 3)
    outcomes = sorted(status for status, _ in results[:5])
    assert outcomes == [200, 409, 409, 409, 409]
    steps = [status for status, _ in results[5:]]
    assert set(steps) <= {201, 409}
    assert db.session.scalar(select(func.count()).select_from(DisputeStep)) == steps.count(201)
    assert db.session.scalar(select(func.count()).where(Notice.kind == DISPUTE_UPDATE,
                                                        Notice.dedupe_key == f"dispute-{case_id}-outcome")) == 1
