"""Deliberation rounds (五步议事法) through the API: the whole round from proposal to rating, refused input (422),
steps (409) and roles (403); who may vote; secrecy of each household's choice; the topic list's query count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain import voting
from backend.domain.compounds import PartyOrgForm
from backend.domain.consultations import Step
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import (
    AuditEvent,
    BallotOption,
    BallotRoll,
    Compound,
    Household,
    Membership,
    Topic,
    TopicPhoto,
    User,
    Vote,
    VoteCast,
)
from backend.services import consultations as service
from backend.services.auth import issue_tokens
from backend.services.qr import make_entry_token
from tests import photo_samples as samples
from tests.support import assert_error_shape

pytestmark = pytest.mark.calendar

# 10:00 on a Monday in Beijing.
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
SMALL, LARGE = 5, 50


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def bearer_for(user: User) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, fresh for the clock of the moment."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@dataclass
class Place:
    compound: Compound
    homes: list[Household]  # 2 buildings × 4 households
    owners: list[User]  # owners[i] is the verified owner of homes[i], for i < 6
    tenant: User  # a verified resident (tenant) of homes[6]; homes[7] has nobody
    committee: User
    secretary: User


def households_of(compound: Compound) -> list[Household]:
    return list(
        db.session.scalars(
            select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


@pytest.fixture
def place(make_compound, make_user) -> Place:
    compound = make_compound(buildings=2, households_per_building=4)
    homes = households_of(compound)
    return Place(
        compound=compound,
        homes=homes,
        owners=[make_user(Role.OWNER, compound, household=home) for home in homes[:6]],
        tenant=make_user(Role.RESIDENT, compound, household=homes[6]),
        committee=make_user(Role.COMMITTEE, compound),
        secretary=make_user(Role.PARTY_SECRETARY, compound),
    )


def call(client, method: str, path: str, user: User | None = None, **kwargs):
    return client.open(path, method=method, headers=bearer_for(user) if user else {}, **kwargs)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def topic_url(topic_id: int, tail: str = "") -> str:
    return f"/api/v1/topics/{topic_id}{tail}"


def upload(client, path: str, user: User, **fields):
    return client.post(path, data=fields, headers=bearer_for(user), content_type="multipart/form-data")


def photo() -> tuple:
    return samples.camera_jpeg(160, 120).upload()


# ---- steps through the API ---------------------------------------------------------------------------


def propose(client, place: Place, owner: int = 0, **body):
    body = {"title": "楼道加装扶手", "body": "3栋老人多，上下楼不便"} | body
    return call(
        client, "POST", f"/api/v1/compounds/{place.compound.id}/topics", place.owners[owner], json=body
    )


def raised(client, place: Place, title: str = "更换电梯") -> dict:
    body = {"title": title, "body": "电梯使用已满二十年", "raise": True}
    return ok(
        call(client, "POST", f"/api/v1/compounds/{place.compound.id}/topics", place.committee, json=body), 201
    )


def acceptance(kind: str = "owners_joint", item: int | None = 4, **overrides) -> dict:
    return {
        "decision": "accept",
        "vote_kind": kind,
        "civil_code_item": item,
        "deliberation_ends_at": (T0 + timedelta(days=3)).isoformat(),
        "voting_hours": 72,
        "publicity_days": 7,
        "responsible_party": "物业公司",
    } | overrides


def review(client, place: Place, topic_id: int, body: dict, user: User | None = None):
    return call(client, "POST", topic_url(topic_id, "/review"), user or place.secretary, json=body)


MOTION = [
    {"label": "同意", "is_approval": True},
    {"label": "不同意"},
    {"label": "弃权", "is_abstain": True},
]


def set_options(client, place: Place, topic_id: int, options: list[dict] = MOTION):
    return call(client, "PUT", topic_url(topic_id, "/options"), place.committee, json={"options": options})


def voting_topic(client, place: Place, kind: str = "owners_joint", item: int | None = 4, **review_overrides):
    """A raised topic accepted, drafted as a motion and opened; returns its id and its options by label."""
    topic_id = raised(client, place)["id"]
    ok(review(client, place, topic_id, acceptance(kind, item, **review_overrides)))
    options = ok(set_options(client, place, topic_id))["items"]
    ok(call(client, "POST", topic_url(topic_id, "/ballot/open"), place.committee))
    return topic_id, {option["label"]: option["id"] for option in options}


def vote(client, user: User, topic_id: int, option_id: int, household_id: int | None = None):
    body = {"option_id": option_id} | ({"household_id": household_id} if household_id else {})
    return call(client, "PUT", topic_url(topic_id, "/vote"), user, json=body)


def close(client, place: Place, topic_id: int):
    return call(client, "POST", topic_url(topic_id, "/ballot/close"), place.committee)


def detail(client, topic_id: int, user: User | None) -> dict:
    return ok(call(client, "GET", topic_url(topic_id), user))


# ---- the whole round ---------------------------------------------------------------------------------


def test_a_topic_goes_from_proposal_to_rated_implementation(client, clock, place):
    owners, committee = place.owners, place.committee
    ok(
        call(
            client,
            "PUT",
            f"/api/v1/compounds/{place.compound.id}/consultation-settings",
            committee,
            json={"cosign_threshold": 3, "residents_may_vote": False, "publicity_days": 7},
        )
    )

    # 1 议题征集: the proposer's household is the first co-sign; a photo follows.
    topic = ok(propose(client, place), 201)
    topic_id = topic["id"]
    assert (topic["step"], topic["step_number"], topic["cosign_count"], topic["cosign_threshold"]) == (
        "proposed",
        1,
        1,
        3,
    )
    assert topic["mine"] is True and topic["cosigned_household_ids"] == [place.homes[0].id]
    assert "add_photo" in topic["actions"] and "cosign" not in topic["actions"]
    picture = ok(upload(client, topic_url(topic_id, "/photos"), owners[0], photo=photo()), 201)
    assert picture["url"] == topic_url(topic_id, f"/photos/{picture['id']}")
    shown = call(client, "GET", picture["url"], owners[1])
    assert shown.status_code == 200 and shown.headers["Cache-Control"].startswith("private")
    assert_error_shape(upload(client, topic_url(topic_id, "/photos"), owners[1], photo=photo()), 403)

    as_neighbour = detail(client, topic_id, owners[1])
    assert as_neighbour["proposer_name"] == "居民" and as_neighbour["photos"] == [picture]
    assert "cosign" in as_neighbour["actions"]
    assert detail(client, topic_id, committee)["proposer_name"] == owners[0].display_name
    assert ok(call(client, "POST", topic_url(topic_id, "/cosign"), owners[1], json={}))["cosign_count"] == 2
    assert ok(call(client, "POST", topic_url(topic_id, "/cosign"), owners[2], json={}))["step"] == "review"
    assert_error_shape(call(client, "POST", topic_url(topic_id, "/cosign"), owners[3], json={}), 409)

    # 2 议题确定: an owners' joint decision on item 4 (选聘物业), secret vote.
    reviewed = ok(review(client, place, topic_id, acceptance("owners_joint", 4)))
    assert (reviewed["step"], reviewed["vote_kind"], reviewed["civil_code_item"]) == (
        "deliberation",
        "owners_joint",
        4,
    )
    assert reviewed["civil_code_item_label"] == voting.ITEM_LABELS[4] and reviewed["open_voting"] is False

    # 3 协商讨论: comments, a reply, one hidden with its reason.
    first = ok(
        call(client, "POST", topic_url(topic_id, "/comments"), owners[1], json={"body": "赞成，越快越好"}),
        201,
    )
    reply = ok(
        call(
            client,
            "POST",
            topic_url(topic_id, "/comments"),
            owners[2],
            json={"body": "费用谁出？", "parent_id": first["id"]},
        ),
        201,
    )
    assert reply["parent_id"] == first["id"]
    hidden = ok(
        call(
            client,
            "POST",
            topic_url(topic_id, f"/comments/{first['id']}/hide"),
            committee,
            json={"reason": "含有人身攻击"},
        )
    )
    assert (hidden["hidden"], hidden["body"], hidden["hidden_reason"]) == (True, "", "含有人身攻击")
    comments = call(client, "GET", topic_url(topic_id, "/comments"), owners[3])
    lines = ok(comments)["items"]
    assert [(line["id"], line["hidden"]) for line in lines] == [(first["id"], True), (reply["id"], False)]
    assert lines[0]["hidden_reason"] == "含有人身攻击" and "越快越好" not in comments.get_data(as_text=True)
    assert {line["author_name"] for line in lines} == {"居民"}
    seen_by_committee = ok(call(client, "GET", topic_url(topic_id, "/comments"), committee))["items"]
    assert seen_by_committee[1]["author_name"] == owners[2].display_name

    options = {option["label"]: option["id"] for option in ok(set_options(client, place, topic_id))["items"]}
    assert list(options) == ["同意", "不同意", "弃权"]

    # 4 表决决议: open, vote, change a vote, record a paper ballot; an early close is refused.
    opened = ok(call(client, "POST", topic_url(topic_id, "/ballot/open"), committee))
    assert opened["step"] == "voting" and opened["voting_open"] is True
    assert "vote" in detail(client, topic_id, owners[0])["actions"]
    ok(vote(client, owners[0], topic_id, options["不同意"]))
    receipt = ok(vote(client, owners[0], topic_id, options["同意"]))
    assert (receipt["option_label"], receipt["channel"], receipt["casts"]) == ("同意", "online", 2)
    for owner in owners[1:4]:
        ok(vote(client, owner, topic_id, options["同意"]))
    ok(vote(client, owners[4], topic_id, options["不同意"]))
    paper = upload(
        client,
        topic_url(topic_id, "/paper-votes"),
        committee,
        household_id=str(place.homes[5].id),
        option_id=str(options["弃权"]),
        channel="paper",
        note="纸质票第1号",
        photo=photo(),
    )
    assert (ok(paper, 201)["channel"], ok(paper, 201)["channel_label"]) == ("paper", "书面表决票")
    mine = ok(call(client, "GET", topic_url(topic_id, "/my-vote"), owners[5]))["items"]
    assert [(item["option_label"], item["channel"]) for item in mine] == [("弃权", "paper")]
    assert_error_shape(close(client, place, topic_id), 409)

    home0_votes = select(func.count()).where(
        VoteCast.topic_id == topic_id, VoteCast.household_id == place.homes[0].id
    )
    assert db.session.scalar(home0_votes) == 2
    assert (
        db.session.scalar(select(Vote.option_id).where(Vote.household_id == place.homes[0].id))
        == options["同意"]
    )

    clock.move_to(T0 + timedelta(hours=73))
    result = ok(close(client, place, topic_id))
    assert (result["passed"], result["participating_households"], result["eligible_households"]) == (
        True,
        6,
        8,
    )
    assert result["explanations"][0]["lines"][-1] == "结论：表决通过"
    assert_same_as_pure_tally(result, topic_id, VoteRule(VoteKind.OWNERS_JOINT, 4), options["同意"])

    # 5 公示监督: an objection answered publicly, then progress and ratings.
    assert detail(client, topic_id, owners[1])["step"] == "publicity"
    objection = ok(
        call(client, "POST", topic_url(topic_id, "/objections"), owners[4], json={"body": "面积统计有误"}),
        201,
    )
    assert_error_shape(
        call(client, "POST", topic_url(topic_id, "/objections"), place.tenant, json={"body": "x"}), 403
    )
    assert "answer_objection" in detail(client, topic_id, committee)["actions"]
    answered = ok(
        call(
            client,
            "POST",
            topic_url(topic_id, f"/objections/{objection['id']}/answer"),
            committee,
            json={"answer": "已核对，面积按不动产登记"},
        )
    )
    assert answered["answer"] == "已核对，面积按不动产登记" and answered["answered_at"]
    assert_error_shape(
        call(
            client,
            "POST",
            topic_url(topic_id, f"/objections/{objection['id']}/answer"),
            committee,
            json={"answer": "再答"},
        ),
        409,
    )
    listed = ok(call(client, "GET", topic_url(topic_id, "/objections"), owners[1]))["items"]
    assert [(item["author_name"], item["mine"]) for item in listed] == [("业主", False)]

    clock.move_to(T0 + timedelta(hours=73, days=7, minutes=1))
    assert service.advance_topic(topic_id, datetime.now(UTC)) is Step.IMPLEMENTATION
    assert_error_shape(upload(client, topic_url(topic_id, "/progress"), committee, body=" "), 422)
    update = ok(
        upload(client, topic_url(topic_id, "/progress"), committee, body="已发布招标公告", photos=[photo()]),
        201,
    )
    assert update["is_final"] is False and len(update["photos"]) == 1
    assert_error_shape(upload(client, topic_url(topic_id, "/progress"), owners[1], body="我来报进展"), 403)
    done = ok(
        upload(client, topic_url(topic_id, "/progress"), committee, body="新物业已进场", is_final="true"), 201
    )
    assert done["is_final"] is True and detail(client, topic_id, owners[1])["step"] == "done"
    assert [
        line["body"] for line in ok(call(client, "GET", topic_url(topic_id, "/progress"), owners[1]))["items"]
    ] == [
        "已发布招标公告",
        "新物业已进场",
    ]
    ratings = ok(
        call(
            client, "POST", topic_url(topic_id, "/ratings"), owners[1], json={"stars": 4, "comment": "还行"}
        ),
        201,
    )
    assert (ratings["count"], ratings["average"], ratings["mine"][0]["stars"]) == (1, 4.0, 4)
    assert detail(client, topic_id, owners[2])["rating_count"] == 1

    audited = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == "topic", AuditEvent.target_id == topic_id)
    ).all()
    for action in (
        "topic.propose",
        "topic.deliberation",
        "topic.hide_comment",
        "topic.paper_vote",
        "topic.publicity",
        "topic.objection",
        "topic.answer_objection",
        "topic.progress",
        "topic.done",
    ):
        assert action in audited


def assert_same_as_pure_tally(result: dict, topic_id: int, rule: VoteRule, approval_id: int) -> None:
    """The frozen figures equal voting.tally over the frozen roll and the recorded votes."""
    options = {
        option.id: option
        for option in db.session.scalars(select(BallotOption).where(BallotOption.topic_id == topic_id))
    }
    key = {
        option_id: voting.ABSTAIN if option.is_abstain else str(option_id)
        for option_id, option in options.items()
    }
    eligible = [
        voting.EligibleHousehold(row.household_id, row.owner_key, row.area_centi_m2)
        for row in db.session.scalars(select(BallotRoll).where(BallotRoll.topic_id == topic_id))
    ]
    votes = [
        voting.CastVote(row.household_id, key[row.option_id])
        for row in db.session.scalars(select(Vote).where(Vote.topic_id == topic_id))
    ]
    expected = voting.tally(rule, eligible, votes, str(approval_id))
    for name in (
        "eligible_households",
        "total_area_centi_m2",
        "total_headcount",
        "participating_households",
        "participating_area_centi_m2",
        "participating_headcount",
        "participation_met",
        "passed",
        "reason",
    ):
        assert result[name] == getattr(expected, name), name
    for option in result["options"]:
        option_key = key[option["id"]]
        assert option["households"] == expected.option_households.get(option_key, 0)
        assert option["area_centi_m2"] == expected.option_area_centi_m2.get(option_key, 0)
        assert option["headcount"] == expected.option_headcount.get(option_key, 0)


def test_a_consultation_is_decided_by_a_simple_majority_of_votes_cast(client, clock, place):
    topic_id, options = voting_topic(client, place, "consultation", None)
    ok(vote(client, place.owners[0], topic_id, options["同意"]))
    ok(vote(client, place.owners[1], topic_id, options["不同意"]))
    ok(vote(client, place.owners[2], topic_id, options["同意"]))
    clock.move_to(T0 + timedelta(hours=72))
    result = ok(close(client, place, topic_id))
    assert (result["vote_kind"], result["passed"], result["thresholds"]["participation"]) == (
        "consultation",
        True,
        None,
    )
    assert_same_as_pure_tally(result, topic_id, VoteRule(VoteKind.CONSULTATION), options["同意"])
    assert ok(call(client, "GET", topic_url(topic_id, "/result"), place.tenant))["passed"] is True


def test_the_ballot_closes_early_once_every_household_has_voted(client, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=2)
    homes = households_of(compound)
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes]
    committee = make_user(Role.COMMITTEE, compound)
    small = Place(
        compound=compound,
        homes=homes,
        owners=owners,
        tenant=owners[0],
        committee=committee,
        secretary=make_user(Role.PARTY_SECRETARY, compound),
    )
    topic_id, options = voting_topic(client, small, "consultation", None)
    ok(vote(client, owners[0], topic_id, options["同意"]))
    turnout = ok(call(client, "GET", topic_url(topic_id, "/turnout"), owners[1]))
    assert (turnout["voted_households"], turnout["roll_households"], turnout["voting_open"]) == (1, 2, True)
    assert_error_shape(close(client, small, topic_id), 409)
    ok(vote(client, owners[1], topic_id, options["弃权"]))
    assert "close_ballot" in detail(client, topic_id, committee)["actions"]
    result = ok(close(client, small, topic_id))
    assert (result["participating_households"], result["passed"]) == (2, False)
    assert [item["household_id"] for item in result["counted"]["items"]] == [home.id for home in homes]


def test_the_detail_lists_the_meetings_held_on_the_topic(client, place):
    topic_id = raised(client, place)["id"]
    assert detail(client, topic_id, place.owners[0])["meetings"] == []
    convened = {
        "kind": "deliberation",
        "title": "加装电梯议事会",
        "agenda": "听取各方意见",
        "starts_at": (T0 + timedelta(days=2)).isoformat(),
        "place": "党群服务站",
        "topic_id": topic_id,
    }
    meeting = ok(
        call(
            client, "POST", f"/api/v1/compounds/{place.compound.id}/meetings", place.committee, json=convened
        ),
        201,
    )
    assert detail(client, topic_id, place.owners[0])["meetings"] == [
        {
            "id": meeting["id"],
            "kind": "deliberation",
            "kind_label": "议事会",
            "title": "加装电梯议事会",
            "starts_at": "2026-11-04T02:00:00+00:00",
            "place": "党群服务站",
        }
    ]


# ---- refused: bad input, wrong step, wrong role -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "body": "内容"},
        {"title": "   ", "body": "内容"},
        {"title": "长" * 61, "body": "内容"},
        {"title": "标题"},
        {"title": "标题", "body": "内容", "household_id": 1.5},
        {"title": "标题", "body": "内容", "household_id": 0},
        {"title": "标题", "body": "内容", "raise": True, "household_id": 1},
    ],
)
def test_a_proposal_with_bad_input_is_refused_with_422(client, place, body):
    response = call(
        client, "POST", f"/api/v1/compounds/{place.compound.id}/topics", place.owners[0], json=body
    )
    assert_error_shape(response, 422)
    assert response.json["errors"]


def test_only_those_who_run_the_compound_raise_topics_and_only_for_own_households(client, place):
    path = f"/api/v1/compounds/{place.compound.id}/topics"
    assert_error_shape(
        call(client, "POST", path, place.owners[0], json={"title": "t", "body": "b", "raise": True}), 403
    )
    assert_error_shape(call(client, "POST", path, place.committee, json={"title": "t", "body": "b"}), 403)
    someone_elses = {"title": "t", "body": "b", "household_id": place.homes[1].id}
    assert_error_shape(call(client, "POST", path, place.owners[0], json=someone_elses), 403)
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"vote_kind": None}, "vote_kind"),
        ({"civil_code_item": None}, "civil_code_item"),
        ({"vote_kind": "consultation"}, "civil_code_item"),
        ({"civil_code_item": 10}, "civil_code_item"),
        ({"voting_hours": 23}, "voting_hours"),
        ({"deliberation_ends_at": "2026-11-05T10:00:00"}, "deliberation_ends_at"),
        ({"deliberation_ends_at": (T0 + timedelta(days=400)).isoformat()}, "deliberation_ends_at"),
        ({"decision": "decline"}, "reason"),
        ({"decision": "merge"}, "merge_into_id"),
        ({"decision": "approve"}, "decision"),
    ],
)
def test_a_review_with_bad_input_is_refused_with_422(client, place, overrides, field):
    topic_id = raised(client, place)["id"]
    response = review(client, place, topic_id, acceptance() | overrides)
    assert_error_shape(response, 422)
    assert field in response.json["errors"]["json"]
    assert detail(client, topic_id, place.secretary)["step"] == "review"


def test_a_deliberation_that_has_already_ended_is_refused(client, place):
    topic_id = raised(client, place)["id"]
    past = acceptance(deliberation_ends_at=(T0 - timedelta(hours=1)).isoformat())
    assert_error_shape(review(client, place, topic_id, past), 422)


def test_review_belongs_to_the_party_secretary_where_the_compound_has_a_party_organisation(client, place):
    topic_id = raised(client, place)["id"]
    assert_error_shape(review(client, place, topic_id, acceptance(), user=place.owners[0]), 403)
    place.compound.party_org_form = PartyOrgForm.SINGLE
    db.session.commit()
    assert_error_shape(review(client, place, topic_id, acceptance(), user=place.committee), 403)
    declined = ok(review(client, place, topic_id, {"decision": "decline", "reason": "不属于业主自治事项"}))
    assert (declined["step"], declined["step_number"], declined["decline_reason"]) == (
        "declined",
        0,
        "不属于业主自治事项",
    )
    assert_error_shape(review(client, place, topic_id, acceptance()), 409)


def test_a_duplicate_is_merged_into_an_open_topic(client, place):
    first, second = raised(client, place, "加装电梯")["id"], raised(client, place, "电梯加装")["id"]
    merged = ok(review(client, place, second, {"decision": "merge", "merge_into_id": first}))
    assert (merged["step"], merged["merged_into_id"]) == ("merged", first)
    assert_error_shape(review(client, place, first, {"decision": "merge", "merge_into_id": first}), 422)


@pytest.mark.parametrize(
    "options",
    [
        [{"label": "同意"}],
        [{"label": "同意"}, {"label": "同意"}],
        [{"label": "同意"}, {"label": " "}],
        [{"label": "弃权", "is_abstain": True}, {"label": "放弃", "is_abstain": True}],
        [{"label": "同意", "is_abstain": True, "is_approval": True}, {"label": "不同意"}],
        [{"label": "甲" * 41}, {"label": "乙"}],
        [{"label": f"候选人{n}"} for n in range(21)],
    ],
)
def test_options_are_validated(client, place, options):
    topic_id = raised(client, place)["id"]
    ok(review(client, place, topic_id, acceptance()))
    assert_error_shape(set_options(client, place, topic_id, options), 422)
    assert ok(set_options(client, place, topic_id))["items"][0]["label"] == "同意"


def test_steps_out_of_order_are_refused_with_409(client, place):
    topic_id = raised(client, place)["id"]
    assert_error_shape(set_options(client, place, topic_id), 409)
    assert_error_shape(call(client, "POST", topic_url(topic_id, "/ballot/open"), place.committee), 409)
    assert_error_shape(close(client, place, topic_id), 409)
    assert_error_shape(call(client, "GET", topic_url(topic_id, "/result"), place.owners[0]), 409)
    assert_error_shape(call(client, "GET", topic_url(topic_id, "/turnout"), place.owners[0]), 409)
    assert_error_shape(
        call(client, "POST", topic_url(topic_id, "/ratings"), place.owners[0], json={"stars": 5}), 409
    )
    ok(review(client, place, topic_id, acceptance()))
    assert_error_shape(call(client, "POST", topic_url(topic_id, "/ballot/open"), place.committee), 409)
    assert_error_shape(upload(client, topic_url(topic_id, "/photos"), place.committee, photo=photo()), 409)
    assert_error_shape(
        call(client, "POST", topic_url(topic_id, "/objections"), place.owners[0], json={"body": "x"}), 409
    )


def test_residents_cannot_run_the_ballot(client, place):
    topic_id, options = voting_topic(client, place)
    owner = place.owners[0]
    for method, tail, body in (
        ("PUT", "/options", {"options": MOTION}),
        ("POST", "/ballot/close", None),
        ("GET", "/voters", None),
    ):
        assert_error_shape(call(client, method, topic_url(topic_id, tail), owner, json=body), 403)
    paper = upload(
        client,
        topic_url(topic_id, "/paper-votes"),
        owner,
        household_id=str(place.homes[1].id),
        option_id=str(options["同意"]),
        channel="proxy",
        photo=photo(),
    )
    assert_error_shape(paper, 403)
    assert_error_shape(
        call(
            client,
            "PUT",
            f"/api/v1/compounds/{place.compound.id}/consultation-settings",
            owner,
            json={"cosign_threshold": 1, "residents_may_vote": True, "publicity_days": 1},
        ),
        403,
    )


def test_a_paper_vote_needs_a_photo_and_a_paper_channel(client, place):
    topic_id, options = voting_topic(client, place)
    path = topic_url(topic_id, "/paper-votes")
    fields = {"household_id": str(place.homes[7].id), "option_id": str(options["同意"])}
    assert_error_shape(upload(client, path, place.committee, channel="paper", **fields), 422)
    assert_error_shape(upload(client, path, place.committee, channel="online", photo=photo(), **fields), 422)
    not_a_photo = upload(
        client, path, place.committee, channel="paper", photo=samples.pdf_document().upload(), **fields
    )
    assert_error_shape(not_a_photo, 422)
    assert db.session.scalar(select(func.count()).where(Vote.topic_id == topic_id)) == 0


def test_ids_out_of_range_are_404_not_500(client, place):
    for path in ("/api/v1/topics/0", "/api/v1/topics/99999999999", "/api/v1/compounds/99999999999/topics"):
        assert_error_shape(call(client, "GET", path, place.owners[0]), 404)


# ---- who may vote -----------------------------------------------------------------------------------------


def test_a_tenant_may_not_vote_on_an_owners_joint_decision(client, place):
    topic_id, options = voting_topic(client, place)
    assert_error_shape(vote(client, place.tenant, topic_id, options["同意"]), 403)
    assert_error_shape(vote(client, place.tenant, topic_id, options["同意"], place.homes[6].id), 403)
    assert "vote" not in detail(client, topic_id, place.tenant)["actions"]


def test_a_tenant_sees_that_the_owner_voted_on_an_owners_joint_decision_but_not_the_choice(
    client, place, make_user
):
    tenant = make_user(Role.RESIDENT, place.compound, household=place.homes[0])
    topic_id, options = voting_topic(client, place)
    ok(vote(client, place.owners[0], topic_id, options["不同意"]))

    [mine] = ok(call(client, "GET", topic_url(topic_id, "/my-vote"), tenant))["items"]
    [in_detail] = detail(client, topic_id, tenant)["my_votes"]
    [owners] = ok(call(client, "GET", topic_url(topic_id, "/my-vote"), place.owners[0]))["items"]

    for receipt in (mine, in_detail):
        assert (receipt["household_id"], receipt["voted"], receipt["may_vote"]) == (place.homes[0].id, True, False)
        assert [receipt.get(key) for key in ("option_id", "option_label", "channel", "cast_at")] == [None] * 4
    assert (owners["option_label"], owners["may_vote"]) == ("不同意", True)
    page = client.get(f"/h5/topics/{topic_id}", headers=bearer_for(tenant)).get_data(as_text=True)
    assert "本户已表决" in page and "不同意</strong>" not in page


def test_a_tenant_votes_on_a_consultation_when_the_compound_allows_residents(client, place):
    ok(
        call(
            client,
            "PUT",
            f"/api/v1/compounds/{place.compound.id}/consultation-settings",
            place.secretary,
            json={"cosign_threshold": 5, "residents_may_vote": True, "publicity_days": 7},
        )
    )
    topic_id, options = voting_topic(client, place, "consultation", None)
    receipt = ok(vote(client, place.tenant, topic_id, options["同意"]))
    assert (receipt["household_id"], receipt["option_label"]) == (place.homes[6].id, "同意")
    joint_id, joint_options = voting_topic(client, place)
    assert_error_shape(vote(client, place.tenant, joint_id, joint_options["同意"]), 403)


def test_an_unverified_owner_or_a_visitor_of_the_compound_may_not_vote(client, place, make_user):
    topic_id, options = voting_topic(client, place)
    unverified = make_user()
    db.session.add(
        Membership(
            user_id=unverified.id,
            role=Role.OWNER,
            compound_id=place.compound.id,
            household_id=place.homes[7].id,
            verified_at=None,
        )
    )
    db.session.commit()
    assert_error_shape(vote(client, unverified, topic_id, options["同意"]), 403)
    assert_error_shape(vote(client, unverified, topic_id, options["同意"], place.homes[7].id), 403)
    visitor = make_user()
    response = client.put(
        topic_url(topic_id, "/vote"),
        json={"option_id": options["同意"], "household_id": place.homes[7].id},
        headers=bearer_for(visitor) | {"X-Entry-Token": make_entry_token(place.compound)},
    )
    assert_error_shape(response, 403)
    assert_error_shape(vote(client, place.committee, topic_id, options["同意"]), 403)
    assert db.session.scalar(select(func.count()).where(Vote.topic_id == topic_id)) == 0


def test_another_compounds_owner_finds_no_topic(client, place, make_compound, make_user):
    topic_id, options = voting_topic(client, place)
    elsewhere = make_compound(buildings=1, households_per_building=1)
    stranger = make_user(Role.OWNER, elsewhere, household=households_of(elsewhere)[0])
    assert_error_shape(vote(client, stranger, topic_id, options["同意"]), 404)
    assert_error_shape(vote(client, stranger, topic_id, options["同意"], households_of(elsewhere)[0].id), 404)


def test_a_vote_after_the_close_is_refused(client, clock, place):
    topic_id, options = voting_topic(client, place)
    ok(vote(client, place.owners[0], topic_id, options["同意"]))
    clock.move_to(T0 + timedelta(hours=72))
    assert_error_shape(vote(client, place.owners[1], topic_id, options["同意"]), 409)
    ok(close(client, place, topic_id))
    assert_error_shape(vote(client, place.owners[0], topic_id, options["不同意"]), 409)
    assert db.session.scalar(select(Vote.option_id).where(Vote.topic_id == topic_id)) == options["同意"]


def test_an_option_of_another_topic_is_refused(client, place):
    topic_id, _ = voting_topic(client, place)
    _, other_options = voting_topic(client, place)
    assert_error_shape(vote(client, place.owners[0], topic_id, other_options["同意"]), 422)
    assert db.session.scalar(select(func.count()).where(Vote.topic_id == topic_id)) == 0


def test_an_owner_of_several_households_chooses_which_one_votes(client, place):
    topic_id, options = voting_topic(client, place)
    db.session.add(
        Membership(
            user_id=place.owners[0].id,
            role=Role.OWNER,
            compound_id=place.compound.id,
            household_id=place.homes[7].id,
            verified_at=T0,
        )
    )
    db.session.commit()
    assert_error_shape(vote(client, place.owners[0], topic_id, options["同意"]), 422)
    ok(vote(client, place.owners[0], topic_id, options["同意"], place.homes[7].id))
    receipts = ok(call(client, "GET", topic_url(topic_id, "/my-vote"), place.owners[0]))["items"]
    assert [(item["household_id"], item["voted"]) for item in receipts] == [
        (place.homes[0].id, False),
        (place.homes[7].id, True),
    ]


# ---- secrecy -----------------------------------------------------------------------------------------------


def secret_ballot(client, place: Place, open_voting: bool) -> tuple[int, dict[str, int]]:
    """Household A (owners[0]) votes 同意, household B (owners[1]) votes the only 不同意, a paper ballot for
    homes[2]; comments too. Returns the topic and its options."""
    topic_id, options = voting_topic(client, place, open_voting=open_voting)
    ok(vote(client, place.owners[0], topic_id, options["同意"]))
    ok(vote(client, place.owners[1], topic_id, options["不同意"]))
    ok(
        upload(
            client,
            topic_url(topic_id, "/paper-votes"),
            place.committee,
            household_id=str(place.homes[2].id),
            option_id=str(options["同意"]),
            channel="proxy",
            photo=photo(),
        ),
        201,
    )
    ok(
        call(client, "POST", topic_url(topic_id, "/comments"), place.owners[1], json={"body": "我投了反对"}),
        201,
    )
    return topic_id, options


def b_choice_placed(body, household_b: int, option_b: int) -> bool:
    """Whether any object in the body names household B beside B's option (by id or by label)."""
    if isinstance(body, list):
        return any(b_choice_placed(item, household_b, option_b) for item in body)
    if not isinstance(body, dict):
        return False
    names_b = any(
        "household" in key and (value == household_b or (isinstance(value, list) and household_b in value))
        for key, value in body.items()
    )
    shows_b_choice = any("option" in key and value in (option_b, "不同意") for key, value in body.items())
    return (names_b and shows_b_choice) or any(
        b_choice_placed(value, household_b, option_b) for value in body.values()
    )


def names_household(body, household_id: int) -> bool:
    if isinstance(body, list):
        return any(names_household(item, household_id) for item in body)
    if not isinstance(body, dict):
        return False
    return any(
        (
            "household" in key
            and (value == household_id or (isinstance(value, list) and household_id in value))
        )
        or names_household(value, household_id)
        for key, value in body.items()
    )


def test_no_endpoint_shows_a_resident_another_households_choice(client, clock, place):
    topic_id, options = secret_ballot(client, place, open_voting=False)
    a, b = place.owners[0], place.homes[1].id
    while_open = {
        "detail": call(client, "GET", topic_url(topic_id), a),
        "turnout": call(client, "GET", topic_url(topic_id, "/turnout"), a),
        "comments": call(client, "GET", topic_url(topic_id, "/comments"), a),
        "my-vote": call(client, "GET", topic_url(topic_id, "/my-vote"), a),
        "pending": call(client, "GET", f"/api/v1/compounds/{place.compound.id}/pending-ballots", a),
    }
    for name, response in while_open.items():
        assert response.status_code == 200, name
        assert not b_choice_placed(response.get_json(), b, options["不同意"]), name
    assert [item["household_id"] for item in while_open["my-vote"].json["items"]] == [place.homes[0].id]
    assert [item["household_id"] for item in while_open["detail"].json["my_votes"]] == [place.homes[0].id]
    assert not names_household(while_open["detail"].json, b)
    assert_error_shape(call(client, "GET", topic_url(topic_id, "/voters"), a), 403)
    paper_photo = db.session.scalar(select(TopicPhoto.id).where(TopicPhoto.vote_cast_id.is_not(None)))
    assert_error_shape(call(client, "GET", topic_url(topic_id, f"/photos/{paper_photo}"), a), 404)
    assert (
        call(client, "GET", topic_url(topic_id, f"/photos/{paper_photo}"), place.committee).status_code == 200
    )

    voters = ok(call(client, "GET", topic_url(topic_id, "/voters"), place.committee))
    assert {item["household_id"]: item["voted"] for item in voters["items"]}[b] is True
    assert "option_label" not in str(voters) and not b_choice_placed(voters, b, options["不同意"])

    clock.move_to(T0 + timedelta(hours=72))
    ok(close(client, place, topic_id))
    result = ok(call(client, "GET", topic_url(topic_id, "/result"), a))
    assert {item["household_id"] for item in result["counted"]["items"]} == {
        home.id for home in place.homes[:3]
    }
    assert {item["option_label"] for item in result["counted"]["items"]} == {None}
    assert not b_choice_placed(result, b, options["不同意"])
    # Per-option totals stay public in a secret vote; only who chose what is hidden.
    assert {option["label"]: option["households"] for option in result["options"]} == {
        "同意": 2,
        "不同意": 1,
        "弃权": 0,
    }
    for tail in ("", "/my-vote", "/comments", "/turnout"):
        assert not b_choice_placed(
            ok(call(client, "GET", topic_url(topic_id, tail), a)), b, options["不同意"]
        ), tail


def test_an_open_vote_lists_each_households_choice_in_the_result(client, clock, place):
    topic_id, options = secret_ballot(client, place, open_voting=True)
    assert detail(client, topic_id, place.owners[0])["open_voting"] is True
    clock.move_to(T0 + timedelta(hours=72))
    ok(close(client, place, topic_id))
    result = ok(call(client, "GET", topic_url(topic_id, "/result"), place.owners[0]))
    choices = {item["household_id"]: item["option_label"] for item in result["counted"]["items"]}
    assert choices == {place.homes[0].id: "同意", place.homes[1].id: "不同意", place.homes[2].id: "同意"}
    # The live bar and the committee's roll still never say how anyone voted.
    assert not b_choice_placed(
        ok(call(client, "GET", topic_url(topic_id, "/voters"), place.committee)),
        place.homes[1].id,
        options["不同意"],
    )


# ---- lists --------------------------------------------------------------------------------------------------


def test_the_topic_list_filters_by_step_and_pages(client, place):
    raised(client, place, "甲")
    second = raised(client, place, "乙")["id"]
    ok(review(client, place, second, acceptance()))
    path = f"/api/v1/compounds/{place.compound.id}/topics"
    everything = ok(call(client, "GET", path, place.owners[0]))
    assert [item["title"] for item in everything["items"]] == ["乙", "甲"] and everything["total"] == 2
    deliberating = ok(call(client, "GET", path, place.owners[0], query_string={"step": "deliberation"}))
    assert [(item["title"], item["step_label"]) for item in deliberating["items"]] == [("乙", "协商讨论")]
    assert_error_shape(call(client, "GET", path, place.owners[0], query_string={"step": "nope"}), 422)
    assert_error_shape(call(client, "GET", path, place.owners[0], query_string={"page_size": 101}), 422)
    visitor = client.get(path, headers={"X-Entry-Token": make_entry_token(place.compound)})
    assert visitor.status_code == 200 and visitor.json["total"] == 2


def test_pending_ballots_list_what_waits_for_my_vote(client, place):
    topic_id, options = voting_topic(client, place)
    path = f"/api/v1/compounds/{place.compound.id}/pending-ballots"
    pending = ok(call(client, "GET", path, place.owners[0]))["items"]
    assert [(entry["topic"]["id"], entry["household_ids"]) for entry in pending] == [
        (topic_id, [place.homes[0].id])
    ]
    assert pending[0]["household_labels"] == ["1栋1单元101室"]
    ok(vote(client, place.owners[0], topic_id, options["同意"]))
    assert ok(call(client, "GET", path, place.owners[0]))["items"] == []
    assert ok(call(client, "GET", path, place.tenant))["items"] == []


def test_the_topic_list_runs_the_same_queries_for_5_and_50_rows(client, count_queries, place):
    db.session.add_all(
        Topic(
            compound_id=place.compound.id,
            proposer_id=place.owners[n % 6].id,
            proposer_household_id=place.homes[n % 6].id,
            title=f"议题{n}",
            body="内容",
            step=Step.PROPOSED,
            cosign_count=1,
        )
        for n in range(60)
    )
    db.session.commit()
    path = f"/api/v1/compounds/{place.compound.id}/topics"
    headers = bearer_for(place.owners[0])
    client.get(path, headers=headers)

    def statements(page_size: int) -> tuple[list[str], dict]:
        db.session.expire_all()
        with count_queries() as executed:
            response = client.get(path, headers=headers, query_string={"page_size": page_size})
        assert response.status_code == 200
        return executed, response.json

    small, small_body = statements(SMALL)
    large, large_body = statements(LARGE)
    assert (len(small_body["items"]), len(large_body["items"]), large_body["total"]) == (SMALL, LARGE, 60)
    assert len(small) == len(large), "\n".join(["-- small page:", *small, "-- large page:", *large])
