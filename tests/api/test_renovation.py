"""Renovation projects (老旧小区改造) through the API: the committee sets up a project from one of the compound's
topics; the topic lists the project and the project its topic and timeline (both ways); only the responsible party
reports progress, 100% completes it; then each household rates it once (the last rating counts); another compound's
people find nothing (404), its topic cannot be linked (422); parallel ratings of one household leave one row."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.consultations import Step
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Household, RenovationRating, Topic, User
from backend.services.auth import issue_tokens
from backend.shared.clock import utcnow
from tests.photo_samples import camera_jpeg
from tests.support import assert_error_shape, bearer, race

MULTIPART = "multipart/form-data"


@dataclass
class World:
    compound: Compound
    other: Compound
    topic_id: int
    other_topic_id: int
    community_official: User
    other_official: User
    committee: User
    manager: User
    staff: User
    resident: User
    owner: User
    other_resident: User


def _households(compound: Compound) -> list[Household]:
    return list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                   .order_by(Household.id)))


def _topic(compound: Compound, proposer: User, title: str) -> int:
    now = utcnow()
    topic = Topic(compound_id=compound.id, proposer_id=proposer.id, title=title, body="加装电梯、改造电线",
                  step=Step.IMPLEMENTATION, created_at=now - timedelta(days=30),
                  ballot_closed_at=now - timedelta(days=10))
    db.session.add(topic)
    db.session.commit()
    return topic.id


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, _, community = area_tree
    other_street = make_area("银江镇", AreaLevel.STREET, district)
    compound = make_compound(area=community, buildings=1, households_per_building=2)
    other = make_compound(area=make_area("江南社区", AreaLevel.COMMUNITY, other_street), buildings=1,
                          households_per_building=1)
    first, second = _households(compound)
    committee = make_user(Role.COMMITTEE, compound)
    other_resident = make_user(Role.RESIDENT, other, household=_households(other)[0])
    return World(
        compound=compound, other=other, topic_id=_topic(compound, committee, "老楼加装电梯"),
        other_topic_id=_topic(other, other_resident, "别的小区的议题"),
        community_official=make_user(Role.OFFICIAL, area=community),
        other_official=make_user(Role.OFFICIAL, area=other_street), committee=committee,
        manager=make_user(Role.MANAGER, compound), staff=make_user(Role.STAFF, compound),
        resident=make_user(Role.RESIDENT, compound, household=first),
        owner=make_user(Role.OWNER, compound, household=second), other_resident=other_resident,
    )


def project_body(**changes) -> dict:
    return {"title": "电气线路与电梯改造", "responsible_party": "company", "contractor": "攀枝花建工",
            "planned_start": (utcnow().date() + timedelta(days=10)).isoformat(),
            "planned_end": (utcnow().date() + timedelta(days=100)).isoformat(),
            "items": [{"item_class": "basic", "category": "电气线路", "budget_fen": 12_000_000,
                       "funding_source": "central"},
                      {"item_class": "improvement", "category": "电梯", "description": "2台", "budget_fen": 80_000_000,
                       "funding_source": "owners"},
                      {"item_class": "basic", "category": "消防安防", "budget_fen": 3_000_000,
                       "funding_source": "central"}]} | changes


def create(client, world, user=None, **changes):
    return client.post(f"/api/v1/compounds/{world.compound.id}/renovation-projects",
                       headers=bearer(client, user or world.committee), json=project_body(**changes))


def progress(client, user, project_id: int, percent: int, photos: int = 0, note: str = "施工中"):
    data = {"note": note, "percent": str(percent), "photos": [camera_jpeg(400, 300).upload() for _ in range(photos)]}
    return client.post(f"/api/v1/renovation-projects/{project_id}/progress", headers=bearer(client, user), data=data,
                       content_type=MULTIPART)


def rate(client, user, project_id: int, stars: int, comment: str = ""):
    return client.put(f"/api/v1/renovation-projects/{project_id}/rating", headers=bearer(client, user),
                      json={"stars": stars, "comment": comment})


def test_topic_project_rating_link_both_ways(client, world):
    created = create(client, world, topic_id=world.topic_id)
    assert created.status_code == 201, created.json
    project = created.json
    assert project["status"] == "planned" and project["budget_fen"] == 95_000_000
    assert [(f["funding_source"], f["budget_fen"]) for f in project["funding"]] == [("central", 15_000_000),
                                                                                     ("owners", 80_000_000)]
    assert project["topic"]["id"] == world.topic_id and project["topic"]["title"] == "老楼加装电梯"
    assert [(s["key"], s["done"]) for s in project["timeline"]] == [
        ("proposal", True), ("decision", True), ("project", True), ("started", False), ("completed", False),
        ("rating", False)]

    # The topic → the project: its API detail and its page list it.
    topic = client.get(f"/api/v1/topics/{world.topic_id}", headers=bearer(client, world.resident)).json
    assert topic["renovation_projects"] == [{"id": project["id"], "title": "电气线路与电梯改造", "status": "planned",
                                              "status_label": "计划中", "percent": 0}]

    # Progress: the company's staff with a photo, then the manager completes it.
    half = progress(client, world.staff, project["id"], 40, photos=1)
    assert half.status_code == 200, half.json
    assert half.json["status"] == "in_progress" and half.json["actual_start"] is not None
    photo = half.json["updates"][0]["photos"][0]
    assert client.get(photo["url"], headers=bearer(client, world.resident)).status_code == 200
    assert_error_shape(rate(client, world.resident, project["id"], 5), 409)
    done = progress(client, world.manager, project["id"], 100, note="全部完工验收")
    assert done.json["status"] == "completed" and done.json["actual_end"] is not None

    # The rating: one per household, the last counts; words without names.
    assert rate(client, world.resident, project["id"], 3, "噪音大").status_code == 200
    again = rate(client, world.resident, project["id"], 5, "电梯很好用")
    assert again.json["rating_count"] == 1 and again.json["rating_average_centi"] == 500
    assert again.json["my_ratings"] == [{"household_id": again.json["households"][0], "stars": 5,
                                         "comment": "电梯很好用"}]
    both = rate(client, world.owner, project["id"], 4)
    assert both.json["rating_count"] == 2 and both.json["rating_average_centi"] == 450
    assert both.json["comments"][0]["comment"] == "电梯很好用" and "user_id" not in both.json["comments"][0]
    rating_step = both.json["timeline"][-1]
    assert rating_step["done"] and rating_step["note"] == "2户评价，平均4.50星"

    # The project → the topic, and back from the topic, once rated: the same project, now completed.
    topic = client.get(f"/api/v1/topics/{world.topic_id}", headers=bearer(client, world.owner)).json
    assert topic["renovation_projects"][0]["status"] == "completed"
    assert both.json["topic"]["id"] == world.topic_id


def test_progress_only_by_the_responsible_party(client, world):
    company = create(client, world).json["id"]
    for user in (world.committee, world.resident, world.community_official):
        assert_error_shape(progress(client, user, company, 10), 403)
    assert progress(client, world.staff, company, 30).status_code == 200
    bad = progress(client, world.manager, company, 20)
    assert_error_shape(bad, 422)
    assert bad.json["errors"] == {"percent": ["进度不能低于上次的30%"]}
    assert progress(client, world.manager, company, 100).status_code == 200
    assert_error_shape(progress(client, world.manager, company, 100), 409)

    community = create(client, world, user=world.community_official, responsible_party="community").json["id"]
    assert_error_shape(progress(client, world.manager, community, 10), 403)
    assert progress(client, world.community_official, community, 10).json["actions"] == ["progress"]


def test_who_sets_up_projects_and_another_compound_finds_nothing(client, world):
    assert_error_shape(create(client, world, user=world.resident), 403)
    assert_error_shape(create(client, world, user=world.manager), 403)
    assert_error_shape(create(client, world, user=world.other_official), 404)
    linked = create(client, world, topic_id=world.other_topic_id)
    assert_error_shape(linked, 422)
    assert linked.json["errors"] == {"topic_id": ["请选择本小区的议题"]}
    assert_error_shape(create(client, world, items=[]), 422)
    assert_error_shape(create(client, world, items=[{"item_class": "basic", "category": "电梯", "budget_fen": -1,
                                                     "funding_source": "central"}]), 422)
    assert_error_shape(create(client, world, items=[{"item_class": "basic", "category": "造火箭", "budget_fen": 1,
                                                     "funding_source": "central"}]), 422)

    project = create(client, world).json["id"]
    with_photo = progress(client, world.manager, project, 100, photos=1).json
    photo_url = with_photo["updates"][0]["photos"][0]["url"]
    base = f"/api/v1/renovation-projects/{project}"
    for user in (world.other_official, world.other_resident):
        headers = bearer(client, user)
        assert_error_shape(client.get(base, headers=headers), 404)
        assert_error_shape(client.get(photo_url, headers=headers), 404)
        assert_error_shape(client.get(f"/api/v1/compounds/{world.compound.id}/renovation-projects",
                                      headers=headers), 404)
        assert_error_shape(rate(client, user, project, 5), 404)
        assert_error_shape(progress(client, user, project, 100), 404)
    assert_error_shape(client.get(base), 404)
    assert_error_shape(client.get(f"{base}/photos/2147483647", headers=bearer(client, world.resident)), 404)
    assert_error_shape(client.get("/api/v1/renovation-projects/2147483648"), 404)
    listing = client.get(f"/api/v1/compounds/{world.compound.id}/renovation-projects",
                         headers=bearer(client, world.resident)).json
    assert listing["total"] == 1 and listing["actions"] == []


@pytest.mark.postgresql
@pytest.mark.live
def test_parallel_ratings_of_one_household_leave_one(app, world, client):
    project = create(client, world).json["id"]
    progress(client, world.manager, project, 100)
    token = {"Authorization": f"Bearer {issue_tokens(world.resident)[0]}"}
    db.session.commit()
    db.session.close()
    results = race(app, [("PUT", f"/api/v1/renovation-projects/{project}/rating", token,
                          {"stars": stars, "comment": f"第{stars}次"}) for stars in (1, 2, 3, 4, 5) * 2])
    assert [status for status, _ in results] == [200] * 10
    rows = db.session.execute(select(RenovationRating.stars, RenovationRating.comment).where(
        RenovationRating.project_id == project)).all()
    assert len(rows) == 1 and rows[0].comment == f"第{rows[0].stars}次"
    assert db.session.scalar(select(func.count()).select_from(RenovationRating)) == 1
