"""The contract's term-end reminders on a moving clock: 180 and 90 days before the term ends (Beijing dates),
each once to the committee and the party secretary, however often the job runs."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import time_machine
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from backend.domain.notifications import CONTRACT_TERM_END
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.contracts import remind_term_ends
from backend.models import ContractReminder, Household, Notice, Notification, PropertyCompany, User
from backend.services import contracts as service
from backend.services.queueing import QUEUES
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests.contracts_support import contract_in_force


def work(app) -> None:
    redis_conn = app.extensions["linli_redis"]
    SimpleWorker([Queue(name, connection=redis_conn) for name in QUEUES], connection=redis_conn).work(
        burst=True, logging_level="WARNING")


def run_on(app, day) -> dict:
    """The job at its cron slot (09:25 Beijing) on `day`, then the worker."""
    with time_machine.travel(datetime.combine(day, time(9, 25), tzinfo=SHANGHAI), tick=False):
        result = remind_term_ends()
        work(app)
    return result


def heard(user: User) -> list[str]:
    return list(db.session.scalars(
        select(Notice.body).join(Notification, Notification.notice_id == Notice.id)
        .where(Notification.user_id == user.id, Notice.kind == CONTRACT_TERM_END).order_by(Notification.id)))


def test_each_step_is_sent_once_to_the_committee(app, area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=1)
    committee, secretary = make_user(Role.COMMITTEE, compound), make_user(Role.PARTY_SECRETARY, compound)
    home = db.session.scalar(select(Household).where(Household.compound_id == compound.id))
    manager, owner = make_user(Role.MANAGER, compound), make_user(Role.OWNER, compound, household=home)
    company = PropertyCompany(name="安居物业", credit_code="91510400MA6REMIND1")
    db.session.add(company)
    db.session.commit()
    today = beijing_date(utcnow())
    term_end = today + timedelta(days=200)
    contract_in_force(compound.id, company.id, committee.id, today - timedelta(days=900), term_end)

    assert run_on(app, term_end - timedelta(days=181))["contracts"] == 0
    assert run_on(app, term_end - timedelta(days=180))["people"] == 2
    assert run_on(app, term_end - timedelta(days=180))["contracts"] == 0
    assert run_on(app, term_end - timedelta(days=120))["contracts"] == 0
    # A missed day is caught up the next: the 90-day step goes out on day 89.
    assert run_on(app, term_end - timedelta(days=89))["people"] == 2
    run_on(app, term_end - timedelta(days=89))
    run_on(app, term_end)
    run_on(app, term_end + timedelta(days=1))

    expected = ["安居物业的合同距到期不足180天，请及时组织续聘或重新选聘。",
                "安居物业的合同距到期不足90天，请及时组织续聘或重新选聘。"]
    assert heard(committee) == expected and heard(secretary) == expected
    assert heard(manager) == [] and heard(owner) == []
    assert db.session.scalar(select(func.count()).select_from(ContractReminder)) == 2


def test_a_contract_whose_reminder_keeps_raising_no_longer_stops_the_others(app, area_tree, make_compound, make_user,
                                                                            monkeypatch, caplog):
    compounds = [make_compound(area=area_tree[3], buildings=1, households_per_building=1) for _ in range(2)]
    committees = [make_user(Role.COMMITTEE, compound) for compound in compounds]
    company = PropertyCompany(name="安居物业", credit_code="91510400MA6REMIND2")
    db.session.add(company)
    db.session.commit()
    today = beijing_date(utcnow())
    term_end = today + timedelta(days=200)
    first, _ = [contract_in_force(compound.id, company.id, committee.id, today - timedelta(days=900), term_end)
                for compound, committee in zip(compounds, committees, strict=True)]
    remind = service.remind

    def remind_but_not_the_first(contract_id, *args):
        if contract_id == first:
            raise RuntimeError("this contract's data cannot be handled")
        return remind(contract_id, *args)

    monkeypatch.setattr(service, "remind", remind_but_not_the_first)
    assert run_on(app, term_end - timedelta(days=180)) == {"contracts": 2, "people": 1}
    assert heard(committees[0]) == [] and len(heard(committees[1])) == 1
    assert any("term-end reminder of contract" in record.getMessage() and record.exc_info for record in caplog.records)

    # The fault gone, the next run tells the first contract's committee, and only it.
    monkeypatch.setattr(service, "remind", remind)
    assert run_on(app, term_end - timedelta(days=179)) == {"contracts": 1, "people": 1}
    assert len(heard(committees[0])) == 1 and len(heard(committees[1])) == 1
