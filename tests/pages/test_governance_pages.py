"""Governance and 台账 pages: an official edits a compound's governance and sends a first secretary, who writes the
month's log; the coverage page; the ledger page takes back its own export as "no changes"; who gets 403/404."""
from __future__ import annotations

import io

import pytest

from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.shared.clock import beijing_date, utcnow
from tests.ledger_sheets import ledger_xlsx
from tests.support import first_household


@pytest.fixture
def town(area_tree, make_area, make_compound, make_user):
    _, district, street, community = area_tree
    compound = make_compound(area=community)
    return {"compound": compound, "street": street, "community": community,
            "district_official": make_user(Role.OFFICIAL, area=district),
            "street_official": make_user(Role.OFFICIAL, area=street),
            "stranger": make_user(Role.OFFICIAL, area=make_area("别的街道", AreaLevel.STREET, district)),
            "resident": make_user(Role.RESIDENT, compound, household=first_household(compound))}


def test_an_official_edits_governance_on_the_page_and_the_history_shows_it(client, town, page_sign_in):
    csrf = page_sign_in(client, town["street_official"])
    url = f"/h5/compounds/{town['compound'].id}/governance"

    saved = client.post(url, data={"csrf_token": csrf, "party_org_form": "joint", "body": "property_committee",
                                   "body_members": "5", "party_members": "0"}, follow_redirects=True)

    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "联建" in html and "物管委" in html and "党组织形式、自治组织、自治组织成员数" in html
    refused = client.post(url, data={"csrf_token": csrf, "party_members": "-3"})
    assert refused.status_code == 422 and "form-error" in refused.get_data(as_text=True)


def test_a_district_official_sends_a_first_secretary_who_writes_the_log(client, town, page_sign_in, make_user):
    csrf = page_sign_in(client, town["district_official"])
    url = f"/h5/compounds/{town['compound'].id}/first-secretary"
    person = make_user(phone="13900002222")
    sent = client.post(url, data={"csrf_token": csrf, "phone": "13900002222", "name": "李书记",
                                  "started_on": beijing_date(utcnow()).isoformat(), "goals": "成立业委会"},
                       follow_redirects=True)
    assert sent.status_code == 200 and "工作日志" in sent.get_data(as_text=True)

    client.post("/h5/logout", data={"csrf_token": csrf})
    csrf = page_sign_in(client, person)
    mine = client.get("/h5/first-secretary").get_data(as_text=True)
    assert "工作日志" in mine
    assignment_id = int(mine.split("/h5/first-secretaries/")[1].split("/")[0])
    written = client.post(f"/h5/first-secretaries/{assignment_id}/logs", data={"csrf_token": csrf,
                          "body": "走访 20 户，收集诉求 6 条"}, follow_redirects=True)
    assert "走访 20 户，收集诉求 6 条" in written.get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [("resident", 403), ("stranger", 404)])
def test_residents_and_strangers_do_not_see_the_pages(client, town, page_sign_in, who, status):
    page_sign_in(client, town[who])
    assert client.get(f"/h5/compounds/{town['compound'].id}/governance").status_code == status
    assert client.get(f"/h5/areas/{town['community'].id}/ledger").status_code in (403, 404)
    assert client.get(f"/h5/areas/{town['community'].id}/coverage").status_code in (403, 404)


def test_the_ledger_page_takes_back_its_export_as_no_changes(client, town, page_sign_in):
    csrf = page_sign_in(client, town["street_official"])
    community = town["community"]
    first = client.post(f"/h5/areas/{community.id}/ledger", data={"csrf_token": csrf,
                        "file": (io.BytesIO(ledger_xlsx()), "台账.xlsx")}, content_type="multipart/form-data")
    assert first.status_code == 200 and "已导入" in first.get_data(as_text=True)
    exported = client.get(f"/api/v1/areas/{community.id}/ledger.xlsx")
    assert exported.status_code == 200

    again = client.post(f"/h5/areas/{community.id}/ledger", data={"csrf_token": csrf,
                        "file": (io.BytesIO(exported.data), "台账.xlsx")}, content_type="multipart/form-data")

    assert again.status_code == 200 and "没有变更" in again.get_data(as_text=True)
    coverage = client.get(f"/h5/areas/{town['street'].id}/coverage").get_data(as_text=True)
    assert "共 3 个小区" in coverage
