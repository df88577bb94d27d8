"""Work-order figures: they match a hand count, months are Beijing calendar months, one compound never
counts another's orders, closed months read the tally's snapshots, the tally is idempotent, company figures
span the company's compounds, and the SQL median is the median."""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend.domain.roles import Role
from backend.domain.workorders import Action, Status, Urgency
from backend.extensions import db
from backend.jobs.workorders import previous_month, tally_last_month
from backend.models import Compound, PropertyCompany, ScoreSnapshot, User, WorkOrder, WorkOrderRating
from backend.services import workorders
from backend.services.workorder_stats import (
    Figures,
    company_figures,
    compound_figures,
    month_bounds,
    month_of,
    tally_month,
)
from tests.support import first_household

pytestmark = pytest.mark.calendar

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
# 12:00 on 20 November in Beijing.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
_company_codes = iter(range(10**6))


def at(day: int, hour: int = 2, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def add_order(
    compound: Compound,
    submitter: User,
    created_at: datetime,
    status: Status = Status.SUBMITTED,
    *,
    accept: int | None = None,
    close: int | None = None,
    within_sla: bool | None = None,
    confirmed: bool = False,
    disputes: int = 0,
    stars: int | None = None,
) -> WorkOrder:
    """An order written as the service leaves it: `accept`/`close` are seconds after submission."""
    closed_at = created_at + timedelta(seconds=close) if close is not None else None
    order = WorkOrder(
        compound_id=compound.id, submitter_id=submitter.id, category="水电维修", description="漏水",
        urgency=Urgency.NORMAL, status=status, created_at=created_at,
        accept_due_at=created_at + timedelta(hours=4), close_due_at=created_at + timedelta(hours=72),
        accepted_at=created_at + timedelta(seconds=accept) if accept is not None else None,
        seconds_to_accept=accept, closed_at=closed_at, seconds_to_close=close, closed_within_sla=within_sla,
        confirmed_at=closed_at + timedelta(hours=1) if confirmed else None, dispute_count=disputes,
        escalation_level=0, urge_count=0,
    )
    db.session.add(order)
    db.session.flush()
    if stars is not None:
        db.session.add(WorkOrderRating(work_order_id=order.id, user_id=submitter.id, stars=stars))
        order.rating_stars = stars  # as services.workorders rates
    db.session.commit()
    return order


@pytest.fixture
def resident(make_user) -> User:
    return make_user()


@pytest.fixture
def make_company():
    def make(*compounds: Compound) -> PropertyCompany:
        number = next(_company_codes)
        company = PropertyCompany(name=f"物业公司{number}", credit_code=f"91510400MA{number:08d}")
        db.session.add(company)
        db.session.flush()
        for compound in compounds:
            compound.property_company_id = company.id
        db.session.commit()
        return company

    return make


def hand_built_november(compound: Compound, resident: User) -> None:
    """Ten orders of November, one of each kind the figures tell apart."""
    add_order(compound, resident, at(3))  # waiting to be accepted
    add_order(compound, resident, at(4), Status.IN_PROGRESS, accept=60)
    add_order(compound, resident, at(5), Status.CLOSED, accept=120, close=3600, within_sla=True, confirmed=True,
              stars=5)
    add_order(compound, resident, at(6), Status.CLOSED, accept=600, close=400_000, within_sla=False, confirmed=True,
              stars=3)
    # Closed on 2 November and never answered: the 7 days are over on the 20th.
    add_order(compound, resident, at(2), Status.CLOSED, accept=300, close=7200, within_sla=True)
    # Closed on the 18th, not answered yet: still within its 7 days.
    add_order(compound, resident, at(18), Status.CLOSED, accept=900, close=10_000, within_sla=True)
    # 未解决 once, then closed again and confirmed: not within SLA, counted as disputed.
    add_order(compound, resident, at(7), Status.CLOSED, accept=30, close=200_000, within_sla=False, confirmed=True,
              disputes=1, stars=2)
    add_order(compound, resident, at(8), Status.REJECTED)
    add_order(compound, resident, at(9), Status.WITHDRAWN)
    # 未解决 and reopened, being worked on again.
    add_order(compound, resident, at(10), Status.IN_PROGRESS, accept=1800, disputes=1)


HAND_COUNT = Figures(
    month=NOV, orders=10, accepted=7, closed=5, closed_within_sla=3, confirmed=3, closed_unconfirmed=1, disputed=2,
    rating_count=3, rating_sum=10,
    # accept: 30 60 120 [300] 600 900 1800; close: 3600 7200 [10000] 200000 400000
    median_accept_seconds=300, median_close_seconds=10_000,
)


# ---- the hand count ------------------------------------------------------------------------------------


def test_figures_match_a_hand_count(make_compound, resident):
    compound = make_compound(buildings=0)
    hand_built_november(compound, resident)

    figures = compound_figures(compound.id, now=NOW)

    assert figures == HAND_COUNT
    assert figures.share_closed_within_sla == pytest.approx(3 / 5)
    assert figures.share_confirmed == pytest.approx(3 / 5)
    assert figures.average_rating == pytest.approx(10 / 3)


def test_a_month_without_orders_has_zero_counts_and_no_shares(make_compound):
    figures = compound_figures(make_compound(buildings=0).id, now=NOW)

    assert figures == Figures(NOV, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None)
    assert (figures.share_closed_within_sla, figures.share_confirmed, figures.average_rating) == (None, None, None)


def test_closed_without_confirmation_counts_once_the_seven_days_are_over(make_compound, resident):
    compound = make_compound(buildings=0)
    add_order(compound, resident, at(10), Status.CLOSED, accept=60, close=3600, within_sla=True)
    closed_at = at(10) + timedelta(seconds=3600)

    assert compound_figures(compound.id, now=closed_at + timedelta(days=7) - timedelta(seconds=1)).closed_unconfirmed == 0
    assert compound_figures(compound.id, now=closed_at + timedelta(days=7)).closed_unconfirmed == 1


def test_medians_of_an_even_count_are_the_mean_of_the_middle_two_rounded_half_up(make_compound, resident):
    compound = make_compound(buildings=0)
    for accept, close in ((100, 5000), (1000, 9000), (200, 7001), (301, 6000)):
        add_order(compound, resident, at(3), Status.CLOSED, accept=accept, close=close, within_sla=True)

    figures = compound_figures(compound.id, now=NOW)

    assert figures.median_accept_seconds == 251  # (200 + 301) / 2 = 250.5
    assert figures.median_close_seconds == 6501  # (6000 + 7001) / 2 = 6500.5


def test_the_median_of_one_order_is_its_own_time(make_compound, resident):
    compound = make_compound(buildings=0)
    add_order(compound, resident, at(3), Status.ACCEPTED, accept=777)

    figures = compound_figures(compound.id, now=NOW)

    assert (figures.median_accept_seconds, figures.median_close_seconds) == (777, None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    accept=st.lists(st.integers(0, 10**7), min_size=1, max_size=12),
    close=st.lists(st.integers(0, 10**7), max_size=12),
)
def test_the_sql_median_is_the_median(make_compound, resident, accept, close):
    # Each example gets a compound of its own; the test's transaction is rolled back after all of them.
    compound = make_compound(buildings=0)
    for index, seconds in enumerate(accept):
        closing = close[index] if index < len(close) else None
        add_order(compound, resident, at(5), Status.CLOSED if closing is not None else Status.ACCEPTED,
                  accept=seconds, close=closing, within_sla=True if closing is not None else None)

    figures = compound_figures(compound.id, now=NOW)

    def expected(values: list[int]) -> int | None:
        # Python's median of an even count is the mean of the middle two (x.5 at worst): rounded half up.
        return math.floor(statistics.median(values) + 0.5) if values else None

    assert figures.median_accept_seconds == expected(accept)
    assert figures.median_close_seconds == expected(close[: len(accept)])


def test_figures_follow_an_order_through_the_service(make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=1)
    household = first_household(compound)
    resident = make_user(Role.RESIDENT, compound, household=household)
    staff = make_user(Role.STAFF, compound)
    submitted = at(16)
    with time_machine.travel(submitted, tick=False) as clock:
        order = workorders.submit_order(
            user_id=resident.id, compound_id=compound.id, category="电梯", description="电梯异响",
            urgency=Urgency.NORMAL, household_id=household.id,
        )
        clock.shift(timedelta(minutes=45))
        workorders.transition(order.id, staff.id, frozenset({Role.STAFF}), Action.ACCEPT)
        workorders.transition(order.id, staff.id, frozenset({Role.STAFF}), Action.START)
        clock.shift(timedelta(hours=5))
        workorders.transition(order.id, staff.id, frozenset({Role.STAFF}), Action.CLOSE, note="已更换导轨")
        clock.shift(timedelta(days=1))
        workorders.transition(order.id, resident.id, frozenset({Role.RESIDENT}), Action.CONFIRM,
                              rating={"stars": 4, "tags": ["及时"]})

    figures = compound_figures(compound.id, now=NOW)

    assert figures == Figures(
        month=NOV, orders=1, accepted=1, closed=1, closed_within_sla=1, confirmed=1, closed_unconfirmed=0,
        disputed=0, rating_count=1, rating_sum=4, median_accept_seconds=45 * 60,
        median_close_seconds=(5 * 60 + 45) * 60,
    )


# ---- months and isolation --------------------------------------------------------------------------------


def test_months_are_beijing_calendar_months():
    assert month_of(datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC)) == OCT
    assert month_of(datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == NOV
    assert month_of(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == date(2027, 1, 1)
    assert month_bounds(NOV) == (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    assert month_bounds(DEC)[1] == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert previous_month(date(2027, 1, 1)) == DEC
    assert previous_month(date(2026, 11, 25)) == OCT


def test_an_order_counts_in_the_beijing_month_it_was_submitted(make_compound, resident):
    compound = make_compound(buildings=0)
    add_order(compound, resident, datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC))  # 10-31 23:59:59 Beijing
    add_order(compound, resident, datetime(2026, 10, 31, 16, 0, tzinfo=UTC))  # 11-01 00:00 Beijing
    add_order(compound, resident, datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 11-01 01:00 Beijing
    add_order(compound, resident, datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC))  # 11-30 23:59:59 Beijing
    add_order(compound, resident, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # 12-01 00:00 Beijing

    now = datetime(2026, 12, 10, tzinfo=UTC)
    assert [compound_figures(compound.id, month, now).orders for month in (OCT, NOV, DEC)] == [1, 3, 1]


def test_another_compounds_orders_never_count(make_compound, resident):
    mine, theirs = make_compound(buildings=0), make_compound(buildings=0)
    hand_built_november(mine, resident)
    add_order(theirs, resident, at(5), Status.CLOSED, accept=5, close=50, within_sla=False, confirmed=True, stars=1)
    add_order(theirs, resident, at(6), Status.IN_PROGRESS, accept=7, disputes=3)

    assert compound_figures(mine.id, now=NOW) == HAND_COUNT
    tally_month(NOV, NOW)
    assert compound_figures(mine.id, NOV, now=datetime(2026, 12, 5, tzinfo=UTC)) == HAND_COUNT
    assert compound_figures(theirs.id, now=NOW).orders == 2


# ---- snapshots and the tally ------------------------------------------------------------------------------


def snapshot_rows() -> list[dict]:
    rows = db.session.scalars(select(ScoreSnapshot).order_by(ScoreSnapshot.month, ScoreSnapshot.scope,
                                                             ScoreSnapshot.subject_id))
    return [
        {column.name: getattr(row, column.key) for column in ScoreSnapshot.__table__.columns
         if column.name != "computed_at"}
        for row in rows
    ]


def test_the_tally_run_twice_gives_the_same_snapshots(make_compound, make_company, resident):
    first, second, lone = (make_compound(buildings=0) for _ in range(3))
    company = make_company(first, second)
    hand_built_november(first, resident)
    add_order(second, resident, at(12), Status.CLOSED, accept=60, close=600, within_sla=True, confirmed=True, stars=4)
    add_order(lone, resident, at(12))
    add_order(lone, resident, at(12, month=10))  # October: not in November's snapshots

    assert tally_month(NOV, NOW) == 4
    once = snapshot_rows()
    assert tally_month(NOV, NOW + timedelta(hours=1)) == 4

    assert snapshot_rows() == once
    assert [(row["scope"], row["subject_id"]) for row in once] == [
        ("company", company.id), ("compound", first.id), ("compound", second.id), ("compound", lone.id),
    ]
    assert once[1] == {"id": once[1]["id"], "month": NOV, "scope": "compound", "subject_id": first.id,
                       **{key: value for key, value in asdict(HAND_COUNT).items() if key != "month"}}


def test_a_closed_month_reads_its_snapshot_while_the_current_month_is_live(make_compound, resident, count_queries):
    compound = make_compound(buildings=0)
    october = add_order(compound, resident, at(20, month=10), Status.IN_PROGRESS, accept=600)
    november = add_order(compound, resident, at(3), Status.IN_PROGRESS, accept=60)
    tally_month(OCT, datetime(2026, 11, 1, 18, 30, tzinfo=UTC))
    tallied = compound_figures(compound.id, OCT, now=NOW)

    # Both orders are closed and rated after the tally.
    for order in (october, november):
        order.status = Status.CLOSED
        order.closed_at = NOW - timedelta(hours=1)
        order.seconds_to_close = int((order.closed_at - order.created_at).total_seconds())
        order.closed_within_sla = False
        order.confirmed_at = NOW
        db.session.add(WorkOrderRating(work_order_id=order.id, user_id=resident.id, stars=5))
        order.rating_stars = 5
    db.session.commit()
    compound_id = compound.id

    with count_queries() as closed_month:
        assert compound_figures(compound_id, OCT, now=NOW) == tallied
    with count_queries() as current_month:
        live = compound_figures(compound_id, now=NOW)

    assert (tallied.closed, tallied.rating_count, tallied.median_accept_seconds) == (0, 0, 600)
    assert (live.closed, live.confirmed, live.rating_sum, live.median_close_seconds) == (
        1, 1, 5, november.seconds_to_close)
    assert len(closed_month) == len(current_month) == 1
    # The next nightly run catches the October order up.
    tally_month(OCT, NOW)
    assert compound_figures(compound.id, OCT, now=NOW).closed == 1


def test_a_closed_month_never_tallied_is_computed_live(make_compound, resident):
    compound = make_compound(buildings=0)
    add_order(compound, resident, at(20, month=10), Status.ACCEPTED, accept=90)

    figures = compound_figures(compound.id, OCT, now=NOW)

    assert (figures.month, figures.orders, figures.median_accept_seconds) == (OCT, 1, 90)
    assert db.session.scalar(select(ScoreSnapshot.id)) is None


def test_company_figures_span_its_compounds(make_compound, make_company, resident):
    first, second, other = (make_compound(buildings=0) for _ in range(3))
    company = make_company(first, second)
    make_company(other)
    add_order(first, resident, at(3), Status.CLOSED, accept=100, close=1000, within_sla=True, confirmed=True, stars=5)
    add_order(first, resident, at(4), Status.ACCEPTED, accept=400)
    add_order(second, resident, at(5), Status.CLOSED, accept=300, close=5000, within_sla=False, confirmed=True,
              stars=2)
    add_order(second, resident, at(6))
    add_order(other, resident, at(6), Status.CLOSED, accept=1, close=2, within_sla=True, confirmed=True, stars=1)

    live = company_figures(company.id, now=NOW)

    assert live == Figures(
        month=NOV, orders=4, accepted=3, closed=2, closed_within_sla=1, confirmed=2, closed_unconfirmed=0,
        disputed=0, rating_count=2, rating_sum=7,
        # The median over all the company's orders (100 300 400), not a mean of the compounds' medians.
        median_accept_seconds=300, median_close_seconds=3000,
    )
    tally_month(NOV, NOW)
    assert company_figures(company.id, NOV, now=datetime(2026, 12, 2, tzinfo=UTC)) == live


def test_a_compound_that_changes_company_moves_on_the_next_tally(make_compound, make_company, resident):
    first, second = make_compound(buildings=0), make_compound(buildings=0)
    old = make_company(first, second)
    add_order(first, resident, at(3))
    add_order(second, resident, at(4))
    tally_month(NOV, NOW)

    new = make_company(first, second)
    tally_month(NOV, NOW)
    moved = {row["subject_id"]: row["orders"] for row in snapshot_rows() if row["scope"] == "company"}
    # Both compounds taken over by their committees (no company): no company row is left.
    first.property_company_id = second.property_company_id = None
    db.session.commit()
    tally_month(NOV, NOW)

    assert moved == {new.id: 2} and old.id not in moved
    assert [(row["scope"], row["orders"]) for row in snapshot_rows()] == [("compound", 1), ("compound", 1)]


def test_the_nightly_job_tallies_the_previous_beijing_month(make_compound, resident):
    compound = make_compound(buildings=0)
    add_order(compound, resident, at(31, hour=17, month=10))  # 1 November 01:00 Beijing
    add_order(compound, resident, at(15, month=10))

    # 18:30 UTC on 30 November is 02:30 on 1 December in Beijing: November is the month just closed.
    with time_machine.travel(datetime(2026, 11, 30, 18, 30, tzinfo=UTC), tick=False):
        assert tally_last_month() == 1
    with time_machine.travel(datetime(2026, 12, 1, 18, 30, tzinfo=UTC), tick=False):
        assert tally_last_month() == 1

    assert [(row["month"], row["orders"]) for row in snapshot_rows()] == [(NOV, 1)]
