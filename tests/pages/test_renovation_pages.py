"""Renovation pages without JavaScript: the set-up form takes the budget in yuan, refuses a bad one and keeps what
was typed; the compound home shows 改造进度 only where the compound has a project (or to those who set them up)."""
from __future__ import annotations

from backend.domain.roles import Role
from backend.services import renovation as service
from tests.support import first_household


def test_the_set_up_form_and_the_home_block(client, page_sign_in, make_compound, make_user):
    compound = make_compound(name="金沙苑小区", buildings=1, households_per_building=1)
    committee = make_user(Role.COMMITTEE, compound)
    resident = make_user(Role.RESIDENT, compound, household=first_household(compound))
    home = f"/h5/c/{compound.code}"
    assert "/h5/login" in client.get(f"{home}/renovation").headers["Location"]

    page_sign_in(client, resident)
    assert 'id="home-renovation"' not in client.get(home).get_data(as_text=True)
    assert client.get(f"{home}/renovation/new").status_code == 403

    csrf = page_sign_in(client, committee)
    assert 'id="home-new-project-link"' in client.get(home).get_data(as_text=True)
    form = {"csrf_token": csrf, "title": "雨污分流改造", "responsible_party": "committee", "contractor": "",
            "topic_id": "", "planned_start": "", "planned_end": "",
            "item_0_item_class": "basic", "item_0_category": "排水管网", "item_0_description": "主管更换",
            "item_0_budget": "12.5万", "item_0_funding_source": "local",
            "item_1_item_class": "basic", "item_1_category": "", "item_1_budget": "", "item_1_funding_source": "local"}
    refused = client.post(f"{home}/renovation/new", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "金额（元）" in text and "雨污分流改造" in text and "主管更换" in text

    created = client.post(f"{home}/renovation/new", data=form | {"item_0_budget": "125000.50"})
    assert created.status_code == 302
    project_id = int(created.headers["Location"].rsplit("/", 1)[1])
    project = service.seen_by(project_id, committee.id)[0]
    assert [(item.category, item.budget_fen) for item in project.items] == [("排水管网", 12_500_050)]

    page_sign_in(client, resident)
    shown = client.get(home).get_data(as_text=True)
    assert 'id="home-renovation"' in shown and f'data-project="{project_id}"' in shown and "雨污分流改造" in shown
    assert "¥125,000.50" in client.get(f"/h5/renovation/{project_id}").get_data(as_text=True)
    for cookie in ("access_token_cookie", "refresh_token_cookie"):
        client.delete_cookie(cookie)
    assert "/h5/login" in client.get(f"/h5/renovation/{project_id}").headers["Location"]
