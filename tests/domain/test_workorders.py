"""Work order rules (DESIGN §3, issue 4): every transition for every way of standing to an order, written out
here independently of RULES; random action sequences that never reach an invalid state; SLA, escalation,
urging and the 7-day confirmation window at their boundaries."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.workorders import (
    ACTION_LABELS,
    CONFIRM_WINDOW,
    DEFAULT_CATEGORIES,
    DEFAULT_SLA,
    DUPLICATE_WINDOW,
    ESCALATION_LABELS,
    NOTE_REQUIRED,
    OPEN_STATUSES,
    RATE_REMINDER_AFTER,
    RATING_TAGS,
    STATUS_LABELS,
    URGE_INTERVAL,
    URGENCY_LABELS,
    Action,
    Actor,
    EscalationLevel,
    Phase,
    Sla,
    Status,
    TransitionRefused,
    Urgency,
    WorkOrderRefused,
    allowed_actions,
    awaiting_confirmation,
    check_follow,
    check_photo,
    check_rating,
    check_reply,
    check_urge,
    escalation_at,
    is_overdue,
    may_urge,
    next_escalation,
    next_status,
    next_urge_at,
    permitted,
    phase_of,
    place_label,
    sla_due,
    title_of,
)

SUBMITTER, HANDLER, MANAGER, OTHER = Actor.SUBMITTER, Actor.HANDLER, Actor.MANAGER, Actor.OTHER
T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
TICK = timedelta(microseconds=1)

# ---- the expected state machine, spelled out from DESIGN §3 and issue 4 ----------------------------------

# Staff take, work and close orders (DESIGN §1); the manager may do all staff do (roles.HANDLE_WORK_ORDERS
# holds staff and manager), and alone assigns (roles.ASSIGN_WORK_ORDERS).
STAFF_WORK = frozenset({HANDLER, MANAGER})
ONLY_MANAGER = frozenset({MANAGER})
ONLY_SUBMITTER = frozenset({SUBMITTER})

# (status, action) → (status after, who may). A pair missing here is refused for everyone (409).
EXPECTED: dict[tuple[Status, Action], tuple[Status, frozenset[Actor]]] = {
    # DESIGN §3: submitted → accepted → in_progress → closed.
    (Status.SUBMITTED, Action.ACCEPT): (Status.ACCEPTED, STAFF_WORK),
    (Status.ACCEPTED, Action.START): (Status.IN_PROGRESS, STAFF_WORK),
    # Issue 4 §2: staff close the order (办结) with a note and after-photos.
    (Status.IN_PROGRESS, Action.CLOSE): (Status.CLOSED, STAFF_WORK),
    # DESIGN §3: rejected (with a reason), from submitted.
    (Status.SUBMITTED, Action.REJECT): (Status.REJECTED, STAFF_WORK),
    # Issue 4 §5: staff merge a duplicate; it ends as a rejection ("与工单#12重复"), so from submitted too.
    (Status.SUBMITTED, Action.MERGE): (Status.REJECTED, STAFF_WORK),
    # DESIGN §3: withdrawn by the resident before accept.
    (Status.SUBMITTED, Action.WITHDRAW): (Status.WITHDRAWN, ONLY_SUBMITTER),
    # Issue 4 §2: the manager assigns and reassigns an open order; its status stays.
    (Status.SUBMITTED, Action.ASSIGN): (Status.SUBMITTED, ONLY_MANAGER),
    (Status.ACCEPTED, Action.ASSIGN): (Status.ACCEPTED, ONLY_MANAGER),
    (Status.IN_PROGRESS, Action.ASSIGN): (Status.IN_PROGRESS, ONLY_MANAGER),
    # DESIGN §3: within 7 days of the close the resident confirms 已解决 (the order stays closed) …
    (Status.CLOSED, Action.CONFIRM): (Status.CLOSED, ONLY_SUBMITTER),
    # … or answers 未解决, which reopens it to in_progress.
    (Status.CLOSED, Action.DISPUTE): (Status.IN_PROGRESS, ONLY_SUBMITTER),
}
# Only these need the submitter's answer to be still awaited (closed, unanswered, within the 7 days).
ANSWERS = frozenset({Action.CONFIRM, Action.DISPUTE})
TERMINAL = frozenset({Status.REJECTED, Status.WITHDRAWN})

ACTOR_SETS = [frozenset({actor}) for actor in Actor] + [
    frozenset({HANDLER, MANAGER}),  # a manager who also works as staff in the compound
    frozenset({SUBMITTER, MANAGER}),  # a manager who raised an order themself
]
# awaiting_confirmation can only be true of a closed order.
STATUS_AWAITING = [(status, False) for status in Status] + [(Status.CLOSED, True)]


@dataclass(frozen=True)
class Refused:
    conflict: bool


STATE = Refused(conflict=True)
ROLE = Refused(conflict=False)


def expected_outcome(
    status: Status, action: Action, actors: frozenset[Actor], awaiting: bool
) -> Status | Refused:
    """The order's state is checked before the person: when nobody may do it now, say so (409), not 403."""
    if (status, action) not in EXPECTED:
        return STATE
    if action in ANSWERS and not awaiting:
        return STATE
    target, allowed = EXPECTED[(status, action)]
    return target if allowed & actors else ROLE


def outcome(status: Status, action: Action, actors, awaiting: bool) -> Status | Refused:
    try:
        return next_status(status, action, actors, awaiting_confirmation=awaiting)
    except TransitionRefused as refused:
        assert str(refused), "a refusal tells the person why"
        return Refused(conflict=refused.kind is Kind.CONFLICT)


def _case_id(status: Status, awaiting: bool, action: Action, actors: frozenset[Actor]) -> str:
    who = "+".join(sorted(actors))
    return f"{status}{'(awaiting)' if awaiting else ''}-{action}-by-{who}"


CASES = [
    pytest.param(status, awaiting, action, actors, id=_case_id(status, awaiting, action, actors))
    for (status, awaiting), action, actors in itertools.product(STATUS_AWAITING, Action, ACTOR_SETS)
]


@pytest.mark.parametrize(("status", "awaiting", "action", "actors"), CASES)
def test_transition_is_allowed_or_refused_as_designed(status, awaiting, action, actors):
    assert outcome(status, action, actors, awaiting) == expected_outcome(status, action, actors, awaiting)


@pytest.mark.parametrize(("status", "awaiting"), STATUS_AWAITING)
@pytest.mark.parametrize("actors", ACTOR_SETS)
def test_the_offered_steps_are_exactly_those_the_table_allows(status, awaiting, actors):
    expected = [action for action in Action
                if not isinstance(expected_outcome(status, action, actors, awaiting), Refused)]
    assert allowed_actions(status, actors, awaiting_confirmation=awaiting) == expected


@pytest.mark.parametrize(("status", "awaiting", "action", "actors"), CASES)
def test_transition_does_not_depend_on_the_kind_of_set(status, awaiting, action, actors):
    assert outcome(status, action, set(actors), awaiting) == outcome(status, action, actors, awaiting)


@pytest.mark.parametrize(("status", "awaiting", "action"), [
    (status, awaiting, action) for (status, awaiting), action in itertools.product(STATUS_AWAITING, Action)
])
def test_nobody_at_all_may_do_anything(status, awaiting, action):
    assert isinstance(outcome(status, action, frozenset(), awaiting), Refused)


def test_the_table_draws_exactly_the_status_changes_of_design():
    changes = {(source, target) for (source, _), (target, _) in EXPECTED.items() if source != target}
    assert changes == {
        (Status.SUBMITTED, Status.ACCEPTED), (Status.ACCEPTED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.CLOSED), (Status.SUBMITTED, Status.REJECTED),
        (Status.SUBMITTED, Status.WITHDRAWN), (Status.CLOSED, Status.IN_PROGRESS),
    }


def test_role_refusal_is_a_403_and_state_refusal_a_409():
    with pytest.raises(TransitionRefused) as role:
        next_status(Status.SUBMITTED, Action.ACCEPT, {SUBMITTER})
    with pytest.raises(TransitionRefused) as state:
        next_status(Status.CLOSED, Action.ACCEPT, {HANDLER})
    assert role.value.kind is Kind.FORBIDDEN and "无权" in str(role.value)
    assert state.value.kind is Kind.CONFLICT and STATUS_LABELS[Status.CLOSED] in str(state.value)


def test_answer_after_the_window_or_a_confirmation_is_refused_as_a_conflict():
    for action in ANSWERS:
        with pytest.raises(TransitionRefused) as refused:
            next_status(Status.CLOSED, action, {SUBMITTER}, awaiting_confirmation=False)
        assert refused.value.kind is Kind.CONFLICT


def test_close_reject_and_dispute_need_a_note_the_other_side_reads():
    # Issue 4 §2: staff close with a note, rejections need a reason; a 未解决 answer says what is still wrong.
    assert {Action.CLOSE, Action.REJECT, Action.DISPUTE} == NOTE_REQUIRED


# ---- sequences of actions never reach an invalid state -----------------------------------------------


@dataclass
class Order:
    """What the service keeps beside the status, as a test model: the close, the answer, the history."""

    status: Status = Status.SUBMITTED
    closed_at: datetime | None = None
    confirmed: bool = False
    disputes: int = 0
    closes: int = 0
    seen: list[Status] = field(default_factory=lambda: [Status.SUBMITTED])

    def apply(self, action: Action, target: Status, now: datetime) -> None:
        if action is Action.CLOSE:
            self.closed_at, self.closes = now, self.closes + 1
        elif action is Action.CONFIRM:
            self.confirmed = True
        elif action is Action.DISPUTE:
            self.closed_at, self.disputes = None, self.disputes + 1
        self.status = target
        self.seen.append(target)


# Mostly short gaps, so a close is often answered in time; sometimes the boundaries of the 7-day window.
TIME_STEPS = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=URGE_INTERVAL),
    st.sampled_from([TICK, timedelta(days=1), CONFIRM_WINDOW - TICK, CONFIRM_WINDOW, CONFIRM_WINDOW + TICK]),
)
# Half the time the action is the one that moves the order forward, so random sequences get past the close
# (most end early otherwise, in a rejection or a withdrawal); the other half it is any action at all.
FORWARD = {
    Status.SUBMITTED: [Action.ACCEPT],
    Status.ACCEPTED: [Action.START],
    Status.IN_PROGRESS: [Action.CLOSE],
    Status.CLOSED: [Action.CONFIRM, Action.DISPUTE],
}
EVERYONE = frozenset(Actor)


def draw_step(data: st.DataObject, status: Status) -> tuple[timedelta, Action, frozenset[Actor]]:
    """A gap of time, then one action by one set of actors."""
    gap = data.draw(TIME_STEPS, label="gap")
    forward = st.sampled_from(FORWARD.get(status, list(Action)))
    action = data.draw(st.sampled_from(list(Action)) | forward, label="action")
    return gap, action, data.draw(st.sampled_from(ACTOR_SETS), label="actors")


@settings(max_examples=400, deadline=None)
@given(st.data(), st.integers(min_value=1, max_value=60))
def test_no_sequence_of_actions_reaches_an_invalid_state(data, length):
    order, now = Order(), T0
    for _ in range(length):
        gap, action, actors = draw_step(data, order.status)
        now += gap
        before = order.status
        awaiting = awaiting_confirmation(before, order.closed_at, order.confirmed, now)
        try:
            after = next_status(before, action, actors, awaiting_confirmation=awaiting)
        except TransitionRefused as refused:
            # A 403 means someone else could do it now; a 409 means nobody could.
            someone_could = outcome(before, action, EVERYONE, awaiting)
            assert isinstance(someone_could, Refused) is (refused.kind is Kind.CONFLICT)
            continue

        assert after in Status
        # Rejected and withdrawn are final; a confirmed order never moves again.
        assert before not in TERMINAL
        assert not order.confirmed
        # Someone who only looks on (OTHER) never changes an order.
        assert actors != {OTHER}
        # Nothing goes back to submitted; each status is entered only from where DESIGN §3 draws it.
        if after != before:
            assert after is not Status.SUBMITTED
            assert after is not Status.WITHDRAWN or (before is Status.SUBMITTED and SUBMITTER in actors)
            assert after is not Status.REJECTED or before is Status.SUBMITTED
            assert after is not Status.ACCEPTED or before is Status.SUBMITTED
            assert after is not Status.CLOSED or before is Status.IN_PROGRESS
            assert after is not Status.IN_PROGRESS or before in (Status.ACCEPTED, Status.CLOSED)
        if action is Action.ASSIGN:
            assert after == before and before in OPEN_STATUSES and MANAGER in actors
        if action in ANSWERS:
            # Only the submitter answers, once, within 7 days of the latest close.
            assert before is Status.CLOSED and SUBMITTER in actors
            assert order.closed_at is not None and now - order.closed_at < CONFIRM_WINDOW

        order.apply(action, after, now)

        # Work happens in order: the order was accepted before it was ever in progress.
        if Status.IN_PROGRESS in order.seen:
            assert Status.ACCEPTED in order.seen
            assert order.seen.index(Status.ACCEPTED) < order.seen.index(Status.IN_PROGRESS)
        # Every close is answered by at most one dispute: a reopened order has been closed once more than now.
        assert order.closes == order.disputes + (order.status is Status.CLOSED)
        assert not order.confirmed or order.status is Status.CLOSED


def test_disputed_order_is_closed_again_and_then_confirmed_within_the_new_window():
    order, now = Order(), T0
    plan = [
        (timedelta(minutes=10), Action.ACCEPT, {HANDLER}, Status.ACCEPTED),
        (timedelta(minutes=5), Action.START, {HANDLER}, Status.IN_PROGRESS),
        (timedelta(hours=3), Action.CLOSE, {HANDLER}, Status.CLOSED),
        (CONFIRM_WINDOW - TICK, Action.DISPUTE, {SUBMITTER}, Status.IN_PROGRESS),
        (timedelta(hours=2), Action.CLOSE, {HANDLER}, Status.CLOSED),
        (CONFIRM_WINDOW - TICK, Action.CONFIRM, {SUBMITTER}, Status.CLOSED),
    ]
    for gap, action, actors, expected in plan:
        now += gap
        awaiting = awaiting_confirmation(order.status, order.closed_at, order.confirmed, now)
        after = next_status(order.status, action, actors, awaiting_confirmation=awaiting)
        assert after is expected
        order.apply(action, after, now)
    assert (order.closes, order.disputes, order.confirmed) == (2, 1, True)
    later = awaiting_confirmation(order.status, order.closed_at, order.confirmed, now)
    for action in ANSWERS:
        with pytest.raises(TransitionRefused):
            next_status(order.status, action, {SUBMITTER}, awaiting_confirmation=later)


def test_unanswered_order_stays_closed_after_seven_days():
    closed_at = T0
    now = closed_at + CONFIRM_WINDOW
    awaiting = awaiting_confirmation(Status.CLOSED, closed_at, False, now)
    for action, actors in itertools.product(Action, ACTOR_SETS):
        with pytest.raises(TransitionRefused):
            next_status(Status.CLOSED, action, actors, awaiting_confirmation=awaiting)


# ---- the 7-day confirmation window -------------------------------------------------------------------


def test_submitter_may_answer_until_just_before_seven_days_after_the_close():
    assert awaiting_confirmation(Status.CLOSED, T0, False, T0) is True
    assert awaiting_confirmation(Status.CLOSED, T0, False, T0 + CONFIRM_WINDOW - TICK) is True


def test_exactly_seven_days_after_the_close_the_answer_is_no_longer_awaited():
    assert timedelta(days=7) == CONFIRM_WINDOW
    assert awaiting_confirmation(Status.CLOSED, T0, False, T0 + CONFIRM_WINDOW) is False


def test_confirmed_order_no_longer_awaits_an_answer():
    assert awaiting_confirmation(Status.CLOSED, T0, True, T0 + timedelta(minutes=1)) is False


@pytest.mark.parametrize("status", [s for s in Status if s is not Status.CLOSED])
def test_only_a_closed_order_awaits_an_answer(status):
    assert awaiting_confirmation(status, T0, False, T0 + timedelta(minutes=1)) is False


def test_closed_order_without_a_close_time_awaits_nothing():
    assert awaiting_confirmation(Status.CLOSED, None, False, T0) is False


def test_rate_reminder_comes_while_the_resident_can_still_answer():
    assert timedelta(0) < RATE_REMINDER_AFTER < CONFIRM_WINDOW


# ---- SLA ---------------------------------------------------------------------------------------------


def test_default_sla_is_the_issue_s():
    # Issue 4 §3: urgent accept 30 min / close 24 h; normal accept 4 h / close 72 h.
    assert {
        Urgency.URGENT: Sla(accept=timedelta(minutes=30), close=timedelta(hours=24)),
        Urgency.NORMAL: Sla(accept=timedelta(hours=4), close=timedelta(hours=72)),
    } == DEFAULT_SLA


def test_default_categories_are_the_issue_s():
    assert DEFAULT_CATEGORIES == ("水电维修", "公共设施", "环境卫生", "绿化", "安全秩序", "电梯", "停车", "噪音扰民", "其他")


@pytest.mark.parametrize("urgency", list(Urgency))
def test_both_deadlines_run_from_submission(urgency):
    sla = DEFAULT_SLA[urgency]
    assert sla_due(T0, sla, Phase.ACCEPT) == T0 + sla.accept
    assert sla_due(T0, sla, Phase.CLOSE) == T0 + sla.close
    assert sla_due(T0, sla, Phase.ACCEPT) < sla_due(T0, sla, Phase.CLOSE)


@pytest.mark.parametrize(("status", "phase"), [
    (Status.SUBMITTED, Phase.ACCEPT),
    (Status.ACCEPTED, Phase.CLOSE),
    (Status.IN_PROGRESS, Phase.CLOSE),
    (Status.CLOSED, None),
    (Status.REJECTED, None),
    (Status.WITHDRAWN, None),
])
def test_open_order_runs_against_its_phase_deadline_and_a_finished_one_against_none(status, phase):
    assert phase_of(status) is phase


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_open_order_exactly_at_its_deadline_is_not_overdue(status):
    due = sla_due(T0, DEFAULT_SLA[Urgency.NORMAL], Phase.ACCEPT)
    assert is_overdue(status, due, due - TICK) is False
    assert is_overdue(status, due, due) is False
    assert is_overdue(status, due, due + TICK) is True


@pytest.mark.parametrize("status", [s for s in Status if s not in OPEN_STATUSES])
def test_finished_order_is_never_overdue(status):
    assert is_overdue(status, T0, T0 + timedelta(days=365)) is False


def test_order_without_a_deadline_is_never_overdue():
    assert is_overdue(Status.SUBMITTED, None, T0 + timedelta(days=365)) is False


# ---- escalation (measure 10, 压实责任) ---------------------------------------------------------------

WINDOW = DEFAULT_SLA[Urgency.NORMAL].close
DUE = sla_due(T0, DEFAULT_SLA[Urgency.NORMAL], Phase.CLOSE)


def test_without_urges_the_manager_is_told_at_the_deadline_and_each_next_step_one_window_later():
    assert escalation_at(DUE, WINDOW, EscalationLevel.MANAGER, 0) == DUE
    assert escalation_at(DUE, WINDOW, EscalationLevel.COMMITTEE, 0) == DUE + WINDOW
    assert escalation_at(DUE, WINDOW, EscalationLevel.COMMUNITY, 0) == DUE + 2 * WINDOW


@pytest.mark.parametrize("level", list(EscalationLevel))
@pytest.mark.parametrize("urges", [1, 2, 3])
def test_each_urge_brings_every_step_a_quarter_window_forward(level, urges):
    without_urges = escalation_at(DUE, WINDOW, level, 0)
    assert escalation_at(DUE, WINDOW, level, urges) == without_urges - urges * WINDOW / 4


@pytest.mark.parametrize("level", list(EscalationLevel))
@pytest.mark.parametrize("urges", [4, 5, 12])
def test_urges_bring_a_step_at_most_one_window_forward(level, urges):
    assert escalation_at(DUE, WINDOW, level, urges) == escalation_at(DUE, WINDOW, level, 0) - WINDOW


def test_levels_climb_manager_committee_community():
    assert [int(level) for level in EscalationLevel] == [1, 2, 3]
    assert set(ESCALATION_LABELS) == set(EscalationLevel)


dues = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
windows = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=30))
urge_counts = st.integers(min_value=0, max_value=200)


@given(dues, windows, st.sampled_from(list(EscalationLevel)), urge_counts)
def test_one_more_urge_never_brings_a_step_later(due, window, level, urges):
    assert escalation_at(due, window, level, urges + 1) <= escalation_at(due, window, level, urges)


@given(dues, windows, st.sampled_from(list(EscalationLevel)), st.integers(min_value=0, max_value=3))
def test_each_of_the_first_four_urges_brings_a_step_earlier(due, window, level, urges):
    assert escalation_at(due, window, level, urges + 1) < escalation_at(due, window, level, urges)


@given(dues, windows, urge_counts)
def test_however_often_urged_the_committee_is_not_told_before_the_deadline(due, window, urges):
    assert escalation_at(due, window, EscalationLevel.COMMITTEE, urges) >= due
    assert escalation_at(due, window, EscalationLevel.MANAGER, urges) >= due - window


@given(dues, windows, urge_counts)
def test_steps_come_strictly_one_after_another_for_the_same_urges(due, window, urges):
    times = [escalation_at(due, window, level, urges) for level in EscalationLevel]
    assert times == sorted(set(times))


@given(dues, windows, st.integers(min_value=0, max_value=2), urge_counts)
def test_next_escalation_is_the_step_after_those_done(due, window, done, urges):
    level = EscalationLevel(done + 1)
    assert next_escalation(due, window, done, urges) == (level, escalation_at(due, window, level, urges))


@pytest.mark.parametrize("done", [3, 4])
def test_nothing_is_left_to_escalate_after_the_community(done):
    assert next_escalation(DUE, WINDOW, done, 0) is None
    assert next_escalation(DUE, WINDOW, done, 50) is None


# ---- urging (催办) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_open_order_may_be_urged_once_per_four_hours(status):
    assert timedelta(hours=4) == URGE_INTERVAL
    assert may_urge(status, None, T0) is True
    assert may_urge(status, T0, T0 + URGE_INTERVAL - TICK) is False
    assert may_urge(status, T0, T0 + URGE_INTERVAL) is True


@pytest.mark.parametrize("status", [s for s in Status if s not in OPEN_STATUSES])
def test_finished_order_may_not_be_urged(status):
    assert may_urge(status, None, T0) is False
    assert may_urge(status, T0, T0 + timedelta(days=30)) is False


def test_urging_too_soon_says_when_it_may_be_done_again():
    """The one refusal the API answers with 429 and Retry-After, and the page shows as a message."""
    assert next_urge_at(None, T0) is None and next_urge_at(T0, T0 + URGE_INTERVAL) is None
    assert next_urge_at(T0, T0 + timedelta(hours=3)) == T0 + URGE_INTERVAL
    with pytest.raises(WorkOrderRefused) as too_soon:
        check_urge(Status.SUBMITTED, T0, T0 + URGE_INTERVAL - timedelta(seconds=59.5), concerned=True)
    assert (too_soon.value.kind, too_soon.value.retry_after) == (Kind.TOO_MANY, 60)
    with pytest.raises(WorkOrderRefused) as almost:
        check_urge(Status.SUBMITTED, T0, T0 + URGE_INTERVAL - TICK, concerned=True)
    assert almost.value.retry_after == 1
    check_urge(Status.SUBMITTED, T0, T0 + URGE_INTERVAL, concerned=True)


@pytest.mark.parametrize(
    ("check", "args", "kwargs", "kind"),
    [
        (check_urge, (Status.ACCEPTED, None, T0), {"concerned": False}, Kind.FORBIDDEN),
        (check_urge, (Status.CLOSED, None, T0), {"concerned": True}, Kind.CONFLICT),
        (check_follow, (Status.SUBMITTED, {Role.STAFF}), {"own_place": True}, Kind.FORBIDDEN),
        (check_follow, (Status.SUBMITTED, {Role.OWNER}), {"own_place": False}, Kind.NOT_FOUND),
        (check_follow, (Status.CLOSED, {Role.RESIDENT}), {"own_place": True}, Kind.CONFLICT),
        (check_rating, (Status.CLOSED,), {"submitter": False, "confirmed": True, "rated": False}, Kind.FORBIDDEN),
        (check_rating, (Status.CLOSED,), {"submitter": True, "confirmed": False, "rated": False}, Kind.CONFLICT),
        (check_rating, (Status.CLOSED,), {"submitter": True, "confirmed": True, "rated": True}, Kind.CONFLICT),
        (check_reply, ({Role.STAFF},), {"rated": True}, Kind.FORBIDDEN),
        (check_reply, ({Role.MANAGER},), {"rated": False}, Kind.NOT_FOUND),
        (check_photo, (Status.SUBMITTED, {OTHER}), {}, Kind.FORBIDDEN),
        (check_photo, (Status.WITHDRAWN, {SUBMITTER}), {}, Kind.CONFLICT),
    ],
)
def test_what_a_screen_offers_is_what_the_rule_lets_through(check, args, kwargs, kind):
    with pytest.raises(WorkOrderRefused) as refused:
        check(*args, **kwargs)
    assert refused.value.kind is kind
    assert permitted(check, *args, **kwargs) is False


def test_the_rules_let_the_right_people_through():
    assert permitted(check_urge, Status.IN_PROGRESS, None, T0, concerned=True)
    assert permitted(check_follow, Status.ACCEPTED, {Role.RESIDENT}, own_place=True)
    assert permitted(check_rating, Status.CLOSED, submitter=True, confirmed=True, rated=False)
    assert permitted(check_reply, {Role.MANAGER}, rated=True)
    assert permitted(check_photo, Status.CLOSED, {HANDLER})


# ---- words and windows the pages show ----------------------------------------------------------------


def test_every_status_action_urgency_and_escalation_has_a_chinese_label():
    assert set(STATUS_LABELS) == set(Status)
    assert set(ACTION_LABELS) == set(Action)
    assert set(URGENCY_LABELS) == set(Urgency)
    labels = [*STATUS_LABELS.values(), *ACTION_LABELS.values()]
    labels += [*URGENCY_LABELS.values(), *ESCALATION_LABELS.values()]
    assert all(any("\u4e00" <= char <= "\u9fff" for char in label) for label in labels)


@pytest.mark.parametrize(
    ("parts", "label"),
    [
        (("1栋", "1", "101", "厨房"), "1栋1单元101室 · 厨房"),
        (("2栋", None, None, "北门车棚"), "2栋 公共区域 · 北门车棚"),
        ((None, None, None, "东门"), "公共区域 · 东门"),
        (("3栋", None, None, ""), "3栋 公共区域"),
    ],
)
def test_a_place_reads_the_same_on_every_screen(parts, label):
    assert place_label(*parts) == label


def test_those_acting_for_the_compound_are_titled_by_their_highest_role():
    assert title_of({Role.STAFF, Role.MANAGER}) == "物业经理"
    assert title_of({Role.OWNER, Role.COMMITTEE}) == "业委会"
    assert title_of({Role.OWNER}) == "工作人员"


def test_open_statuses_are_those_before_the_close():
    assert {Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS} == OPEN_STATUSES


def test_rating_tags_offer_the_issue_s_examples():
    # Issue 4 §4: tags such as 及时, 态度好, 没修好.
    assert {"及时", "态度好", "没修好"} <= set(RATING_TAGS)
    assert len(RATING_TAGS) == len(set(RATING_TAGS))


def test_duplicates_are_looked_for_over_fourteen_days():
    assert timedelta(days=14) == DUPLICATE_WINDOW
