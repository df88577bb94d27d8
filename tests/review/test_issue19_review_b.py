"""Review of issue 19 (reviewer b), renovation and contracts: a defect recorded again after it was put right is
open again, so the handover cannot be signed over it; a contract's term far out of the calendar is refused (a
renewal of a term ending on the last representable day made every read of the compound's contracts a 500); two
drafts signed into force at the same instant leave one contract in force and no 500 (PostgreSQL); a company the
owners dismissed cannot come back through the draft an earlier renewal vote left."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backend.demo.contracts import paper_result
from backend.domain.consultations import Step
from backend.domain.contracts import ContractStatus, SelectionPurpose
from backend.domain.roles import Role
from backend.domain.voting import VoteKind
from backend.extensions import db
from backend.models import BallotResult, Compound, PropertyCompany, PropertyContract, Topic
from backend.services import contracts as service
from backend.services.auth import issue_tokens
from backend.services.documents import prepare_document
from backend.shared.clock import beijing_date, utcnow
from tests.contracts_support import PDF, contract_in_force, drafted_contract
from tests.support import assert_error_shape, race


def _company(name: str, code: str) -> PropertyCompany:
    company = PropertyCompany(name=name, credit_code=code)
    db.session.add(company)
    db.session.commit()
    return company


def _call(client, method: str, path: str, user, **kwargs):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {issue_tokens(user)[0]}"}, **kwargs)


def test_a_defect_found_again_after_it_was_put_right_keeps_the_handover_open(client, area_tree, make_compound,
                                                                                make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    committee, manager = make_user(Role.COMMITTEE, compound), make_user(Role.MANAGER, compound)
    company = _company("安居物业", "91510400MA6REVB001")
    contract_id = drafted_contract(compound.id, company.id, committee.id)
    started = _call(client, "POST", f"/api/v1/contracts/{contract_id}/handovers", committee)
    assert started.status_code == 201, started.get_json()
    path = f"/api/v1/handovers/{started.get_json()['id']}"
    items = started.get_json()["items"]
    for item in items[1:]:
        assert _call(client, "POST", f"{path}/items/{item['id']}", committee, data={"state": "good"},
                     content_type="multipart/form-data").status_code == 200
    first = f"{path}/items/{items[0]['id']}"
    assert _call(client, "POST", first, committee, data={"state": "defective", "note": "3栋屋面渗水"},
                 content_type="multipart/form-data").status_code == 200
    assert _call(client, "POST", f"{first}/resolution", committee).get_json()["open_items"] == 0

    again = _call(client, "POST", first, committee, data={"state": "defective", "note": "复查：5栋屋面又渗水"},
                  content_type="multipart/form-data")
    assert again.status_code == 200
    assert (again.get_json()["open_items"], again.get_json()["items"][0]["is_open"]) == (1, True)
    assert_error_shape(_call(client, "POST", f"{path}/signatures", committee, json={"side": "committee"}), 409)
    assert_error_shape(_call(client, "POST", f"{path}/signatures", manager, json={"side": "company"}), 409)


def test_a_term_out_of_the_calendar_is_refused(client, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    committee = make_user(Role.COMMITTEE, compound)
    contract_id = drafted_contract(compound.id, _company("安居物业", "91510400MA6REVB002").id, committee.id)
    path = f"/api/v1/contracts/{contract_id}"
    # A term ending on the last day Python knows: its renewal would start the day after, which does not exist.
    last = {"term_start": (date.max - timedelta(days=365)).isoformat(), "term_end": date.max.isoformat()}
    first = {"term_start": date.min.isoformat(), "term_end": (date.min + timedelta(days=365)).isoformat()}
    for terms in (last, first, {"term_end": date.max.isoformat()}):
        refused = _call(client, "PUT", path, committee, json=terms | {"service_level": 3})
        assert_error_shape(refused, 422)
    today = beijing_date(utcnow())
    accepted = _call(client, "PUT", path, committee, json={
        "term_start": today.isoformat(), "term_end": (today + timedelta(days=3 * 365)).isoformat()})
    assert accepted.status_code == 200, accepted.get_json()


@pytest.mark.postgresql
@pytest.mark.live
def test_two_drafts_signed_at_once_leave_one_contract_in_force(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    committee = [make_user(Role.COMMITTEE, compound) for _ in range(2)]
    companies = [_company("安居物业", "91510400MA6REVB003"), _company("宜居物业", "91510400MA6REVB004")]
    today = beijing_date(utcnow())
    # One selection vote at a time per compound: each decided and settled before the next.
    for company in companies:
        paper_result(compound.id, company.id, committee[0].id)
        service.settle_selections(compound.id)
    drafts = list(db.session.scalars(select(PropertyContract.id).where(PropertyContract.compound_id == compound.id)
                                     .order_by(PropertyContract.id)))
    assert len(drafts) == 2
    for contract_id in drafts:
        service.update_terms(contract_id, committee[0].id, term_start=today, term_end=today + timedelta(days=730),
                             service_level=3, fee_schedule_id=None)
        service.attach_file(contract_id, committee[0].id, prepare_document(io.BytesIO(PDF)))
    tokens = [issue_tokens(member)[0] for member in committee]
    compound_id = compound.id
    db.session.commit()
    db.session.close()

    results = race(app, [("POST", f"/api/v1/contracts/{contract_id}/activation",
                          {"Authorization": f"Bearer {token}"}, None)
                         for contract_id, token in zip(drafts, tokens, strict=True)])
    assert sorted(status for status, _ in results) == [200, 409], results
    assert db.session.scalar(select(func.count()).select_from(PropertyContract).where(
        PropertyContract.compound_id == compound_id, PropertyContract.status == ContractStatus.ACTIVE)) == 1


def _passed(topic_id: int) -> None:
    """The topic's item-4 motion carried, as a closed ballot freezes it."""
    topic = db.session.get(Topic, topic_id)
    topic.step, topic.vote_kind, topic.civil_code_item = Step.DONE, VoteKind.OWNERS_JOINT, 4
    db.session.add(BallotResult(
        topic_id=topic_id, vote_kind=VoteKind.OWNERS_JOINT, civil_code_item=4, eligible_households=2,
        total_area_centi_m2=20000, total_headcount=2, participating_households=2, participating_area_centi_m2=20000,
        participating_headcount=2, participation_met=True, passed=True, reason="表决通过",
        options={"1": {"label": "同意", "is_abstain": False, "is_approval": True, "households": 2,
                       "area_centi_m2": 20000, "headcount": 2, "approved": True}},
        thresholds={"participation": "2/3", "approval": "1/2", "approval_strict": True}))
    db.session.commit()


def test_a_dismissed_company_does_not_come_back_through_an_earlier_renewals_draft(client, area_tree, make_compound,
                                                                                  make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    committee = make_user(Role.COMMITTEE, compound)
    company = _company("安居物业", "91510400MA6REVB005")
    today = beijing_date(utcnow())
    contract_id = contract_in_force(compound.id, company.id, committee.id, today, today + timedelta(days=3 * 365))
    renewal = service.follow_up_contract(contract_id, committee.id, SelectionPurpose.RENEW)
    _passed(renewal.topic_id)
    service.settle_selections(compound.id)
    renewed = service.contract_made_by(renewal.id)
    assert renewed is not None
    # The owners change their mind: they dismiss the company whose renewal they had passed.
    dismissal = service.follow_up_contract(contract_id, committee.id, SelectionPurpose.DISMISS)
    _passed(dismissal.topic_id)
    service.settle_selections(compound.id)

    draft = _call(client, "GET", f"/api/v1/contracts/{renewed}", committee).get_json()
    assert "activate" not in draft["actions"] and draft["status"] != "draft"
    assert_error_shape(_call(client, "POST", f"/api/v1/contracts/{renewed}/activation", committee), 409)
    db.session.expire_all()
    assert db.session.get(Compound, compound.id).property_company_id is None


def test_a_dismissal_voted_while_the_company_was_renewed_dismisses_the_renewed_contract(client, area_tree,
                                                                                        make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=2)
    committee = make_user(Role.COMMITTEE, compound)
    company = _company("安居物业", "91510400MA6REVB006")
    today = beijing_date(utcnow())
    contract_id = contract_in_force(compound.id, company.id, committee.id, today, today + timedelta(days=365))
    renewal = service.follow_up_contract(contract_id, committee.id, SelectionPurpose.RENEW)
    _passed(renewal.topic_id)
    service.settle_selections(compound.id)
    renewed = service.contract_made_by(renewal.id)
    dismissal = service.follow_up_contract(contract_id, committee.id, SelectionPurpose.DISMISS)
    # While the owners vote on the dismissal, the committee signs the renewal, which ends the contract voted on.
    service.update_terms(renewed, committee.id, term_start=today + timedelta(days=366),
                         term_end=today + timedelta(days=3 * 365), service_level=3, fee_schedule_id=None)
    service.attach_file(renewed, committee.id, prepare_document(io.BytesIO(PDF)))
    service.activate(renewed, committee.id)
    _passed(dismissal.topic_id)
    service.settle_selections(compound.id)

    seen = _call(client, "GET", f"/api/v1/contracts/{renewed}", committee).get_json()
    assert (seen["status"], [i["direction"] for i in seen["inspections"]]) == ("dismissed", ["hand_back"])
    db.session.expire_all()
    assert db.session.get(Compound, compound.id).property_company_id is None
