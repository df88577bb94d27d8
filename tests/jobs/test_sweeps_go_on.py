"""The sweeps take their items oldest first, each on its own: an item that keeps raising is rolled back (nothing
of it kept, its notices included) and logged, the items behind it are handled in the same run, and once the
fault is gone a later run handles it, once."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from rq.timeouts import JobTimeoutException
from sqlalchemy import func, select

from backend.domain.consultations import Step
from backend.domain.fees import GrantStatus
from backend.domain.funds import EntryOrigin
from backend.domain.notifications import FEE_PAID, VOTE_RECEIPT
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs import consultations as consultation_jobs
from backend.jobs.fees import follow_up_lost_payments
from backend.jobs.one_by_one import OneByOne
from backend.models import FundEntry, Household, Notice, PaymentOrder, Receipt, SubsidyGrant, Topic, Vote
from backend.policy import roles_in_compound
from backend.services import consultations as service
from backend.services import payment_orders
from backend.services.auth import issue_tokens
from backend.services.consultations import ballots as ballot_service
from backend.shared.clock import utcnow
from tests.api import test_fund_posting
from tests.api.test_payment_notify import Opened, notify, valid
from tests.ballots import make_ballot

billed = test_fund_posting.billed


class Broken(RuntimeError):
    """The fault one item keeps raising."""


def failures(caplog, what: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if what in record.getMessage() and record.exc_info]


def test_a_vote_whose_telling_keeps_raising_no_longer_stops_the_votes_behind_it(make_compound, make_user,
                                                                                  monkeypatch, caplog):
    ballot = make_ballot(make_compound, make_user)
    neighbour = make_user(Role.OWNER, ballot.compound, household=ballot.homes[1])
    first, second = ballot.homes[0].id, ballot.homes[1].id
    for seconds, (owner, household_id) in enumerate(((ballot.owner, first), (neighbour, second))):
        with time_machine.travel(utcnow() + timedelta(seconds=10 * seconds), tick=False):
            person = service.participant(owner.id, ballot.compound.id, roles_in_compound(owner.id, ballot.compound.id))
            service.cast_vote(ballot.topic_id, person, household_id, ballot.options["同意"])
        # Its telling job never reached Redis.
        db.session.info.pop("linli_pushes_committed")
    tell = ballot_service._tell_of_vote

    def tell_then_fail_for_the_first(topic, vote) -> None:
        tell(topic, vote)  # the receipt is written, then the fault: none of it may stay
        if vote.household_id == first:
            raise Broken("坏数据")

    def told() -> dict[int, int]:
        db.session.expire_all()
        return dict(db.session.execute(select(Vote.household_id, Vote.told_casts)
                                       .where(Vote.topic_id == ballot.topic_id)).all())

    def receipts() -> int:
        return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == VOTE_RECEIPT))

    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        with monkeypatch.context() as patch:
            patch.setattr(ballot_service, "_tell_of_vote", tell_then_fail_for_the_first)
            assert consultation_jobs.tell_untold_votes() == 1
        assert told() == {first: 0, second: 1}
        assert receipts() == 1
        assert len(failures(caplog, f"({ballot.topic_id}, {first}) failed")) == 1

        assert consultation_jobs.tell_untold_votes() == 1
        assert consultation_jobs.tell_untold_votes() == 0
    assert told() == {first: 1, second: 1}
    assert receipts() == 2


def _open_order(client, compound, bill, make_user) -> Opened:
    owner = make_user(Role.OWNER, compound, household=db.session.get(Household, bill.household_id))
    response = client.post(f"/api/v1/bills/{bill.id}/payments",
                           headers={"Authorization": f"Bearer {issue_tokens(owner)[0]}"})
    assert response.status_code == 201, response.json
    order = db.session.get(PaymentOrder, response.json["order"]["id"])
    return Opened(bill_id=bill.id, order_id=order.id, out_trade_no=order.out_trade_no, openid=order.openid)


def test_a_payment_whose_follow_up_keeps_raising_no_longer_stops_the_payments_behind_it(app, client, billed,
                                                                                        make_user, monkeypatch,
                                                                                        caplog):
    compound, bills, _ = billed(subsidised=True)
    for bill in bills[:2]:
        opened = _open_order(client, compound, bill, make_user)
        headers, body = valid(opened, amount_fen=db.session.get(PaymentOrder, opened.order_id).amount_fen)
        assert notify(client, headers, body).status_code == 200
    # The follow-up jobs pushed after the commits were lost with Redis's data.
    app.extensions["linli_redis"].flushdb()
    first, second = db.session.scalars(select(Receipt.id).order_by(Receipt.id)).all()
    tell = payment_orders._tell_the_payer

    def tell_then_fail_for_the_first(receipt, bills) -> None:
        tell(receipt, bills)  # its subsidy granted and posted, its payments posted, 缴费成功: none may stay
        if receipt.id == first:
            raise Broken("坏数据")

    def done() -> tuple[dict[int, bool], int, int, dict[EntryOrigin, int]]:
        """Which receipts are followed up; the 缴费成功 notices, the subsidies granted, the fund entries."""
        db.session.expire_all()
        handled = {receipt.id: receipt.handled_at is not None for receipt in db.session.scalars(select(Receipt))}
        paid = db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == FEE_PAID))
        granted = db.session.scalar(select(func.count()).select_from(SubsidyGrant)
                                    .where(SubsidyGrant.status == GrantStatus.GRANTED))
        entries = dict(db.session.execute(select(FundEntry.origin, func.count()).group_by(FundEntry.origin)).all())
        return handled, paid, granted, entries

    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        with monkeypatch.context() as patch:
            patch.setattr(payment_orders, "_tell_the_payer", tell_then_fail_for_the_first)
            assert follow_up_lost_payments() == 1
        assert done() == ({first: False, second: True}, 1, 1,
                          {EntryOrigin.FEE_PAYMENT: 1, EntryOrigin.SUBSIDY_GRANT: 1})
        assert len(failures(caplog, f"receipt {first} failed")) == 1

        assert follow_up_lost_payments() == 1
        assert follow_up_lost_payments() == 0
    assert done() == ({first: True, second: True}, 2, 2, {EntryOrigin.FEE_PAYMENT: 2, EntryOrigin.SUBSIDY_GRANT: 2})


def test_a_topic_that_keeps_raising_is_tried_once_a_sweep_and_the_topics_behind_it_move(make_compound, make_user,
                                                                                        monkeypatch, caplog):
    first = make_ballot(make_compound, make_user).topic_id
    second = make_ballot(make_compound, make_user).topic_id
    tries: list[int] = []
    advance = consultation_jobs.advance_topic

    def fail_for_the_first(topic_id, now):
        tries.append(topic_id)
        if topic_id == first:
            raise Broken("坏数据")
        return advance(topic_id, now)

    def steps() -> dict[int, Step]:
        db.session.expire_all()
        return dict(db.session.execute(select(Topic.id, Topic.step).where(Topic.id.in_((first, second)))).all())

    closes = max(db.session.scalars(select(Topic.ballot_closes_at).where(Topic.id.in_((first, second)))))
    with time_machine.travel(closes + timedelta(minutes=1), tick=False):
        with monkeypatch.context() as patch:
            patch.setattr(consultation_jobs, "advance_topic", fail_for_the_first)
            assert consultation_jobs.sweep()["ballots_closed"] == 1
        assert steps() == {first: Step.VOTING, second: Step.PUBLICITY}
        # Not again in the sweep's next batches: they would spend the run on it.
        assert tries.count(first) == 1
        assert len(failures(caplog, f"topic {first} failed")) == 1

        assert consultation_jobs.sweep()["ballots_closed"] == 1
    assert steps() == {first: Step.PUBLICITY, second: Step.PUBLICITY}


def test_the_jobs_own_timeout_still_ends_the_run():
    def slow() -> None:
        raise JobTimeoutException("180 s")

    items = OneByOne(logging.getLogger("linli.test"), "item")
    with pytest.raises(JobTimeoutException):
        items.handle(1, slow, failed=None)
    assert items.failed == set()
