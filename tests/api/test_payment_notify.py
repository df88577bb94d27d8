"""WeChat Pay's payment notification at POST /api/v1/payments/wechat/notify, verified with a locally generated key
pair (the test app's sandbox keys, made in its instance dir): a valid one pays the bill, grants the subsidy and
records one payment however often it comes; a bad signature, an unknown key, a stale timestamp (more than 300 s
either way), a wrong amount, an unknown order, an unreadable body — each refused in the error shape with
nothing recorded."""
from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, select

from backend.domain.fees import BillStatus, GrantStatus, PaymentMethod
from backend.domain.roles import Role
from backend.extensions import db
from backend.integrations.wechat_pay import SandboxWeChatPay, rsa_sign, wechatpay_message
from backend.models import Bill, Payment, PaymentOrder, SubsidyGrant, SubsidyPolicy
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from backend.shared.clock import utcnow
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.support import assert_error_shape, first_household

pytestmark = pytest.mark.calendar

NOTIFY = "/api/v1/payments/wechat/notify"
# 1栋101: 12188 fen, half of it subsidised in January 2026.
AMOUNT, SUBSIDY = 12188, 6094
SHARE = AMOUNT - SUBSIDY
# 09:30 Beijing time on 5 January 2026.
T = datetime(2026, 1, 5, 1, 30, tzinfo=UTC)


@dataclass
class Opened:
    bill_id: int
    order_id: int
    out_trade_no: str
    openid: str


@pytest.fixture
def opened(client, area_tree, make_compound, make_user) -> Opened:
    """A bill whose owner has pressed 缴费: its subsidy held, an order open for the rest."""
    community = area_tree[3]
    compound = make_compound(area=community, buildings=1, households_per_building=2)
    make_schedule(compound)
    make_policy(area_id=community.id)
    bill = issue_bills_for(compound, date(2026, 1, 1))[0]
    owner = make_user(Role.OWNER, compound, household=first_household(compound))
    response = client.post(f"/api/v1/bills/{bill.id}/payments",
                           headers={"Authorization": f"Bearer {issue_tokens(owner)[0]}"})
    assert response.status_code == 201, response.json
    order = db.session.get(PaymentOrder, response.json["order"]["id"])
    assert order.amount_fen == SHARE
    return Opened(bill_id=bill.id, order_id=order.id, out_trade_no=order.out_trade_no, openid=order.openid)


def sandbox() -> SandboxWeChatPay:
    return wechat_pay()


def new_transaction_id() -> str:
    return "42000021" + secrets.token_hex(10)


def valid(opened: Opened, now: datetime | None = None, amount_fen: int = SHARE, transaction_id: str | None = None):
    return sandbox().signed_notification(opened.out_trade_no, transaction_id or new_transaction_id(), amount_fen,
                                         opened.openid, now=now)


def signed(body: bytes, now: datetime | None = None, key=None, serial: str | None = None) -> dict[str, str]:
    """Headers signing `body` as WeChat Pay does (with the sandbox's platform key unless told otherwise)."""
    provider = sandbox()
    timestamp, nonce = str(int((now or utcnow()).timestamp())), secrets.token_hex(16).upper()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": rsa_sign(key or provider.platform_private_key,
                                        wechatpay_message(timestamp, nonce, body)),
        "Wechatpay-Serial": serial or provider.public_key_id,
        "Content-Type": "application/json",
    }


def sealed(transaction: dict | bytes, apiv3_key: str | None = None) -> bytes:
    """A notification body around `transaction`, encrypted with the APIv3 key (the sandbox's unless told)."""
    plaintext = transaction if isinstance(transaction, bytes) else json.dumps(transaction).encode()
    nonce = secrets.token_urlsafe(9)
    key = (apiv3_key or sandbox().apiv3_key).encode()
    return json.dumps({
        "id": "EV-2018022511223320873", "create_time": "2026-01-05T09:30:00+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "associated_data": "transaction",
            "nonce": nonce,
            "ciphertext": base64.b64encode(AESGCM(key).encrypt(nonce.encode(), plaintext, b"transaction")).decode(),
        },
    }).encode()


def transaction(opened: Opened, **changes) -> dict:
    return {
        "out_trade_no": opened.out_trade_no, "transaction_id": new_transaction_id(), "trade_state": "SUCCESS",
        "success_time": "2026-01-05T09:30:00+08:00", "payer": {"openid": opened.openid},
        "amount": {"total": SHARE, "payer_total": SHARE, "currency": "CNY", "payer_currency": "CNY"},
    } | changes


def notify(client, headers: dict[str, str], body: bytes):
    return client.post(NOTIFY, data=body, headers=headers)


def assert_nothing_recorded(opened: Opened) -> None:
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.get(PaymentOrder, opened.order_id).paid_at is None
    bill = db.session.get(Bill, opened.bill_id)
    assert (bill.status, bill.paid_fen, bill.paid_at) == (BillStatus.UNPAID, 0, None)
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == opened.bill_id))
    assert (grant.status, grant.settlement_month) == (GrantStatus.HELD, None)


# ---- accepted --------------------------------------------------------------------------------------


def test_a_valid_notification_pays_the_bill_grants_the_subsidy_and_records_one_payment(client, opened):
    transaction_id = new_transaction_id()

    response = notify(client, *valid(opened, transaction_id=transaction_id))

    assert response.status_code == 200 and response.json == {"code": "SUCCESS", "message": "成功"}
    bill = db.session.get(Bill, opened.bill_id)
    assert (bill.status, bill.paid_fen, bill.subsidy_fen) == (BillStatus.PAID, SHARE, SUBSIDY)
    assert bill.paid_fen + bill.subsidy_fen == bill.amount_fen
    (payment,) = db.session.scalars(select(Payment)).all()
    assert (payment.bill_id, payment.order_id, payment.transaction_id) == (opened.bill_id, opened.order_id,
                                                                           transaction_id)
    assert (payment.method, payment.amount_fen, payment.subsidy_fen) == (PaymentMethod.SANDBOX, SHARE, SUBSIDY)
    assert db.session.get(PaymentOrder, opened.order_id).paid_at == payment.paid_at
    assert follow_up_payments() == 1
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == opened.bill_id))
    assert (grant.status, grant.amount_fen) == (GrantStatus.GRANTED, SUBSIDY)
    assert grant.granted_at is not None and grant.settlement_month.day == 1
    # Held, then granted: the budget is taken once.
    assert db.session.scalar(select(SubsidyPolicy.committed_fen)) == SUBSIDY


def test_the_same_notification_a_hundred_times_records_one_payment(client, opened):
    headers, body = valid(opened)

    statuses = {notify(client, headers, body).status_code for _ in range(100)}

    assert statuses == {200}
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    bill = db.session.get(Bill, opened.bill_id)
    assert (bill.status, bill.paid_fen) == (BillStatus.PAID, SHARE)


def test_a_second_transaction_for_a_paid_order_records_nothing_more(client, opened):
    first = notify(client, *valid(opened))
    second = notify(client, *valid(opened))

    assert first.status_code == second.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.get(Bill, opened.bill_id).paid_fen == SHARE


@pytest.mark.parametrize("seconds", [300, -300])
def test_a_notification_exactly_five_minutes_off_is_accepted(client, opened, seconds):
    headers, body = valid(opened, now=T - timedelta(seconds=seconds))

    with time_machine.travel(T, tick=False):
        response = notify(client, headers, body)

    assert response.status_code == 200, response.json
    assert db.session.get(Bill, opened.bill_id).status is BillStatus.PAID


def test_a_notification_of_a_transaction_that_did_not_succeed_is_acknowledged_and_records_nothing(client, opened):
    body = sealed(transaction(opened, trade_state="PAYERROR"))

    response = notify(client, signed(body), body)

    assert response.status_code == 200 and response.json["code"] == "SUCCESS"
    assert_nothing_recorded(opened)


def test_the_notification_needs_no_sign_in_and_ignores_a_stray_cookie(client, opened):
    client.set_cookie("access_token_cookie", "not-a-token")

    response = notify(client, *valid(opened))

    assert response.status_code == 200
    assert db.session.get(Bill, opened.bill_id).status is BillStatus.PAID


# ---- refused, nothing recorded --------------------------------------------------------------------


def flip_a_byte(body: bytes) -> bytes:
    return body.replace(b'"summary":"', b'"summary":"X', 1)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda headers, body: (headers, flip_a_byte(body)), id="body changed after signing"),
        pytest.param(lambda headers, body: (headers | {"Wechatpay-Nonce": "0" * 32}, body), id="nonce changed"),
        pytest.param(lambda headers, body: (headers | {"Wechatpay-Timestamp": str(int(headers["Wechatpay-Timestamp"])
                                                                                  - 1)}, body),
                     id="timestamp changed"),
        pytest.param(lambda headers, body: (headers | {"Wechatpay-Signature": "bm90IGEgc2lnbmF0dXJl"}, body),
                     id="not a signature"),
        pytest.param(lambda headers, body: (headers | {"Wechatpay-Signature": "%%%"}, body), id="not base64"),
    ],
)
def test_a_bad_signature_is_refused_and_records_nothing(client, opened, forge):
    headers, body = forge(*valid(opened))

    response = notify(client, headers, body)

    assert_error_shape(response, 401)
    assert response.json["message"] == "通知签名验证失败"
    assert_nothing_recorded(opened)


def test_a_notification_signed_with_another_key_is_refused(client, opened, tmp_path):
    impostor = SandboxWeChatPay(tmp_path / "impostor", appid="wx00000000sandbox")
    headers, body = impostor.signed_notification(opened.out_trade_no, new_transaction_id(), SHARE, opened.openid)

    assert_error_shape(notify(client, headers, body), 401)
    # The impostor's signature under our key id is a bad signature.
    forged = signed(body, key=impostor.platform_private_key)
    assert_error_shape(notify(client, forged, body), 401)
    assert_nothing_recorded(opened)


@pytest.mark.parametrize("seconds", [301, -301, 86_400])
def test_a_stale_notification_is_refused(client, opened, seconds):
    headers, body = valid(opened, now=T - timedelta(seconds=seconds))

    with time_machine.travel(T, tick=False):
        response = notify(client, headers, body)

    assert_error_shape(response, 401)
    assert response.json["message"] == "通知时间戳超出5分钟"
    assert_nothing_recorded(opened)


@pytest.mark.parametrize("difference", [1, -1, -SHARE])
def test_a_notification_for_another_amount_is_refused(client, opened, difference):
    response = notify(client, *valid(opened, amount_fen=SHARE + difference))

    assert_error_shape(response, 400)
    assert response.json["message"] == "金额与订单不符"
    assert_nothing_recorded(opened)


def test_a_notification_for_an_order_we_never_issued_is_refused(client, opened):
    headers, body = sandbox().signed_notification("LL9999999999deadbeef01", new_transaction_id(), SHARE,
                                                  opened.openid)

    response = notify(client, headers, body)

    assert_error_shape(response, 404)
    assert_nothing_recorded(opened)


def test_a_notification_without_its_signature_headers_is_refused(client, opened):
    headers, body = valid(opened)

    for name in ("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"):
        partial = {key: value for key, value in headers.items() if key != name}
        assert_error_shape(notify(client, partial, body), 400)
    assert_error_shape(client.post(NOTIFY), 400)
    assert_nothing_recorded(opened)


@pytest.mark.parametrize(
    "make_body",
    [
        pytest.param(lambda opened: b"<xml>not json</xml>", id="not json"),
        pytest.param(lambda opened: b"[1, 2, 3]", id="a json list"),
        pytest.param(lambda opened: json.dumps({"id": "x", "resource": "nope"}).encode(), id="no resource"),
        pytest.param(lambda opened: sealed(transaction(opened)).replace(b"AEAD_AES_256_GCM", b"AEAD_AES_128_GCM"),
                     id="another algorithm"),
        pytest.param(lambda opened: sealed(transaction(opened), apiv3_key="k" * 32), id="another APIv3 key"),
        pytest.param(lambda opened: sealed(b"not json inside"), id="plaintext not json"),
        pytest.param(lambda opened: sealed(transaction(opened, amount={"total": "6094"})), id="amount as text"),
        pytest.param(lambda opened: sealed(transaction(opened, out_trade_no="")), id="no out_trade_no"),
        pytest.param(lambda opened: sealed(transaction(opened, success_time="yesterday")), id="bad success_time"),
    ],
)
def test_an_unreadable_notification_is_refused(client, opened, make_body):
    body = make_body(opened)

    response = notify(client, signed(body), body)

    assert_error_shape(response, 400)
    assert response.json["message"] == "通知格式有误或无法解密"
    assert_nothing_recorded(opened)


def test_a_refused_notification_is_accepted_once_wechat_pay_sends_it_right(client, opened):
    """WeChat Pay resends on any non-2xx: a refusal must leave the order payable by the genuine notification."""
    headers, body = valid(opened)
    assert_error_shape(notify(client, headers, flip_a_byte(body)), 401)

    assert notify(client, headers, body).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_signature_header_with_characters_outside_base64_is_a_bad_signature(client, opened):
    headers, body = valid(opened)

    response = notify(client, headers | {"Wechatpay-Signature": "sïgnature"}, body)

    assert_error_shape(response, 401)
    assert_nothing_recorded(opened)
