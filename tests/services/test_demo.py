"""`linli demo`: its work orders in every state and a deliberation topic in every step; `--households N`: the
benchmark compound `bench` with N households, one verified owner each; `--work-orders N`: N orders over six months,
consistent with their events."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.demo import DEMO_PASSWORD, demo_compound
from backend.demo.bench import load_bench_households
from backend.demo.bench_work_orders import load_bench_work_orders
from backend.demo.order_life import OrderLife
from backend.domain import workorders as rules
from backend.domain.auth import WeChatApp
from backend.domain.compounds import ManagementModel
from backend.domain.consultations import MeetingKind, Step
from backend.domain.flags import FlagRule
from backend.domain.notifications import PROBLEM_FLAG
from backend.domain.roles import Role
from backend.domain.voting import VoteKind
from backend.domain.workorders import Action, Actor, Status, Urgency
from backend.extensions import db
from backend.jobs.consultations import send_voting_reminders
from backend.models import (
    Building,
    CompanySelection,
    Compound,
    Household,
    Meeting,
    MeetingInvitee,
    Membership,
    Notice,
    Topic,
    TopicComment,
    User,
    Vote,
    VoteCast,
    WeChatAccount,
    WorkOrder,
    WorkOrderEscalation,
    WorkOrderEvent,
    WorkOrderFollower,
    WorkOrderRating,
)
from backend.services import consultations
from backend.services import flags as flag_service
from backend.services.workorders import escalate_order, staff_queue, submit_order, transition, urge
from backend.shared.clock import utcnow
from tests.support import first_household

# The demo's story is dated from today, so its tests run again at the calendar's edges (`calendar`); the bench
# compound's counts and reruns do not depend on the date and run once (each costs seconds).


@pytest.fixture
def demo_cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        result = runner.invoke(args=["demo", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def _bench() -> Compound | None:
    return db.session.scalar(select(Compound).where(Compound.code == "bench"))


def _counts(compound: Compound) -> tuple[int, int, int]:
    households = db.session.scalar(
        select(func.count()).select_from(Household).where(Household.compound_id == compound.id)
    )
    owners = db.session.scalar(
        select(func.count(func.distinct(Membership.user_id))).where(
            Membership.compound_id == compound.id, Membership.role == Role.OWNER, Membership.verified_at.is_not(None)
        )
    )
    buildings = db.session.scalar(select(func.count()).select_from(Building).where(Building.compound_id == compound.id))
    return households, owners, buildings


def test_households_450_makes_a_bench_compound_of_450_households_each_with_a_verified_owner_once(demo_cli):
    output = demo_cli("--households", "450")

    assert "已导入演示数据" in output
    assert "压测小区: 450/450 户" in output
    bench = _bench()
    home = demo_compound()
    assert (bench.area_id, bench.management_model) == (home.area_id, ManagementModel.MARKET)
    # 200 households a building: 200 + 200 + 50.
    assert _counts(bench) == (450, 450, 3)
    owners = db.session.execute(
        select(User.username, WeChatAccount.app, WeChatAccount.openid, User.password_hash, User.phone_hash,
               Household.compound_id)
        .join(Membership, Membership.user_id == User.id)
        .join(Household, Household.id == Membership.household_id)
        .join(WeChatAccount, WeChatAccount.user_id == User.id)
        .where(Membership.compound_id == bench.id)
    ).all()
    assert sorted(row.username for row in owners) == [f"bench{n:06d}" for n in range(1, 451)]
    assert {(row.app, row.openid) for row in owners} == {
        (WeChatApp.OFFICIAL_ACCOUNT, f"bench-openid-{n}") for n in range(1, 451)
    }
    assert {(row.password_hash, row.phone_hash, row.compound_id) for row in owners} == {(None, None, bench.id)}
    one_household_each = db.session.scalar(
        select(func.count(func.distinct(Membership.household_id))).where(Membership.compound_id == bench.id)
    )
    assert one_household_each == 450
    users = db.session.scalar(select(func.count()).select_from(User))

    again = demo_cli("--households", "450")

    assert "演示数据已存在，跳过" in again
    assert "压测小区已有 450 户，跳过" in again
    assert _counts(_bench()) == (450, 450, 3)
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(Compound).where(Compound.code == "bench")) == 1


def test_a_larger_count_adds_only_the_missing_households_chunk_by_chunk(demo):
    load_bench_households(150, chunk_size=100)
    progress = []

    added = load_bench_households(450, chunk_size=100, on_chunk=lambda done, total: progress.append((done, total)))

    assert added == 300
    assert progress == [(250, 450), (350, 450), (450, 450)]
    assert _counts(_bench()) == (450, 450, 3)


def test_the_plain_demo_makes_no_bench_compound(demo):
    assert _bench() is None


def test_the_bench_compound_needs_the_demo_first(app):
    with pytest.raises(LookupError):
        load_bench_households(10)
    assert _bench() is None


# ---- work orders ---------------------------------------------------------------------------------------


def _city_orders() -> list[WorkOrder]:
    return list(db.session.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def _seconds(later, earlier) -> int:
    return int((later - earlier).total_seconds())


def _assert_consistent(order: WorkOrder, now) -> None:
    """The order's columns agree with its events, and its events walk the state machine from submission."""
    events = list(db.session.scalars(
        select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id).order_by(WorkOrderEvent.id)
    ))
    first = events[0]
    assert (first.action, first.from_status, first.to_status, first.created_at) == (
        "submit", None, Status.SUBMITTED, order.created_at), order.id
    assert [e.created_at for e in events] == sorted(e.created_at for e in events), order.id
    status = Status.SUBMITTED
    for event in events[1:]:
        if event.to_status is None:
            assert event.action in ("rate", "escalate", "urge"), (order.id, event.action)
            continue
        rule = rules.RULES[Action(event.action)]
        assert Status(event.from_status) == status and status in rule.sources, (order.id, event.action)
        status = rule.target or status
        assert Status(event.to_status) == status, (order.id, event.action)
    assert order.status is status, order.id
    actions = [e.action for e in events]

    sla = rules.DEFAULT_SLA[order.urgency]
    assert (order.accept_due_at - order.created_at, order.close_due_at - order.created_at) == (sla.accept, sla.close)
    assert order.created_at <= now
    if status in rules.OPEN_STATUSES:
        assert order.sla_due_at == (order.accept_due_at if status is Status.SUBMITTED else order.close_due_at)
    else:
        assert (order.sla_due_at, order.escalate_at) == (None, None), order.id
    if "accept" in actions:
        accepted = events[actions.index("accept")]
        assert order.accepted_at == accepted.created_at and order.assignee_id is not None
        assert order.seconds_to_accept == _seconds(order.accepted_at, order.created_at)
    else:
        assert (order.accepted_at, order.seconds_to_accept) == (None, None)
    assert order.dispute_count == actions.count("dispute")
    if status is Status.CLOSED:
        closed = [e for e in events if e.action == "close"][-1]
        assert order.closed_at == closed.created_at, order.id
        assert order.seconds_to_close == _seconds(order.closed_at, order.created_at)
        assert order.closed_within_sla is (order.closed_at <= order.close_due_at and order.dispute_count == 0)
    else:
        assert (order.closed_at, order.seconds_to_close, order.closed_within_sla) == (None, None, None), order.id
    rating = db.session.scalar(select(WorkOrderRating).where(WorkOrderRating.work_order_id == order.id))
    if "confirm" in actions:
        assert status is Status.CLOSED and order.confirmed_at == events[actions.index("confirm")].created_at
        assert rating is not None and 1 <= rating.stars <= 5 and rating.user_id == order.submitter_id, order.id
        assert set(filter(None, rating.tags.split(","))) <= set(rules.RATING_TAGS)
    else:
        assert order.confirmed_at is None and rating is None, order.id
    if status is Status.REJECTED:
        assert order.reject_reason and order.reject_reason == events[-1].note[:200]
    steps = db.session.scalar(
        select(func.count()).select_from(WorkOrderEscalation).where(WorkOrderEscalation.work_order_id == order.id)
    )
    assert steps == actions.count("escalate") and 0 <= order.escalation_level <= 3
    follower = db.session.get(WorkOrderFollower, (order.id, order.submitter_id))
    assert follower is not None
    resident = db.session.scalar(select(Membership.id).where(
        Membership.user_id == order.submitter_id, Membership.compound_id == order.compound_id,
        Membership.role.in_((Role.OWNER, Role.RESIDENT))))
    assert resident is not None, order.id


@pytest.mark.calendar
def test_the_demo_has_work_orders_in_every_state_each_consistent_with_its_events(demo):
    now = utcnow()
    orders = _city_orders()

    assert {order.status for order in orders} == set(Status)
    for order in orders:
        _assert_consistent(order, now)
    closed = [order for order in orders if order.status is Status.CLOSED]
    awaiting = [o for o in closed if o.confirmed_at is None and now < o.closed_at + rules.CONFIRM_WINDOW]
    unanswered = [o for o in closed if o.confirmed_at is None and now >= o.closed_at + rules.CONFIRM_WINDOW]
    confirmed = [order for order in closed if order.confirmed_at is not None]
    assert awaiting and unanswered and confirmed
    assert all(order.rate_reminded for order in unanswered)
    manager = db.session.scalar(select(User.id).where(User.username == "manager"))
    replies = db.session.scalars(select(WorkOrderRating).where(WorkOrderRating.reply != "")).all()
    assert replies and {(r.replied_by_id, r.replied_at is not None) for r in replies} == {(manager, True)}
    assert all(order.reject_reason for order in orders if order.status is Status.REJECTED)
    reopened = [order for order in closed if order.dispute_count > 0]
    assert reopened and all(order.closed_within_sla is False for order in reopened)
    overdue = [order for order in orders if order.urgency is Urgency.URGENT and rules.is_overdue(
        order.status, order.sla_due_at, now)]
    assert len(overdue) == 1
    assert overdue[0].escalation_level >= 1 and overdue[0].escalate_at is not None


@pytest.mark.calendar
def test_the_demo_staff_queue_holds_the_open_orders_of_the_first_compound(demo):
    staff = db.session.scalar(select(User.id).where(User.username == "staff"))

    queue = staff_queue(demo_compound().id, staff, page=1, page_size=50)

    assert queue.total >= 4
    assert {order.status for order in queue.items} <= rules.OPEN_STATUSES
    assert [order.sla_due_at for order in queue.items] == sorted(order.sla_due_at for order in queue.items)


@pytest.mark.calendar
def test_a_replayed_order_matches_the_same_story_told_through_the_services(
    make_compound, make_user, monkeypatch
):
    """The demo writes orders from a script at explicit times; the services, driven by the clock and the
    sweep at the same times, must write the same columns, events, escalation steps and rating."""
    compound = make_compound()
    home = first_household(compound)
    resident = make_user(Role.OWNER, compound, household=home)
    staff = make_user(Role.STAFF, compound)
    manager = make_user(Role.MANAGER, compound)
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    script = [
        (t0 + hour / 2, "assign", manager, Actor.MANAGER, "", staff.id),
        (t0 + hour, "urge", resident, None, "", None),
        (t0 + 5 * hour, Action.ACCEPT, staff, Actor.HANDLER, "", None),
        (t0 + 6 * hour, Action.START, staff, Actor.HANDLER, "", None),
        # Closed before the close-phase step is due (54 h: the urge brought it forward) …
        (t0 + 50 * hour, Action.CLOSE, staff, Actor.HANDLER, "已更换阀门", None),
        # … reopened after it: the step is taken at once; reopened again: it is not taken twice.
        (t0 + 60 * hour, Action.DISPUTE, resident, Actor.SUBMITTER, "还在漏", None),
        (t0 + 70 * hour, Action.CLOSE, staff, Actor.HANDLER, "重新密封", None),
        (t0 + 75 * hour, Action.DISPUTE, resident, Actor.SUBMITTER, "还是漏", None),
        (t0 + 100 * hour, Action.CLOSE, staff, Actor.HANDLER, "换了整段水管", None),
        (t0 + 110 * hour, Action.CONFIRM, resident, Actor.SUBMITTER, "", None),
    ]
    end = t0 + 120 * hour

    with time_machine.travel(t0, tick=False):
        live = submit_order(user_id=resident.id, compound_id=compound.id, category="水电维修", description="水管漏水",
                            urgency=Urgency.NORMAL, household_id=home.id)
    order_id = live.id

    clock = [t0]

    def sweep_until(moment):
        # The sweep takes a step at its due time, or (when a dispute reopens an order already late) at once.
        while (due := db.session.get(WorkOrder, order_id).escalate_at) is not None and due <= moment:
            with time_machine.travel(max(due, clock[0]), tick=False):
                escalate_order(order_id, utcnow())
        clock[0] = moment

    for at, action, person, _, note, assignee in script:
        sweep_until(at)
        with time_machine.travel(at, tick=False):
            if action == "urge":
                urge(order_id, person.id)
                continue
            roles = frozenset({Role.OWNER} if person is resident else {Role.STAFF} if person is staff else {Role.MANAGER})
            transition(order_id, person.id, roles, Action(action), note=note, assignee_id=assignee,
                       rating={"stars": 4, "tags": ["及时"]} if action is Action.CONFIRM else None)
    sweep_until(end)

    replay = OrderLife(compound_id=compound.id, submitter_id=resident.id, category="水电维修", description="水管漏水",
                        urgency=Urgency.NORMAL, sla=rules.DEFAULT_SLA[Urgency.NORMAL], created_at=t0,
                        household_id=home.id, building_id=home.building_id)
    for at, action, person, actor, note, assignee in script:
        if action == "urge":
            replay.urge(at)
            continue
        replay.act(at, Action(action), person.id, actor, note, assignee_id=assignee)
        if action is Action.CONFIRM:
            replay.rate(at, 4, ["及时"])
    replay.finish(end)

    db.session.expire_all()
    order = db.session.get(WorkOrder, order_id)
    assert {key: getattr(order, key) for key in replay.row if key != "updated_at"} == {
        key: value for key, value in replay.row.items() if key != "updated_at"}
    events = db.session.scalars(
        select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order_id).order_by(WorkOrderEvent.id)
    ).all()
    assert [{key: getattr(event, key) for key in replay.events[0]} for event in events] == replay.events
    steps = db.session.scalars(
        select(WorkOrderEscalation).where(WorkOrderEscalation.work_order_id == order_id).order_by(WorkOrderEscalation.id)
    ).all()
    assert [{key: getattr(step, key) for key in replay.escalations[0]} for step in steps] == replay.escalations
    assert [(step["phase"], step["level"], step["created_at"]) for step in replay.escalations] == [
        ("accept", 1, t0 + 3 * hour), ("close", 1, t0 + 60 * hour)]
    assert order.dispute_count == 2 and order.closed_within_sla is False
    rating = order.rating
    assert {key: getattr(rating, key) for key in replay.rating} == replay.rating


@pytest.mark.calendar
def test_work_orders_500_fills_the_demo_city_with_500_consistent_orders_over_six_months_once(demo_cli):
    before = utcnow()
    output = demo_cli("--work-orders", "500")
    now = utcnow()

    assert "工单: 500/500 张" in output
    orders = _city_orders()
    demo_ids = {order.id for order in orders[:15]}
    assert len(orders) == 500
    assert {order.status for order in orders} >= {Status.CLOSED, Status.REJECTED, Status.WITHDRAWN}
    for order in orders:
        _assert_consistent(order, now)
    bulk = [order for order in orders if order.id not in demo_ids]
    assert [order.created_at for order in bulk] == sorted(order.created_at for order in bulk)
    assert bulk[0].created_at < before - timedelta(days=150)
    assert bulk[-1].created_at > before - timedelta(days=3)
    assert len({order.category for order in bulk}) >= 6
    ratings = db.session.scalar(select(func.count()).select_from(WorkOrderRating))
    assert ratings == sum(1 for order in orders if order.confirmed_at is not None) > 200
    events = db.session.scalar(select(func.count()).select_from(WorkOrderEvent))

    again = demo_cli("--work-orders", "500")

    assert "已有 500 张以上工单，跳过" in again
    assert len(_city_orders()) == 500
    assert db.session.scalar(select(func.count()).select_from(WorkOrderEvent)) == events
    progress = []
    assert load_bench_work_orders(650, chunk_size=100, on_chunk=lambda done, total: progress.append(done)) == 150
    assert progress == [600, 650]
    assert len(_city_orders()) == 650


def test_with_a_bench_compound_its_residents_file_most_orders_and_the_demo_staff_handle_them(demo_cli):
    demo_cli("--households", "400", "--work-orders", "600")

    bench = _bench()
    counts = dict(db.session.execute(
        select(WorkOrder.compound_id, func.count()).group_by(WorkOrder.compound_id)
    ).all())
    assert sum(counts.values()) == 600
    assert counts[bench.id] > counts[demo_compound().id]
    handlers = set(db.session.scalars(
        select(WorkOrder.assignee_id).where(WorkOrder.compound_id == bench.id, WorkOrder.assignee_id.is_not(None))
    ))
    staff = db.session.scalar(select(User.id).where(User.username == "staff"))
    assert handlers == {staff}
    roles = set(db.session.scalars(select(Membership.role).join(User, User.id == Membership.user_id).where(
        Membership.compound_id == bench.id, User.username.in_(["staff", "manager"]))))
    assert roles == {Role.STAFF, Role.MANAGER}


def test_work_orders_need_the_demo_first(app):
    with pytest.raises(LookupError):
        load_bench_work_orders(10)


# ---- consultations -------------------------------------------------------------------------------------


def _topics_by_step() -> dict[Step, Topic]:
    # The company selection's topic (issue 19) is the contracts' demo, decided on paper, not a step of the five.
    topics = db.session.scalars(select(Topic).where(
        Topic.compound_id == demo_compound().id, Topic.id.not_in(select(CompanySelection.topic_id)))).all()
    by_step = {topic.step: topic for topic in topics}
    assert len(by_step) == len(topics), [topic.step for topic in topics]
    return by_step


def _user_id(username: str) -> int:
    return db.session.scalar(select(User.id).where(User.username == username))


def _home_of(username: str) -> int:
    return db.session.scalar(
        select(Membership.household_id).where(
            Membership.user_id == _user_id(username), Membership.role == Role.OWNER
        )
    )


@pytest.mark.calendar
def test_the_demo_has_one_topic_in_each_step_of_the_five_step_method(demo):

    assert set(_topics_by_step()) == {
        Step.PROPOSED,
        Step.REVIEW,
        Step.DELIBERATION,
        Step.VOTING,
        Step.PUBLICITY,
        Step.IMPLEMENTATION,
        Step.DONE,
        Step.DECLINED,
    }


@pytest.mark.calendar
def test_the_demo_owner_can_still_cosign_the_topic_collecting_cosigns(demo):
    topic = _topics_by_step()[Step.PROPOSED]

    threshold = consultations.settings_for(topic.compound_id).cosign_threshold
    assert 1 < topic.cosign_count < threshold
    assert consultations.cosigned_household_ids(topic.id, [_home_of("owner")]) == set()
    assert _topics_by_step()[Step.REVIEW].cosign_count >= threshold


@pytest.mark.calendar
def test_the_demo_ballot_is_open_with_votes_cast_and_waits_for_the_demo_owner(demo):
    topic = _topics_by_step()[Step.VOTING]
    now = utcnow()

    assert (topic.vote_kind, topic.civil_code_item) == (VoteKind.OWNERS_JOINT, 4)
    assert topic.ballot_opened_at < now < topic.ballot_closes_at
    assert [option.label for option in consultations.options_of(topic.id)] == ["同意", "不同意", "弃权"]
    live = consultations.turnout(topic.id)
    assert 0 < live.voted_households < live.roll_households
    assert 0 < live.voted_area_centi_m2 < live.total_area_centi_m2
    pending = consultations.pending_ballots(_user_id("owner"), topic.compound_id)
    assert [(entry.topic.id, entry.household_ids) for entry in pending] == [(topic.id, (_home_of("owner"),))]


@pytest.mark.calendar
def test_each_demo_vote_is_its_households_last_cast(demo):
    topic = _topics_by_step()[Step.VOTING]

    votes = db.session.scalars(select(Vote).where(Vote.topic_id == topic.id)).all()
    casts = db.session.scalars(
        select(VoteCast).where(VoteCast.topic_id == topic.id).order_by(VoteCast.id)
    ).all()
    last_cast = {cast.household_id: cast.option_id for cast in casts}
    assert len(casts) == len(votes) + 1
    assert {vote.household_id: vote.option_id for vote in votes} == last_cast
    [changed] = [vote for vote in votes if vote.casts == 2]
    labels = {option.id: option.label for option in consultations.options_of(topic.id)}
    assert (changed.household_id, labels[changed.option_id]) == (_home_of("owner07"), "同意")
    assert all(topic.ballot_opened_at <= cast.created_at < topic.ballot_closes_at for cast in casts)


@pytest.mark.calendar
def test_the_demo_deliberation_has_replies_a_hidden_comment_options_and_a_meeting(demo):
    topic = _topics_by_step()[Step.DELIBERATION]

    comments = db.session.scalars(select(TopicComment).where(TopicComment.topic_id == topic.id)).all()
    assert sum(comment.parent_id is not None for comment in comments) == 2
    hidden = [comment for comment in comments if comment.hidden_at is not None]
    assert len(hidden) == 1 and hidden[0].hidden_reason
    assert len(consultations.options_of(topic.id)) == 3
    assert topic.deliberation_ends_at > utcnow()
    meeting = db.session.scalar(select(Meeting).where(Meeting.topic_id == topic.id))
    assert meeting.kind is MeetingKind.DELIBERATION
    assert utcnow() < meeting.starts_at < topic.deliberation_ends_at
    invited = db.session.scalars(
        select(MeetingInvitee.user_id).where(MeetingInvitee.meeting_id == meeting.id)
    )
    assert {_user_id("secretary"), _user_id("committee"), _user_id("owner")} <= set(invited)


@pytest.mark.calendar
def test_the_demo_results_are_frozen_and_followed_by_objections_progress_and_ratings(demo):
    by_step = _topics_by_step()
    publicity, carrying, done = by_step[Step.PUBLICITY], by_step[Step.IMPLEMENTATION], by_step[Step.DONE]

    for topic in (publicity, carrying, done):
        result = consultations.result_of(topic.id)
        assert result.passed and result.participating_households > 0, topic.title
        assert result.computed_at == topic.ballot_closed_at == topic.ballot_closes_at
    assert publicity.publicity_ends_at > utcnow()
    [objection] = consultations.objections(publicity.id)
    assert objection.answer and objection.answered_at is not None
    assert [update.is_final for update in consultations.progress_updates(carrying.id)] == [False, False]
    assert consultations.ratings_summary(carrying.id).count == 2
    assert [update.is_final for update in consultations.progress_updates(done.id)] == [False, True]
    assert done.implemented_at is not None and consultations.ratings_summary(done.id).count == 3
    assert by_step[Step.DECLINED].decline_reason


@pytest.mark.calendar
def test_no_demo_deadline_or_reminder_is_due_so_the_sweep_has_nothing_to_do(demo):

    assert consultations.due_topic_ids(utcnow()) == []
    assert send_voting_reminders(utcnow()) == 0


@pytest.mark.calendar
def test_a_second_demo_run_adds_no_topics_votes_or_meetings(demo, demo_cli):
    tables = (Topic, TopicComment, Vote, VoteCast, Meeting)
    before = [db.session.scalar(select(func.count()).select_from(table)) for table in tables]

    output = demo_cli()

    assert "演示数据已存在，跳过" in output
    assert [db.session.scalar(select(func.count()).select_from(table)) for table in tables] == before


@pytest.mark.calendar
def test_the_demo_owner_sees_every_topic_and_the_ballot_waiting_for_them_through_the_api(demo, client):
    compound_id, voting_id = demo_compound().id, _topics_by_step()[Step.VOTING].id
    signed_in = client.post("/api/v1/auth/password", json={"username": "owner", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {signed_in.json['access_token']}"}

    topics = client.get(f"/api/v1/compounds/{compound_id}/topics", headers=headers)
    pending = client.get(f"/api/v1/compounds/{compound_id}/pending-ballots", headers=headers)

    # The five steps' eight topics and the company selection's (issue 19).
    assert topics.status_code == 200 and topics.json["total"] == 9
    assert pending.status_code == 200
    assert [item["topic"]["id"] for item in pending.json["items"]] == [voting_id]


def test_the_demo_flags_yangguang_for_its_overdue_order(demo):
    """东区's own thresholds (no overdue order at all) flag 阳光花园 for its overdue order, the reason naming the
    figure, and the district and street officials hear of it once."""
    compound = demo_compound()
    flags = {line.rule: line.reason for line in flag_service.active_flags([compound.id])[compound.id]}
    assert flags[FlagRule.OVERDUE_ORDERS] == "超时未办结工单 1 件，超过 0 件"
    notice = db.session.scalar(select(Notice).where(Notice.kind == PROBLEM_FLAG))
    assert notice.title == "阳光花园小区被标记为问题小区"
    assert flag_service.sweep([compound.id]).raised == 0
