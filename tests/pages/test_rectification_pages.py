"""Rectification pages without JavaScript: the record form refuses a bad finding beside its field and keeps what
was typed; the item page offers only the forms the presenter allows; who may open which page (another street's
official 404, a resident 403, a community official may not record)."""
from __future__ import annotations

from datetime import timedelta

from backend.domain.compounds import AreaLevel
from backend.domain.rectifications import RectificationUrgency, ResponsibleParty
from backend.domain.roles import Role
from backend.services import rectifications as service
from backend.shared.clock import beijing_date, utcnow
from tests.support import first_household


def _world(area_tree, make_area, make_compound, make_user):
    _, district, street, community = area_tree
    compound = make_compound(name="金沙苑小区", area=community, buildings=1, households_per_building=1)
    other_street = make_area("银江镇", AreaLevel.STREET, district)
    return {
        "compound": compound,
        "inspector": make_user(Role.OFFICIAL, area=street),
        "community": make_user(Role.OFFICIAL, area=community),
        "other": make_user(Role.OFFICIAL, area=other_street),
        "manager": make_user(Role.MANAGER, compound),
        "resident": make_user(Role.OWNER, compound, household=first_household(compound)),
        "street_id": street.id,
    }


def test_the_record_form_keeps_what_was_typed_when_refused(client, page_sign_in, area_tree, make_area,
                                                           make_compound, make_user):
    world = _world(area_tree, make_area, make_compound, make_user)
    csrf = page_sign_in(client, world["inspector"])
    url = f"/h5/c/{world['compound'].code}/inspections/new"
    page = client.get(url)
    assert page.status_code == 200 and "飞线充电" in page.get_data(as_text=True)
    yesterday = (beijing_date(utcnow()) - timedelta(days=1)).isoformat()
    refused = client.post(url, data={
        "csrf_token": csrf, "inspected_on": beijing_date(utcnow()).isoformat(), "items": ["飞线充电"],
        "finding_0_item": "飞线充电", "finding_0_finding": "楼道飞线", "finding_0_responsible_party": "company",
        "finding_0_deadline": yesterday, "finding_0_urgency": "normal"}, headers={"X-CSRF-TOKEN": csrf})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "整改期限不能早于今天" in text and "楼道飞线" in text


def test_who_may_open_which_page(client, page_sign_in, area_tree, make_area, make_compound, make_user):
    world = _world(area_tree, make_area, make_compound, make_user)
    today = beijing_date(utcnow())
    inspection = service.record_inspection(world["compound"].id, world["inspector"].id, today, "", ["飞线充电"], [
        service.FindingInput("飞线充电", "楼道飞线", ResponsibleParty.COMPANY, today + timedelta(days=3),
                             RectificationUrgency.NORMAL)])
    item = service.items_of_inspection(inspection.id)[0]
    pages = [f"/h5/rectifications/{item.id}", f"/h5/inspections/{inspection.id}",
             f"/h5/c/{world['compound'].code}/rectifications"]
    page_sign_in(client, world["manager"])
    detail = client.get(pages[0]).get_data(as_text=True)
    assert 'id="answer-form"' in detail and 'id="accept-form"' not in detail
    for url in pages:
        assert client.get(url).status_code == 200, url
    page_sign_in(client, world["other"])
    assert [client.get(url).status_code for url in pages] == [404, 404, 404]
    page_sign_in(client, world["resident"])
    assert [client.get(url).status_code for url in pages] == [403, 403, 403]
    page_sign_in(client, world["community"])
    assert client.get(f"/h5/c/{world['compound'].code}/inspections/new").status_code == 403
    assert client.get(f"/h5/areas/{world['street_id']}/rectifications").status_code == 403
    page_sign_in(client, world["inspector"])
    assert client.get(f"/h5/areas/{world['street_id']}/inspection-checklist").status_code == 200
    assert 'id="answer-form"' not in client.get(pages[0]).get_data(as_text=True)
