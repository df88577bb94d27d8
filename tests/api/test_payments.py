"""Paying a bill through the API: the subsidy taken off before the order is opened, the open order given back
within its window, a fully subsidised bill settled without one, the sandbox's button through the real
notification path, WeChat Pay (a local stand-in of its API) placing the order, failing for a moment or for good,
and the electronic receipt — each refused to everyone who is not of the bill's household (404) or may not pay
(403)."""
from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.fees import PAYMENT_WINDOW, BillStatus, GrantStatus, PaymentMethod
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.integrations.wechat_pay import WeChatPay
from backend.models import (
    Bill,
    Compound,
    Household,
    Membership,
    Payment,
    PaymentOrder,
    SubsidyGrant,
    SubsidyPolicy,
    User,
)
from backend.services import fees as fee_service
from backend.services import payments as payment_service
from backend.services import subsidies as subsidy_service
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from backend.shared.clock import SHANGHAI, utcnow
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule, orders_of
from tests.integrations.wechat_pay_standin import PayKeys, WeChatPayStandIn, notification, running_standin
from tests.support import assert_error_shape, link_wechat

pytestmark = pytest.mark.calendar

JANUARY = date(2026, 1, 1)
# 1栋101 is 81.25 m² at ¥1.50 a month: ¥121.875, rounded half-up once to 12188 fen. January 2026 is month 7 of a
# transition period that began in July 2025, so the 50% tier: 6094 fen of subsidy, 6094 fen for the household.
AMOUNT, SUBSIDY = 12188, 6094
SHARE = AMOUNT - SUBSIDY
IN_WECHAT_OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@dataclass
class World:
    compound: Compound
    street_id: int
    other: Compound
    home: Household
    neighbour_home: Household
    bill: Bill
    owner: User
    resident: User  # a second verified person of the same household
    neighbour: User  # an owner of another household of the same compound
    unverified: User  # asked to be bound to the household, not verified yet
    stranger: User  # signed in, no role anywhere
    staff: User
    manager: User
    committee: User
    official: User  # over the compound's street
    other_owner: User
    other_staff: User
    other_official: User  # over another street


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    other_street = make_area("东华街道", AreaLevel.STREET, district)
    compound = make_compound(name="金沙小区", area=community, buildings=1, households_per_building=3)
    other = make_compound(name="东华小区", area=make_area("东华社区", AreaLevel.COMMUNITY, other_street),
                          buildings=1, households_per_building=2)
    homes = households(compound)
    make_schedule(compound)
    make_schedule(other)
    make_policy(area_id=street.id)
    bill = issue_bills_for(compound, JANUARY)[0]
    issue_bills_for(other, JANUARY)
    unverified = make_user()
    db.session.add(Membership(user_id=unverified.id, role=Role.RESIDENT, compound_id=compound.id,
                              household_id=homes[0].id))
    db.session.commit()
    return World(
        compound=compound, street_id=street.id, other=other, home=homes[0], neighbour_home=homes[1], bill=bill,
        owner=make_user(Role.OWNER, compound, household=homes[0]),
        resident=make_user(Role.RESIDENT, compound, household=homes[0]),
        neighbour=make_user(Role.OWNER, compound, household=homes[1]),
        unverified=unverified,
        stranger=make_user(),
        staff=make_user(Role.STAFF, compound),
        manager=make_user(Role.MANAGER, compound),
        committee=make_user(Role.COMMITTEE, compound),
        official=make_user(Role.OFFICIAL, area=street),
        other_owner=make_user(Role.OWNER, other, household=households(other)[0]),
        other_staff=make_user(Role.STAFF, other),
        other_official=make_user(Role.OFFICIAL, area=other_street),
    )


def households(compound: Compound) -> list[Household]:
    return list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ))


@pytest.fixture
def api(client):
    def call(method: str, path: str, user: User | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def start(api, bill_id: int, user: User):
    return api("POST", f"/api/v1/bills/{bill_id}/payments", user)


def complete(api, order_id: int, user: User):
    return api("POST", f"/api/v1/payments/sandbox/{order_id}/complete", user)


def grant_of(bill_id: int) -> SubsidyGrant | None:
    return db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill_id))


def payments_of(bill_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Payment).where(Payment.bill_id == bill_id))


def paid_through_sandbox(api, world: World) -> dict:
    order = start(api, world.bill.id, world.owner).json["order"]
    response = complete(api, order["id"], world.owner)
    assert response.status_code == 200, response.json
    return response.json


# ---- starting a payment ----------------------------------------------------------------------------


def test_an_owner_starts_a_payment_for_the_bill_less_its_subsidy(api, world):
    before = utcnow()
    response = start(api, world.bill.id, world.owner)

    assert response.status_code == 201, response.json
    body = response.json
    assert body["settled"] is False and body["sandbox"] is True
    assert body["bill"]["id"] == world.bill.id and body["bill"]["status"] == "unpaid"
    assert (body["bill"]["amount_fen"], body["bill"]["subsidy_fen"], body["bill"]["resident_share_fen"]) == (
        AMOUNT, SUBSIDY, SHARE)
    assert body["bill"]["household_label"] == "1栋1单元101室"
    order = body["order"]
    assert (order["amount_fen"], order["subsidy_fen"], order["provider"]) == (SHARE, SUBSIDY, "sandbox")
    assert order["amount_fen"] + order["subsidy_fen"] == body["bill"]["amount_fen"]
    assert order["out_trade_no"].startswith(f"LL{world.bill.id:010d}")
    stored = db.session.get(PaymentOrder, order["id"])
    assert stored.payer_id == world.owner.id and stored.paid_at is None
    assert before + PAYMENT_WINDOW <= stored.expires_at <= utcnow() + PAYMENT_WINDOW
    # The subsidy is held against the policy's budget from now on.
    grant = grant_of(world.bill.id)
    assert (grant.status, grant.amount_fen) == (GrantStatus.HELD, SUBSIDY)
    assert db.session.get(SubsidyPolicy, grant.policy_id).committed_fen == SUBSIDY


def test_the_pay_parameters_are_signed_by_the_merchant_key(api, world):
    params = start(api, world.bill.id, world.owner).json["pay_params"]

    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"].startswith("prepay_id=sandbox_") and params["signType"] == "RSA"
    message = "".join(f"{params[name]}\n" for name in ("appId", "timeStamp", "nonceStr", "package")).encode()
    wechat_pay().merchant_private_key.public_key().verify(
        base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256()
    )


def test_starting_again_gives_back_the_open_order_and_holds_the_subsidy_once(api, world):
    first = start(api, world.bill.id, world.owner).json["order"]
    second = start(api, world.bill.id, world.owner).json["order"]

    assert second["id"] == first["id"] and second["out_trade_no"] == first["out_trade_no"]
    assert len(orders_of(world.bill.id)) == 1
    assert db.session.scalar(select(SubsidyPolicy.committed_fen)) == SUBSIDY


def test_another_verified_person_of_the_household_may_pay_too(api, world):
    response = start(api, world.bill.id, world.resident)

    assert response.status_code == 201, response.json
    assert response.json["order"]["amount_fen"] == SHARE
    assert db.session.get(PaymentOrder, response.json["order"]["id"]).payer_id == world.resident.id


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("neighbour", 404), ("unverified", 404), ("stranger", 404), ("other_owner", 404), ("other_staff", 404),
        ("other_official", 404), ("staff", 403), ("manager", 403), ("committee", 403), ("official", 403),
        (None, 401),
    ],
)
def test_only_the_households_verified_people_may_start_a_payment(api, world, who, status):
    response = start(api, world.bill.id, getattr(world, who) if who else None)

    assert_error_shape(response, status)
    assert str(AMOUNT) not in response.get_data(as_text=True)
    assert orders_of(world.bill.id) == [] and grant_of(world.bill.id) is None


def test_a_bill_that_does_not_exist_is_not_found(api, world):
    assert_error_shape(start(api, 2_147_483_647, world.owner), 404)


def test_a_paid_bill_cannot_be_paid_again(api, world):
    paid_through_sandbox(api, world)

    response = start(api, world.bill.id, world.owner)

    assert_error_shape(response, 409)
    assert response.json["message"] == "该账单已缴清"
    assert len(orders_of(world.bill.id)) == 1


def test_a_waived_bill_cannot_be_paid(api, world):
    fee_service.waive_bill(world.bill.id, "低保户", world.committee.id, None)

    response = start(api, world.bill.id, world.owner)

    assert_error_shape(response, 409)
    assert response.json["message"] == "该账单已减免，无需缴费"
    assert orders_of(world.bill.id) == []


def test_a_bill_the_subsidy_covers_in_full_is_settled_without_an_order(api, world):
    # The compound's own policy, at 100%, is more specific than the street's.
    make_policy(compound_id=world.compound.id, name="全额补贴", tiers=[SubsidyTier(months=36, rate_bp=10_000)])

    response = start(api, world.bill.id, world.owner)

    assert response.status_code == 201, response.json
    body = response.json
    assert body["settled"] is True and body["order"] is None and body["pay_params"] is None
    assert (body["bill"]["status"], body["bill"]["subsidy_fen"], body["bill"]["outstanding_fen"]) == (
        "paid", AMOUNT, 0)
    assert orders_of(world.bill.id) == []
    grant = grant_of(world.bill.id)
    assert (grant.status, grant.amount_fen) == (GrantStatus.GRANTED, AMOUNT)
    assert grant.settlement_month == utcnow().astimezone(SHANGHAI).date().replace(day=1)


# ---- the sandbox's button --------------------------------------------------------------------------


def test_the_sandbox_button_pays_the_bill_and_grants_the_subsidy(api, world):
    body = paid_through_sandbox(api, world)

    assert (body["method"], body["amount_fen"], body["subsidy_fen"]) == ("sandbox", SHARE, SUBSIDY)
    assert body["receipt_no"].startswith("R")
    bill = body["bill"]
    assert (bill["status"], bill["paid_fen"], bill["outstanding_fen"], bill["overpaid_fen"]) == ("paid", SHARE, 0, 0)
    assert bill["paid_fen"] + bill["subsidy_fen"] == bill["amount_fen"]
    payment = db.session.get(Payment, body["id"])
    assert payment.order_id is not None and payment.transaction_id.startswith("sandbox")
    assert follow_up_payments() == 1
    grant = grant_of(world.bill.id)
    assert (grant.status, grant.amount_fen, grant.street_id) == (GrantStatus.GRANTED, SUBSIDY, world.street_id)


def test_pressing_the_sandbox_button_again_gives_the_same_payment(api, world):
    order = start(api, world.bill.id, world.owner).json["order"]
    first = complete(api, order["id"], world.owner).json
    second = complete(api, order["id"], world.owner)

    assert second.status_code == 200 and second.json["id"] == first["id"]
    assert payments_of(world.bill.id) == 1
    assert db.session.get(Bill, world.bill.id).paid_fen == SHARE


@pytest.mark.parametrize(("who", "status"), [("resident", 404), ("staff", 404), ("other_owner", 404), (None, 401)])
def test_only_the_payer_presses_the_sandbox_button(api, world, who, status):
    order = start(api, world.bill.id, world.owner).json["order"]

    assert_error_shape(complete(api, order["id"], getattr(world, who) if who else None), status)
    assert payments_of(world.bill.id) == 0
    assert db.session.get(Bill, world.bill.id).status is BillStatus.UNPAID


def test_an_order_that_does_not_exist_has_no_sandbox_button(api, world):
    assert_error_shape(complete(api, 2_147_483_647, world.owner), 404)


# ---- WeChat Pay (its API played by a local stand-in) ------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> PayKeys:
    return PayKeys.generate()


@pytest.fixture(scope="module")
def standin_server(keys) -> Iterator[WeChatPayStandIn]:
    with running_standin(keys) as standin:
        yield standin


@pytest.fixture
def real_pay(app, monkeypatch, keys, standin_server) -> WeChatPayStandIn:
    """The app talks to WeChat Pay (the stand-in) instead of the sandbox; WeChat Pay needs an https notify_url."""
    standin_server.reset()
    client = WeChatPay(
        appid=keys.appid, mchid=keys.mchid, apiv3_key=keys.apiv3_key, merchant_serial_no=keys.merchant_serial_no,
        merchant_private_key=keys.merchant_private_key, public_key_id=keys.public_key_id,
        public_key=keys.platform_private_key.public_key(), api_base=standin_server.url, timeout=2.0,
    )
    monkeypatch.setitem(app.extensions, "linli_wechat_pay", client)
    monkeypatch.setitem(app.config, "LINLI_PUBLIC_URL", "https://linli.example.cn")
    yield standin_server
    client.http.close()


@pytest.fixture
def in_wechat(world) -> User:
    link_wechat(world.owner, IN_WECHAT_OPENID)
    return world.owner


def test_in_wechat_the_order_is_placed_with_wechat_pay_and_its_notification_pays_the_bill(
    api, client, world, real_pay, keys, in_wechat
):
    response = start(api, world.bill.id, in_wechat)

    assert response.status_code == 201, response.json
    body = response.json
    assert body["sandbox"] is False and body["order"]["provider"] == "wechat"
    (call,) = real_pay.calls
    assert call.authorized and call.status == 200
    assert call.body["amount"] == {"total": SHARE, "currency": "CNY"}
    assert call.body["payer"] == {"openid": IN_WECHAT_OPENID}
    assert call.body["notify_url"] == "https://linli.example.cn/api/v1/payments/wechat/notify"
    assert call.body["out_trade_no"] == body["order"]["out_trade_no"]
    assert body["pay_params"]["appId"] == keys.appid
    assert body["pay_params"]["package"] == f"prepay_id={real_pay.orders[call.body['out_trade_no']][1]}"

    headers, raw = notification(keys, call.body["out_trade_no"], "4200002100202601051234567890", SHARE,
                                IN_WECHAT_OPENID, now=utcnow())
    answer = client.post("/api/v1/payments/wechat/notify", data=raw, headers=headers)

    assert answer.status_code == 200 and answer.json == {"code": "SUCCESS", "message": "成功"}
    bill = db.session.get(Bill, world.bill.id)
    assert bill.status is BillStatus.PAID and bill.paid_fen == SHARE
    payment = db.session.scalar(select(Payment).where(Payment.bill_id == bill.id))
    assert payment.method is PaymentMethod.WECHAT and payment.transaction_id == "4200002100202601051234567890"


def test_wechat_pay_down_for_a_moment_is_503_and_the_retry_goes_through(api, world, real_pay, in_wechat):
    real_pay.fail_next(500, "SYSTEM_ERROR", "系统错误")

    refused = start(api, world.bill.id, in_wechat)

    assert_error_shape(refused, 503)
    assert "稍后" in refused.json["message"]
    retried = start(api, world.bill.id, in_wechat)
    assert retried.status_code == 201, retried.json
    assert retried.json["pay_params"]["package"].startswith("prepay_id=wx")


def test_wechat_pay_refusing_the_order_is_502(api, world, real_pay, in_wechat):
    real_pay.fail_next(400, "PARAM_ERROR", "参数错误")

    refused = start(api, world.bill.id, in_wechat)

    assert_error_shape(refused, 502)
    assert payments_of(world.bill.id) == 0


def test_a_budget_too_busy_to_hold_the_subsidy_is_503_to_try_again_shortly(api, world, monkeypatch):
    # Every compare-and-set on the policy's committed total lost to another payment.
    monkeypatch.setattr(subsidy_service, "_BUDGET_ATTEMPTS", 0)

    refused = start(api, world.bill.id, world.owner)

    assert_error_shape(refused, 503)
    assert (refused.json["message"], refused.headers["Retry-After"]) == ("同时缴费的人较多，请稍后再试", "1")
    assert orders_of(world.bill.id) == [] and grant_of(world.bill.id) is None


def test_outside_wechat_a_real_payment_cannot_start(api, world, real_pay):
    response = start(api, world.bill.id, world.owner)

    assert_error_shape(response, 409)
    assert response.json["message"] == "请在微信中打开本页面完成支付"
    assert real_pay.calls == [] and orders_of(world.bill.id) == []


def test_there_is_no_sandbox_button_with_wechat_pay(api, world, real_pay, in_wechat):
    order = start(api, world.bill.id, in_wechat).json["order"]

    assert_error_shape(complete(api, order["id"], in_wechat), 404)
    assert payments_of(world.bill.id) == 0


# ---- the desk and the bill's one live order (WeChat Pay played by the stand-in) -----------------------


def desk_cash(api, world: World, receipt_no: str = "XJ-0001"):
    return api("POST", f"/api/v1/bills/{world.bill.id}/offline-payments", world.staff,
               json={"method": "cash", "amount_fen": SHARE, "offline_receipt_no": receipt_no})


def close_online(api, world: World, user: User | None = None):
    return api("POST", f"/api/v1/bills/{world.bill.id}/online-payment/close", user or world.staff)


def test_the_bill_shows_the_online_payment_and_the_desk_is_offered_to_close_it(api, world, real_pay, in_wechat):
    order = start(api, world.bill.id, in_wechat).json["order"]

    as_staff = api("GET", f"/api/v1/bills/{world.bill.id}", world.staff).json
    assert as_staff["online_payment"] == {
        "id": order["id"], "provider": "wechat", "amount_fen": SHARE, "expires_at": order["expires_at"],
        "expired": False}
    assert as_staff["actions"] == ["close_online_payment"]
    as_owner = api("GET", f"/api/v1/bills/{world.bill.id}", in_wechat).json
    assert (as_owner["online_payment"]["id"], as_owner["actions"]) == (order["id"], ["pay"])


def test_the_desk_closes_the_wechat_order_before_cash_and_its_late_payment_is_an_overpayment(
    api, client, world, real_pay, keys, in_wechat
):
    order = start(api, world.bill.id, in_wechat).json["order"]
    number = order["out_trade_no"]

    refused = desk_cash(api, world)
    assert_error_shape(refused, 409)
    assert refused.json["message"].startswith("住户正在线上缴费（订单")
    assert "请先“查询并关闭线上支付”，再登记收款" in refused.json["message"]

    closed = close_online(api, world)

    assert closed.status_code == 200, closed.json
    assert (closed.json["outcome"], closed.json["message"], closed.json["payment"]) == (
        "closed", "已关闭住户未完成的线上支付，现在可以登记收款", None)
    [query], [close] = real_pay.calls_to("GET", "query"), real_pay.calls_to("POST", "close")
    assert query.authorized and close.authorized and close.status == 204
    assert query.path.endswith(number) and close.path.endswith(f"{number}/close")
    assert number in real_pay.closed
    assert desk_cash(api, world).status_code == 201
    settled = db.session.get(Bill, world.bill.id)
    paid_at, granted_at = settled.paid_at, grant_of(world.bill.id).granted_at

    # WeChat Pay takes the money of the order it closed all the same, and says so.
    headers, raw = real_pay.pay(number, "4200002100202601059999999999", now=utcnow(), paid_after_close=True)
    assert client.post("/api/v1/payments/wechat/notify", data=raw, headers=headers).status_code == 200

    db.session.expire_all()
    bill = db.session.get(Bill, world.bill.id)
    assert (bill.status, bill.paid_at, bill.paid_fen, bill.overpaid_fen) == (BillStatus.PAID, paid_at, 2 * SHARE,
                                                                              SHARE)
    grant = grant_of(world.bill.id)
    assert (grant.status, grant.granted_at, grant.amount_fen) == (GrantStatus.GRANTED, granted_at, SUBSIDY)
    assert db.session.scalar(select(SubsidyPolicy.committed_fen)) == SUBSIDY
    assert payments_of(world.bill.id) == 2
    detail = api("GET", f"/api/v1/bills/{world.bill.id}", world.committee).json
    assert (detail["overpaid_fen"], detail["actions"], detail["online_payment"]) == (SHARE, ["refund"], None)
    assert [line["method"] for line in detail["payments"]] == ["cash", "wechat"]


def test_the_desk_finds_an_order_paid_but_not_yet_notified_and_takes_no_cash(api, world, real_pay, in_wechat):
    number = start(api, world.bill.id, in_wechat).json["order"]["out_trade_no"]
    real_pay.pay(number, "4200002100202601058888888888", now=utcnow())

    checked = close_online(api, world)

    assert checked.status_code == 200, checked.json
    assert (checked.json["outcome"], checked.json["message"]) == ("paid", "住户的线上支付已完成，无需再收款")
    assert checked.json["payment"]["amount_fen"] == SHARE
    assert (checked.json["bill"]["status"], checked.json["bill"]["paid_fen"]) == ("paid", SHARE)
    assert real_pay.calls_to("POST", "close") == []
    assert desk_cash(api, world).json["message"] == "该账单已缴清"
    assert payments_of(world.bill.id) == 1


def test_wechat_pay_down_when_the_desk_asks_is_503_and_the_order_stays_live(api, world, real_pay, in_wechat):
    order = start(api, world.bill.id, in_wechat).json["order"]
    real_pay.fail_next(500)

    down = close_online(api, world)

    assert_error_shape(down, 503)
    assert db.session.get(PaymentOrder, order["id"]).live
    assert_error_shape(desk_cash(api, world), 409)
    assert close_online(api, world).json["outcome"] == "closed"


def test_an_order_the_payer_is_paying_cannot_be_closed(api, world, real_pay, in_wechat):
    order = start(api, world.bill.id, in_wechat).json["order"]
    real_pay.fail_next(202, "USER_PAYING", "用户支付中，需要输入密码", endpoint="close")

    answer = close_online(api, world)

    assert answer.status_code == 200, answer.json
    assert (answer.json["outcome"], answer.json["message"]) == ("open", "住户正在线上支付，暂时无法关闭，请稍后再查询")
    # Not believed closed: WeChat Pay is asked again, and still says NOTPAY.
    assert [call.status for call in real_pay.calls_to("GET", "query")] == [200, 200]
    assert db.session.get(PaymentOrder, order["id"]).live
    assert_error_shape(desk_cash(api, world), 409)


@pytest.mark.parametrize(("who", "status"), [("owner", 403), ("committee", 403), ("official", 403),
                                             ("neighbour", 404), ("other_staff", 404), (None, 401)])
def test_only_the_desk_closes_an_online_payment(api, world, real_pay, in_wechat, who, status):
    order = start(api, world.bill.id, in_wechat).json["order"]

    if who:
        answer = close_online(api, world, getattr(world, who))
    else:
        answer = api("POST", f"/api/v1/bills/{world.bill.id}/online-payment/close")
    assert_error_shape(answer, status)
    assert db.session.get(PaymentOrder, order["id"]).live
    assert real_pay.calls_to("GET", "query") == []


def test_wechat_pay_giving_no_prepay_id_leaves_no_order_blocking_the_household(api, world, real_pay, in_wechat):
    link_wechat(world.resident, "oUpF8uMuAJO_M2pxb1Q9zNjWeS7p")
    real_pay.fail_next(500)

    assert_error_shape(start(api, world.bill.id, in_wechat), 503)

    [abandoned] = orders_of(world.bill.id)
    assert not abandoned.live and abandoned.prepay_id == ""
    other = start(api, world.bill.id, world.resident)
    assert other.status_code == 201, other.json
    assert other.json["order"]["id"] != abandoned.id


# ---- receipts --------------------------------------------------------------------------------------


def receipt(api, payment_id: int, user: User | None):
    return api("GET", f"/api/v1/payments/{payment_id}/receipt", user)


def test_the_receipt_shows_number_household_period_bill_subsidy_paid_method_and_time(api, world):
    paid = paid_through_sandbox(api, world)

    response = receipt(api, paid["id"], world.owner)

    assert response.status_code == 200, response.json
    body = response.json
    assert body["receipt_no"] == paid["receipt_no"] and body["payment_id"] == paid["id"]
    assert (body["compound_name"], body["household_label"], body["period_label"]) == ("金沙小区", "1栋1单元101室",
                                                                                     "2026年1月")
    assert (body["bill_amount_fen"], body["subsidy_fen"], body["amount_fen"]) == (AMOUNT, SUBSIDY, SHARE)
    assert body["subsidy_fen"] + body["amount_fen"] == body["bill_amount_fen"]
    assert (body["method"], body["method_label"]) == ("sandbox", "模拟支付")
    assert body["paid_at"] == paid["paid_at"] and body["transaction_id"].startswith("sandbox")
    assert body["offline_receipt_no"] is None


def test_a_cash_receipt_carries_the_paper_receipts_number(api, world):
    # What the staff member takes is the household's share after the subsidy.
    payment = payment_service.record_offline_payment(world.bill.id, PaymentMethod.CASH, SHARE, "No.0042",
                                                     world.staff.id, "10.0.0.8")

    body = receipt(api, payment.id, world.owner).json

    assert (body["method"], body["method_label"], body["offline_receipt_no"]) == ("cash", "现金", "No.0042")
    assert (body["amount_fen"], body["subsidy_fen"]) == (SHARE, SUBSIDY) and body["transaction_id"] is None


@pytest.mark.parametrize("who", ["owner", "resident", "staff", "manager", "committee", "official"])
def test_the_household_and_those_who_see_the_bills_read_the_receipt(api, world, who):
    paid = paid_through_sandbox(api, world)

    response = receipt(api, paid["id"], getattr(world, who))

    assert response.status_code == 200 and response.json["receipt_no"] == paid["receipt_no"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("neighbour", 404), ("unverified", 404), ("stranger", 404), ("other_owner", 404), ("other_staff", 404),
     ("other_official", 404), (None, 401)],
)
def test_nobody_else_reads_the_receipt(api, world, who, status):
    paid = paid_through_sandbox(api, world)

    response = receipt(api, paid["id"], getattr(world, who) if who else None)

    assert_error_shape(response, status)
    assert paid["receipt_no"] not in response.get_data(as_text=True)


def test_a_receipt_that_does_not_exist_is_not_found(api, world):
    assert_error_shape(receipt(api, 2_147_483_647, world.owner), 404)
