"""治理骨干 pages without JavaScript: the keeper's form refuses beside what was typed and splits the skills text as
the rule does; a resident's application is confirmed from the roster page; who may open which page."""
from __future__ import annotations

import html

from sqlalchemy import select

from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BackboneMember, Household
from tests.support import buildings_of


def _world(area_tree, make_compound, make_user):
    community = area_tree[3]
    compound = make_compound(area=community, buildings=2, households_per_building=1)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)))
    return {
        "compound": compound, "building": buildings_of(compound)[1],
        "official": make_user(Role.OFFICIAL, area=community),
        "secretary": make_user(Role.PARTY_SECRETARY, compound),
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "stranger": make_user(Role.PARTY_SECRETARY, make_compound()),
    }


def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_keepers_form_keeps_what_was_typed_and_splits_the_skills(client, page_sign_in, area_tree, make_compound,
                                                                       make_user):
    world = _world(area_tree, make_compound, make_user)
    code = world["compound"].code
    csrf = page_sign_in(client, world["official"])
    url = f"/h5/c/{code}/backbones/new"
    assert client.get(url).status_code == 200
    form = {"csrf_token": csrf, "kind": "building_head", "name": "张建国", "skills": "水电 调解，水电", "building_id": ""}
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "楼栋长请选择负责的楼栋" in body(refused) and 'value="张建国"' in body(refused)
    done = client.post(url, data=form | {"building_id": str(world["building"].id)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/h5/c/{code}/backbones")
    roster = body(client.get(f"/h5/c/{code}/backbones"))
    assert "张建国" in roster and "特长：水电、调解" in roster and world["building"].name in roster


def test_a_resident_applies_and_the_party_secretary_confirms_on_the_roster(client, page_sign_in, area_tree,
                                                                           make_compound, make_user):
    world = _world(area_tree, make_compound, make_user)
    code = world["compound"].code
    csrf = page_sign_in(client, world["owner"])
    assert client.get(f"/h5/c/{code}/backbones/new").status_code == 403
    assert client.post(f"/h5/c/{code}/backbones/volunteer",
                       data={"csrf_token": csrf, "name": "刘芳", "kind": "volunteer", "skills": "理发"}).status_code == 302
    mine = body(client.get(f"/h5/c/{code}/backbones/volunteer"))
    assert 'id="my-entries"' in mine and "待确认" in mine
    member_id = db.session.scalar(select(BackboneMember.id).where(BackboneMember.user_id == world["owner"].id))

    csrf = page_sign_in(client, world["stranger"])
    assert client.post(f"/h5/backbones/{member_id}/confirm", data={"csrf_token": csrf}).status_code == 404
    assert client.get(f"/h5/c/{code}/backbones").status_code == 404
    csrf = page_sign_in(client, world["secretary"])
    assert 'data-action="confirm"' in body(client.get(f"/h5/c/{code}/backbones"))
    confirmed = client.post(f"/h5/backbones/{member_id}/confirm", data={"csrf_token": csrf})
    assert confirmed.status_code == 302
    assert db.session.get(BackboneMember, member_id).status.value == "active"
    assert 'data-action="end"' in body(client.get(f"/h5/c/{code}/backbones"))
