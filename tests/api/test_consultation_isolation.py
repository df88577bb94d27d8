"""Deliberation isolation: nobody of another compound (any role, its official, a QR visitor of it) reads or
changes a topic of this compound, its photos (by URL too), its ballot or the compound's lists and settings;
every such request is a 404 (401 signed out) and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.consultations import Channel, Schedule, Step
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import (
    AuditEvent,
    BallotOption,
    Compound,
    ConsultationSettings,
    Household,
    Topic,
    TopicComment,
    TopicFollower,
    TopicObjection,
    TopicPhoto,
    TopicProgress,
    TopicRating,
    User,
    Vote,
    VoteCast,
)
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services import photos
from backend.services.auth import issue_tokens
from backend.services.consultations import Acceptance, OptionDraft, Participant
from backend.services.qr import make_entry_token
from backend.shared.clock import utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape

MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def households_of(compound: Compound) -> list[Household]:
    return list(
        db.session.scalars(
            select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


def person(user: User, compound: Compound) -> Participant:
    return service.participant(user.id, compound.id, roles_in_compound(user.id, compound.id))


def prepared_photo():
    return photos.prepare_photo(samples.camera_jpeg(160, 120).stream())


@dataclass
class World:
    a: Compound
    topic_id: int
    photo_id: int
    paper_photo_id: int
    comment_id: int
    objection_id: int
    option_id: int
    household_id: int
    b_topic_id: int
    callers: dict[str, dict[str, str]]


def published_topic(a: Compound, owners: list[User], secretary: User, committee: User) -> Topic:
    """A topic of A in publicity: proposed with a photo, accepted, voted online and on paper, closed early
    (every household voted), with a comment and an objection."""
    service.update_settings(
        a.id, secretary.id, cosign_threshold=1, residents_may_vote=False, publicity_days=7
    )
    first, second = households_of(a)
    topic = service.propose_topic(
        a.id, person(owners[0], a), first.id, "甲的议题", "楼顶漏水要修", [prepared_photo()]
    )
    rule, schedule = VoteRule(VoteKind.OWNERS_JOINT, 5), Schedule(utcnow() + timedelta(days=1), 24, 7)
    service.accept_topic(topic.id, person(secretary, a), Acceptance(rule=rule, schedule=schedule))
    runner = person(committee, a)
    service.add_comment(topic.id, owners[1].id, "甲的评论")
    options = service.set_options(topic.id, runner, MOTION)
    service.open_ballot(topic.id, committee.id)
    service.cast_vote(topic.id, person(owners[0], a), first.id, options[0].id)
    service.record_paper_vote(topic.id, runner, second.id, options[1].id, Channel.PAPER, prepared_photo())
    service.close_ballot(topic.id, committee.id)
    service.file_objection(topic.id, person(owners[1], a), second.id, "甲的异议")
    return topic


def build_world(area_tree, make_area, make_compound, make_user) -> World:
    _city, district, _street_a, community_a = area_tree
    street_b = make_area("B街道", AreaLevel.STREET, district)
    a = make_compound(name="甲小区", area=community_a, buildings=1, households_per_building=2)
    b = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY, street_b))
    owners = [make_user(Role.OWNER, a, household=home) for home in households_of(a)]
    committee = make_user(Role.COMMITTEE, a)
    topic = published_topic(a, owners, make_user(Role.PARTY_SECRETARY, a), committee)
    proposal_photo, paper_photo = (
        db.session.scalars(
            select(TopicPhoto.id).where(TopicPhoto.topic_id == topic.id).order_by(TopicPhoto.id)
        )
    ).all()

    b_owner = make_user(Role.OWNER, b, household=households_of(b)[0])
    b_committee = make_user(Role.COMMITTEE, b)
    b_topic = service.raise_topic(b.id, person(b_committee, b), "乙的议题", "乙的事")
    callers = {
        "b_owner": bearer_for(b_owner),
        "b_tenant": bearer_for(make_user(Role.RESIDENT, b, household=households_of(b)[1])),
        "b_committee": bearer_for(b_committee),
        "b_party_secretary": bearer_for(make_user(Role.PARTY_SECRETARY, b)),
        "b_staff": bearer_for(make_user(Role.STAFF, b)),
        "b_manager": bearer_for(make_user(Role.MANAGER, b)),
        "b_official": bearer_for(make_user(Role.OFFICIAL, area=street_b)),
        "visitor_with_b_entry": bearer_for(make_user()) | {"X-Entry-Token": make_entry_token(b)},
    }
    return World(
        a=a,
        topic_id=topic.id,
        photo_id=proposal_photo,
        paper_photo_id=paper_photo,
        comment_id=db.session.scalar(select(TopicComment.id).where(TopicComment.topic_id == topic.id)),
        objection_id=db.session.scalar(select(TopicObjection.id).where(TopicObjection.topic_id == topic.id)),
        option_id=db.session.scalar(select(BallotOption.id).where(BallotOption.topic_id == topic.id)),
        household_id=households_of(a)[0].id,
        b_topic_id=b_topic.id,
        callers=callers,
    )


@pytest.fixture
def world(built_once) -> World:
    """Built by the module's first test and kept for the others; what each test changes is rolled back."""
    return built_once(build_world)


def _photo_form() -> dict:
    return {"photo": samples.camera_jpeg(120, 90).upload()}


def _paper_form(w: World) -> dict:
    return {
        "household_id": str(w.household_id),
        "option_id": str(w.option_id),
        "channel": "paper",
        **_photo_form(),
    }


def _topic(w: World, tail: str = "") -> str:
    return f"/api/v1/topics/{w.topic_id}{tail}"


# (method, path, json body, multipart form): everything that names the topic of compound A or its rows.
TOPIC_ENDPOINTS = {
    "detail": ("GET", lambda w: _topic(w), None, None),
    "photo": ("GET", lambda w: _topic(w, f"/photos/{w.photo_id}"), None, None),
    "paper_photo": ("GET", lambda w: _topic(w, f"/photos/{w.paper_photo_id}"), None, None),
    "upload_photo": ("POST", lambda w: _topic(w, "/photos"), None, lambda w: _photo_form()),
    "cosign": ("POST", lambda w: _topic(w, "/cosign"), lambda w: {}, None),
    "review": (
        "POST",
        lambda w: _topic(w, "/review"),
        lambda w: {"decision": "decline", "reason": "乙说不行"},
        None,
    ),
    "comments": ("GET", lambda w: _topic(w, "/comments"), None, None),
    "comment": ("POST", lambda w: _topic(w, "/comments"), lambda w: {"body": "乙的评论"}, None),
    "hide": (
        "POST",
        lambda w: _topic(w, f"/comments/{w.comment_id}/hide"),
        lambda w: {"reason": "乙隐藏"},
        None,
    ),
    "options": (
        "PUT",
        lambda w: _topic(w, "/options"),
        lambda w: {"options": [{"label": "甲"}, {"label": "乙"}]},
        None,
    ),
    "open_ballot": ("POST", lambda w: _topic(w, "/ballot/open"), None, None),
    "vote": ("PUT", lambda w: _topic(w, "/vote"), lambda w: {"option_id": w.option_id}, None),
    "paper_vote": ("POST", lambda w: _topic(w, "/paper-votes"), None, _paper_form),
    "close_ballot": ("POST", lambda w: _topic(w, "/ballot/close"), None, None),
    "turnout": ("GET", lambda w: _topic(w, "/turnout"), None, None),
    "voters": ("GET", lambda w: _topic(w, "/voters"), None, None),
    "my_vote": ("GET", lambda w: _topic(w, "/my-vote"), None, None),
    "result": ("GET", lambda w: _topic(w, "/result"), None, None),
    "objections": ("GET", lambda w: _topic(w, "/objections"), None, None),
    "objection": ("POST", lambda w: _topic(w, "/objections"), lambda w: {"body": "乙的异议"}, None),
    "answer": (
        "POST",
        lambda w: _topic(w, f"/objections/{w.objection_id}/answer"),
        lambda w: {"answer": "乙"},
        None,
    ),
    "progress": ("GET", lambda w: _topic(w, "/progress"), None, None),
    "post_progress": ("POST", lambda w: _topic(w, "/progress"), None, lambda w: {"body": "乙的进展"}),
    "rate": ("POST", lambda w: _topic(w, "/ratings"), lambda w: {"stars": 1}, None),
    "follow": ("POST", lambda w: _topic(w, "/follow"), None, None),
}
# Everything that names compound A itself.
COMPOUND_ENDPOINTS = {
    "list": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/topics", None, None),
    "list_by_step": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/topics?step=publicity", None, None),
    "propose": (
        "POST",
        lambda w: f"/api/v1/compounds/{w.a.id}/topics",
        lambda w: {"title": "乙", "body": "乙"},
        None,
    ),
    "raise": (
        "POST",
        lambda w: f"/api/v1/compounds/{w.a.id}/topics",
        lambda w: {"title": "乙", "body": "乙", "raise": True},
        None,
    ),
    "pending_ballots": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/pending-ballots", None, None),
    "settings": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/consultation-settings", None, None),
    "configure": (
        "PUT",
        lambda w: f"/api/v1/compounds/{w.a.id}/consultation-settings",
        lambda w: {"cosign_threshold": 1000, "residents_may_vote": True, "publicity_days": 1},
        None,
    ),
}
OUTSIDERS = sorted(
    [
        "b_owner",
        "b_tenant",
        "b_committee",
        "b_party_secretary",
        "b_staff",
        "b_manager",
        "b_official",
        "visitor_with_b_entry",
    ]
)


def _call(client, w: World, endpoint, headers):
    method, path, body, form = endpoint
    if form is not None:
        return client.open(
            path(w), method=method, data=form(w), headers=headers, content_type="multipart/form-data"
        )
    return client.open(path(w), method=method, json=body(w) if body else None, headers=headers)


def _snapshot(w: World) -> tuple:
    db.session.expire_all()
    topic = db.session.get(Topic, w.topic_id)

    def count(model, column) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(column == w.topic_id))

    settings = db.session.get(ConsultationSettings, w.a.id)
    return (
        topic.step,
        topic.cosign_count,
        count(TopicComment, TopicComment.topic_id),
        db.session.scalar(select(TopicComment.hidden_at).where(TopicComment.id == w.comment_id)),
        count(BallotOption, BallotOption.topic_id),
        count(Vote, Vote.topic_id),
        count(VoteCast, VoteCast.topic_id),
        count(TopicObjection, TopicObjection.topic_id),
        count(TopicPhoto, TopicPhoto.topic_id),
        count(TopicProgress, TopicProgress.topic_id),
        count(TopicRating, TopicRating.topic_id),
        count(TopicFollower, TopicFollower.topic_id),
        count(AuditEvent, AuditEvent.target_id),
        db.session.scalar(select(func.count()).where(Topic.compound_id == w.a.id)),
        (settings.cosign_threshold, settings.residents_may_vote, settings.publicity_days),
    )


@pytest.mark.parametrize("caller", OUTSIDERS)
@pytest.mark.parametrize("name", sorted(TOPIC_ENDPOINTS) + sorted(COMPOUND_ENDPOINTS))
def test_nobody_of_another_compound_reaches_anything_of_this_one(client, world, caller, name):
    before = _snapshot(world)
    response = _call(client, world, (TOPIC_ENDPOINTS | COMPOUND_ENDPOINTS)[name], world.callers[caller])
    assert_error_shape(response, 404)
    assert _snapshot(world) == before
    text = response.get_data(as_text=True)
    assert "甲的议题" not in text and "楼顶漏水" not in text and "甲的评论" not in text


@pytest.mark.parametrize("name", sorted(TOPIC_ENDPOINTS) + sorted(COMPOUND_ENDPOINTS))
def test_signed_out_reaches_nothing(client, world, name):
    before = _snapshot(world)
    response = _call(client, world, (TOPIC_ENDPOINTS | COMPOUND_ENDPOINTS)[name], {})
    assert response.status_code in (401, 404)
    assert_error_shape(response, response.status_code)
    assert _snapshot(world) == before


def test_a_signed_out_visitor_of_another_compound_reads_nothing(client, world, make_compound):
    other = make_compound(name="丙小区")
    headers = {"X-Entry-Token": make_entry_token(other)}
    for name, endpoint in (TOPIC_ENDPOINTS | COMPOUND_ENDPOINTS).items():
        response = _call(client, world, endpoint, headers)
        assert response.status_code in (401, 404), name
        assert_error_shape(response, response.status_code)


def test_a_photo_of_a_is_not_found_under_a_topic_of_b(client, world):
    for photo_id in (world.photo_id, world.paper_photo_id):
        for caller in ("b_committee", "b_owner"):
            response = client.get(
                f"/api/v1/topics/{world.b_topic_id}/photos/{photo_id}", headers=world.callers[caller]
            )
            assert_error_shape(response, 404)


def test_the_topic_is_still_readable_by_its_own_compound(client, world, make_user):
    """The 404s above are about who asks, not a broken topic."""
    visitor = {"X-Entry-Token": make_entry_token(world.a)}
    detail = client.get(f"/api/v1/topics/{world.topic_id}", headers=visitor)
    assert detail.status_code == 200 and detail.json["step"] == Step.PUBLICITY.value
    assert (
        client.get(f"/api/v1/topics/{world.topic_id}/photos/{world.photo_id}", headers=visitor).status_code
        == 200
    )
    committee = bearer_for(make_user(Role.COMMITTEE, world.a))
    assert client.get(f"/api/v1/topics/{world.topic_id}/voters", headers=committee).status_code == 200
    assert (
        client.get(
            f"/api/v1/topics/{world.topic_id}/photos/{world.paper_photo_id}", headers=committee
        ).status_code
        == 200
    )
