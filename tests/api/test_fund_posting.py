"""Fee payments, granted subsidies and refunds of a trust compound post themselves into its receiving account, in
the payment's own transaction, once: a payment notification replayed 20 times posts one entry; a waived bill posts
nothing; a market compound's payments post nothing; payments made while the compound had no account are posted by
the sweep once an account exists, and only once."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.fees import GrantStatus, PaymentMethod
from backend.domain.funds import AccountKind, Category, EntryOrigin
from backend.domain.roles import Role
from backend.extensions import db
from backend.jobs.funds import sweep_fund_posts
from backend.models import (
    Bill,
    FundAccount,
    FundEntry,
    FundMonth,
    Payment,
    PaymentOrder,
    Refund,
    SubsidyGrant,
)
from backend.services import fees as fee_service
from backend.services import funds as service
from backend.services import payments as payment_service
from backend.services.auth import issue_tokens
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests.api.test_payment_notify import Opened, notify, valid
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.support import first_household

pytestmark = pytest.mark.calendar


def this_month():
    return beijing_date(utcnow()).replace(day=1)


@pytest.fixture
def billed(area_tree, make_compound, make_user):
    def make(model: ManagementModel = ManagementModel.TRUST, account: bool = True, subsidised: bool = False):
        community = area_tree[3]
        compound = make_compound(area=community, model=model, buildings=1, households_per_building=2)
        make_schedule(compound, effective_from=this_month())
        if subsidised:
            make_policy(area_id=community.id, period_start=this_month())
        bills = issue_bills_for(compound, this_month())
        committee = make_user(Role.COMMITTEE, compound)
        if account:
            _account(compound.id)
        return compound, bills, committee

    return make


def _account(compound_id: int, kind: AccountKind = AccountKind.JOINT, opened_on=None) -> FundAccount:
    account = FundAccount(compound_id=compound_id, kind=kind, opened_on=opened_on or this_month(),
                          opening_balance_fen=0)
    db.session.add(account)
    db.session.commit()
    return account


def _open_order(client, compound, bill, make_user) -> Opened:
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    response = client.post(f"/api/v1/bills/{bill.id}/payments",
                           headers={"Authorization": f"Bearer {issue_tokens(owner)[0]}"})
    assert response.status_code == 201, response.json
    order = db.session.get(PaymentOrder, response.json["order"]["id"])
    return Opened(bill_id=bill.id, order_id=order.id, out_trade_no=order.out_trade_no, openid=order.openid)


def _entries(origin: EntryOrigin | None = None) -> list[FundEntry]:
    query = select(FundEntry).order_by(FundEntry.id)
    if origin is not None:
        query = query.where(FundEntry.origin == origin)
    return list(db.session.scalars(query))


def test_a_fee_payment_posts_exactly_one_entry_when_the_notification_is_replayed_20_times(client, billed,
                                                                                         make_user):
    compound, bills, _ = billed(subsidised=True)
    opened = _open_order(client, compound, bills[0], make_user)
    headers, body = valid(opened, amount_fen=db.session.get(PaymentOrder, opened.order_id).amount_fen)

    statuses = {notify(client, headers, body).status_code for _ in range(20)}

    assert statuses == {200}
    assert follow_up_payments() == 1
    (payment,) = db.session.scalars(select(Payment)).all()
    (fee,) = _entries(EntryOrigin.FEE_PAYMENT)
    assert (fee.payment_id, fee.amount_fen, fee.category, fee.compound_id) == (
        payment.id, payment.amount_fen, Category.PROPERTY_FEE, compound.id)
    assert fee.entry_date == beijing_date(payment.paid_at)
    grants = list(db.session.scalars(select(SubsidyGrant).where(SubsidyGrant.status == GrantStatus.GRANTED)))
    subsidies = _entries(EntryOrigin.SUBSIDY_GRANT)
    assert [(entry.subsidy_grant_id, entry.amount_fen) for entry in subsidies] == [
        (grant.id, grant.amount_fen) for grant in grants if grant.amount_fen > 0]
    assert len(subsidies) == 1 and len(_entries()) == 2


def test_a_waived_bill_posts_nothing(billed):
    compound, bills, committee = billed()
    fee_service.waive_bill(bills[0].id, "困难户减免", committee.id, None)
    assert db.session.get(Bill, bills[0].id).status.value == "waived"
    assert _entries() == []
    assert service.post_missing(compound.id) == 0


def test_an_offline_payment_posts_into_the_receiving_account(billed):
    compound, bills, committee = billed()
    basic = _account(compound.id, AccountKind.BASIC)
    trust_account = _account(compound.id, AccountKind.TRUST)
    bill = db.session.get(Bill, bills[0].id)

    payment = payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-001",
                                                     committee.id, None)

    (fee,) = _entries(EntryOrigin.FEE_PAYMENT)
    assert (fee.payment_id, fee.account_id) == (payment.id, trust_account.id)
    assert basic.id != trust_account.id


def test_a_market_compounds_payments_post_nothing(billed):
    compound, bills, committee = billed(ManagementModel.MARKET)
    bill = db.session.get(Bill, bills[0].id)
    payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-002",
                                           committee.id, None)
    assert _entries() == []
    assert service.post_missing(compound.id) == 0


def test_without_an_account_nothing_posts_until_the_sweep_once_one_exists(billed):
    compound, bills, committee = billed(account=False)
    bill = db.session.get(Bill, bills[0].id)
    payment = payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-003",
                                                     committee.id, None)
    assert _entries() == []
    assert sweep_fund_posts() == 0

    _account(compound.id)
    posted = sweep_fund_posts()

    fees = _entries(EntryOrigin.FEE_PAYMENT)
    assert [entry.payment_id for entry in fees] == [payment.id]
    assert posted == len(_entries()) >= 1
    assert sweep_fund_posts() == 0 and service.post_missing(compound.id) == 0


def test_a_payment_in_a_closed_month_lands_on_the_first_day_of_the_first_open_month(billed):
    compound, bills, committee = billed(account=False)
    last_month = (this_month() - timedelta(days=1)).replace(day=1)
    account = _account(compound.id, opened_on=last_month)
    db.session.add(FundMonth(compound_id=compound.id, account_id=account.id, month=last_month, opening_fen=0,
                             income_fen=0, expense_fen=0, closing_fen=0))
    db.session.commit()
    bill = db.session.get(Bill, bills[0].id)
    payment = payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-004",
                                                     committee.id, None)
    # Paid in last month, already closed (a transfer found on the bank statement late): it lands in this month.
    payment.paid_at = datetime.combine(last_month + timedelta(days=1), time(10), SHANGHAI)
    db.session.execute(FundEntry.__table__.delete())
    db.session.commit()

    assert service.post_missing(compound.id) >= 1
    (fee,) = _entries(EntryOrigin.FEE_PAYMENT)
    assert fee.entry_date == this_month()


def test_a_refund_of_an_overpayment_posts_negative_fee_income_once(billed):
    compound, bills, committee = billed()
    refund = Refund(bill_id=bills[0].id, compound_id=compound.id, method=PaymentMethod.CASH, amount_fen=500,
                    reason="多缴", refunded_by_id=committee.id)
    db.session.add(refund)
    db.session.flush()

    first, second = service.post_refund(refund.id), service.post_refund(refund.id)
    db.session.commit()

    assert second is None
    assert (first.category, first.amount_fen, first.origin, first.refund_id) == (
        Category.PROPERTY_FEE, -500, EntryOrigin.FEE_REFUND, refund.id)
    assert db.session.scalar(select(func.count()).select_from(FundEntry)) == 1


def test_a_refund_entry_is_corrected_at_the_fee_desk_not_reversed_in_the_journal(client, billed):
    compound, bills, committee = billed()
    refund = Refund(bill_id=bills[0].id, compound_id=compound.id, method=PaymentMethod.CASH, amount_fen=500,
                    reason="多缴", refunded_by_id=committee.id)
    db.session.add(refund)
    db.session.flush()
    entry = service.post_refund(refund.id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {issue_tokens(committee)[0]}"}

    detail = client.get(f"/api/v1/fund-entries/{entry.id}", headers=headers)
    response = client.post(f"/api/v1/fund-entries/{entry.id}/reversal", data={"reason": "记错了"}, headers=headers)

    assert detail.status_code == 200 and "reverse" not in detail.json["actions"]
    assert response.status_code == 409 and "收费台" in response.json["message"]
    assert db.session.scalar(select(func.count()).select_from(FundEntry)) == 1


def test_a_payment_before_the_accounts_opening_is_in_its_opening_balance_and_never_posted(billed):
    compound, bills, committee = billed(account=False)
    bill = db.session.get(Bill, bills[0].id)
    payment = payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-005",
                                                     committee.id, None)
    payment.paid_at = datetime.combine(this_month() - timedelta(days=1), time(23, 59), SHANGHAI)
    db.session.commit()
    _account(compound.id, opened_on=this_month())

    assert sweep_fund_posts() == 0
    assert _entries() == []
