"""The five steps through the service and the database: who may propose, co-sign, review, comment, draft, vote
and object; the roll frozen at open and its owner keys; the SQL count equal to the pure count on the same rows;
the frozen result; publicity, implementation, ratings and "待我表决"."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from backend.domain import voting
from backend.domain.compounds import GovernanceBody, PartyOrgForm
from backend.domain.consultations import Channel, Schedule, Step, TopicAction, TopicRefused
from backend.domain.notifications import TOPIC_DESK, TOPIC_UPDATE, VOTE_REMINDER
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role, allows, has_party_organisation
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.models import (
    AuditEvent,
    BallotOption,
    BallotRoll,
    Building,
    Compound,
    Household,
    Membership,
    Notice,
    OutboxJob,
    RegisteredOwner,
    Topic,
    TopicComment,
    TopicCosign,
    TopicPhoto,
    TopicRating,
    User,
    Vote,
    VoteCast,
)
from backend.policy import permits, roles_in_compound
from backend.presenters import consultations as presenter
from backend.services import consultations as service
from backend.services.consultations import Acceptance, OptionDraft, Participant
from backend.services.identity import phone_hash
from backend.services.notifications import FAN_OUT_JOB
from backend.services.photos import prepare_photo
from backend.shared.clock import utcnow
from tests.photo_samples import camera_jpeg

pytestmark = pytest.mark.calendar

# 10:00 on a Monday in Beijing.
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
_phones = itertools.count(13900000001)

MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))
CANDIDATES = (
    OptionDraft("张三"),
    OptionDraft("李四"),
    OptionDraft("王五"),
    OptionDraft("弃权", is_abstain=True),
)
CONSULTATION = VoteRule(VoteKind.CONSULTATION)
ELECT_COMMITTEE = VoteRule(VoteKind.OWNERS_JOINT, 3)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@dataclass
class Place:
    compound: Compound
    homes: list[Household]  # 2 buildings × 4 households
    owners: list[User]  # owners[i] is the verified owner of homes[i], for i < 6
    resident: User  # a verified resident (tenant) of homes[6]; homes[7] has nobody
    committee: User
    secretary: User

    def person(self, user: User) -> Participant:
        return as_participant(user, self.compound.id)


def as_participant(user: User, compound_id: int) -> Participant:
    return service.participant(user.id, compound_id, roles_in_compound(user.id, compound_id))


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
        resident=make_user(Role.RESIDENT, compound, household=homes[6]),
        committee=make_user(Role.COMMITTEE, compound),
        secretary=make_user(Role.PARTY_SECRETARY, compound),
    )


@pytest.fixture(scope="module")
def paper_photo():
    return prepare_photo(camera_jpeg(160, 120).stream())


def add_membership(user: User, role: Role, household: Household, verified: bool = True) -> None:
    db.session.add(
        Membership(
            user_id=user.id,
            role=role,
            compound_id=household.compound_id,
            household_id=household.id,
            verified_at=utcnow() if verified else None,
        )
    )
    db.session.commit()


def schedule(days: int = 3, voting_hours: int = 72, publicity_days: int = 7) -> Schedule:
    return Schedule(
        deliberation_ends_at=utcnow() + timedelta(days=days),
        voting_hours=voting_hours,
        publicity_days=publicity_days,
    )


def proposed(place: Place, owner: int = 0, title: str = "楼道加装扶手") -> Topic:
    return service.propose_topic(
        place.compound.id, place.person(place.owners[owner]), place.homes[owner].id, title, "老人上下楼不方便"
    )


def raised(place: Place, title: str = "更换单元门禁") -> Topic:
    return service.raise_topic(place.compound.id, place.person(place.committee), title, "门禁坏了三个月")


def accepted(place: Place, rule: VoteRule = CONSULTATION, open_voting: bool = False) -> Topic:
    topic = raised(place)
    return service.accept_topic(
        topic.id,
        place.person(place.committee),
        Acceptance(rule=rule, schedule=schedule(), open_voting=open_voting, responsible_party="物业公司"),
    )


def voting_on(
    place: Place, rule: VoteRule = CONSULTATION, drafts: tuple[OptionDraft, ...] = MOTION
) -> tuple[Topic, dict[str, BallotOption]]:
    topic = accepted(place, rule)
    service.set_options(topic.id, place.person(place.committee), drafts)
    service.open_ballot(topic.id, place.committee.id)
    return topic, {option.label: option for option in service.options_of(topic.id)}


def vote(place: Place, topic: Topic, owner: int, option: BallotOption) -> service.RecordedVote:
    recorded = service.cast_vote(topic.id, place.person(place.owners[owner]), place.homes[owner].id, option.id)
    # What the job the vote asked for does, a moment later (the voter follows the topic, the receipt).
    service.tell_of_vote(topic.id, place.homes[owner].id)
    return recorded


def closed(place: Place, topic: Topic):
    return service.close_ballot(topic.id, place.committee.id, now=topic.ballot_closes_at)


def refused(status: int, call, *args, **kwargs) -> TopicRefused:
    with pytest.raises(TopicRefused) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    assert caught.value.status == status, caught.value.message
    return caught.value


def told(kind: str, topic_id: int) -> list[tuple[str, set[int]]]:
    """Each notice of `kind` about the topic, in order, with the people its fan-out jobs will reach."""
    notices = db.session.scalars(
        select(Notice).where(Notice.kind == kind, Notice.link == f"/h5/topics/{topic_id}").order_by(Notice.id)
    ).all()
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.func_path == FAN_OUT_JOB)).all()
    return [
        (notice.title, {user_id for job in jobs if job.args[0] == notice.id for user_id in job.args[1]})
        for notice in notices
    ]


def ids(*users: User) -> set[int]:
    return {user.id for user in users}


def audit_trail(topic_id: int) -> list[AuditEvent]:
    """The topic's audit events, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "topic", AuditEvent.target_id == topic_id)
            .order_by(AuditEvent.id)
        )
    )


# ---- step 1: propose and co-sign ---------------------------------------------------------------------------


def test_a_verified_household_proposes_and_is_the_first_cosign(place):
    topic = proposed(place)

    assert (topic.step, topic.cosign_count, topic.proposer_household_id) == (
        Step.PROPOSED,
        1,
        place.homes[0].id,
    )
    assert service.cosigned_household_ids(topic.id, [home.id for home in place.homes]) == {place.homes[0].id}
    assert service.follows(topic.id, place.owners[0].id)
    assert [event.action for event in audit_trail(topic.id)] == ["topic.propose"]


def test_a_verified_resident_may_propose_for_the_home_they_live_in(place):
    topic = service.propose_topic(
        place.compound.id, place.person(place.resident), place.homes[6].id, "增设快递柜", "快递常丢"
    )

    assert topic.step is Step.PROPOSED and topic.proposer_id == place.resident.id


def test_only_ones_own_verified_household_may_propose(place, make_user, make_compound):
    owner = place.person(place.owners[0])
    refused(403, service.propose_topic, place.compound.id, owner, place.homes[1].id, "题目", "内容")

    unverified = make_user()
    add_membership(unverified, Role.OWNER, place.homes[7], verified=False)
    refused(
        403,
        service.propose_topic,
        place.compound.id,
        place.person(unverified),
        place.homes[7].id,
        "题目",
        "内容",
    )

    elsewhere = make_compound(buildings=1, households_per_building=1)
    stranger = make_user(Role.OWNER, elsewhere, household=households_of(elsewhere)[0])
    refused(
        403,
        service.propose_topic,
        place.compound.id,
        as_participant(stranger, place.compound.id),
        households_of(elsewhere)[0].id,
        "题目",
        "内容",
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(Topic).where(Topic.compound_id == place.compound.id)
        )
        == 0
    )


def test_each_household_cosigns_once(place, make_user):
    topic = proposed(place)
    service.cosign(topic.id, place.person(place.owners[1]), place.homes[1].id)
    second_owner = make_user()
    add_membership(second_owner, Role.OWNER, place.homes[1])

    error = refused(409, service.cosign, topic.id, place.person(second_owner), place.homes[1].id)
    assert error.message == "这户已经联名过了"
    refused(
        409, service.cosign, topic.id, place.person(place.owners[0]), place.homes[0].id
    )  # the proposer's home
    refused(403, service.cosign, topic.id, place.person(place.owners[2]), place.homes[3].id)

    assert db.session.get(Topic, topic.id).cosign_count == 2
    assert (
        db.session.scalar(
            select(func.count()).select_from(TopicCosign).where(TopicCosign.topic_id == topic.id)
        )
        == 2
    )


def test_the_default_threshold_is_five_households_and_then_the_desk_is_told(place):
    topic = proposed(place)
    for owner in (1, 2, 3):
        service.cosign(topic.id, place.person(place.owners[owner]), place.homes[owner].id)
    assert db.session.get(Topic, topic.id).step is Step.PROPOSED
    assert told(TOPIC_DESK, topic.id) == []

    service.cosign(topic.id, place.person(place.owners[4]), place.homes[4].id)

    topic = db.session.get(Topic, topic.id)
    assert (topic.step, topic.cosign_count) == (Step.REVIEW, 5)
    assert told(TOPIC_DESK, topic.id) == [
        ("议题“楼道加装扶手”已有5户联名，等待确定", ids(place.committee, place.secretary))
    ]
    refused(409, service.cosign, topic.id, place.person(place.owners[5]), place.homes[5].id)


def test_the_compounds_own_threshold_applies(place):
    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=2, residents_may_vote=False, publicity_days=7
    )
    topic = proposed(place)
    assert topic.step is Step.PROPOSED

    service.cosign(topic.id, place.person(place.owners[1]), place.homes[1].id)

    assert db.session.get(Topic, topic.id).step is Step.REVIEW
    # The proposer hears that the topic moved on; the co-signer who moved it knows already.
    assert told(TOPIC_UPDATE, topic.id) == [("您关注的议题“楼道加装扶手”进入了“议题确定”阶段", ids(place.owners[0]))]


def test_a_threshold_of_one_sends_a_proposal_straight_to_review(place):
    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=1, residents_may_vote=False, publicity_days=7
    )

    topic = proposed(place)

    assert topic.step is Step.REVIEW
    assert len(told(TOPIC_DESK, topic.id)) == 1


def test_the_committee_and_the_party_secretary_raise_a_topic_straight_to_review(place):
    for raiser in (place.committee, place.secretary):
        topic = service.raise_topic(place.compound.id, place.person(raiser), "修缮屋面", "顶楼漏雨")
        assert (topic.step, topic.cosign_count, topic.proposer_household_id) == (Step.REVIEW, 0, None)
        assert told(TOPIC_DESK, topic.id) == [
            ("新议题“修缮屋面”等待确定", ids(place.committee, place.secretary))
        ]

    refused(
        403, service.raise_topic, place.compound.id, place.person(place.owners[0]), "修缮屋面", "顶楼漏雨"
    )


# ---- step 2: review -----------------------------------------------------------------------------------------


def test_where_there_is_a_party_organisation_only_its_secretary_reviews(place):
    place.compound.party_org_form = PartyOrgForm.SINGLE
    db.session.commit()
    topic = raised(place)

    refused(
        403,
        service.accept_topic,
        topic.id,
        place.person(place.committee),
        Acceptance(rule=CONSULTATION, schedule=schedule()),
    )
    refused(403, service.decline_topic, topic.id, place.person(place.owners[0]), "不属于业主共同事务")

    service.accept_topic(
        topic.id, place.person(place.secretary), Acceptance(rule=CONSULTATION, schedule=schedule())
    )
    assert db.session.get(Topic, topic.id).reviewer_id == place.secretary.id


def test_without_a_party_organisation_the_committee_reviews(place):
    topic = raised(place)

    service.accept_topic(
        topic.id, place.person(place.committee), Acceptance(rule=CONSULTATION, schedule=schedule())
    )

    assert db.session.get(Topic, topic.id).step is Step.DELIBERATION


def test_accepting_fixes_the_kind_of_decision_and_the_deadlines(place):
    topic = raised(place)
    plan = schedule(days=5, voting_hours=48, publicity_days=10)

    service.accept_topic(
        topic.id,
        place.person(place.committee),
        Acceptance(
            rule=VoteRule(VoteKind.OWNERS_JOINT, 6),
            schedule=plan,
            open_voting=True,
            responsible_party="物业公司",
        ),
    )

    topic = db.session.get(Topic, topic.id)
    assert (topic.step, topic.vote_kind, topic.civil_code_item, topic.open_voting) == (
        Step.DELIBERATION,
        VoteKind.OWNERS_JOINT,
        6,
        True,
    )
    assert (topic.voting_hours, topic.publicity_days, topic.responsible_party) == (48, 10, "物业公司")
    assert topic.deliberation_ends_at == topic.step_due_at == T0 + timedelta(days=5)
    assert (topic.reviewer_id, topic.reviewed_at) == (place.committee.id, T0)
    refused(
        409,
        service.accept_topic,
        topic.id,
        place.person(place.committee),
        Acceptance(rule=CONSULTATION, schedule=schedule()),
    )


def test_a_schedule_in_the_past_is_bad_input(place):
    topic = raised(place)
    past = Schedule(deliberation_ends_at=T0 - timedelta(hours=1), voting_hours=72, publicity_days=7)

    refused(
        422,
        service.accept_topic,
        topic.id,
        place.person(place.committee),
        Acceptance(rule=CONSULTATION, schedule=past),
    )
    assert db.session.get(Topic, topic.id).step is Step.REVIEW


def test_residents_may_vote_only_in_consultations_of_a_compound_that_allows_it(place):
    assert accepted(place).residents_may_vote is False
    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=5, residents_may_vote=True, publicity_days=7
    )

    assert accepted(place).residents_may_vote is True
    assert accepted(place, ELECT_COMMITTEE).residents_may_vote is False


def test_a_declined_topic_keeps_its_public_reason_and_its_followers_hear_it(place):
    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=2, residents_may_vote=False, publicity_days=7
    )
    topic = proposed(place)
    service.cosign(topic.id, place.person(place.owners[1]), place.homes[1].id)

    service.decline_topic(topic.id, place.person(place.committee), "属于物业合同约定的日常维修，已转报修")

    topic = db.session.get(Topic, topic.id)
    assert (topic.step, topic.decline_reason) == (Step.DECLINED, "属于物业合同约定的日常维修，已转报修")
    assert told(TOPIC_UPDATE, topic.id)[-1] == (
        "您关注的议题“楼道加装扶手”进入了“未采纳”阶段",
        ids(place.owners[0], place.owners[1]),
    )
    refused(409, service.add_comment, topic.id, place.owners[2].id, "为什么")


def test_a_merged_topics_followers_follow_the_topic_it_joined(place):
    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=2, residents_may_vote=False, publicity_days=7
    )
    duplicate = proposed(place, title="扶手")
    service.cosign(duplicate.id, place.person(place.owners[1]), place.homes[1].id)
    target = proposed(place, owner=2)
    committee = place.person(place.committee)

    refused(422, service.merge_topic, duplicate.id, committee, duplicate.id)
    refused(422, service.merge_topic, duplicate.id, committee, 10**9)
    declined = raised(place)
    service.decline_topic(declined.id, committee, "重复")
    refused(422, service.merge_topic, duplicate.id, committee, declined.id)
    service.merge_topic(duplicate.id, committee, target.id)

    duplicate = db.session.get(Topic, duplicate.id)
    assert (duplicate.step, duplicate.merged_into_id) == (Step.MERGED, target.id)
    assert all(service.follows(target.id, user.id) for user in place.owners[:3])
    assert told(TOPIC_UPDATE, duplicate.id)[-1] == (
        "您关注的议题“扶手”进入了“已合并”阶段",
        ids(place.owners[0], place.owners[1]),
    )


def test_a_topic_of_another_compound_is_no_merge_target(place, make_compound, make_user):
    elsewhere = make_compound(buildings=1, households_per_building=1)
    their_committee = make_user(Role.COMMITTEE, elsewhere)
    theirs = service.raise_topic(
        elsewhere.id, as_participant(their_committee, elsewhere.id), "他们的议题", "内容"
    )
    mine = raised(place)

    refused(422, service.merge_topic, mine.id, place.person(place.committee), theirs.id)


# ---- step 3: comments and options -----------------------------------------------------------------------------


def test_replies_stay_one_level_deep_and_threads_read_in_order(place):
    topic = accepted(place)
    first = service.add_comment(topic.id, place.owners[0].id, "支持")
    second = service.add_comment(topic.id, place.owners[1].id, "费用谁出？")
    reply = service.add_comment(topic.id, place.owners[2].id, "同问", parent_id=second.id)
    reply_to_reply = service.add_comment(topic.id, place.owners[3].id, "用维修资金", parent_id=reply.id)
    late = service.add_comment(topic.id, place.owners[4].id, "尽快", parent_id=first.id)

    assert (reply.parent_id, reply_to_reply.parent_id, late.parent_id) == (second.id, second.id, first.id)
    page = service.comments_page(topic.id, page=1, page_size=20)
    assert [comment.id for comment in page.items] == [
        first.id,
        late.id,
        second.id,
        reply.id,
        reply_to_reply.id,
    ]
    assert service.follows(topic.id, place.owners[3].id)


def test_a_reply_to_another_topics_comment_is_bad_input(place):
    topic, other = accepted(place), accepted(place)
    theirs = service.add_comment(other.id, place.owners[0].id, "别处的评论")

    refused(422, service.add_comment, topic.id, place.owners[1].id, "回复", parent_id=theirs.id)


def test_hiding_keeps_the_comment_in_place_with_its_reason(place):
    topic = accepted(place)
    comment = service.add_comment(topic.id, place.owners[0].id, "某某是骗子")

    refused(403, service.hide_comment, topic.id, comment.id, place.person(place.owners[1]), "人身攻击")
    service.hide_comment(topic.id, comment.id, place.person(place.committee), "人身攻击")
    refused(409, service.hide_comment, topic.id, comment.id, place.person(place.secretary), "人身攻击")

    page = service.comments_page(topic.id, page=1, page_size=20)
    assert [(row.id, row.body, row.hidden_reason) for row in page.items] == [
        (comment.id, "某某是骗子", "人身攻击")
    ]
    assert db.session.get(TopicComment, comment.id).hidden_by_id == place.committee.id
    assert audit_trail(topic.id)[-1].action == "topic.hide_comment"


@pytest.mark.parametrize(
    ("drafts", "message"),
    [
        ((OptionDraft("同意"),), "表决选项须为2至20个"),
        (tuple(OptionDraft(f"候选人{n}") for n in range(21)), "表决选项须为2至20个"),
        ((OptionDraft("同意"), OptionDraft(" 同意 ")), "选项不能为空，也不能重复"),
        ((OptionDraft("同意"), OptionDraft("  ")), "选项不能为空，也不能重复"),
        (
            (
                OptionDraft("弃权", is_abstain=True),
                OptionDraft("不表态", is_abstain=True),
                OptionDraft("同意"),
            ),
            "最多一个“弃权”选项和一个“同意”选项",
        ),
        (
            (OptionDraft("同意", is_approval=True), OptionDraft("赞成", is_approval=True)),
            "最多一个“弃权”选项和一个“同意”选项",
        ),
        (
            (OptionDraft("同意", is_approval=True, is_abstain=True), OptionDraft("不同意")),
            "“弃权”不能同时是“同意”",
        ),
    ],
)
def test_options_that_make_no_ballot_are_bad_input(place, drafts, message):
    topic = accepted(place)

    assert (
        refused(422, service.set_options, topic.id, place.person(place.committee), drafts).message == message
    )
    assert service.options_of(topic.id) == []


def test_the_committee_drafts_the_options_and_may_replace_them_until_the_ballot_opens(place):
    topic = accepted(place)
    refused(403, service.set_options, topic.id, place.person(place.owners[0]), MOTION)

    service.set_options(topic.id, place.person(place.committee), CANDIDATES)
    service.set_options(topic.id, place.person(place.secretary), MOTION)

    options = service.options_of(topic.id)
    assert [(o.label, o.position, o.is_approval, o.is_abstain) for o in options] == [
        ("同意", 1, True, False),
        ("不同意", 2, False, False),
        ("弃权", 3, False, True),
    ]
    service.open_ballot(topic.id, place.committee.id)
    refused(409, service.set_options, topic.id, place.person(place.committee), CANDIDATES)


def test_no_ballot_opens_without_options(place):
    topic = accepted(place)

    refused(409, service.open_ballot, topic.id, place.committee.id)
    assert db.session.get(Topic, topic.id).step is Step.DELIBERATION


# ---- step 4: the roll ------------------------------------------------------------------------------------------


def test_opening_freezes_the_roll_with_every_household_and_its_area(place, make_user):
    topic, options = voting_on(place)
    topic = db.session.get(Topic, topic.id)
    assert (topic.step, topic.ballot_opened_at, topic.ballot_closes_at) == (
        Step.VOTING,
        T0,
        T0 + timedelta(hours=72),
    )
    assert topic.step_due_at == topic.ballot_closes_at
    roll = {
        row.household_id: row.area_centi_m2
        for row in db.session.scalars(select(BallotRoll).where(BallotRoll.topic_id == topic.id))
    }
    assert roll == {home.id: home.floor_area_centi_m2 for home in place.homes}
    # Every verified owner hears the ballot opened; the tenant does not vote in this compound.
    assert told(VOTE_REMINDER, topic.id) == [("议题“更换单元门禁”开始表决了", ids(*place.owners))]

    # A household added afterwards is not on the roll, and an area corrected afterwards changes nothing.
    building = db.session.scalars(select(Building).where(Building.compound_id == place.compound.id)).first()
    newcomer_home = Household(
        compound_id=place.compound.id,
        building_id=building.id,
        unit="1",
        room="901",
        floor_area_centi_m2=20000,
    )
    db.session.add(newcomer_home)
    db.session.execute(
        update(Household).where(Household.id == place.homes[0].id).values(floor_area_centi_m2=1)
    )
    db.session.commit()
    newcomer = make_user(Role.OWNER, place.compound, household=newcomer_home)

    error = refused(
        403, service.cast_vote, topic.id, place.person(newcomer), newcomer_home.id, options["同意"].id
    )
    assert error.message == "这户不在本次表决名单中"
    live = service.turnout(topic.id)
    assert (live.roll_households, live.total_area_centi_m2) == (8, sum(roll.values()))
    vote(place, topic, 0, options["同意"])
    assert service.turnout(topic.id).voted_area_centi_m2 == roll[place.homes[0].id]
    assert service.roll_household_ids(topic.id, [newcomer_home.id, place.homes[0].id]) == {place.homes[0].id}


def test_an_owner_counts_once_by_phone_and_a_household_without_owner_counts_as_its_own(
    make_compound, make_user
):
    compound = make_compound(buildings=1, households_per_building=9)
    homes = households_of(compound)
    committee = make_user(Role.COMMITTEE, compound)
    one, two, three, four = (f"{next(_phones)}" for _ in range(4))
    # Two households of one app user with a phone; the register's older phone of the first loses to the app's.
    both = make_user(Role.OWNER, compound, household=homes[0], phone=one)
    add_membership(both, Role.OWNER, homes[1])
    db.session.add(RegisteredOwner(household_id=homes[0].id, name="张某", phone_hash=phone_hash(four)))
    # Two households under one phone in the register only.
    db.session.add_all(
        [
            RegisteredOwner(household_id=homes[2].id, name="李某", phone_hash=phone_hash(two)),
            RegisteredOwner(household_id=homes[3].id, name="李某", phone_hash=phone_hash(two)),
        ]
    )
    # The register's phone on one household, the same person verified in the app on another.
    db.session.add(RegisteredOwner(household_id=homes[4].id, name="王某", phone_hash=phone_hash(three)))
    db.session.commit()
    make_user(Role.OWNER, compound, household=homes[5], phone=three)
    # Two households of an app user without a phone (signed in by WeChat).
    no_phone = make_user(Role.OWNER, compound, household=homes[6])
    add_membership(no_phone, Role.OWNER, homes[7])
    # A tenant's phone never makes an owner: homes[8] has none and counts as its own.
    make_user(Role.RESIDENT, compound, household=homes[8], phone=two)
    topic = service.raise_topic(compound.id, as_participant(committee, compound.id), "选举业委会", "换届")
    service.accept_topic(
        topic.id,
        as_participant(committee, compound.id),
        Acceptance(rule=ELECT_COMMITTEE, schedule=schedule()),
    )
    service.set_options(topic.id, as_participant(committee, compound.id), CANDIDATES)

    service.open_ballot(topic.id, committee.id)

    keys = {
        row.household_id: row.owner_key
        for row in db.session.scalars(select(BallotRoll).where(BallotRoll.topic_id == topic.id))
    }
    assert [keys[home.id] for home in homes] == [
        f"p:{phone_hash(one)}",
        f"p:{phone_hash(one)}",
        f"p:{phone_hash(two)}",
        f"p:{phone_hash(two)}",
        f"p:{phone_hash(three)}",
        f"p:{phone_hash(three)}",
        f"u:{no_phone.id}",
        f"u:{no_phone.id}",
        f"h:{homes[8].id}",
    ]
    assert service.turnout(topic.id).total_headcount == 5


# ---- step 4: votes --------------------------------------------------------------------------------------------


def test_a_household_may_change_its_vote_and_the_last_counts(place, clock):
    topic, options = voting_on(place)

    vote(place, topic, 0, options["同意"])
    clock.shift(timedelta(hours=1))
    changed = vote(place, topic, 0, options["不同意"])

    assert (changed.option_id, changed.casts, changed.channel, changed.cast_at) == (
        options["不同意"].id,
        2,
        Channel.ONLINE,
        T0 + timedelta(hours=1),
    )
    history = db.session.scalars(
        select(VoteCast).where(VoteCast.topic_id == topic.id).order_by(VoteCast.id)
    ).all()
    assert [(cast.option_id, cast.cast_by_id) for cast in history] == [
        (options["同意"].id, place.owners[0].id),
        (options["不同意"].id, place.owners[0].id),
    ]
    assert db.session.scalar(select(func.count()).select_from(Vote).where(Vote.topic_id == topic.id)) == 1
    assert (
        service.household_votes(topic.id, [place.homes[0].id])[place.homes[0].id].option_id
        == options["不同意"].id
    )


def test_a_tenant_votes_only_where_the_compound_lets_residents_vote_in_consultations(place):
    topic, options = voting_on(place)
    error = refused(
        403, service.cast_vote, topic.id, place.person(place.resident), place.homes[6].id, options["同意"].id
    )
    assert error.message == "只有这户已认证的业主可以表决"

    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=5, residents_may_vote=True, publicity_days=7
    )
    open_to_residents, its_options = voting_on(place)
    service.cast_vote(
        open_to_residents.id, place.person(place.resident), place.homes[6].id, its_options["同意"].id
    )

    joint, joint_options = voting_on(place, ELECT_COMMITTEE, CANDIDATES)
    refused(
        403,
        service.cast_vote,
        joint.id,
        place.person(place.resident),
        place.homes[6].id,
        joint_options["张三"].id,
    )


def test_an_unverified_owner_and_a_stranger_may_not_vote(place, make_user):
    topic, options = voting_on(place)
    unverified = make_user()
    add_membership(unverified, Role.OWNER, place.homes[7], verified=False)

    refused(403, service.cast_vote, topic.id, place.person(unverified), place.homes[7].id, options["同意"].id)
    refused(
        403, service.cast_vote, topic.id, place.person(place.owners[1]), place.homes[0].id, options["同意"].id
    )
    refused(
        403, service.cast_vote, topic.id, place.person(place.committee), place.homes[7].id, options["同意"].id
    )
    assert service.turnout(topic.id).voted_households == 0


def test_an_option_of_another_ballot_is_bad_input(place):
    topic, _ = voting_on(place)
    _, other_options = voting_on(place)

    refused(
        422,
        service.cast_vote,
        topic.id,
        place.person(place.owners[0]),
        place.homes[0].id,
        other_options["同意"].id,
    )


def test_no_vote_after_the_ballots_time_or_its_close(place, clock):
    topic, options = voting_on(place)
    before_open = accepted(place)
    refused(
        409,
        service.cast_vote,
        before_open.id,
        place.person(place.owners[0]),
        place.homes[0].id,
        options["同意"].id,
    )

    clock.move_to(topic.ballot_closes_at)
    assert refused(409, vote, place, topic, 0, options["同意"]).message == "表决已截止"

    closed(place, topic)
    assert refused(409, vote, place, topic, 0, options["同意"]).message == "表决未开始或已结束"
    assert db.session.scalar(select(func.count()).select_from(Vote).where(Vote.topic_id == topic.id)) == 0


def test_a_paper_ballot_needs_the_committee_and_a_photo_and_shows_its_channel(place, paper_photo):
    topic, options = voting_on(place)
    home = place.homes[7].id
    committee = place.person(place.committee)

    refused(
        403,
        service.record_paper_vote,
        topic.id,
        place.person(place.owners[0]),
        place.homes[0].id,
        options["同意"].id,
        Channel.PAPER,
        paper_photo,
    )
    refused(
        422,
        service.record_paper_vote,
        topic.id,
        committee,
        home,
        options["同意"].id,
        Channel.ONLINE,
        paper_photo,
    )
    paper = service.record_paper_vote(
        topic.id, committee, home, options["同意"].id, Channel.PAPER, paper_photo, note="书面表决票第12号"
    )

    assert (paper.channel, paper.cast_by_id) == (Channel.PAPER, place.committee.id)
    cast = db.session.scalars(select(VoteCast).where(VoteCast.topic_id == topic.id)).one()
    photo = db.session.scalars(select(TopicPhoto).where(TopicPhoto.topic_id == topic.id)).one()
    assert (photo.vote_cast_id, cast.note) == (cast.id, "书面表决票第12号")
    # The paper shows how the household voted: only those who run the ballot may see it.
    assert service.visible_photo(topic, photo.id, committee) == photo
    assert service.visible_photo(topic, photo.id, place.person(place.owners[0])) is None
    event = audit_trail(topic.id)[-1]
    assert (event.action, event.after["household_id"], event.after["channel"]) == (
        "topic.paper_vote",
        home,
        "paper",
    )

    # Whatever the channel, the last vote before close counts, and the receipt shows how it came.
    assert vote(place, topic, 0, options["不同意"]).channel is Channel.ONLINE
    proxy = service.record_paper_vote(
        topic.id, committee, place.homes[0].id, options["同意"].id, Channel.PROXY, paper_photo
    )
    assert (proxy.channel, proxy.option_id, proxy.casts) == (Channel.PROXY, options["同意"].id, 2)


def test_a_paper_ballot_for_a_household_not_on_the_roll_is_refused(place, make_compound, paper_photo):
    topic, options = voting_on(place)
    elsewhere = households_of(make_compound(buildings=1, households_per_building=1))[0]

    refused(
        403,
        service.record_paper_vote,
        topic.id,
        place.person(place.committee),
        elsewhere.id,
        options["同意"].id,
        Channel.PAPER,
        paper_photo,
    )
    assert (
        db.session.scalar(select(func.count()).select_from(TopicPhoto).where(TopicPhoto.topic_id == topic.id))
        == 0
    )


def test_turnout_shows_who_voted_against_the_two_thirds_lines(place):
    topic, options = voting_on(place, ELECT_COMMITTEE, CANDIDATES)
    for owner in range(4):
        vote(place, topic, owner, options["张三"])

    live = service.turnout(topic.id)
    areas = [home.floor_area_centi_m2 for home in place.homes]
    assert live == service.Turnout(
        roll_households=8,
        voted_households=4,
        total_area_centi_m2=sum(areas),
        voted_area_centi_m2=sum(areas[:4]),
        total_headcount=8,
        voted_headcount=4,
    )
    assert not live.area_line_met() and not live.headcount_line_met()
    for owner in (4, 5):
        vote(place, topic, owner, options["李四"])
    assert service.turnout(topic.id).headcount_line_met() and service.turnout(topic.id).area_line_met()
    roll = service.roll_page(topic.id, page=1, page_size=20)
    assert [(entry.household_id, entry.voted, entry.option_label) for entry in roll.items] == [
        (home.id, index < 6, None) for index, home in enumerate(place.homes)
    ]


def test_the_committee_cannot_close_early_unless_every_household_voted(place, make_user, paper_photo):
    topic, options = voting_on(place)
    for owner in range(6):
        vote(place, topic, owner, options["同意"])
    error = refused(409, service.close_ballot, topic.id, place.committee.id)
    assert error.message.startswith("表决截止时间（11月05日 10:00）未到")

    last_owner = make_user()
    add_membership(last_owner, Role.OWNER, place.homes[6])
    add_membership(make_user(), Role.OWNER, place.homes[7])
    service.cast_vote(topic.id, place.person(last_owner), place.homes[6].id, options["不同意"].id)
    refused(409, service.close_ballot, topic.id, place.committee.id)
    service.record_paper_vote(
        topic.id,
        place.person(place.committee),
        place.homes[7].id,
        options["弃权"].id,
        Channel.PAPER,
        paper_photo,
    )

    result = service.close_ballot(topic.id, place.committee.id)

    assert (result.participating_households, result.passed) == (8, True)
    assert db.session.get(Topic, topic.id).step is Step.PUBLICITY


# ---- the SQL count is the pure count ------------------------------------------------------------------------------

# Each household: its area, who owns it (nobody / a verified app user / the register only) and which of four
# people that is, its vote (none, or an option of 同意/不同意/弃权), and whether it first voted otherwise.
households = st.lists(
    st.tuples(
        st.integers(1, 30_000),
        st.sampled_from(("nobody", "verified", "register")),
        st.integers(0, 3),
        st.sampled_from((None, 0, 1, 2)),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(households=households)
def test_count_ballot_is_count_votes_over_the_same_rows(make_compound, make_user, paper_photo, households):
    # Each example gets a compound of its own; the test's transaction is rolled back after all of them.
    compound = make_compound(buildings=0)
    building = Building(compound_id=compound.id, name="1栋")
    db.session.add(building)
    db.session.flush()
    homes = [
        Household(
            compound_id=compound.id,
            building_id=building.id,
            unit="1",
            room=f"{n}01",
            floor_area_centi_m2=area,
        )
        for n, (area, *_rest) in enumerate(households, start=1)
    ]
    db.session.add_all(homes)
    db.session.commit()
    # The fourth person has no phone (signed in by WeChat; in the register without one).
    phones = [f"{next(_phones)}" for _ in range(3)] + [None]
    people = [make_user(phone=phone) for phone in phones]
    for home, (_, owned_by, who, _, _) in zip(homes, households, strict=True):
        if owned_by == "verified":
            add_membership(people[who], Role.OWNER, home)
        elif owned_by == "register":
            db.session.add(
                RegisteredOwner(
                    household_id=home.id,
                    name="业主",
                    phone_hash=phone_hash(phones[who]) if phones[who] else None,
                )
            )
    committee = make_user(Role.COMMITTEE, compound)
    desk = as_participant(committee, compound.id)
    topic = service.raise_topic(compound.id, desk, "选聘物业", "内容")
    service.accept_topic(
        topic.id, desk, Acceptance(rule=VoteRule(VoteKind.OWNERS_JOINT, 4), schedule=schedule())
    )
    options = service.set_options(topic.id, desk, MOTION)
    service.open_ballot(topic.id, committee.id)
    for home, (_, owned_by, who, choice, changed) in zip(homes, households, strict=True):
        if choice is None:
            continue
        casts = ([options[(choice + 1) % 3]] if changed else []) + [options[choice]]
        for option in casts:
            if owned_by == "verified":
                service.cast_vote(topic.id, as_participant(people[who], compound.id), home.id, option.id)
            else:
                service.record_paper_vote(topic.id, desk, home.id, option.id, Channel.PAPER, paper_photo)

    counted = service.count_ballot(topic.id, service.options_of(topic.id))

    roll = db.session.scalars(select(BallotRoll).where(BallotRoll.topic_id == topic.id)).all()
    votes = db.session.scalars(select(Vote).where(Vote.topic_id == topic.id)).all()
    key = {option.id: service.option_key(option) for option in options}
    assert counted == voting.count_votes(
        [voting.EligibleHousehold(row.household_id, row.owner_key, row.area_centi_m2) for row in roll],
        [voting.CastVote(row.household_id, key[row.option_id]) for row in votes],
    )

    # And the keys found who is who: one person per phone, per phone-less app user, else per household.
    def person_of(index: int, owned_by: str, who: int) -> tuple:
        if owned_by != "nobody" and phones[who]:
            return ("phone", who)
        if owned_by == "verified":
            return ("user", who)
        return ("household", index)

    assert counted.total_headcount == len(
        {person_of(index, owned_by, who) for index, (_, owned_by, who, _, _) in enumerate(households)}
    )
    assert counted.participating_households == sum(choice is not None for *_, choice, _ in households)


# ---- close and the frozen result ----------------------------------------------------------------------------------


def test_the_result_is_frozen_at_close(place):
    topic, options = voting_on(place)
    for owner, label in ((0, "同意"), (1, "同意"), (2, "同意"), (3, "不同意"), (4, "弃权")):
        vote(place, topic, owner, options[label])

    result = closed(place, topic)

    assert (result.passed, result.reason, result.participating_households, result.eligible_households) == (
        True,
        voting.PASSED,
        5,
        8,
    )
    assert {o["label"]: (o["households"], o["approved"]) for o in result.options.values()} == {
        "同意": (3, True),
        "不同意": (1, False),
        "弃权": (1, False),
    }
    assert result.thresholds == {"participation": None, "approval": "1/2", "approval_strict": True}
    counted = set(
        db.session.scalars(
            select(BallotRoll.household_id).where(
                BallotRoll.topic_id == topic.id, BallotRoll.counted.is_(True)
            )
        )
    )
    assert counted == {home.id for home in place.homes[:5]}

    db.session.execute(update(Vote).where(Vote.topic_id == topic.id).values(option_id=options["不同意"].id))
    db.session.commit()
    db.session.expire_all()

    frozen = service.result_of(topic.id)
    assert (frozen.passed, frozen.options[str(options["同意"].id)]["households"]) == (True, 3)
    assert service.count_ballot(topic.id, service.options_of(topic.id)).option_households == {
        str(options["不同意"].id): 5
    }
    lines = voting.explain(service.tally_result(frozen), "同意")
    assert lines[-1] == "结论：表决通过"


def test_each_candidate_is_judged_on_its_own(place):
    topic, options = voting_on(place, ELECT_COMMITTEE, CANDIDATES)
    for owner, label in ((0, "张三"), (1, "张三"), (2, "张三"), (3, "张三"), (4, "李四"), (5, "弃权")):
        vote(place, topic, owner, options[label])

    result = closed(place, topic)

    assert (result.passed, result.reason, result.participation_met) == (True, voting.PASSED, True)
    assert {o["label"]: o["approved"] for o in result.options.values()} == {
        "张三": True,
        "李四": False,
        "王五": False,
        "弃权": False,
    }
    assert result.thresholds == {"participation": "2/3", "approval": "1/2", "approval_strict": True}
    assert service.tally_result(result, options["李四"].id).passed is False
    assert service.tally_result(result, options["张三"].id).passed is True


def test_an_owners_vote_without_two_thirds_taking_part_fails_on_participation(place):
    topic, options = voting_on(place, ELECT_COMMITTEE, CANDIDATES)
    for owner in range(3):
        vote(place, topic, owner, options["张三"])

    result = closed(place, topic)

    assert (result.passed, result.participation_met, result.reason) == (
        False,
        False,
        voting.PARTICIPATION_FAILED,
    )


# ---- step 5: publicity, objections, implementation, ratings ----------------------------------------------------


def published(place: Place, passed: bool = True) -> Topic:
    topic, options = voting_on(place)
    for owner in range(3):
        vote(place, topic, owner, options["同意" if passed else "不同意"])
    closed(place, topic)
    return db.session.get(Topic, topic.id)


def test_only_owners_object_and_only_during_publicity(place):
    topic, options = voting_on(place)
    vote(place, topic, 0, options["同意"])
    refused(
        409, service.file_objection, topic.id, place.person(place.owners[1]), place.homes[1].id, "计票有误"
    )
    closed(place, topic)

    refused(
        403, service.file_objection, topic.id, place.person(place.resident), place.homes[6].id, "计票有误"
    )
    refused(
        403, service.file_objection, topic.id, place.person(place.owners[1]), place.homes[2].id, "计票有误"
    )
    objection = service.file_objection(topic.id, place.person(place.owners[1]), place.homes[1].id, "计票有误")

    assert [row.id for row in service.objections(topic.id)] == [objection.id]
    assert told(TOPIC_DESK, topic.id)[-1] == (
        "议题“更换单元门禁”收到一条异议，请公开答复",
        ids(place.committee, place.secretary),
    )


def test_an_unanswered_objection_holds_the_end_of_publicity_until_answered(place):
    topic = published(place)
    objection = service.file_objection(topic.id, place.person(place.owners[1]), place.homes[1].id, "计票有误")
    end = topic.publicity_ends_at

    assert service.due_topic_ids(end) == []
    assert service.advance_topic(topic.id, end) is None
    assert db.session.get(Topic, topic.id).step is Step.PUBLICITY

    refused(403, service.answer_objection, topic.id, objection.id, place.person(place.owners[0]), "已复核")
    service.answer_objection(topic.id, objection.id, place.person(place.committee), "已复核，计票无误")
    refused(409, service.answer_objection, topic.id, objection.id, place.person(place.committee), "再答复")

    assert told(TOPIC_UPDATE, topic.id)[-1] == ("您对议题“更换单元门禁”的异议已答复", ids(place.owners[1]))
    assert service.due_topic_ids(end) == [topic.id]
    assert service.advance_topic(topic.id, end) is Step.IMPLEMENTATION


def test_no_objection_after_the_publicity_period_even_while_another_waits_for_its_answer(place, clock):
    topic = published(place)
    service.file_objection(topic.id, place.person(place.owners[1]), place.homes[1].id, "计票有误")

    clock.move_to(topic.publicity_ends_at)

    refused(
        409, service.file_objection, topic.id, place.person(place.owners[2]), place.homes[2].id, "我也有异议"
    )
    assert len(service.objections(topic.id)) == 1


@pytest.mark.parametrize(("passed", "after"), [(True, Step.IMPLEMENTATION), (False, Step.DONE)])
def test_after_publicity_a_passed_decision_is_carried_out_and_a_failed_one_ends(place, passed, after):
    topic = published(place, passed)

    assert service.advance_topic(topic.id, topic.publicity_ends_at - timedelta(seconds=1)) is None
    assert service.advance_topic(topic.id, topic.publicity_ends_at) is after
    assert service.advance_topic(topic.id, topic.publicity_ends_at) is None

    topic = db.session.get(Topic, topic.id)
    assert (topic.step, topic.step_due_at) == (after, None)


def test_progress_updates_tell_followers_and_the_final_one_ends_the_round(place):
    topic = published(place)
    refused(409, service.post_progress, topic.id, place.person(place.committee), "已进场", False)
    service.advance_topic(topic.id, topic.publicity_ends_at)

    update_ = service.post_progress(topic.id, place.person(place.committee), "施工队已进场", False)
    assert told(TOPIC_UPDATE, topic.id)[-1] == ("落实进展：更换单元门禁", ids(*place.owners[:3]))
    service.post_progress(topic.id, place.person(place.committee), "门禁已全部更换", True)

    topic = db.session.get(Topic, topic.id)
    assert (topic.step, topic.implemented_at) == (Step.DONE, T0)
    assert [row.id for row in service.progress_updates(topic.id)][0] == update_.id
    assert told(TOPIC_UPDATE, topic.id)[-1] == ("您关注的议题“更换单元门禁”进入了“已办结”阶段", ids(*place.owners[:3]))
    refused(409, service.post_progress, topic.id, place.person(place.committee), "补充", False)


def test_each_household_rates_the_implementation_once_and_may_change_it(place):
    topic = published(place)
    refused(409, service.rate_implementation, topic.id, place.person(place.owners[0]), place.homes[0].id, 4)
    service.advance_topic(topic.id, topic.publicity_ends_at)

    service.rate_implementation(topic.id, place.person(place.owners[0]), place.homes[0].id, 4, "还行")
    changed = service.rate_implementation(
        topic.id, place.person(place.owners[0]), place.homes[0].id, 2, "又坏了"
    )
    service.rate_implementation(topic.id, place.person(place.resident), place.homes[6].id, 5)
    refused(422, service.rate_implementation, topic.id, place.person(place.owners[1]), place.homes[1].id, 6)
    refused(403, service.rate_implementation, topic.id, place.person(place.owners[1]), place.homes[0].id, 3)

    assert (changed.stars, changed.comment) == (2, "又坏了")
    assert (
        db.session.scalar(
            select(func.count()).select_from(TopicRating).where(TopicRating.topic_id == topic.id)
        )
        == 2
    )
    summary = service.ratings_summary(topic.id, [place.homes[0].id])
    assert (summary.count, summary.average, summary.mine[place.homes[0].id].stars) == (2, 3.5, 2)


# ---- "待我表决" ---------------------------------------------------------------------------------------------------


def test_pending_ballots_list_my_households_that_have_not_voted(place):
    add_membership(place.owners[0], Role.OWNER, place.homes[7])
    topic, options = voting_on(place)
    not_yet_open = accepted(place)
    mine = place.homes[0].id, place.homes[7].id

    pending = service.pending_ballots(place.owners[0].id, place.compound.id)
    assert [(entry.topic.id, entry.household_ids) for entry in pending] == [(topic.id, mine)]
    assert not_yet_open.id not in [entry.topic.id for entry in pending]
    assert service.pending_ballots(place.resident.id, place.compound.id) == []

    vote(place, topic, 0, options["同意"])
    assert [
        entry.household_ids for entry in service.pending_ballots(place.owners[0].id, place.compound.id)
    ] == [(place.homes[7].id,)]
    service.cast_vote(topic.id, place.person(place.owners[0]), place.homes[7].id, options["同意"].id)
    assert service.pending_ballots(place.owners[0].id, place.compound.id) == []


def test_a_tenant_sees_pending_ballots_where_residents_may_vote(place):
    service.update_settings(
        place.compound.id, place.committee.id, cosign_threshold=5, residents_may_vote=True, publicity_days=7
    )
    topic, _ = voting_on(place)

    pending = service.pending_ballots(place.resident.id, place.compound.id)

    assert [(entry.topic.id, entry.household_ids) for entry in pending] == [(topic.id, (place.homes[6].id,))]


def test_every_step_is_an_audit_event(place):
    topic = published(place)
    service.advance_topic(topic.id, topic.publicity_ends_at)

    steps = [
        event.action
        for event in db.session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.target_type == "topic",
                AuditEvent.target_id == topic.id,
                AuditEvent.action.in_([f"topic.{step.value}" for step in Step]),
            )
            .order_by(AuditEvent.id)
        )
    ]
    assert steps == ["topic.deliberation", "topic.voting", "topic.publicity", "topic.implementation"]
    assert audit_trail(topic.id)[0].action == "topic.raise"


def test_comments_proposal_photos_and_ratings_are_audit_events_too(place, paper_photo):
    """Every step's actions are audit events: the discussion of step 3 and the 民事民评 of step 5 as well."""
    topic = proposed(place)
    photo = service.add_proposal_photo(topic.id, place.person(place.owners[0]), paper_photo, ip="10.0.0.7")
    comment = service.add_comment(topic.id, place.owners[1].id, "支持", ip="10.0.0.8")
    reply = service.add_comment(topic.id, place.owners[0].id, "谢谢", parent_id=comment.id)

    trail = [(event.action, event.actor_id, event.after, event.ip) for event in audit_trail(topic.id)]
    assert trail[1:] == [
        ("topic.photo", place.owners[0].id, {"photo_id": photo.id}, "10.0.0.7"),
        ("topic.comment", place.owners[1].id, {"comment_id": comment.id, "parent_id": None}, "10.0.0.8"),
        ("topic.comment", place.owners[0].id, {"comment_id": reply.id, "parent_id": comment.id}, None),
    ]

    carried = published(place)
    service.advance_topic(carried.id, carried.publicity_ends_at)
    service.rate_implementation(carried.id, place.person(place.resident), place.homes[6].id, 5, "很好")
    event = audit_trail(carried.id)[-1]
    assert (event.action, event.actor_id, event.after) == (
        "topic.rate",
        place.resident.id,
        {"household_id": place.homes[6].id, "stars": 5},
    )


# ---- one answer to "who reviews" ---------------------------------------------------------------------------------

# DESIGN §1: the party secretary 确定议题; the committee does only where the compound has no party organisation.
WHO_REVIEWS = {Role.PARTY_SECRETARY, Role.ADMIN}


@pytest.mark.parametrize(("party_org_form", "governance_body"), list(itertools.product(PartyOrgForm, GovernanceBody)))
def test_the_table_the_policy_the_service_and_the_presenter_agree_on_who_reviews(
    make_area, make_compound, make_user, party_org_form, governance_body
):
    area = make_area()
    compound = make_compound(area=area, buildings=1, households_per_building=1)
    compound.party_org_form, compound.governance_body = party_org_form, governance_body
    db.session.commit()
    (home,) = households_of(compound)
    desk = as_participant(make_user(Role.COMMITTEE, compound), compound.id)
    expected = WHO_REVIEWS | ({Role.COMMITTEE} if party_org_form is PartyOrgForm.NONE else set())
    for role in Role:
        user = None if role is Role.VISITOR else make_user(
            role, compound, area=area, household=home if role in (Role.OWNER, Role.RESIDENT) else None
        )
        user_id = user.id if user else None
        entry = compound.id if role is Role.VISITOR else None
        roles = roles_in_compound(user_id, compound.id, entry)
        assert roles == {role}
        by_table = allows(roles, Action.REVIEW_TOPICS, party_organisation=has_party_organisation(party_org_form))
        by_policy = permits(roles, Action.REVIEW_TOPICS, compound.id)
        topic_id = service.raise_topic(compound.id, desk, f"{role}的议题", "内容").id
        by_presenter = TopicAction.REVIEW in presenter.topic_detail(presenter.look(topic_id, user_id, entry)).actions
        try:
            service.decline_topic(topic_id, service.participant(user_id, compound.id, roles), "不予采纳")
            by_service = True
        except TopicRefused as refused:
            assert refused.kind is Kind.FORBIDDEN, role
            db.session.rollback()
            by_service = False
        assert (by_table, by_policy, by_presenter, by_service) == (role in expected,) * 4, role
