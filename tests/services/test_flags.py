"""The problem-compound sweep (issue 16, item 3): facts gathered from each feature's own data in a fixed number of
statements, flags raised once, reworded when the figures move, cleared (with the history kept) when the rule stops
firing, thresholds of the nearest area up, and the district and street officials told once."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from backend.domain.compounds import GovernanceBody
from backend.domain.flags import FlagRule
from backend.domain.notifications import PROBLEM_FLAG
from backend.domain.roles import Role
from backend.domain.voting import VoteKind
from backend.extensions import db
from backend.jobs import flags as jobs
from backend.models import Bill, FlagThreshold, Notice, Notification, ProblemFlag
from backend.services import fees as fee_service
from backend.services import flags as service
from backend.shared.clock import beijing_date, utcnow
from tests.flags_support import (
    add_decided_ballot,
    add_open_disputes,
    add_overdue_orders,
    add_rectifications,
    bill_months,
    pay_all,
    publish_stars,
)
from tests.rating_support import closed_survey, make_company, run_jobs, serve, tally


@pytest.fixture
def street(area_tree):
    return area_tree[2]


@pytest.fixture
def governed(make_compound, area_tree):
    """A compound with an owners' committee: no rule fires until a test gives it a reason."""

    def make(**details):
        compound = make_compound(area=area_tree[3], **details)
        compound.governance_body = GovernanceBody.OWNERS_COMMITTEE
        db.session.commit()
        return compound

    return make


def flags_of(compound) -> list[ProblemFlag]:
    return list(db.session.scalars(select(ProblemFlag).where(ProblemFlag.compound_id == compound.id)
                                   .order_by(ProblemFlag.id)))


def test_a_compound_without_a_self_governance_body_is_flagged_once(make_compound, area_tree):
    compound = make_compound(area=area_tree[3])
    assert compound.governance_body is GovernanceBody.NONE
    assert service.sweep([compound.id]).raised == 1
    assert service.sweep([compound.id]) == service.SweepCount()
    [flag] = flags_of(compound)
    assert (flag.rule, flag.cleared_at) == (FlagRule.NO_SELF_GOVERNANCE, None)
    assert "业委会" in flag.reason


def test_a_flag_clears_when_its_rule_stops_firing_and_its_history_stays(make_compound, area_tree):
    compound = make_compound(area=area_tree[3])
    service.sweep([compound.id])
    compound.governance_body = GovernanceBody.PROPERTY_COMMITTEE
    db.session.commit()
    assert service.sweep([compound.id]).cleared == 1
    [cleared] = flags_of(compound)
    assert cleared.cleared_at is not None
    assert service.active_flags([compound.id]) == {compound.id: []}
    compound.governance_body = GovernanceBody.NONE
    db.session.commit()
    service.sweep([compound.id])
    first, again = flags_of(compound)
    assert first.id == cleared.id and first.cleared_at is not None and again.cleared_at is None
    assert [line.id for line in service.active_flags([compound.id])[compound.id]] == [again.id]


def test_a_moved_figure_rewords_the_same_flag(governed, make_user):
    compound = governed()
    resident = make_user()
    add_overdue_orders(compound, resident, 6)
    service.sweep([compound.id])
    [flag] = flags_of(compound)
    raised_at = flag.raised_at
    assert flag.reason == "超时未办结工单 6 件，超过 5 件"
    add_overdue_orders(compound, resident, 1)
    assert service.sweep([compound.id]) == service.SweepCount(reworded=1)
    [flag] = flags_of(compound)
    db.session.refresh(flag)
    assert (flag.reason, flag.raised_at) == ("超时未办结工单 7 件，超过 5 件", raised_at)


def test_five_overdue_orders_are_not_above_five(governed, make_user):
    compound = governed()
    add_overdue_orders(compound, make_user(), 5)
    service.sweep([compound.id])
    assert flags_of(compound) == []


def test_three_low_months_of_collection_flag_and_a_paid_newest_month_clears(governed):
    compound = governed()
    months = bill_months(compound, [3, 2, 1])  # of 8 households each month
    rates = [fee_service.collection(compound.id, month).fen_rate_bp for month in months]
    assert all(rate < 6000 for rate in rates)
    service.sweep([compound.id])
    [flag] = flags_of(compound)
    assert flag.rule is FlagRule.LOW_COLLECTION
    assert f"{months[0]:%Y-%m}至{months[-1]:%Y-%m}" in flag.reason
    pay_all(compound, months[-1])
    service.sweep([compound.id])
    [flag] = flags_of(compound)
    assert flag.cleared_at is not None


def test_two_low_months_are_not_three(governed):
    compound = governed()
    bill_months(compound, [0, 0])
    service.sweep([compound.id])
    assert flags_of(compound) == []


def test_disputes_and_overdue_rectifications_are_counted(governed):
    compound = governed()
    add_open_disputes(compound, 3)
    add_rectifications(compound, [-1, 0, 5])  # one overdue; one due today is not yet overdue
    service.sweep([compound.id])
    assert {flag.rule: flag.reason for flag in flags_of(compound)} == {
        FlagRule.OPEN_DISPUTES: "调解中的矛盾纠纷 3 件，超过 2 件",
        FlagRule.OVERDUE_RECTIFICATIONS: "逾期未销号整改事项 1 项，超过 0 项",
    }


def test_the_nearest_area_with_thresholds_wins(governed, area_tree, make_user):
    city, district, street, community = area_tree
    compound = governed()
    add_open_disputes(compound, 1)
    official = make_user(Role.OFFICIAL, area=district)
    service.put_thresholds(district.id, official.id, service.FlagThresholds(open_disputes_max=0))
    service.sweep([compound.id])
    assert [flag.rule for flag in flags_of(compound)] == [FlagRule.OPEN_DISPUTES]
    service.put_thresholds(street.id, official.id, service.FlagThresholds(open_disputes_max=1))
    service.sweep([compound.id])
    assert flags_of(compound)[0].cleared_at is not None
    assert db.session.scalar(select(FlagThreshold.area_id).where(FlagThreshold.area_id == city.id)) is None


def test_the_facts_take_the_same_statements_for_one_compound_or_many(governed, make_user, count_queries):
    resident = make_user()
    compounds = [governed() for _ in range(4)]
    for compound in compounds:
        add_overdue_orders(compound, resident, 1)
        add_open_disputes(compound, 1)
    ids = [compound.id for compound in compounds]
    with count_queries() as one:
        service.gather(ids[:1], utcnow())
    with count_queries() as four:
        judged = service.gather(ids, utcnow())
    assert len(one) == len(four) == 9
    assert [j.facts.overdue_orders for j in judged] == [1, 1, 1, 1]


def test_the_district_and_street_officials_are_told_once(app, make_compound, area_tree, make_user):
    city, district, street, community = area_tree
    told = [make_user(Role.OFFICIAL, area=district), make_user(Role.OFFICIAL, area=street)]
    make_user(Role.OFFICIAL, area=community)
    make_user(Role.OFFICIAL, area=city)
    compound = make_compound(area=community)
    jobs.sweep_all()
    jobs.sweep_all()
    [notice] = db.session.scalars(select(Notice).where(Notice.kind == PROBLEM_FLAG)).all()
    assert notice.title == f"{compound.name}被标记为问题小区"
    assert notice.link == f"/h5/flags/compounds/{compound.id}"
    run_jobs(app)
    recipients = db.session.scalars(select(Notification.user_id).where(Notification.notice_id == notice.id)).all()
    assert sorted(recipients) == sorted(user.id for user in told)


def test_active_flags_names_every_compound_asked(make_compound, governed, area_tree):
    flagged, clean = make_compound(area=area_tree[3]), governed()
    service.sweep([flagged.id, clean.id])
    found = service.active_flags([flagged.id, clean.id])
    assert [line.rule for line in found[flagged.id]] == [FlagRule.NO_SELF_GOVERNANCE]
    assert found[clean.id] == []


def test_the_newest_sufficient_survey_and_the_newest_published_stars_count(governed, area_tree, make_user):
    compound = governed()
    official = make_user(Role.OFFICIAL, area=area_tree[1])
    company = make_company()
    serve(compound, company)
    now = utcnow()
    tally(closed_survey(official, area_tree[3].id, now - timedelta(days=60)), compound, [0, 5, 5, 0, 0, 0])
    tally(closed_survey(official, area_tree[3].id, now - timedelta(days=30)), compound, [0, 0, 0, 0, 5, 5])
    # The newest campaign had too few answers: it is left out, as it is of ratings.
    tally(closed_survey(official, area_tree[3].id, now - timedelta(days=1)), compound, [0, 9, 0, 0, 0, 0],
          sufficient=False)
    publish_stars(company.id, area_tree[1].id, official, 2, now - timedelta(days=90), date(2026, 4, 1))
    publish_stars(company.id, area_tree[1].id, official, 3, now - timedelta(days=10), date(2026, 7, 1))
    [judged] = service.gather([compound.id], now)
    assert (judged.facts.satisfaction_bp, judged.facts.stars) == (10000, 3)
    service.sweep([compound.id])
    assert flags_of(compound) == []


def test_two_newest_owners_votes_that_missed_participation_flag(governed, make_user):
    compound = governed()
    proposer = make_user()
    now = utcnow()
    short = ((1999, 3000), (2, 3))
    add_decided_ballot(compound, proposer, (2000, 3000), (2, 3), now - timedelta(days=90))  # met: older
    first = add_decided_ballot(compound, proposer, *short, now - timedelta(days=30))
    add_decided_ballot(compound, proposer, (10, 3000), (1, 3), now - timedelta(days=20), VoteKind.CONSULTATION)
    second = add_decided_ballot(compound, proposer, (1000, 3000), (1, 3), now - timedelta(days=10))
    service.sweep([compound.id])
    [flag] = flags_of(compound)
    assert flag.rule is FlagRule.FAILED_VOTES
    assert flag.reason.endswith(f"议题#{first.id} 参与面积 66.63%、参与人数 66.66%；"
                                f"议题#{second.id} 参与面积 33.33%、参与人数 33.33%")
    add_decided_ballot(compound, proposer, (3000, 3000), (3, 3), now - timedelta(days=1))
    service.sweep([compound.id])
    assert flags_of(compound)[0].cleared_at is not None


def test_a_month_whose_bills_are_not_due_yet_is_not_judged(governed):
    compound = governed()
    months = bill_months(compound, [3, 2, 1])
    # The newest month's bills went out but may still be paid on time: two judged months are not three.
    for bill in db.session.scalars(select(Bill).where(Bill.compound_id == compound.id, Bill.period_start == months[-1])):
        bill.due_date = beijing_date(utcnow())
    db.session.commit()
    service.sweep([compound.id])
    assert flags_of(compound) == []
