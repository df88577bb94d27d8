"""The notices of a ballot that must stay true, through the service, the real outbox, Redis and an in-process RQ
worker: "请在…前完成表决" leaves the inbox (and the unread count) of a household's people once it voted, and of
everyone once the ballot closed, whichever of the vote and the reminder job comes first; the voter gets a receipt
of the household's choice, channel and time, and nobody else does; a paper ballot's receipt goes to the
household's voters; a changed vote's earlier receipt is withdrawn."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import select

from backend.domain.consultations import Channel, Schedule, vote_reminder_keys
from backend.domain.notifications import VOTE_RECEIPT, VOTE_REMINDER
from backend.domain.roles import Role
from backend.domain.voting import VoteKind, VoteRule
from backend.extensions import db
from backend.jobs.consultations import send_voting_reminders
from backend.models import Household, Membership, Notice, Notification, User
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services.consultations import Acceptance, OptionDraft, Participant
from backend.services.notifications import inbox_page, unread_count
from backend.services.photos import prepare_photo
from backend.services.queueing import QUEUES, push_committed_jobs
from backend.shared.clock import SHANGHAI, utcnow
from tests.photo_samples import camera_jpeg

MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))
VOTING_HOURS = 72


@dataclass
class Ballot:
    topic_id: int
    compound_id: int
    homes: list[Household]
    owners: list[User]  # owners[i] owns homes[i]
    co_owner: User  # the other owner of homes[0]
    two_homes: User  # owns homes[2] and homes[3] (owners[2], owners[3] are that one person)
    committee: User

    def person(self, user: User) -> Participant:
        return service.participant(user.id, self.compound_id, roles_in_compound(user.id, self.compound_id))

    def option(self, label: str) -> int:
        return next(option.id for option in service.options_of(self.topic_id) if option.label == label)

    def vote(self, user: User, home: int, label: str) -> None:
        service.cast_vote(self.topic_id, self.person(user), self.homes[home].id, self.option(label))


@pytest.fixture
def redis_conn(app):
    return app.extensions["linli_redis"]


def work(redis_conn) -> None:
    """Hand the jobs the services asked for to Redis (as a request does when it ends), then run them."""
    push_committed_jobs()
    worker = SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn)
    worker.work(burst=True, logging_level="WARNING")


@pytest.fixture
def ballot(make_compound, make_user, redis_conn) -> Ballot:
    """An open ballot over five households; its opening notice not yet written to any inbox (no worker ran)."""
    compound = make_compound(buildings=1, households_per_building=5)
    homes = list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))
    owners = [make_user(Role.OWNER, compound, household=home) for home in homes[:3]]
    two_homes = owners[2]
    db.session.add(Membership(user_id=two_homes.id, role=Role.OWNER, compound_id=compound.id,
                              household_id=homes[3].id, verified_at=utcnow()))
    co_owner = make_user(Role.OWNER, compound, household=homes[0])
    committee = make_user(Role.COMMITTEE, compound)
    desk = service.participant(committee.id, compound.id, roles_in_compound(committee.id, compound.id))
    topic = service.raise_topic(compound.id, desk, "更换单元门禁", "门禁坏了三个月")
    service.accept_topic(topic.id, desk, Acceptance(
        rule=VoteRule(VoteKind.CONSULTATION),
        schedule=Schedule(utcnow() + timedelta(days=3), voting_hours=VOTING_HOURS, publicity_days=7)))
    service.set_options(topic.id, desk, MOTION)
    service.open_ballot(topic.id, committee.id)
    return Ballot(topic_id=topic.id, compound_id=compound.id, homes=homes, owners=[*owners, two_homes],
                  co_owner=co_owner, two_homes=two_homes, committee=committee)


def shown(user: User, kind: str) -> list[dict]:
    """What the person's inbox shows of the kind (withdrawn ones are not shown)."""
    return [item for item in inbox_page(user.id, False, 1, 50).items if item["kind"] == kind]


def reminded(user: User) -> bool:
    return bool(shown(user, VOTE_REMINDER))


def beijing_minute(moment) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


# ---- the reminders withdrawn ------------------------------------------------------------------------------------


def test_a_households_vote_withdraws_its_peoples_reminder_from_the_inbox_and_the_unread_count(ballot, redis_conn):
    work(redis_conn)
    owner, co_owner, neighbour = ballot.owners[0], ballot.co_owner, ballot.owners[1]
    assert all(reminded(person) for person in (owner, co_owner, neighbour))
    assert unread_count(co_owner.id) == 1

    ballot.vote(owner, 0, "同意")
    work(redis_conn)

    # The household voted: the reminder is no longer true for either of its owners.
    assert not reminded(owner) and not reminded(co_owner)
    assert unread_count(co_owner.id) == 0
    assert reminded(neighbour) and unread_count(neighbour.id) == 1


def test_someone_with_two_households_keeps_the_reminder_until_both_voted(ballot, redis_conn):
    work(redis_conn)
    person = ballot.two_homes

    ballot.vote(person, 2, "同意")
    work(redis_conn)
    assert reminded(person)
    ballot.vote(person, 3, "不同意")
    work(redis_conn)

    assert not reminded(person)


def test_the_reminder_job_after_a_vote_sends_nothing_to_that_household(ballot, redis_conn):
    ballot.vote(ballot.owners[0], 0, "同意")
    closes = utcnow() + timedelta(hours=VOTING_HOURS)

    with time_machine.travel(closes - timedelta(hours=23), tick=False):
        assert send_voting_reminders(utcnow()) == 1
    work(redis_conn)

    for person in (ballot.owners[0], ballot.co_owner):
        assert not reminded(person), person.username
    [reminder] = [item for item in shown(ballot.owners[1], VOTE_REMINDER) if "截止" in item["title"]]
    assert reminder["title"] == "议题“更换单元门禁”的表决不到24小时就要截止了"


def test_a_vote_after_the_reminder_job_but_before_its_fan_out_leaves_no_reminder(ballot, redis_conn):
    closes = utcnow() + timedelta(hours=VOTING_HOURS)
    with time_machine.travel(closes - timedelta(hours=23), tick=False):
        assert send_voting_reminders(utcnow()) == 1
        # The reminder is committed and its fan-out queued, not yet run, when the household votes.
        ballot.vote(ballot.owners[0], 0, "同意")
    work(redis_conn)

    assert not reminded(ballot.owners[0]) and not reminded(ballot.co_owner)
    assert unread_count(ballot.co_owner.id) == 0
    assert len(shown(ballot.owners[1], VOTE_REMINDER)) == 2


def test_closing_the_ballot_withdraws_every_reminder_from_everyone(ballot, redis_conn):
    work(redis_conn)
    closes = utcnow() + timedelta(hours=VOTING_HOURS)
    with time_machine.travel(closes - timedelta(hours=23), tick=False):
        send_voting_reminders(utcnow())
    work(redis_conn)
    assert len(shown(ballot.owners[1], VOTE_REMINDER)) == 2

    with time_machine.travel(closes, tick=False):
        service.close_ballot(ballot.topic_id, None)
    work(redis_conn)

    for person in (*ballot.owners, ballot.co_owner):
        assert shown(person, VOTE_REMINDER) == [], person.username
    # Nobody voted, so nobody follows the topic: with its reminders gone, nothing is left unread.
    assert unread_count(ballot.owners[1].id) == 0
    withdrawn = db.session.scalars(select(Notice.withdrawn_at).where(
        Notice.dedupe_key.in_(vote_reminder_keys(ballot.topic_id)))).all()
    assert len(withdrawn) == 2 and all(withdrawn)


# ---- receipts ---------------------------------------------------------------------------------------------------


def test_an_online_vote_gives_the_voter_alone_a_receipt_of_choice_channel_and_time(ballot, redis_conn):
    moment = utcnow()
    with time_machine.travel(moment, tick=False):
        ballot.vote(ballot.owners[0], 0, "不同意")
    work(redis_conn)

    [receipt] = shown(ballot.owners[0], VOTE_RECEIPT)
    assert receipt["title"] == "您的表决已记录：更换单元门禁"
    assert receipt["body"] == (f"您于{beijing_minute(moment)}在线为1栋1单元101室表决：不同意。"
                               "表决截止前可以修改，以最后一次为准。")
    assert receipt["link"] == f"/h5/topics/{ballot.topic_id}"
    # The household's other owner sees the household's vote on the topic page, not in a notice; nobody else
    # hears of it at all.
    for person in (ballot.co_owner, ballot.owners[1], ballot.committee):
        assert shown(person, VOTE_RECEIPT) == [], person.username
    assert db.session.scalars(select(Notification.user_id).join(Notice, Notice.id == Notification.notice_id)
                              .where(Notice.kind == VOTE_RECEIPT)).all() == [ballot.owners[0].id]


def test_a_changed_vote_gets_a_new_receipt_and_the_old_one_is_withdrawn(ballot, redis_conn):
    ballot.vote(ballot.owners[0], 0, "同意")
    work(redis_conn)
    ballot.vote(ballot.owners[0], 0, "弃权")
    work(redis_conn)

    [receipt] = shown(ballot.owners[0], VOTE_RECEIPT)
    assert "表决：弃权。" in receipt["body"]
    assert unread_count(ballot.owners[0].id) == 1


def test_a_paper_ballot_recorded_by_the_committee_tells_the_households_voters(ballot, redis_conn):
    photo = prepare_photo(camera_jpeg(160, 120).stream())
    moment = utcnow()
    with time_machine.travel(moment, tick=False):
        service.record_paper_vote(ballot.topic_id, ballot.person(ballot.committee), ballot.homes[0].id,
                                  ballot.option("同意"), Channel.PAPER, photo)
    work(redis_conn)

    for person in (ballot.owners[0], ballot.co_owner):
        [receipt] = shown(person, VOTE_RECEIPT)
        assert receipt["title"] == "您家的书面表决票已录入：更换单元门禁"
        assert receipt["body"].startswith(f"业委会于{beijing_minute(moment)}录入了1栋1单元101室的书面表决票：同意。")
        assert not reminded(person)
    assert shown(ballot.committee, VOTE_RECEIPT) == []
    assert shown(ballot.owners[1], VOTE_RECEIPT) == []
