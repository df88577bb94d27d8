"""Step 4, the ballot: the roll frozen at opening, votes online and on paper (one per household, the last
counts), my households' receipts, the turnout, the close with the result computed by SQL and the pure rule and
frozen with its inputs; and "待我表决"."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update

from backend.domain import consultations as rules
from backend.domain import voting
from backend.domain.bindings import BindingRefused
from backend.domain.compounds import household_label
from backend.domain.consultations import (
    CHANNEL_LABELS,
    Channel,
    Step,
    TopicAction,
    TopicRefused,
    acting_household,
    ballot_open_notice_key,
    vote_receipt_key,
    vote_reminder_keys,
)
from backend.domain.notifications import VOTE_RECEIPT, VOTE_REMINDER
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.domain.voting import ABSTAIN, VoteCounts, VoteKind, VoteRule
from backend.extensions import db, dialect_insert
from backend.models import (
    BallotOption,
    BallotResult,
    BallotRoll,
    Building,
    Household,
    Membership,
    RegisteredOwner,
    Topic,
    User,
    Vote,
    VoteCast,
)
from backend.policy import NOT_FOUND, authorize
from backend.services.bindings import find_household
from backend.services.consultations.common import (
    Participant,
    add_photos,
    audit,
    change_step,
    follow,
    households_of,
    link,
    local,
    locked,
    participant,
    require,
    voting_household_ids,
)
from backend.services.consultations.topics import options_of
from backend.services.notifications import notify, withdraw
from backend.services.photos import PreparedPhoto, kept_only_on_commit
from backend.services.queueing import push_after_commit
from backend.shared.clock import utcnow
from backend.shared.pagination import Page

# The job that tells of a household's vote (its receipt, its reminders withdrawn), found by its import path.
TELL_OF_VOTE_JOB = "backend.jobs.consultations.tell_of_vote"

# ---- step 4: the ballot --------------------------------------------------------------------------------------


def open_ballot(topic_id: int, actor_id: int | None, ip: str | None = None, now: datetime | None = None) -> Topic:
    """Freeze the roll (every household of the compound, its area and owner key as they are now) and open the
    ballot for the topic's window. `actor_id` None: the sweep, at the end of the deliberation."""
    now = now or utcnow()
    topic = locked(topic_id)
    rules.require_step(topic.step, Step.DELIBERATION, message="只能在协商讨论阶段开启表决")
    if len(options_of(topic_id)) < rules.MIN_OPTIONS:
        raise TopicRefused("请先拟定至少两个表决选项")
    _freeze_roll(topic)
    topic.ballot_opened_at = now
    topic.ballot_closes_at = rules.voting_closes_at(now, topic.voting_hours or rules.MIN_VOTING_HOURS)
    topic.step_due_at = topic.ballot_closes_at
    # A reminder already due at opening is the opening notice itself: a 24-hour ballot would otherwise send
    # "不足24小时" in the same minute as "表决已开始".
    topic.voting_reminders_sent = rules.due_voting_reminders(now, topic.ballot_closes_at, 0)
    change_step(topic, Step.VOTING, actor_id, ip, after={"ballot_closes_at": topic.ballot_closes_at.isoformat()})
    notify(eligible_voter_ids(topic), VOTE_REMINDER, f"议题“{topic.title}”开始表决了",
           body=f"请在{local(topic.ballot_closes_at)}前完成表决，每户一票，截止前可以修改。", link=link(topic),
           dedupe_key=ballot_open_notice_key(topic.id))
    db.session.commit()
    return topic


def _freeze_roll(topic: Topic) -> None:
    owner_keys = _owner_keys(topic.compound_id)
    households = db.session.execute(
        select(Household.id, Household.floor_area_centi_m2).where(Household.compound_id == topic.compound_id)
    ).all()
    if households:
        db.session.execute(
            BallotRoll.__table__.insert(),
            [{"topic_id": topic.id, "household_id": row.id, "owner_key": owner_keys.get(row.id, f"h:{row.id}"),
              "area_centi_m2": row.floor_area_centi_m2, "counted": False} for row in households],
        )


def _owner_keys(compound_id: int) -> dict[int, str]:
    """Who owns each household, as a key equal across the households of one owner (Art. 278 counts an owner
    once). The phone is the identity the register and the app share: a verified owner's phone, else the
    register's; an owner without either is a person of their own (`u:`/`h:`)."""
    keys: dict[int, str] = {}
    for row in db.session.execute(
        select(RegisteredOwner.household_id, RegisteredOwner.phone_hash)
        .join(Household, Household.id == RegisteredOwner.household_id)
        .where(Household.compound_id == compound_id, RegisteredOwner.phone_hash.is_not(None))
        .order_by(RegisteredOwner.id)
    ):
        keys.setdefault(row.household_id, f"p:{row.phone_hash}")
    verified: dict[int, str] = {}
    for row in db.session.execute(
        select(Membership.household_id, Membership.user_id, User.phone_hash)
        .join(User, User.id == Membership.user_id)
        .where(Membership.compound_id == compound_id, Membership.role == Role.OWNER,
               Membership.verified_at.is_not(None))
        .order_by(Membership.user_id)
    ):
        verified.setdefault(row.household_id, f"p:{row.phone_hash}" if row.phone_hash else f"u:{row.user_id}")
    keys.update(verified)
    return keys


def _voting_roles(topic: Topic) -> tuple[Role, ...]:
    return (Role.OWNER, Role.RESIDENT) if topic.residents_may_vote else (Role.OWNER,)


def eligible_voter_ids(topic: Topic, only_not_voted: bool = False) -> list[int]:
    """The verified people of the households on the roll (those who have not voted, for reminders). Three scans
    by key, matched here: while the planner's statistics predate a fresh roll, a join with it goes quadratic."""
    roles = _voting_roles(topic)
    people = db.session.execute(
        select(Membership.user_id, Membership.household_id).where(
            Membership.compound_id == topic.compound_id, Membership.role.in_(roles),
            Membership.verified_at.is_not(None))
    ).all()
    on_roll = set(db.session.scalars(select(BallotRoll.household_id).where(BallotRoll.topic_id == topic.id)))
    if only_not_voted:
        on_roll -= set(db.session.scalars(select(Vote.household_id).where(Vote.topic_id == topic.id)))
    return list(dict.fromkeys(user_id for user_id, household_id in people if household_id in on_roll))


@dataclass(frozen=True)
class RecordedVote:
    """A household's vote as the upsert returned it, with the two labels its receipt shows."""

    topic_id: int
    household_id: int
    household_label: str
    option_id: int
    option_label: str
    channel: Channel
    cast_by_id: int
    cast_at: datetime
    casts: int


def vote(topic_id: int, user_id: int, household_id: int | None, option_id: int,
         entry_compound_id: int | None = None, now: datetime | None = None) -> RecordedVote:
    """The API's online vote, in three round trips (the upsert, the cast row, the commit): every check the
    reading path makes (the topic, the caller's standing, the household, the roll, the option, the ballot open)
    is in the upsert's own statement. When it records nothing, the reading path runs and refuses with the
    exact reason; only that rare path reads more."""
    now = now or utcnow()
    if household_id is not None:
        recorded = _upsert_vote(topic_id, household_id, option_id, Channel.ONLINE, user_id, now, voter_id=user_id)
        if recorded is not None:
            _cast_recorded(recorded, "")
            db.session.commit()
            return recorded
        db.session.rollback()
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise Refused(NOT_FOUND, Kind.NOT_FOUND)
    access = authorize(Action.VIEW_TOPICS, topic.compound_id, user_id, entry_compound_id)
    return cast_vote(topic_id, participant(user_id, topic.compound_id, access.roles), household_id, option_id, now)


def cast_vote(topic_id: int, person: Participant, household_id: int | None, option_id: int,
              now: datetime | None = None) -> RecordedVote:
    """One vote per household (None: the only one they may vote for), changeable until the ballot closes; the
    last cast counts. Many owners vote at once, so the topic row is only share-locked here (closing takes the
    exclusive lock and waits for them)."""
    now = now or utcnow()
    require(person, TopicAction.VOTE)
    topic = db.session.scalar(
        select(Topic).where(Topic.id == topic_id).with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    household_id = acting_household(household_id, voting_household_ids(topic, person))
    _check_ballot_open(topic, now)
    if household_id not in voting_household_ids(topic, person):
        raise TopicRefused("只有这户已认证的业主可以表决" if not topic.residents_may_vote
                           else "只有这户已认证的业主或住户可以表决", Kind.FORBIDDEN)
    return _record_vote(topic, household_id, option_id, Channel.ONLINE, person.user_id, now, voter_id=person.user_id)


def record_paper_vote(topic_id: int, person: Participant, household_id: int, option_id: int, channel: Channel,
                      photo: PreparedPhoto, note: str = "", ip: str | None = None,
                      now: datetime | None = None) -> RecordedVote:
    """书面表决票 or 委托书, recorded by a committee member with a photo of the paper, as an audit event."""
    now = now or utcnow()
    require(person, TopicAction.RECORD_PAPER_VOTE)
    if channel is Channel.ONLINE:
        raise TopicRefused("请选择书面表决票或委托书", Kind.INVALID)
    topic = db.session.scalar(
        select(Topic).where(Topic.id == topic_id).with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    if topic is None:
        raise TopicRefused("议题不存在", Kind.NOT_FOUND)
    _check_ballot_open(topic, now)
    with kept_only_on_commit() as stored:
        vote = _record_vote(topic, household_id, option_id, channel, person.user_id, now, note=note, commit=False)
        cast_id = db.session.scalar(select(func.max(VoteCast.id)).where(
            VoteCast.topic_id == topic_id, VoteCast.household_id == household_id))
        add_photos(topic, person.user_id, [photo], stored, vote_cast_id=cast_id)
        audit(topic, person.user_id, "topic.paper_vote", note=note,
               after={"household_id": household_id, "channel": channel, "vote_cast_id": cast_id}, ip=ip)
        db.session.commit()
    return vote


def household_at(compound_id: int, building_id: int, unit: str, room: str) -> Household:
    """The household a paper ballot names by its address (楼栋、单元、房号). Not finding it is a mistake in the
    form (INVALID), whatever the binding service's own refusal says about a binding request."""
    try:
        return find_household(compound_id, building_id, unit, room)
    except BindingRefused as refused:
        raise TopicRefused(refused.message, Kind.INVALID) from None


def _check_ballot_open(topic: Topic, now: datetime) -> None:
    rules.require_step(topic.step, Step.VOTING, message="表决未开始或已结束")
    if now >= topic.ballot_closes_at:
        raise TopicRefused("表决已截止")


def _record_vote(topic: Topic, household_id: int, option_id: int, channel: Channel, cast_by_id: int,
                 now: datetime, note: str = "", commit: bool = True, voter_id: int | None = None) -> RecordedVote:
    recorded = _upsert_vote(topic.id, household_id, option_id, channel, cast_by_id, now, voter_id=voter_id)
    if recorded is None:
        on_roll = db.session.scalar(select(exists().where(
            BallotRoll.topic_id == topic.id, BallotRoll.household_id == household_id)))
        if not on_roll:
            raise TopicRefused("这户不在本次表决名单中", Kind.FORBIDDEN)
        raise TopicRefused("没有这个表决选项", Kind.INVALID)
    _cast_recorded(recorded, note)
    if commit:
        db.session.commit()
    return recorded


def _upsert_vote(topic_id: int, household_id: int, option_id: int, channel: Channel, cast_by_id: int,
                 now: datetime, voter_id: int | None) -> RecordedVote | None:
    """The household's vote inserted or replaced in one statement that records nothing unless the ballot is open,
    the household is on its roll, the option is the topic's and, for `voter_id`, that person is a verified owner
    of the household (or a verified resident, where the topic lets residents vote: voting_household_ids' rule).
    One statement, so fifty taps from one household at once still leave one row (the unique key decides); the
    topic row is share-locked by it, so a close waits for the votes in flight and counts them."""
    checks = [BallotRoll.topic_id == topic_id, BallotRoll.household_id == household_id, Topic.step == Step.VOTING,
              Topic.ballot_closes_at > now]
    if voter_id is not None:
        checks.append(exists().where(
            Membership.user_id == voter_id, Membership.household_id == household_id,
            Membership.compound_id == Topic.compound_id, Membership.verified_at.is_not(None),
            or_(Membership.role == Role.OWNER, and_(Membership.role == Role.RESIDENT, Topic.residents_may_vote))))
    cast = {"option_id": BallotOption.id, "channel": literal(channel, Vote.channel.type),
            "cast_by_id": literal(cast_by_id), "cast_at": literal(now, Vote.cast_at.type)}
    source = (
        select(BallotRoll.topic_id, BallotRoll.household_id, BallotRoll.area_centi_m2, BallotRoll.owner_key,
               literal(1), *cast.values())
        .join(Topic, Topic.id == BallotRoll.topic_id)
        .join(BallotOption, and_(BallotOption.id == option_id, BallotOption.topic_id == BallotRoll.topic_id))
        .where(*checks)
        .with_for_update(read=True, of=Topic)
    )
    upsert = dialect_insert(Vote).from_select(
        ["topic_id", "household_id", "area_centi_m2", "owner_key", "casts", *cast], source)
    row = db.session.execute(
        upsert.on_conflict_do_update(
            index_elements=[Vote.topic_id, Vote.household_id],
            set_={**{name: upsert.excluded[name] for name in cast}, "casts": Vote.casts + 1},
        ).returning(
            Vote.option_id, Vote.channel, Vote.cast_by_id, Vote.cast_at, Vote.casts,
            select(BallotOption.label).where(BallotOption.id == option_id).scalar_subquery(),
            # One table per subquery: RETURNING is compiled with bare column names.
            select(Building.name).where(Building.id == select(Household.building_id)
                                        .where(Household.id == household_id).scalar_subquery()).scalar_subquery(),
            select(Household.unit).where(Household.id == household_id).scalar_subquery(),
            select(Household.room).where(Household.id == household_id).scalar_subquery(),
        )
    ).one_or_none()
    if row is None:
        return None
    option_id, channel, cast_by_id, cast_at, casts, option_label, building, unit, room = row
    return RecordedVote(topic_id=topic_id, household_id=household_id,
                        household_label=household_label(building, unit, room), option_id=option_id,
                        option_label=option_label, channel=channel, cast_by_id=cast_by_id, cast_at=cast_at,
                        casts=casts)


def _cast_recorded(recorded: RecordedVote, note: str) -> None:
    """The cast's history row, and its notices asked for after the commit: who is told what about a vote reads
    several tables, and the last minute of a ballot is its busiest, so that is a job's work (tell_of_vote)."""
    db.session.execute(insert(VoteCast).values(
        topic_id=recorded.topic_id, household_id=recorded.household_id, option_id=recorded.option_id,
        channel=recorded.channel, cast_by_id=recorded.cast_by_id, note=note, created_at=recorded.cast_at))
    push_after_commit(TELL_OF_VOTE_JOB, recorded.topic_id, recorded.household_id, queue="high",
                      job_id=f"vote-told-{recorded.topic_id}-{recorded.household_id}-{recorded.casts}")


def tell_of_vote(topic_id: int, household_id: int) -> bool:
    """Everything a household's casts not yet told ask for, once (the job after a vote, and the sweep for one
    whose job was lost): each caster follows the topic; the reminders to vote are withdrawn from whoever has no
    household left to vote for; the receipt of the last cast is sent and the one told before it withdrawn. Casts
    told late are told as one: only the last one's receipt is sent. Returns whether anything was told."""
    vote = db.session.scalar(
        select(Vote).where(Vote.topic_id == topic_id, Vote.household_id == household_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if vote is None or vote.told_casts >= vote.casts:
        db.session.rollback()
        return False
    topic = db.session.get(Topic, topic_id)
    casters = db.session.scalars(
        select(VoteCast.cast_by_id).where(VoteCast.topic_id == topic_id, VoteCast.household_id == household_id)
        .order_by(VoteCast.id).offset(vote.told_casts)
    )
    for user_id in dict.fromkeys(casters):
        follow(topic_id, user_id)
    _tell_of_vote(topic, vote)
    vote.told_casts = vote.casts
    db.session.commit()
    return True


def untold_votes(cast_before: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """The (topic, household) of votes cast before `cast_before` whose casts were not all told: their job was
    lost (Redis down or flushed, the process gone between the commit and the push)."""
    return [tuple(row) for row in db.session.execute(
        select(Vote.topic_id, Vote.household_id).where(Vote.told_casts < Vote.casts, Vote.cast_at < cast_before)
        .order_by(Vote.cast_at).limit(limit)
    )]


def _tell_of_vote(topic: Topic, vote: Vote) -> None:
    """After a household's vote: the reminders to vote withdrawn from whoever has no household left to vote for,
    and the receipt. An online vote's receipt goes to the voter alone; a paper ballot or proxy, recorded by the
    committee, goes to the household's people who may vote for it (it is their vote, cast on paper). The
    receipt told before is withdrawn: only the last cast counts."""
    voters = household_voter_ids(topic, vote.household_id)
    settled = _with_no_household_left(topic, voters)
    if settled:
        withdraw(vote_reminder_keys(topic.id), settled, vote.cast_at)
    if vote.told_casts:
        withdraw([vote_receipt_key(topic.id, vote.household_id, vote.told_casts)], now=vote.cast_at)
    (household,) = households_of([vote.household_id])
    address = household_label(household.building.name, household.unit, household.room)
    option_label = db.session.scalar(select(BallotOption.label).where(BallotOption.id == vote.option_id))
    if vote.channel is Channel.ONLINE:
        recipients = [vote.cast_by_id]
        title = f"您的表决已记录：{topic.title}"
        body = (f"您于{local(vote.cast_at)}在线为{address}表决：{option_label}。"
                "表决截止前可以修改，以最后一次为准。")
    else:
        recipients = voters
        title = f"您家的{CHANNEL_LABELS[vote.channel]}已录入：{topic.title}"
        body = (f"业委会于{local(vote.cast_at)}录入了{address}的{CHANNEL_LABELS[vote.channel]}：{option_label}。"
                "如与您家的意愿不符，请在表决截止前在线重新表决，以最后一次为准。")
    if recipients:
        notify(recipients, VOTE_RECEIPT, title, body, link=link(topic),
               dedupe_key=vote_receipt_key(topic.id, vote.household_id, vote.casts))


def household_voter_ids(topic: Topic, household_id: int) -> list[int]:
    """The household's verified people who may vote for it on this topic."""
    return list(db.session.scalars(
        select(Membership.user_id).distinct().where(
            Membership.household_id == household_id, Membership.role.in_(_voting_roles(topic)),
            Membership.verified_at.is_not(None))
        .order_by(Membership.user_id)
    ))


def _with_no_household_left(topic: Topic, user_ids: Sequence[int]) -> list[int]:
    """Those of these people for whom every household on the roll they may vote for has voted. Their rows are
    locked first, in id order: when two households of one person vote at the same moment, the later of the two
    then sees the other's vote, and the person's reminders are withdrawn by it."""
    if not user_ids:
        return []
    db.session.execute(
        select(User.id).where(User.id.in_(user_ids)).order_by(User.id).with_for_update(key_share=True)
    )
    still_to_vote = set(db.session.scalars(
        select(Membership.user_id)
        .join(BallotRoll, and_(BallotRoll.topic_id == topic.id, BallotRoll.household_id == Membership.household_id))
        .where(Membership.user_id.in_(user_ids), Membership.role.in_(_voting_roles(topic)),
               Membership.verified_at.is_not(None),
               ~exists().where(Vote.topic_id == topic.id, Vote.household_id == Membership.household_id))
    ))
    return [user_id for user_id in user_ids if user_id not in still_to_vote]


def household_votes(topic_id: int, household_ids: Sequence[int]) -> dict[int, Vote]:
    """The recorded vote of each of these households (each owner checks their own household's)."""
    if not household_ids:
        return {}
    return {vote.household_id: vote for vote in db.session.scalars(
        select(Vote).where(Vote.topic_id == topic_id, Vote.household_id.in_(household_ids)))}


def roll_household_ids(topic_id: int, household_ids: Sequence[int]) -> set[int]:
    if not household_ids:
        return set()
    return set(db.session.scalars(select(BallotRoll.household_id).where(
        BallotRoll.topic_id == topic_id, BallotRoll.household_id.in_(household_ids))))


@dataclass(frozen=True)
class BallotReceipt:
    """One of my households in a ballot: on the frozen roll or not, voted or not, and the recorded vote (the
    choice, its channel and time) where rules.choice_shown says so."""

    household: Household
    may_vote: bool
    on_roll: bool
    voted: bool
    vote: Vote | None


def my_ballot_receipts(topic: Topic, person: Participant) -> list[BallotReceipt]:
    """The ballot as each of my verified households stands in it (rules.in_my_ballots says which)."""
    if topic.ballot_opened_at is None or not person.household_ids:
        return []
    may_vote = set(voting_household_ids(topic, person))
    on_roll = roll_household_ids(topic.id, person.household_ids)
    votes = household_votes(topic.id, person.household_ids)
    households = {household.id: household for household in households_of(person.household_ids)}
    return [
        BallotReceipt(household=households[household_id], may_vote=household_id in may_vote,
                      on_roll=household_id in on_roll, voted=household_id in votes,
                      vote=votes.get(household_id) if rules.choice_shown(household_id in may_vote) else None)
        for household_id in person.household_ids
        if rules.in_my_ballots(household_id in may_vote, household_id in on_roll, household_id in votes)
    ]


@dataclass(frozen=True)
class Turnout:
    """The live participation bar: who has voted so far, against the 2/3 lines (no choices in it)."""

    roll_households: int
    voted_households: int
    total_area_centi_m2: int
    voted_area_centi_m2: int
    total_headcount: int
    voted_headcount: int

    def area_line_met(self) -> bool:
        return voting.meets_participation_line(self.voted_area_centi_m2, self.total_area_centi_m2)

    def headcount_line_met(self) -> bool:
        return voting.meets_participation_line(self.voted_headcount, self.total_headcount)


def turnout(topic_id: int) -> Turnout:
    totals = db.session.execute(_roll_totals(topic_id)).one()
    voted = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Vote.area_centi_m2), 0), func.count(func.distinct(Vote.owner_key)))
        .where(Vote.topic_id == topic_id)
    ).one()
    return Turnout(roll_households=totals[0], total_area_centi_m2=totals[1], total_headcount=totals[2],
                   voted_households=voted[0], voted_area_centi_m2=voted[1], voted_headcount=voted[2])


def _roll_totals(topic_id: int):
    return select(func.count(), func.coalesce(func.sum(BallotRoll.area_centi_m2), 0),
                  func.count(func.distinct(BallotRoll.owner_key))).where(BallotRoll.topic_id == topic_id)


@dataclass(frozen=True)
class RollEntry:
    household_id: int
    building: str
    unit: str
    room: str
    voted: bool
    # Only in a published result of an open vote (公开表决); never in turnout lists.
    option_label: str | None = None

    @property
    def label(self) -> str:
        return household_label(self.building, self.unit, self.room)


def voters(topic_id: int, person: Participant, page: int, page_size: int) -> Page:
    """The roll with who has voted, never how: for those who run the ballot, to remind those who have not."""
    if not person.runs_consultations:
        raise TopicRefused(rules.RUNS + "查看表决名单", Kind.FORBIDDEN)
    topic = db.session.get(Topic, topic_id)
    if topic is None or topic.ballot_opened_at is None:
        raise TopicRefused("表决尚未开始")
    return roll_page(topic_id, page, page_size)


def roll_page(topic_id: int, page: int, page_size: int, *, counted_only: bool = False,
              with_choices: bool = False) -> Page:
    """The roll with who has voted (for the committee's reminders) or, after close, the households counted.
    How a household voted is included only for open votes' published results."""
    # Two steps, each over one topic's rows by key: a join of the roll to the votes goes quadratic while the
    # planner's statistics predate the topic (the first hours of every ballot).
    query = (
        select(BallotRoll.household_id, Building.name, Household.unit, Household.room)
        .join(Household, Household.id == BallotRoll.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(BallotRoll.topic_id == topic_id)
    )
    if counted_only:
        query = query.where(BallotRoll.counted.is_(True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(Building.name, Household.unit, Household.room, BallotRoll.household_id)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    choices = dict(db.session.execute(
        select(Vote.household_id, BallotOption.label).join(BallotOption, BallotOption.id == Vote.option_id)
        .where(Vote.topic_id == topic_id, Vote.household_id.in_([row[0] for row in rows]))
    ).all()) if rows else {}
    items = [RollEntry(household_id=row[0], building=row[1], unit=row[2], room=row[3], voted=row[0] in choices,
                       option_label=choices.get(row[0]) if with_choices else None) for row in rows]
    return Page(items=items, total=total, page=page, page_size=page_size)


def close_ballot(topic_id: int, actor_id: int | None, ip: str | None = None,
                 now: datetime | None = None) -> BallotResult:
    """Close the ballot, compute the result by SQL aggregation and the pure rule, and freeze it with its inputs.
    Early close (by the committee) only once every household on the roll has voted."""
    now = now or utcnow()
    topic = locked(topic_id)
    rules.require_step(topic.step, Step.VOTING, message="表决未开始或已结束")
    live = turnout(topic_id)
    if not rules.may_close_ballot(now, topic.ballot_closes_at, live.voted_households, live.roll_households):
        raise TopicRefused(f"表决截止时间（{local(topic.ballot_closes_at)}）未到，且仍有住户未表决，不能提前结束")
    result = _tally(topic, now)
    db.session.add(result)
    db.session.execute(
        # One index probe per roll row: a join here goes quadratic while the statistics predate the topic.
        update(BallotRoll).where(BallotRoll.topic_id == topic_id)
        .values(counted=exists().where(Vote.topic_id == BallotRoll.topic_id,
                                       Vote.household_id == BallotRoll.household_id))
        .execution_options(synchronize_session=False)
    )
    topic.ballot_closed_at = now
    # Nobody can vote any more: "请在…前完成表决" is no longer true for anyone.
    withdraw(vote_reminder_keys(topic.id), now=now)
    topic.publicity_ends_at = now + timedelta(days=topic.publicity_days or rules.DEFAULT_PUBLICITY_DAYS)
    topic.step_due_at = topic.publicity_ends_at
    change_step(topic, Step.PUBLICITY, actor_id, ip, note=result.reason,
                 after={"passed": result.passed, "participation_met": result.participation_met})
    db.session.commit()
    return result


def _rule_of(topic: Topic) -> VoteRule:
    return VoteRule(kind=topic.vote_kind or VoteKind.CONSULTATION, item=topic.civil_code_item)


def option_key(option: BallotOption) -> str:
    return ABSTAIN if option.is_abstain else str(option.id)


def count_ballot(topic_id: int, options: Sequence[BallotOption]) -> VoteCounts:
    """The ballot's figures in aggregate queries over the roll and the votes (each vote carries its household's
    area and owner key), so a 5,000-household close loads no votes into Python."""
    totals = db.session.execute(_roll_totals(topic_id)).one()
    counted = (func.count(), func.coalesce(func.sum(Vote.area_centi_m2), 0), func.count(func.distinct(Vote.owner_key)))
    participating = db.session.execute(select(*counted).where(Vote.topic_id == topic_id)).one()
    per_option = db.session.execute(
        select(Vote.option_id, *counted).where(Vote.topic_id == topic_id).group_by(Vote.option_id)
    ).all()
    keys = {option.id: option_key(option) for option in options}
    households: dict[str, int] = {}
    area: dict[str, int] = {}
    heads: dict[str, int] = {}
    for option_id, count, option_area, option_heads in per_option:
        key = keys[option_id]
        households[key], area[key], heads[key] = count, option_area, option_heads
    return VoteCounts(
        eligible_households=totals[0], total_area_centi_m2=totals[1], total_headcount=totals[2],
        participating_households=participating[0], participating_area_centi_m2=participating[1],
        participating_headcount=participating[2],
        option_households=households, option_area_centi_m2=area, option_headcount=heads,
    )


def _tally(topic: Topic, now: datetime) -> BallotResult:
    options = options_of(topic.id)
    rule = _rule_of(topic)
    counts = count_ballot(topic.id, options)
    approval = next((option for option in options if option.is_approval), None)
    candidates = [option for option in options if not option.is_abstain]
    decided_by = [approval] if approval else candidates
    judged = {option.id: voting.judge(rule, counts, option_key(option)) for option in decided_by}
    first = next(iter(judged.values()))
    passed = any(result.passed for result in judged.values())
    reason = first.reason if approval else (voting.PASSED if passed else first.reason)
    return BallotResult(
        topic_id=topic.id, vote_kind=rule.kind, civil_code_item=rule.item,
        eligible_households=counts.eligible_households, total_area_centi_m2=counts.total_area_centi_m2,
        total_headcount=counts.total_headcount, participating_households=counts.participating_households,
        participating_area_centi_m2=counts.participating_area_centi_m2,
        participating_headcount=counts.participating_headcount,
        participation_met=first.participation_met, passed=passed, reason=reason,
        options={
            str(option.id): {
                "label": option.label, "is_abstain": option.is_abstain, "is_approval": option.is_approval,
                "households": counts.option_households.get(option_key(option), 0),
                "area_centi_m2": counts.option_area_centi_m2.get(option_key(option), 0),
                "headcount": counts.option_headcount.get(option_key(option), 0),
                "approved": first.approves(option_key(option)),
            } for option in options
        },
        thresholds={
            "participation": str(first.participation_threshold) if first.participation_threshold else None,
            "approval": str(first.approval_threshold), "approval_strict": first.approval_strict,
        },
        computed_at=now,
    )


def result_of(topic_id: int) -> BallotResult | None:
    return db.session.get(BallotResult, topic_id)


def tally_result(result: BallotResult, option_id: int | None = None) -> voting.TallyResult:
    """The frozen figures as the pure rule's result, for explain(): the approval option, or one candidate."""
    options = result.options
    chosen = str(option_id) if option_id is not None else next(
        (key for key, option in options.items() if option["is_approval"]),
        next(key for key, option in options.items() if not option["is_abstain"]))
    key_of = {key: ABSTAIN if option["is_abstain"] else key for key, option in options.items()}
    counts = VoteCounts(
        eligible_households=result.eligible_households, total_area_centi_m2=result.total_area_centi_m2,
        total_headcount=result.total_headcount, participating_households=result.participating_households,
        participating_area_centi_m2=result.participating_area_centi_m2,
        participating_headcount=result.participating_headcount,
        option_households={key_of[k]: o["households"] for k, o in options.items()},
        option_area_centi_m2={key_of[k]: o["area_centi_m2"] for k, o in options.items()},
        option_headcount={key_of[k]: o["headcount"] for k, o in options.items()},
    )
    return voting.judge(VoteRule(kind=result.vote_kind, item=result.civil_code_item), counts, key_of[chosen])


@dataclass(frozen=True)
class Explanation:
    option_id: int
    label: str
    lines: list[str]


def explanations(result: BallotResult) -> list[Explanation]:
    """voting.explain's lines: for a motion, of its 同意 option; for candidates, one block per candidate."""
    options = result.options
    approval = [key for key, option in options.items() if option["is_approval"]]
    decided = approval or [key for key, option in options.items() if not option["is_abstain"]]
    return [
        Explanation(option_id=int(key), label=options[key]["label"],
                    lines=voting.explain(tally_result(result, int(key)), options[key]["label"]))
        for key in decided
    ]


# ---- "待我表决" -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingBallot:
    topic: Topic
    household_ids: tuple[int, ...]


def pending_ballots(user_id: int, compound_id: int) -> list[PendingBallot]:
    """Open ballots in which one of my households may vote and has not yet."""
    rows = db.session.execute(
        select(Topic, BallotRoll.household_id, Membership.role)
        .join(BallotRoll, BallotRoll.topic_id == Topic.id)
        .join(Membership, Membership.household_id == BallotRoll.household_id)
        .where(Topic.compound_id == compound_id, Topic.step == Step.VOTING, Membership.user_id == user_id,
               Membership.verified_at.is_not(None),
               or_(Membership.role == Role.OWNER, and_(Membership.role == Role.RESIDENT, Topic.residents_may_vote)),
               ~exists().where(Vote.topic_id == Topic.id, Vote.household_id == BallotRoll.household_id))
        .order_by(Topic.ballot_closes_at, Topic.id, BallotRoll.household_id)
    ).all()
    pending: dict[int, PendingBallot] = {}
    for topic, household_id, _role in rows:
        entry = pending.get(topic.id)
        ids = (entry.household_ids if entry else ()) + (household_id,)
        pending[topic.id] = PendingBallot(topic=topic, household_ids=tuple(dict.fromkeys(ids)))
    return list(pending.values())


@dataclass(frozen=True)
class HeldBallots:
    """Ballots closed in a compound since a moment, with their frozen participation added up (households)."""

    held: int = 0
    participating_households: int = 0
    eligible_households: int = 0


def held_ballots(compound_ids: Sequence[int], closed_since: datetime) -> dict[int, HeldBallots]:
    """Each compound's ballots closed since `closed_since` and the turnout their results froze (result_of's own
    figures), in one statement for many compounds."""
    if not compound_ids:
        return {}
    rows = db.session.execute(
        select(Topic.compound_id, func.count(), func.coalesce(func.sum(BallotResult.participating_households), 0),
               func.coalesce(func.sum(BallotResult.eligible_households), 0))
        .join(BallotResult, BallotResult.topic_id == Topic.id)
        .where(Topic.compound_id.in_(compound_ids), BallotResult.computed_at >= closed_since)
        .group_by(Topic.compound_id)
    ).all()
    return {row[0]: HeldBallots(int(row[1]), int(row[2]), int(row[3])) for row in rows}
