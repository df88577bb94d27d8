"""Review probes of issue 16's dispute mediation and rectification parts (reviewer b): each test pins a bug found in
review (scope, bad input, races, escalation order) and now passes with its fix."""
from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.disputes import DisputeKind, PartyKind
from backend.domain.notifications import RECTIFICATION_ANSWERED, RECTIFICATION_DECIDED
from backend.domain.rectifications import (
    ESCALATION_INTERVAL,
    EscalationStep,
    RectificationUrgency,
    ResponsibleParty,
)
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, Notice, RectificationEscalation, RectificationEvent, User
from backend.services import rectifications as service
from backend.services.auth import issue_tokens
from backend.services.disputes import CaseDraft, PartyInput, open_case
from backend.shared.clock import beijing_date, utcnow
from tests.photo_samples import camera_jpeg
from tests.support import bearer, race


def today():
    return beijing_date(utcnow())


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user):
    _, district, street, community = area_tree
    other_street = make_area("银江镇", AreaLevel.STREET, district)
    compound = make_compound(name="甲小区", area=community, buildings=1, households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    return {
        "compound": compound, "homes": homes,
        "community_official": make_user(Role.OFFICIAL, area=community),
        "inspector": make_user(Role.OFFICIAL, area=street),
        "district_official": make_user(Role.OFFICIAL, area=district),
        "other_official": make_user(Role.OFFICIAL, area=other_street),
        "manager": make_user(Role.MANAGER, compound),
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "resident": make_user(Role.RESIDENT, compound, household=homes[1]),
    }


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def _case(client, world) -> int:
    response = client.post(
        f"/api/v1/compounds/{world['compound'].id}/disputes", headers=bearer(client, world["community_official"]),
        json={"title": "漏水纠纷", "kind": "neighbour",
              "parties": [{"kind": "owner", "household_id": world["homes"][0].id},
                          {"kind": "company", "name": "阳光物业"}]})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _item(client, world) -> int:
    response = client.post(
        f"/api/v1/compounds/{world['compound'].id}/inspections", headers=bearer(client, world["inspector"]),
        json={"inspected_on": today().isoformat(), "note": "", "items": [{"name": "飞线充电"}],
              "findings": [{"item": "飞线充电", "finding": "楼道飞线充电", "responsible_party": "company",
                            "deadline": (today() + timedelta(days=3)).isoformat()}]})
    assert response.status_code == 201, response.json
    return response.json["rectifications"][0]["id"]


@pytest.mark.parametrize("path", ["steps", "outcome", "agreement", "mediator"])
def test_a_stranger_posting_a_dispute_form_gets_404_not_500(client, world, phone, path):
    case_id = _case(client, world)
    stranger = phone(world["other_official"])
    response = stranger.post(f"/h5/disputes/{case_id}/{path}", content_type="multipart/form-data",
                             data={"csrf_token": stranger.csrf, "happened_on": today().isoformat(), "note": "x",
                                   "outcome": "settled", "mediator_id": "1", "agreement": camera_jpeg().upload()})
    assert response.status_code == 404, response.status_code


@pytest.mark.parametrize("path", ["answer", "return", "accept"])
@pytest.mark.parametrize("who", ["other_official", "owner"])
def test_a_stranger_or_resident_posting_a_rectification_form_gets_404_or_403_not_500(client, world, phone, path, who):
    item_id = _item(client, world)
    person = phone(world[who])
    response = person.post(f"/h5/rectifications/{item_id}/{path}",
                           data={"csrf_token": person.csrf, "note": "已整改", "reason": "不合格"})
    assert response.status_code == (404 if who == "other_official" else 403), response.status_code


def test_an_item_returned_long_after_its_deadline_is_escalated_one_step_at_a_time(client, world):
    """Answered in time, returned ten days after the deadline: the next sweep reminds the party only; the street and
    the district hear later, each at least ESCALATION_INTERVAL after the step before (like work orders)."""
    item_id = _item(client, world)
    manager = bearer(client, world["manager"])
    answered = client.post(f"/api/v1/rectifications/{item_id}/answer", headers=manager, data={"note": "已整改"},
                           content_type="multipart/form-data")
    assert answered.status_code == 200, answered.json
    later = utcnow() + timedelta(days=13)
    with time_machine.travel(later):
        returned = client.post(f"/api/v1/rectifications/{item_id}/return", headers=bearer(client, world["inspector"]),
                               json={"reason": "仍有飞线"})
        assert returned.status_code == 200, returned.json
        assert service.sweep() == 1
        assert service.sweep() == 0
        assert escalated() == [EscalationStep.PARTY]
    with time_machine.travel(later + timedelta(days=1)):
        assert service.sweep() == 0
    with time_machine.travel(later + ESCALATION_INTERVAL):
        assert service.sweep() == 1
        assert escalated() == [EscalationStep.PARTY, EscalationStep.STREET]
    with time_machine.travel(later + 2 * ESCALATION_INTERVAL):
        assert service.sweep() == 1
        assert service.sweep() == 0
    assert escalated() == list(EscalationStep)


def escalated() -> list[EscalationStep]:
    return [EscalationStep(step) for step in db.session.scalars(
        select(RectificationEscalation.step).order_by(RectificationEscalation.step))]


# ---- races (PostgreSQL): no bug found; kept as the proof the parts lacked ----

BOUNDARY = "rectification-race"


def _multipart(**fields: str) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


@pytest.mark.postgresql
@pytest.mark.live
def test_answers_then_decisions_at_the_same_instant_each_happen_once(app, area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    inspector = make_user(Role.OFFICIAL, area=street)
    managers = [make_user(Role.MANAGER, compound), make_user(Role.STAFF, compound)]
    today = beijing_date(utcnow())
    inspection = service.record_inspection(compound.id, inspector.id, today, "", ["飞线充电"], [
        service.FindingInput("飞线充电", "楼道飞线", ResponsibleParty.COMPANY, today, RectificationUrgency.NORMAL)])
    item_id = service.items_of_inspection(inspection.id)[0].id
    tokens = {user.id: issue_tokens(user)[0] for user in [inspector, *managers]}
    inspector_id, manager_ids = inspector.id, [user.id for user in managers]
    db.session.commit()
    db.session.close()

    answer = [("POST", f"/api/v1/rectifications/{item_id}/answer",
               {"Authorization": f"Bearer {tokens[user_id]}",
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, _multipart(note="已整改"))
              for user_id in manager_ids * 2]
    answered = sorted(status for status, _ in race(app, answer))
    assert answered == [200, 409, 409, 409]
    events = select(RectificationEvent).where(RectificationEvent.rectification_id == item_id)
    assert _count(events.where(RectificationEvent.action == "answer")) == 1
    assert _count(select(Notice).where(Notice.kind == RECTIFICATION_ANSWERED)) == 1

    headers = {"Authorization": f"Bearer {tokens[inspector_id]}"}
    decisions = ([("POST", f"/api/v1/rectifications/{item_id}/accept", headers, {"note": "合格"})] * 3
                 + [("POST", f"/api/v1/rectifications/{item_id}/return", headers, {"reason": "不合格"})] * 3)
    decided = sorted(status for status, _ in race(app, decisions))
    assert decided == [200, 409, 409, 409, 409, 409]
    assert _count(events.where(RectificationEvent.action.in_(["accept", "return"]))) == 1
    assert _count(select(Notice).where(Notice.kind == RECTIFICATION_DECIDED)) == 1


def test_a_community_official_cannot_rewrite_the_checklist_its_compounds_are_inspected_by(client, world, phone):
    """The community answers for its compounds (it may itself be the responsible party); only those who inspect (the
    street, the district, the city) set what an inspection checks."""
    community_id = world["compound"].area_id
    checklist = f"/api/v1/areas/{community_id}/inspection-checklist"
    refused = client.put(checklist, headers=bearer(client, world["community_official"]), json={"items": ["其他"]})
    assert refused.status_code == 403, refused.json
    assert service.checklist_for_compound(world["compound"].id)[:2] == ("物业服务", "安全生产/消防")
    # Reading it stays open to the community; the street above still sets it.
    assert client.get(checklist, headers=bearer(client, world["community_official"])).status_code == 200
    assert client.put(checklist, headers=bearer(client, world["inspector"]), json={"items": ["飞线充电"]}).status_code == 200
    page = phone(world["community_official"]).get(f"/h5/areas/{community_id}/inspection-checklist")
    assert page.status_code == 200 and 'id="checklist-form"' not in page.get_data(as_text=True)
    assert 'id="checklist-form"' in phone(world["inspector"]).get(
        f"/h5/areas/{community_id}/inspection-checklist").get_data(as_text=True)


def test_the_record_form_shows_a_findings_refusal_beside_the_row_it_was_typed_in(world, phone):
    """Only the second finding row filled in, with a deadline in the past: the message belongs to row 2, not row 1."""
    inspector = phone(world["inspector"])
    refused = inspector.post(f"/h5/c/{world['compound'].code}/inspections/new", data={
        "csrf_token": inspector.csrf, "inspected_on": today().isoformat(), "items": ["飞线充电"],
        "finding_1_item": "飞线充电", "finding_1_finding": "楼道飞线", "finding_1_responsible_party": "company",
        "finding_1_deadline": (today() - timedelta(days=1)).isoformat(), "finding_1_urgency": "normal"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    message = text.index("整改期限不能早于今天", text.index('data-finding="0"'))
    assert text.index('data-finding="1"') < message < text.index('data-finding="2"')


@pytest.mark.parametrize("path", ["answer", "photos"])
def test_a_strangers_broken_upload_to_an_item_gets_404_and_is_never_read(client, world, path):
    """As for a dispute's agreement: someone the item is hidden from learns nothing from a verdict on their file."""
    item_id = _item(client, world)
    response = client.post(f"/api/v1/rectifications/{item_id}/{path}", headers=bearer(client, world["other_official"]),
                           data={"note": "已整改", "photos": [(io.BytesIO(b"not a photo"), "a.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 404, response.json


@pytest.mark.parametrize("name", [b"/J#61vaScript", b"/#4A#53", b"/Open#41ction", b"/#4caunch"])
def test_an_agreement_pdf_hiding_a_script_behind_name_escapes_is_refused(client, world, name):
    """PDF names may spell any byte as #xx (/J#61vaScript is /JavaScript to a reader): the check reads them so."""
    case_id = _case(client, world)
    pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog " + name + b" (app.alert(1)) >> endobj\n"
           b"trailer << /Root 1 0 R >>\n%%EOF\n")
    response = client.post(f"/api/v1/disputes/{case_id}/agreement", headers=bearer(client, world["community_official"]),
                           data={"agreement": (io.BytesIO(pdf), "agreement.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422, response.json


@pytest.mark.postgresql
@pytest.mark.live
def test_a_mediator_replaced_at_the_same_instant_records_no_outcome_after_it(app, area_tree, make_compound, make_user):
    """The street hands the case to another mediator while the old one records the outcome: either the outcome came
    first (and the change is refused, 409) or the change did (and the old mediator is refused, 403), never both."""
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    old, new = make_user(Role.OFFICIAL, area=community), make_user(Role.OFFICIAL, area=community)
    above = make_user(Role.OFFICIAL, area=street)
    draft = CaseDraft(title="纠纷", kind=DisputeKind.OTHER, parties=[PartyInput(PartyKind.COMPANY, name="物业"),
                                                                    PartyInput(PartyKind.COMMITTEE, name="业委会")])
    cases = [open_case(compound.id, old.id, draft).id for _ in range(6)]
    tokens = {user.id: issue_tokens(user)[0] for user in (old, above)}
    old_id, above_id, new_id = old.id, above.id, new.id
    db.session.commit()
    db.session.close()
    for case_id in cases:
        outcome = ("POST", f"/api/v1/disputes/{case_id}/outcome",
                   {"Authorization": f"Bearer {tokens[old_id]}",
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, _multipart(outcome="settled"))
        change = ("POST", f"/api/v1/disputes/{case_id}/mediator", {"Authorization": f"Bearer {tokens[above_id]}"},
                  {"mediator_id": new_id})
        results = [status for status, _ in race(app, [change, outcome, outcome])]
        assert results.count(200) == 1, results


@pytest.mark.postgresql
@pytest.mark.live
def test_an_item_answered_while_the_sweep_runs_is_not_escalated_after_its_answer(app, area_tree, make_compound,
                                                                                  make_user):
    """The party answers as the sweep reaches the item: the escalation comes before the answer or not at all."""
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    inspector, manager = make_user(Role.OFFICIAL, area=street), make_user(Role.MANAGER, compound)
    day = today()
    inspection = service.record_inspection(compound.id, inspector.id, day, "", ["飞线充电"], [
        service.FindingInput("飞线充电", f"问题{n}", ResponsibleParty.COMPANY, day) for n in range(12)])
    ids = [item.id for item in service.items_of_inspection(inspection.id)]
    manager_id = manager.id
    db.session.commit()
    db.session.close()
    travel = time_machine.travel(utcnow() + timedelta(days=1), tick=True)
    travel.start()
    token = issue_tokens(db.session.get(User, manager_id))[0]
    db.session.commit()
    db.session.close()
    answers = [("POST", f"/api/v1/rectifications/{item_id}/answer",
                {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                _multipart(note="已整改")) for item_id in reversed(ids)]
    try:
        sweeping = threading.Thread(target=lambda: _sweep_in(app))
        sweeping.start()
        assert {status for status, _ in race(app, answers)} == {200}
        sweeping.join(timeout=60)
    finally:
        travel.stop()
    for item_id in ids:
        actions = list(db.session.scalars(select(RectificationEvent.action).where(
            RectificationEvent.rectification_id == item_id).order_by(RectificationEvent.id)))
        assert "escalate" not in actions[actions.index("answer"):], actions


def _sweep_in(app) -> None:
    with app.app_context():
        service.sweep()
        db.session.remove()
