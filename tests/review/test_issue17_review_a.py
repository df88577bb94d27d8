"""Review probes of issue 17's money: posting, reversals, the auto-posting from payments, closing months, the
statements, the year's result and the demo's books. Each test is a bug found in review (failing before its fix) or
a rule no part's own tests held."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.fees import PaymentMethod
from backend.domain.fund_statements import last_day, month_statement, next_month
from backend.domain.funds import (
    FEE_INCOME_CATEGORIES,
    AccountKind,
    Category,
    EntryOrigin,
    FundRefused,
    SpendingStatus,
    check_opening,
)
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    AuditEvent,
    Compound,
    FundAccount,
    FundEntry,
    FundMonth,
    FundSettings,
    SpendingRequest,
)
from backend.services import fund_statements
from backend.services import funds as funds_service
from backend.services import payments as payment_service
from backend.services.auth import issue_tokens
from backend.shared.clock import SHANGHAI, beijing_date, utcnow
from tests import photo_samples as samples
from tests.fees_support import issue_bills_for, make_schedule
from tests.fund_statements_support import month_text, months_ago, open_account, post, this_month
from tests.support import assert_error_shape, race

# ---- bad input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["9999-12", "9999-01"])
def test_closing_a_month_of_the_far_future_is_refused_in_the_error_shape(client, make_compound, make_user, sign_in,
                                                                         month):
    compound = make_compound(model=ManagementModel.TRUST)
    keeper = make_user(Role.COMMITTEE, compound)
    open_account(compound, months_ago(2))

    response = client.post(f"/api/v1/compounds/{compound.id}/fund-statements/{month}/close", json={},
                           headers=sign_in(keeper))

    assert_error_shape(response, 409)


@pytest.mark.parametrize("path", ["/api/v1/compounds/{id}/fund-entries?month=0000-01",
                                  "/h5/compounds/{id}/funds/entries?month=0000-01"])
def test_the_month_0000_01_lists_no_journal_and_is_no_crash(client, make_compound, make_user, sign_in, page_sign_in,
                                                            path):
    compound = make_compound(model=ManagementModel.TRUST)
    keeper = make_user(Role.COMMITTEE, compound)
    open_account(compound, months_ago(2))
    if path.startswith("/h5"):
        page_sign_in(client, keeper)
        headers = {}
    else:
        headers = sign_in(keeper)

    response = client.get(path.format(id=compound.id), headers=headers)

    if path.startswith("/h5"):
        assert response.status_code == 200
    else:
        assert_error_shape(response, 422)


def test_an_account_opened_before_2000_is_refused_as_its_first_month_could_never_close(client, make_compound,
                                                                                      make_user, sign_in):
    """Months close in order from the opening month, and a month path before 1900 names no statement: an account
    opened in year 1 could never close a month. Its past belongs in the opening balance."""
    compound = make_compound(model=ManagementModel.TRUST)
    keeper = make_user(Role.COMMITTEE, compound)

    response = client.post(f"/api/v1/compounds/{compound.id}/fund-accounts", headers=sign_in(keeper),
                           json={"kind": "trust", "opened_on": "0001-01-01"})

    assert_error_shape(response, 422)
    assert "opened_on" in response.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(FundAccount)) == 0


def test_an_account_opened_into_a_month_the_compound_closed_cannot_reopen_that_month(client, make_compound,
                                                                                    make_user, sign_in):
    """A second account backdated into a closed month would take entries dated in it and turn the compound's frozen
    month back to "待结账": its opening must come after the compound's last closed month."""
    compound = make_compound(model=ManagementModel.TRUST)
    keeper = make_user(Role.COMMITTEE, compound)
    headers = sign_in(keeper)
    closed = months_ago(2)
    first = open_account(compound, closed, opening_fen=1_000)
    closing = client.post(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(closed)}/close",
                          headers=headers, json={"bank_balances": [{"account_id": first.id, "bank_balance_fen": 1_000}]})
    assert closing.status_code == 200, closing.json
    before = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(closed)}", headers=headers).json

    response = client.post(f"/api/v1/compounds/{compound.id}/fund-accounts", headers=headers,
                           json={"kind": "basic", "opened_on": last_day(closed).isoformat(), "bank_name": "工商银行",
                                 "opening_balance_fen": 500})

    assert_error_shape(response, 422)
    assert "opened_on" in response.json["errors"]
    after = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(closed)}", headers=headers).json
    assert after == before and after["status"] == "closed"
    opened = client.post(f"/api/v1/compounds/{compound.id}/fund-accounts", headers=headers,
                         json={"kind": "basic", "opened_on": next_month(closed).isoformat(), "bank_name": "工商银行"})
    assert opened.status_code == 201, opened.json


# ---- the demo's books keep the rules -------------------------------------------------------------------------------


def test_the_demos_closed_months_are_what_closing_them_would_freeze(demo):
    """Every frozen month of the demo equals the journal's aggregate of that month (net by category, entry count,
    balanced, opening = the previous closing), its remuneration is the rate of its fee income, and no expense goes
    beyond its request."""
    for account in db.session.scalars(select(FundAccount).order_by(FundAccount.id)):
        previous = account.opening_balance_fen
        assert db.session.scalar(select(func.count()).where(FundEntry.account_id == account.id,
                                                            FundEntry.entry_date < account.opened_on)) == 0
        for row in db.session.scalars(select(FundMonth).where(FundMonth.account_id == account.id)
                                      .order_by(FundMonth.month)):
            amounts: dict[str, int] = defaultdict(int)
            count = 0
            for entry in db.session.scalars(select(FundEntry).where(FundEntry.account_id == account.id,
                                                                    FundEntry.month == row.month)):
                amounts[entry.category.value] += entry.amount_fen
                count += 1
            expected = month_statement(previous, amounts)
            assert (row.opening_fen, row.income_fen, row.expense_fen, row.closing_fen, row.by_category,
                    row.entry_count) == (expected.opening_fen, expected.income_fen, expected.expense_fen,
                                         expected.closing_fen, expected.by_category, count), row.month
            previous = row.closing_fen
            settings = db.session.get(FundSettings, account.compound_id)
            model = db.session.scalar(select(Compound.management_model).where(Compound.id == account.compound_id))
            if model == ManagementModel.TRUST and settings.remuneration_rate_bp:
                fee = sum(amounts.get(category.value, 0) for category in FEE_INCOME_CATEGORIES)
                assert amounts.get(Category.REMUNERATION.value, 0) == (
                    fee * settings.remuneration_rate_bp + 5_000) // 10_000, row.month
    for request in db.session.scalars(select(SpendingRequest)):
        spent = db.session.scalar(select(func.coalesce(func.sum(FundEntry.amount_fen), 0))
                                  .where(FundEntry.spending_request_id == request.id))
        assert spent <= request.amount_fen, request.title
        if spent:
            assert request.status == SpendingStatus.APPROVED or request.emergency, request.title
    # Every entry is an audit event under the name the services give it (fund.entry.<origin>).
    audited = dict(db.session.execute(select(AuditEvent.target_id, AuditEvent.action)
                                      .where(AuditEvent.target_type == "fund_entry")).all())
    assert audited == {entry.id: f"fund.entry.{entry.origin.value}"
                       for entry in db.session.scalars(select(FundEntry))}


def test_the_demos_statements_read_the_same_live_and_frozen(demo):
    """The service's live aggregate of each closed month of the demo equals its frozen row."""
    for compound_id in db.session.scalars(select(FundAccount.compound_id).distinct()):
        for row in db.session.scalars(select(FundMonth).where(FundMonth.compound_id == compound_id)):
            amounts, count = fund_statements._amounts(row.account_id, row.month, row.month)
            live = month_statement(row.opening_fen, amounts)
            assert (live.closing_fen, live.by_category, count) == (row.closing_fen, row.by_category, row.entry_count)


def test_the_last_day_of_a_month_is_read_from_the_calendar_up_to_the_last_year():
    assert [last_day(date(year, month, 1)) for year, month in ((9999, 12), (2028, 2), (2026, 2), (2026, 4))] == [
        date(9999, 12, 31), date(2028, 2, 29), date(2026, 2, 28), date(2026, 4, 30)]


# ---- races ----------------------------------------------------------------------------------------------------------

BOUNDARY = "review-race"


def _multipart(fields: dict[str, str], voucher: bytes) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="vouchers"; filename="v.jpg"\r\n'
                 f'Content-Type: image/jpeg\r\n\r\n'.encode() + voucher + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


@pytest.mark.postgresql
@pytest.mark.live
def test_entries_posted_while_their_month_closes_are_in_the_frozen_month_or_refused(app, make_compound, make_user):
    """Lock protocol: a posting into last month and that month's close serialize on the account's row, so every
    entry that was accepted is counted in the frozen figures and none lands in the month after it froze."""
    compound = make_compound(model=ManagementModel.TRUST)
    month = months_ago(1)
    account = open_account(compound, month, opening_fen=5_000)
    post(account, month.replace(day=2), Category.PARKING, 100)
    keeper = make_user(Role.COMMITTEE, compound)
    token = issue_tokens(keeper)[0]
    compound_id, account_id = compound.id, account.id
    db.session.commit()
    db.session.remove()
    entry = ("POST", f"/api/v1/compounds/{compound_id}/fund-entries",
             {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
             _multipart({"category": "parking", "amount_fen": "700", "entry_date": last_day(month).isoformat()},
                        samples.camera_jpeg(120, 90).data))
    close = ("POST", f"/api/v1/compounds/{compound_id}/fund-statements/{month_text(month)}/close",
             {"Authorization": f"Bearer {token}"}, {"bank_balances": [{"account_id": account_id,
                                                                       "bank_balance_fen": 0}]})

    answers = race(app, [entry] * 5 + [close] + [entry] * 5)

    assert answers[5][0] == 200, answers[5]
    posted = [status for status, _ in answers[:5] + answers[6:]]
    assert set(posted) <= {201, 422}, answers
    frozen = db.session.scalar(select(FundMonth).where(FundMonth.account_id == account_id))
    in_month = db.session.execute(select(func.count(), func.sum(FundEntry.amount_fen)).where(
        FundEntry.account_id == account_id, FundEntry.month == month)).one()
    assert (frozen.entry_count, frozen.income_fen) == (in_month[0], int(in_month[1]))
    assert frozen.entry_count == 1 + posted.count(201)
    assert frozen.closing_fen == 5_000 + frozen.income_fen


def test_an_opening_day_is_up_to_today_from_2000_and_after_the_compounds_last_closed_month():
    today = date(2026, 12, 31)
    check_opening(date(2026, 12, 1), today, date(2026, 11, 1))
    check_opening(date(2000, 1, 1), today, None)
    for opened_on, closed in ((date(2027, 1, 1), None), (date(1999, 12, 31), None), (date(2026, 11, 30),
                                                                                      date(2026, 11, 1))):
        with pytest.raises(FundRefused) as refused:
            check_opening(opened_on, today, closed)
        assert list(refused.value.errors) == ["opened_on"]


# ---- posting from payments ------------------------------------------------------------------------------------------


def test_a_payment_made_before_a_newer_account_opened_posts_into_the_account_open_that_day(make_compound, make_user):
    """The receiving account is chosen among the accounts open on the payment's day: a trust account opened today
    must not swallow (and so drop) yesterday's payment that the joint account, open since last month, received."""
    compound = make_compound(model=ManagementModel.TRUST, buildings=1, households_per_building=1)
    make_schedule(compound, effective_from=this_month())
    (bill,) = issue_bills_for(compound, this_month())
    committee = make_user(Role.COMMITTEE, compound)
    joint = open_account(compound, months_ago(1), kind=AccountKind.JOINT)
    open_account(compound, beijing_date(utcnow()), kind=AccountKind.TRUST)
    yesterday = utcnow() - timedelta(days=1)

    payment = payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-R1",
                                                     committee.id, None, now=yesterday)
    funds_service.post_missing(compound.id)

    fees = db.session.execute(select(FundEntry.payment_id, FundEntry.account_id, FundEntry.entry_date)
                              .where(FundEntry.origin == EntryOrigin.FEE_PAYMENT)).all()
    assert fees == [(payment.id, joint.id, beijing_date(yesterday))]


def test_fees_remuneration_reversals_and_late_payments_add_up_across_two_closes(client, make_compound, make_user,
                                                                               sign_in):
    """The parts together through the API and the fee desk: fee income posted by payments, the remuneration at
    each close from that month's fee income only, a late payment of a closed month counted (and remunerated) in
    the first open month, a reversal of a closed month's entry dated today; every closed month keeps its figures and
    the balance is the opening plus every signed entry."""
    compound = make_compound(model=ManagementModel.TRUST, buildings=1, households_per_building=2)
    keeper = make_user(Role.COMMITTEE, compound)
    headers = sign_in(keeper)
    first, second = months_ago(2), months_ago(1)
    make_schedule(compound, effective_from=first)
    early, late = issue_bills_for(compound, first)
    account = open_account(compound, first, opening_fen=10_000)
    assert client.put(f"/api/v1/compounds/{compound.id}/fund-settings", headers=headers,
                      json={"spending_threshold_fen": 500_000, "remuneration_rate_bp": 1_250}).status_code == 200
    paid_early = datetime.combine(first.replace(day=10), time(10), SHANGHAI)
    payment_service.record_offline_payment(early.id, PaymentMethod.CASH, early.outstanding_fen, "NO-A1", keeper.id,
                                           None, now=paid_early)
    parking = client.post(f"/api/v1/compounds/{compound.id}/fund-entries", headers=headers,
                          content_type="multipart/form-data",
                          data={"category": "parking", "amount_fen": "3333", "entry_date": first.replace(day=12),
                                "vouchers": [(samples.camera_jpeg(100, 80).stream(), "v.jpg")]})
    assert parking.status_code == 201, parking.json

    def close(month):
        statement = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(month)}",
                               headers=headers).json
        response = client.post(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(month)}/close",
                               headers=headers, json={"bank_balances": [{
                                   "account_id": account.id, "bank_balance_fen": max(statement["total"]["closing_fen"],
                                                                                     0)}]})
        assert response.status_code == 200, response.json
        return response.json

    frozen_first = close(first)
    # Paid in the closed month, recorded late: it lands on the first day of the next open month.
    payment_service.record_offline_payment(late.id, PaymentMethod.CASH, late.outstanding_fen, "NO-A2", keeper.id,
                                           None, now=datetime.combine(first.replace(day=20), time(10), SHANGHAI))
    reversal = client.post(f"/api/v1/fund-entries/{parking.json['id']}/reversal", headers=headers,
                           data={"reason": "重复记账"})
    assert reversal.status_code == 201, reversal.json
    close(second)

    entries = list(db.session.scalars(select(FundEntry).order_by(FundEntry.id)))
    fee_by_month: dict[date, int] = defaultdict(int)
    remuneration_by_month: dict[date, int] = defaultdict(int)
    for entry in entries:
        if entry.category in FEE_INCOME_CATEGORIES:
            fee_by_month[entry.month] += entry.amount_fen
        if entry.category is Category.REMUNERATION:
            remuneration_by_month[entry.month] += entry.amount_fen
    late_fee = next(e for e in entries if e.origin is EntryOrigin.FEE_PAYMENT and e.entry_date == second)
    assert late_fee.month == second
    assert dict(remuneration_by_month) == {month: (fee * 1_250 + 5_000) // 10_000
                                           for month, fee in fee_by_month.items() if month < this_month()}
    again = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(first)}", headers=headers).json
    assert again["total"] == frozen_first["total"]
    summary = client.get(f"/api/v1/compounds/{compound.id}/fund-summary", headers=headers).json
    assert summary["balance_fen"] == 10_000 + sum(
        entry.amount_fen if entry.category.value in {c.value for c in FEE_INCOME_CATEGORIES} | {"parking"}
        else -entry.amount_fen for entry in entries)


def test_the_sweep_leaves_the_fees_a_market_compound_took_before_it_turned_trust(make_compound, make_user):
    """The sweep posts what was paid while a trust compound had no account yet; from an account's creation on, the
    payment's own transaction posts. A compound turned from market to trust (the area ledger's import sets the
    model) must not see the fees its company took meanwhile swept into its fund as income (and remunerated)."""
    compound = make_compound(model=ManagementModel.MARKET, buildings=1, households_per_building=1)
    make_schedule(compound, effective_from=this_month())
    (bill,) = issue_bills_for(compound, this_month())
    committee = make_user(Role.COMMITTEE, compound)
    account = open_account(compound, months_ago(1), kind=AccountKind.JOINT)
    account.created_at = utcnow() - timedelta(days=20)
    db.session.commit()
    payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, bill.outstanding_fen, "NO-M1", committee.id,
                                           None)
    compound.management_model = ManagementModel.TRUST
    db.session.commit()

    assert funds_service.post_missing(compound.id) == 0
    assert db.session.scalar(select(func.count()).select_from(FundEntry)) == 0


@pytest.mark.postgresql
@pytest.mark.live
def test_an_account_opened_while_its_month_closes_is_closed_with_it_or_refused(app, make_compound, make_user):
    """Opening locks the compound's accounts as a close does: the new account either opens before the close and is
    closed with the others, or after it and is refused; never a month half closed."""
    compound = make_compound(model=ManagementModel.TRUST)
    month = months_ago(1)
    account = open_account(compound, month, kind=AccountKind.NONE)
    keeper = make_user(Role.COMMITTEE, compound)
    headers = {"Authorization": f"Bearer {issue_tokens(keeper)[0]}"}
    compound_id, account_id = compound.id, account.id
    db.session.commit()
    db.session.remove()
    opening = ("POST", f"/api/v1/compounds/{compound_id}/fund-accounts", headers,
               {"kind": "none", "opened_on": last_day(month).isoformat()})
    close = ("POST", f"/api/v1/compounds/{compound_id}/fund-statements/{month_text(month)}/close", headers, {})

    answers = race(app, [opening, close])

    assert answers[1][0] == 200, answers
    assert answers[0][0] in {201, 422}, answers
    accounts = db.session.scalars(select(FundAccount.id).where(FundAccount.compound_id == compound_id)).all()
    closed = db.session.scalars(select(FundMonth.account_id).where(FundMonth.month == month)).all()
    assert sorted(closed) == sorted(accounts) and account_id in closed, answers
