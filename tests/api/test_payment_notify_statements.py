"""What a payment notification costs the database, counted so it cannot silently grow: a replay is one unlocked
read; a first delivery four statements on PostgreSQL (the read; the order marked paid with its receipt inserted
from what that returns; the bills; the payments), five on SQLite (which cannot update inside a WITH). The rest —
the subsidy granted and posted, the payments posted, the due reminders withdrawn, 缴费成功 — is a job pushed after
the commit, done once under the receipt's lock, and done by the sweep when that job was lost."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from rq import Queue
from sqlalchemy import func, select

from backend.domain.fees import BillStatus, GrantStatus
from backend.domain.funds import EntryOrigin
from backend.domain.notifications import FEE_PAID
from backend.extensions import db
from backend.jobs.fees import follow_up_lost_payments
from backend.models import Bill, FundEntry, Notice, Payment, Receipt, SubsidyGrant
from backend.services.payment_orders import follow_up_payment
from backend.shared.clock import utcnow
from tests.api import test_fund_posting, test_payment_notify
from tests.api.test_fund_posting import _open_order
from tests.api.test_payment_notify import SHARE, notify, valid
from tests.fees_support import follow_up_payments
from tests.support import race

# The fixtures of those tests: a bill with an order open (`opened`), bills of a trust compound with an account.
opened = test_payment_notify.opened
billed = test_fund_posting.billed


# The replay read, as its first words show it.
READ = "SELECT payment_orders.amount_fen, payment_orders.paid_at, receipts.id"


def notify_statements(client, count_queries, headers, body) -> list[str]:
    db.session.expire_all()
    with count_queries() as statements:
        response = notify(client, headers, body)
    assert response.status_code == 200 and response.json["code"] == "SUCCESS", response.json
    return [" ".join(statement.split()[:4 if statement.lstrip().startswith("SELECT") else 3])
            for statement in statements]


def counts() -> tuple[int, int, int, int]:
    """Receipts, payments, 缴费成功 notices and granted subsidies."""
    return (db.session.scalar(select(func.count()).select_from(Receipt)),
            db.session.scalar(select(func.count()).select_from(Payment)),
            db.session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == FEE_PAID)),
            db.session.scalar(select(func.count()).select_from(SubsidyGrant)
                              .where(SubsidyGrant.status == GrantStatus.GRANTED)))


def test_a_first_delivery_runs_four_statements_and_a_replay_one_read(app, client, count_queries, opened):
    headers, body = valid(opened)

    first = notify_statements(client, count_queries, headers, body)

    # PostgreSQL marks the order paid and inserts its receipt in one statement (an UPDATE inside a WITH).
    recorded = (["WITH paid AS"] if db.engine.dialect.name == "postgresql"
                else ["UPDATE payment_orders SET", "INSERT INTO receipts"])
    assert first == [READ, *recorded, "UPDATE bills SET", "INSERT INTO payments"], first
    bill = db.session.get(Bill, opened.bill_id)
    assert (bill.status, bill.paid_fen) == (BillStatus.PAID, SHARE)
    receipt_id = db.session.scalar(select(Receipt.id))
    # Its follow-up is queued under the receipt's id: a second push of it is the same job.
    queued = Queue("high", connection=app.extensions["linli_redis"]).get_job_ids()
    assert queued == [f"payment-followed-up-{receipt_id}"]

    replay = notify_statements(client, count_queries, headers, body)

    assert replay == [READ], replay
    assert counts() == (1, 1, 0, 0)
    assert follow_up_payments() == 1
    assert counts() == (1, 1, 1, 1)
    assert db.session.get(Receipt, receipt_id).handled_at is not None


def test_the_follow_up_is_done_once(client, opened):
    headers, body = valid(opened)
    assert notify(client, headers, body).status_code == 200
    receipt_id = db.session.scalar(select(Receipt.id))

    assert follow_up_payment(receipt_id) is True
    assert follow_up_payment(receipt_id) is False
    assert follow_up_payments() == 1  # the queued job, run after the fact, finds it done

    assert counts() == (1, 1, 1, 1)


def test_a_payment_whose_job_was_lost_is_followed_up_by_the_sweep_once(app, client, opened):
    headers, body = valid(opened)
    assert notify(client, headers, body).status_code == 200
    # The push after the commit never reached Redis, or Redis lost it.
    app.extensions["linli_redis"].flushdb()
    assert follow_up_lost_payments() == 0  # its own job still has its grace minute
    assert counts() == (1, 1, 0, 0)

    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        assert follow_up_lost_payments() == 1
        assert follow_up_lost_payments() == 0

    assert counts() == (1, 1, 1, 1)


@pytest.mark.postgresql
@pytest.mark.live
def test_duplicate_first_deliveries_at_once_record_one_payment_and_one_grant_posting_and_notice(app, client, billed,
                                                                                               make_user):
    compound, bills, _ = billed(subsidised=True)
    opened_order = _open_order(client, compound, bills[0], make_user)
    headers, body = valid(opened_order, amount_fen=db.session.get(Bill, bills[0].id).resident_share_fen)
    db.session.remove()

    answers = race(app, [("POST", "/api/v1/payments/wechat/notify", headers, body)] * 12)

    assert [status for status, _ in answers] == [200] * 12, answers
    assert counts() == (1, 1, 0, 0)
    receipt_id = db.session.scalar(select(Receipt.id))
    db.session.remove()
    # The job and the sweep (or two workers) following the payment up at the same instant.
    done: list[bool] = []
    barrier = threading.Barrier(6)

    def follow_up() -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            done.append(follow_up_payment(receipt_id))
            db.session.remove()

    threads = [threading.Thread(target=follow_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(done) == [False] * 5 + [True]
    assert follow_up_payments() == 1  # the one job pushed, finding it done
    assert counts() == (1, 1, 1, 1)
    entries = db.session.execute(select(FundEntry.origin, func.count()).group_by(FundEntry.origin)).all()
    assert dict(entries) == {EntryOrigin.FEE_PAYMENT: 1, EntryOrigin.SUBSIDY_GRANT: 1}
