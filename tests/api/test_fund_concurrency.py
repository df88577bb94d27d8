"""The journal under concurrency, on PostgreSQL with committed data and one connection per request thread: an entry
reversed by several requests at once is reversed once; expenses posted at once against one request never add up to
more than it allows; a trust compound's payment notification delivered twenty times at once posts one entry."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.funds import AccountKind, Category, EntryOrigin, SpendingPurpose, SpendingStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import FundAccount, FundEntry, FundSettings, Payment, PaymentOrder, SpendingRequest
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples
from tests.fees_support import follow_up_payments, issue_bills_for, make_schedule
from tests.support import first_household, race

pytestmark = [pytest.mark.postgresql, pytest.mark.live]

BOUNDARY = "fund-race"
PHOTO = samples.camera_jpeg(200, 150).data


def _multipart(fields: dict[str, str], voucher: bytes | None = PHOTO) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    if voucher is not None:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="vouchers"; filename="v.jpg"\r\n'
                     f'Content-Type: image/jpeg\r\n\r\n'.encode() + voucher + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _headers(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture
def books(area_tree, make_compound, make_user):
    compound = make_compound(area=area_tree[3], model=ManagementModel.TRUST, buildings=1, households_per_building=1)
    committee = make_user(Role.COMMITTEE, compound)
    account = FundAccount(compound_id=compound.id, kind=AccountKind.TRUST, opened_on=beijing_date(utcnow()),
                          opening_balance_fen=0)
    db.session.add(account)
    db.session.commit()
    return compound, committee, account


def test_an_entry_reversed_by_six_requests_at_once_is_reversed_once(app, books):
    compound, committee, account = books
    entry = FundEntry(compound_id=compound.id, account_id=account.id, entry_date=beijing_date(utcnow()),
                      month=beijing_date(utcnow()).replace(day=1), category=Category.PARKING, amount_fen=900,
                      posted_by_id=committee.id)
    db.session.add(entry)
    db.session.commit()
    entry_id, headers = entry.id, _headers(committee)
    db.session.remove()

    answers = race(app, [("POST", f"/api/v1/fund-entries/{entry_id}/reversal", headers,
                          _multipart({"reason": "记错了"}, voucher=None))] * 6)

    assert sorted(status for status, _ in answers) == [201, 409, 409, 409, 409, 409], answers
    assert db.session.scalar(select(func.count()).where(FundEntry.reverses_id == entry_id)) == 1


def test_expenses_posted_at_once_never_exceed_their_request(app, books):
    compound, committee, _ = books
    request = SpendingRequest(compound_id=compound.id, requester_id=committee.id, title="修水泵",
                              purpose=SpendingPurpose.OTHER, amount_fen=50_000, category=Category.REPAIR,
                              payee="水泵厂", status=SpendingStatus.APPROVED, threshold_fen=500_000)
    db.session.add(request)
    db.session.commit()
    request_id, headers, compound_id = request.id, _headers(committee), compound.id
    db.session.remove()
    body = _multipart({"category": "repair", "amount_fen": "20000", "spending_request_id": str(request_id)})

    answers = race(app, [("POST", f"/api/v1/compounds/{compound_id}/fund-entries", headers, body)] * 6)

    assert sorted(status for status, _ in answers) == [201, 201, 422, 422, 422, 422], answers
    spent = db.session.scalar(select(func.sum(FundEntry.amount_fen)).where(FundEntry.spending_request_id == request_id))
    assert spent == 40_000


def test_a_notification_delivered_twenty_times_at_once_posts_one_entry(app, books, make_user):
    compound, _, account = books
    make_schedule(compound, effective_from=beijing_date(utcnow()).replace(day=1))
    bill = issue_bills_for(compound, beijing_date(utcnow()).replace(day=1))[0]
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    response = app.test_client().post(f"/api/v1/bills/{bill.id}/payments",
                                      headers={"Authorization": f"Bearer {issue_tokens(owner)[0]}"})
    assert response.status_code == 201, response.json
    order = db.session.get(PaymentOrder, response.json["order"]["id"])
    headers, body = wechat_pay().signed_notification(order.out_trade_no, "4200002100202612050000000001",
                                                     order.amount_fen, order.openid)
    account_id = account.id
    db.session.remove()

    answers = race(app, [("POST", "/api/v1/payments/wechat/notify", headers, body)] * 20)

    assert {status for status, _ in answers} == {200}, answers
    assert follow_up_payments() == 1
    payment_id = db.session.scalar(select(Payment.id))
    entries = list(db.session.scalars(select(FundEntry).where(FundEntry.origin == EntryOrigin.FEE_PAYMENT)))
    assert [(entry.payment_id, entry.account_id) for entry in entries] == [(payment_id, account_id)]


def test_two_first_saves_of_the_settings_at_once_leave_one_row(app, books):
    compound, committee, _ = books
    url = f"/api/v1/compounds/{compound.id}/fund-settings"
    headers = {"Authorization": f"Bearer {issue_tokens(committee)[0]}"}
    db.session.remove()

    answers = race(app, [("PUT", url, headers, {"spending_threshold_fen": 100_000 * (index + 1)})
                         for index in range(4)])

    assert [status for status, _ in answers] == [200] * 4, answers
    assert db.session.scalar(select(func.count()).select_from(FundSettings)) == 1
    assert db.session.scalar(select(FundSettings.spending_threshold_fen)) in {100_000, 200_000, 300_000, 400_000}
