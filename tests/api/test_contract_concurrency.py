"""The company's once-guarantees under concurrency (PostgreSQL): people reading a decided selection at the same instant settle
it into exactly one draft contract; committee members tapping 续聘 / 解聘 on a contract at once raise one vote (the
rest 409); two taps on 开始承接查验 open one inspection; a double tap on 发起选聘 raises one vote."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.demo.contracts import paper_result
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import CompanySelection, HandoverInspection, PropertyCompany, PropertyContract, Topic
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests.contracts_support import contract_in_force
from tests.support import race

# SQLite serialises writers anyway, and a read that settles (a GET begins deferred) cannot wait for another writer.
pytestmark = [pytest.mark.postgresql, pytest.mark.live]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_decided_selection_read_at_once_makes_one_contract_and_one_vote_follows_it(
        app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    members = [make_user(Role.COMMITTEE, compound) for _ in range(3)]
    company = PropertyCompany(name="安居物业", credit_code="91510400MA6RACE001")
    db.session.add(company)
    db.session.commit()
    today = beijing_date(utcnow())
    signed = contract_in_force(compound.id, company.id, members[0].id, today, today + timedelta(days=365))
    # A second selection decided and not yet settled: every reader may be the one to settle it.
    paper_result(compound.id, company.id, members[1].id)
    selection_topics = count(Topic, Topic.compound_id == compound.id)
    tokens = [issue_tokens(member)[0] for member in members]
    compound_id = compound.id
    db.session.commit()
    db.session.close()

    listing = f"/api/v1/compounds/{compound_id}/contracts"
    results = race(app, [("GET", listing, {"Authorization": f"Bearer {token}"}, None) for token in tokens * 2])
    assert [status for status, _ in results] == [200] * 6
    assert count(PropertyContract, PropertyContract.compound_id == compound_id) == 2

    follow_up = f"/api/v1/contracts/{signed}/follow-up"
    calls = [("POST", follow_up, {"Authorization": f"Bearer {token}"}, {"purpose": purpose})
             for token in tokens for purpose in ("renew", "dismiss")]
    statuses = sorted(status for status, _ in race(app, calls))
    assert statuses == [201] + [409] * 5, statuses
    assert count(CompanySelection, CompanySelection.contract_id == signed) == 1
    assert count(Topic, Topic.compound_id == compound_id) == selection_topics + 1

    handovers = f"/api/v1/contracts/{signed}/handovers"
    statuses = sorted(status for status, _ in race(app, [("POST", handovers, {"Authorization": f"Bearer {token}"},
                                                          None) for token in tokens]))
    assert statuses == [201, 409, 409], statuses
    assert count(HandoverInspection, HandoverInspection.contract_id == signed) == 1


def test_committee_members_starting_a_selection_at_once_raise_one_vote(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    members = [make_user(Role.COMMITTEE, compound) for _ in range(3)]
    company = PropertyCompany(name="安居物业", credit_code="91510400MA6RACE002")
    db.session.add(company)
    db.session.commit()
    tokens = [issue_tokens(member)[0] for member in members]
    compound_id, company_id = compound.id, company.id
    db.session.close()

    start = f"/api/v1/compounds/{compound_id}/company-selections"
    calls = [("POST", start, {"Authorization": f"Bearer {token}"}, {"candidate_ids": [company_id]})
             for token in tokens * 2]
    statuses = sorted(status for status, _ in race(app, calls))
    assert statuses == [201] + [409] * 5, statuses
    assert count(CompanySelection, CompanySelection.compound_id == compound_id) == 1
    assert count(Topic, Topic.compound_id == compound_id) == 1
