"""治理骨干 roster through the API: keepers enter people (a building head once per building), residents put
themselves forward and the party secretary confirms, ending keeps history, the public sees names but never a
phone, another compound's roster and entries are not found, and a building head follows their building's orders."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from backend.domain.notifications import BACKBONE_DECISION, BACKBONE_REVIEW
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    AuditEvent,
    BackboneMember,
    Building,
    Compound,
    Household,
    Notice,
    User,
    WorkOrderFollower,
)
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token
from tests.support import assert_error_shape, buildings_of

HEAD_PHONE = "13800138001"


@dataclass
class World:
    a: Compound
    b: Compound
    a1: Building
    a2: Building
    b1: Building
    official: User
    secretary: User
    head: User
    owner: User
    owner_home: Household
    neighbour: User
    staff: User
    b_secretary: User
    b_official: User


@pytest.fixture
def world(built_once) -> World:
    return built_once(build_world)


def build_world(area_tree, make_area, make_compound, make_user) -> World:
    _, _, street, community = area_tree
    a = make_compound(area=community, buildings=2, households_per_building=3)
    other_community = make_area("别的社区", parent=street)
    b = make_compound(area=other_community, buildings=1, households_per_building=2)
    a1, a2 = buildings_of(a)
    households = db.session.scalars(select(Household).where(Household.compound_id == a.id).order_by(Household.id)).all()
    return World(
        a=a, b=b, a1=a1, a2=a2, b1=buildings_of(b)[0],
        official=make_user(Role.OFFICIAL, area=community),
        secretary=make_user(Role.PARTY_SECRETARY, a),
        head=make_user(Role.OWNER, a, household=households[0], phone=HEAD_PHONE),
        owner=make_user(Role.OWNER, a, household=households[1]), owner_home=households[1],
        neighbour=make_user(Role.RESIDENT, a, household=households[3]),
        staff=make_user(Role.STAFF, a),
        b_secretary=make_user(Role.PARTY_SECRETARY, b),
        b_official=make_user(Role.OFFICIAL, area=other_community),
    )


def auth(user: User | None = None, entry: Compound | None = None) -> dict:
    found = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
    return found | ({"X-Entry-Token": make_entry_token(entry)} if entry else {})


def add(client, keeper: User, compound: Compound, **body):
    return client.post(f"/api/v1/compounds/{compound.id}/backbones", json=body, headers=auth(keeper))


def roster(client, compound: Compound, user: User | None = None, entry: Compound | None = None, **query) -> dict:
    response = client.get(f"/api/v1/compounds/{compound.id}/backbones", query_string=query, headers=auth(user, entry))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(body: dict) -> dict[str, list[str]]:
    return {group["kind"]: [item["name"] for item in group["items"]] for group in body["groups"]}


def test_a_keeper_enters_a_building_head_once_per_building_and_the_public_sees_no_phone(client, world):
    created = add(client, world.official, world.a, name="张建国", kind="building_head", building_id=world.a1.id,
                  phone=HEAD_PHONE, skills=["水电维修", "调解"], note="退休电工")
    assert created.status_code == 201, created.get_json()
    head = created.get_json()
    assert head["status"] == "active" and head["has_account"] and head["building_name"] == world.a1.name
    assert head["skills"] == ["水电维修", "调解"] and head["actions"] == ["end"]
    assert db.session.get(BackboneMember, head["id"]).user_id == world.head.id

    # One active head per building; the other building may have its own, by name only.
    again = add(client, world.secretary, world.a, name="李四", kind="building_head", building_id=world.a1.id)
    assert_error_shape(again, 409)
    assert add(client, world.secretary, world.a, name="王大妈", kind="building_head",
               building_id=world.a2.id).status_code == 201
    assert add(client, world.secretary, world.a, name="阳光社工站", kind="social_org").status_code == 201

    public = roster(client, world.a, world.neighbour)
    assert names(public) == {"building_head": ["张建国", "王大妈"], "social_org": ["阳光社工站"]}
    assert public["keeps"] is False and public["actions"] == ["volunteer"]
    line = public["groups"][0]["items"][0]
    assert line["note"] == "" and line["actions"] == []
    assert HEAD_PHONE not in str(public) and "138****8001" not in str(public)
    # A visitor who scanned the compound's QR reads the same roster.
    assert names(roster(client, world.a, entry=world.a)) == names(public)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "backbone.add")) == 3


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "张三", "kind": "building_head"}, "building_id"),
    ({"name": "张三", "kind": "volunteer", "phone": "13900000000"}, "phone"),
    ({"name": "张三", "kind": "volunteer", "phone": "12345"}, "phone"),
    ({"name": "张三", "kind": "volunteer", "skills": ["a", "b", "c", "d", "e", "f", "g"]}, "skills"),
    ({"name": "", "kind": "volunteer"}, "name"),
    ({"name": "张三", "kind": "mayor"}, "kind"),
])
def test_bad_entries_are_refused_with_the_field_named(client, world, body, field):
    response = add(client, world.official, world.a, **body)
    assert_error_shape(response, 422)
    errors = response.get_json()["errors"]
    assert field in errors.get("json", errors)


def test_a_building_of_another_compound_is_refused(client, world):
    response = add(client, world.official, world.a, name="张三", kind="building_head", building_id=world.b1.id)
    assert_error_shape(response, 422)


def test_a_resident_volunteers_once_the_party_secretary_confirms_and_ending_keeps_history(client, world):
    asked = client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.owner),
                        json={"name": "刘芳", "skills": ["理发"], "note": "周末有空"})
    assert asked.status_code == 201, asked.get_json()
    entry = asked.get_json()
    assert entry["status"] == "pending" and entry["kind"] == "volunteer" and entry["note"] == "周末有空"
    assert db.session.scalar(select(Notice.kind).where(Notice.dedupe_key == f"backbone-{entry['id']}-asked")) \
        == BACKBONE_REVIEW
    assert_error_shape(client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.owner),
                                   json={"name": "刘芳"}), 409)

    # Waiting: not on the public roster; the keeper sees it with what they may do.
    assert names(roster(client, world.a, world.neighbour)) == {}
    kept = roster(client, world.a, world.secretary)
    assert kept["keeps"] and kept["pending"] == 1 and sorted(kept["actions"]) == ["add"]
    assert kept["groups"][0]["items"][0]["actions"] == ["confirm", "decline"]
    assert [item["status"] for item in roster(client, world.a, world.owner)["mine"]] == ["pending"]

    confirmed = client.post(f"/api/v1/backbones/{entry['id']}/confirm", headers=auth(world.secretary), json={})
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "active"
    assert db.session.scalar(select(Notice.kind).where(Notice.dedupe_key == f"backbone-{entry['id']}-active")) \
        == BACKBONE_DECISION
    assert_error_shape(client.post(f"/api/v1/backbones/{entry['id']}/confirm", headers=auth(world.secretary),
                                   json={}), 409)
    assert names(roster(client, world.a, world.neighbour)) == {"volunteer": ["刘芳"]}

    ended = client.post(f"/api/v1/backbones/{entry['id']}/end", headers=auth(world.official), json={"note": "搬走了"})
    assert ended.status_code == 200 and ended.get_json()["status"] == "ended"
    row = db.session.get(BackboneMember, entry["id"])
    assert row.ended_by_id == world.official.id and row.ended_at is not None and row.decided_by_id == world.secretary.id
    assert names(roster(client, world.a, world.neighbour)) == {}
    assert names(roster(client, world.a, world.secretary, status="ended")) == {"volunteer": ["刘芳"]}
    # The public cannot ask for the history: it sees the active roster whatever it asks.
    assert roster(client, world.a, world.neighbour, status="ended")["status"] == "live"
    # Ended, the person may put themselves forward again.
    assert client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.owner),
                       json={"name": "刘芳"}).status_code == 201


def test_a_declined_application_tells_the_resident_why(client, world):
    asked = client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.neighbour),
                        json={"name": "赵六", "kind": "party_member"}).get_json()
    declined = client.post(f"/api/v1/backbones/{asked['id']}/decline", headers=auth(world.secretary),
                           json={"note": "请先到社区党委报到"})
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert db.session.scalar(select(Notice.body).where(Notice.dedupe_key == f"backbone-{asked['id']}-declined")) \
        == "原因：请先到社区党委报到。"


def test_who_may_do_what(client, world):
    assert_error_shape(add(client, world.owner, world.a, name="张三", kind="volunteer"), 403)
    assert_error_shape(add(client, world.staff, world.a, name="张三", kind="volunteer"), 403)
    # Staff hold no household: they cannot put themselves forward; nor may one apply as a building head.
    assert_error_shape(client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.staff),
                                   json={"name": "张三"}), 403)
    refused = client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.owner),
                          json={"name": "张三", "kind": "building_head", "building_id": world.a1.id})
    assert_error_shape(refused, 422)
    member = add(client, world.official, world.a, name="孙七", kind="capable").get_json()
    assert_error_shape(client.post(f"/api/v1/backbones/{member['id']}/end", headers=auth(world.owner), json={}), 403)
    # Nobody signed in and no QR scanned: the compound stays hidden.
    assert_error_shape(client.get(f"/api/v1/compounds/{world.a.id}/backbones"), 404)


def test_another_compounds_roster_and_entries_are_not_found(client, world):
    member = add(client, world.official, world.a, name="周八", kind="capable").get_json()
    for stranger in (world.b_secretary, world.b_official):
        assert_error_shape(client.get(f"/api/v1/compounds/{world.a.id}/backbones", headers=auth(stranger)), 404)
        assert_error_shape(add(client, stranger, world.a, name="冒名", kind="volunteer"), 404)
        for step in ("confirm", "decline", "end"):
            assert_error_shape(client.post(f"/api/v1/backbones/{member['id']}/{step}", headers=auth(stranger),
                                           json={}), 404)
    assert_error_shape(client.post("/api/v1/backbones/2147483647/end", headers=auth(world.official), json={}), 404)
    assert db.session.get(BackboneMember, member["id"]).status.value == "active"


def test_a_building_head_follows_new_common_area_orders_of_their_building_only(client, world):
    add(client, world.official, world.a, name="张建国", kind="building_head", building_id=world.a1.id,
        phone=HEAD_PHONE)

    def submit(**place) -> int:
        response = client.post(f"/api/v1/compounds/{world.a.id}/work-orders", headers=auth(world.owner),
                               json={"category": "水电维修", "description": "楼道灯不亮"} | place)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def follows(order_id: int) -> bool:
        return db.session.get(WorkOrderFollower, (order_id, world.head.id)) is not None

    mine = submit(building_id=world.a1.id, location_text="2单元楼道")
    other = submit(building_id=world.a2.id, location_text="1单元楼道")
    at_home = submit(household_id=world.owner_home.id)
    assert follows(mine) and not follows(other) and not follows(at_home)
    assert db.session.scalar(select(func.count()).where(Notice.dedupe_key == f"wo-{mine}-building-head")) == 1
    # As a follower the head reads the order; the other building's stays hidden from them.
    assert client.get(f"/api/v1/work-orders/{mine}", headers=auth(world.head)).status_code == 200
    assert_error_shape(client.get(f"/api/v1/work-orders/{other}", headers=auth(world.head)), 404)


def test_the_officials_dashboard_counts_active_backbones_by_kind(client, world):
    add(client, world.official, world.a, name="张建国", kind="building_head", building_id=world.a1.id)
    add(client, world.official, world.a, name="阳光社工站", kind="social_org")
    ended = add(client, world.official, world.a, name="李退休", kind="capable").get_json()
    client.post(f"/api/v1/backbones/{ended['id']}/end", headers=auth(world.official), json={})
    client.post(f"/api/v1/compounds/{world.a.id}/backbones/volunteer", headers=auth(world.owner), json={"name": "刘芳"})

    def counted(block: dict) -> dict[str, int]:
        return {row["kind"]: row["count"] for row in block["by_kind"] if row["count"]}

    board = client.get(f"/api/v1/areas/{world.a.area_id}/dashboard", headers=auth(world.official)).get_json()
    assert counted(board["backbones"]) == {"building_head": 1, "social_org": 1}
    assert board["backbones"]["total"] == 2 and board["backbones"]["compounds_with_roster"] == 1
    table = client.get(f"/api/v1/areas/{world.a.area_id}/compounds", headers=auth(world.official)).get_json()
    lines = {line["id"]: line["backbones"] for line in table["items"]}
    assert counted(lines[world.a.id]) == {"building_head": 1, "social_org": 1}
    # Another community's official sees their own area only.
    other = client.get(f"/api/v1/areas/{world.b.area_id}/dashboard", headers=auth(world.b_official)).get_json()
    assert other["backbones"]["total"] == 0
