"""Fee isolation: nobody reads or changes another household's bills, payments or refunds. Another compound's
staff, committee, manager and owner, an official of another area, a signed-in user bound to nothing and a
visitor who scanned this compound's poster get 404 from every bill endpoint (401 signed out) and change
nothing; a resident of another household in the same compound gets 404 for the bill and 403 for the desk's
lists. No refusal carries anything of the bill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel
from backend.domain.fees import PaymentMethod
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    AuditEvent,
    Bill,
    Compound,
    FeeSchedule,
    Household,
    Payment,
    PaymentOrder,
    Refund,
    SubsidyGrant,
    SubsidyPolicy,
)
from backend.services import payments as payment_service
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from backend.services.qr import make_entry_token
from backend.shared.clock import utcnow
from tests.fees_support import issue_bills_for, make_policy, make_schedule
from tests.support import assert_error_shape

T0 = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
HOME_LABEL = "1栋1单元101室"
PAPER_RECEIPT = "甲XJ0001"
REFUND_REASON = "甲户重复缴费退回"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=False):
        yield


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@dataclass
class World:
    a: Compound
    home: Household
    paid_bill: Bill  # January: paid twice (cash, then the owner's WeChat payment), partly refunded
    open_bill: Bill  # February: unpaid
    receipt_no: str
    callers: dict[str, dict[str, str]]


def build_world(area_tree, make_area, make_compound, make_user) -> World:
    _city, district, _street_a, community_a = area_tree
    street_b = make_area("B街道", AreaLevel.STREET, district)
    a = make_compound(name="甲小区", area=community_a, buildings=1, households_per_building=2)
    b = make_compound(name="乙小区", area=make_area("B社区", AreaLevel.COMMUNITY, street_b))
    home, other_home = db.session.scalars(
        select(Household).where(Household.compound_id == a.id).order_by(Household.id)
    ).all()
    b_home = db.session.scalars(select(Household).where(Household.compound_id == b.id)).first()
    for compound in (a, b):
        make_schedule(compound)
        make_policy(compound_id=compound.id)
        issue_bills_for(compound, JAN)
        issue_bills_for(compound, FEB)
    paid_bill, open_bill = db.session.scalars(
        select(Bill).where(Bill.household_id == home.id).order_by(Bill.period_start)
    ).all()

    owner, staff, committee = (make_user(Role.OWNER, a, household=home), make_user(Role.STAFF, a),
                               make_user(Role.COMMITTEE, a))
    # Paid twice: in cash once the owner's online order had expired (which closed it), then WeChat Pay took the
    # money of the closed order all the same.
    started_at = utcnow() - timedelta(minutes=20)
    order = payment_service.start_payment(paid_bill.id, owner, now=started_at).order
    out_trade_no, amount_fen, openid = order.out_trade_no, order.amount_fen, order.openid
    payment = payment_service.record_offline_payment(
        paid_bill.id, PaymentMethod.CASH, amount_fen, PAPER_RECEIPT, staff.id, None)
    payment_service.accept_notification(*wechat_pay().signed_notification(
        out_trade_no, "4200002100202601010000000002", amount_fen, openid))
    payment_service.refund_overpayment(paid_bill.id, 1, PaymentMethod.CASH, REFUND_REASON, committee.id, None)

    unbound = make_user()
    return World(
        a=a, home=home, paid_bill=paid_bill, open_bill=open_bill, receipt_no=payment.receipt_no,
        callers={
            "b_owner": bearer_for(make_user(Role.OWNER, b, household=b_home)),
            "b_staff": bearer_for(make_user(Role.STAFF, b)),
            "b_manager": bearer_for(make_user(Role.MANAGER, b)),
            "b_committee": bearer_for(make_user(Role.COMMITTEE, b)),
            "b_official": bearer_for(make_user(Role.OFFICIAL, area=street_b)),
            "unbound": bearer_for(unbound),
            "visitor_with_a_entry": bearer_for(unbound) | {"X-Entry-Token": make_entry_token(a)},
            "neighbour": bearer_for(make_user(Role.OWNER, a, household=other_home)),
        },
    )


@pytest.fixture
def world(built_once) -> World:
    """Built by the module's first test and kept for the others; what each test changes is rolled back."""
    return built_once(build_world)


def _bill(w: World, tail: str = "", bill: str = "open_bill") -> str:
    return f"/api/v1/bills/{getattr(w, bill).id}{tail}"


# (method, path, json body): everything that names a bill or the household of compound A.
BILL_ENDPOINTS = {
    "detail_paid": ("GET", lambda w: _bill(w, bill="paid_bill"), None),
    "detail_open": ("GET", lambda w: _bill(w), None),
    "household_bills": ("GET", lambda w: f"/api/v1/households/{w.home.id}/bills", None),
    "adjust": ("POST", lambda w: _bill(w, "/adjustments"), {"amount_fen": 1, "reason": "乙改"}),
    "waive": ("POST", lambda w: _bill(w, "/waiver"), {"reason": "乙免"}),
    "offline_payment": ("POST", lambda w: _bill(w, "/offline-payments"),
                        {"method": "cash", "amount_fen": 6094, "offline_receipt_no": "乙XJ1"}),
    "refund": ("POST", lambda w: _bill(w, "/refunds", "paid_bill"),
               {"amount_fen": 1, "method": "cash", "reason": "乙退"}),
    "close_online_payment": ("POST", lambda w: _bill(w, "/online-payment/close"), None),
}
# Everything that names compound A itself.
COMPOUND_ENDPOINTS = {
    "schedules": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/fee-schedules", None),
    "new_schedule": ("POST", lambda w: f"/api/v1/compounds/{w.a.id}/fee-schedules",
                     {"household_kind": "residential", "standard_fen_per_m2": 1, "effective_from": "2026-03-01",
                      "cycle": "monthly", "due_day": 1}),
    "bills": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/bills", None),
    "bills_of_january": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/bills?period=2026-01&status=paid", None),
    "my_bills": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/my-bills", None),
    "collection": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/collection", None),
    "collection_of_january": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/collection?period=2026-01", None),
    "arrears": ("GET", lambda w: f"/api/v1/compounds/{w.a.id}/arrears", None),
}
ENDPOINTS = BILL_ENDPOINTS | COMPOUND_ENDPOINTS
STRANGERS = sorted(["b_owner", "b_staff", "b_manager", "b_committee", "b_official", "unbound"])
# The fee standard is public to everyone of the compound, its poster's visitors included.
PUBLIC = {"schedules"}


def _call(client, w: World, name: str, headers: dict):
    method, path, body = ENDPOINTS[name]
    return client.open(path(w), method=method, json=body, headers=headers)


def _snapshot(w: World) -> tuple:
    db.session.expire_all()

    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    bills = db.session.execute(
        select(Bill.id, Bill.status, Bill.amount_fen, Bill.subsidy_fen, Bill.paid_fen, Bill.adjust_reason)
        .order_by(Bill.id)
    ).all()
    return (
        bills, count(Payment), count(Refund), count(PaymentOrder), count(SubsidyGrant), count(FeeSchedule),
        count(AuditEvent), db.session.scalars(select(SubsidyPolicy.committed_fen).order_by(SubsidyPolicy.id)).all(),
    )


def _assert_nothing_of_the_bill(w: World, response) -> None:
    text = response.get_data(as_text=True)
    for secret in (HOME_LABEL, w.receipt_no, PAPER_RECEIPT, REFUND_REASON):
        assert secret not in text, secret


@pytest.mark.parametrize("caller", STRANGERS)
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_nobody_of_another_compound_or_of_none_reaches_anything(client, world, caller, name):
    before = _snapshot(world)
    response = _call(client, world, name, world.callers[caller])
    assert_error_shape(response, 404)
    _assert_nothing_of_the_bill(world, response)
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_visitor_of_the_compound_sees_only_its_fee_standard(client, world, name):
    before = _snapshot(world)
    for headers in (world.callers["visitor_with_a_entry"], {"X-Entry-Token": make_entry_token(world.a)}):
        response = _call(client, world, name, headers)
        if name in PUBLIC:
            assert response.status_code == 200
        elif "Authorization" in headers:
            assert_error_shape(response, 404)
        else:
            assert_error_shape(response, 401)
        _assert_nothing_of_the_bill(world, response)
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_signed_out_reaches_nothing(client, world, name):
    before = _snapshot(world)
    response = _call(client, world, name, {})
    # Only the public fee standard answers without a token, and it needs a role or the poster's entry.
    assert_error_shape(response, 404 if name in PUBLIC else 401)
    _assert_nothing_of_the_bill(world, response)
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", sorted(BILL_ENDPOINTS))
def test_a_neighbour_does_not_learn_the_bill_exists(client, world, name):
    before = _snapshot(world)
    response = _call(client, world, name, world.callers["neighbour"])
    assert_error_shape(response, 404)
    _assert_nothing_of_the_bill(world, response)
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", sorted(set(COMPOUND_ENDPOINTS) - PUBLIC - {"my_bills"}))
def test_a_neighbour_is_refused_the_desks_lists(client, world, name):
    before = _snapshot(world)
    response = _call(client, world, name, world.callers["neighbour"])
    assert_error_shape(response, 403)
    _assert_nothing_of_the_bill(world, response)
    assert _snapshot(world) == before


def test_a_neighbours_own_bills_are_only_their_own(client, world):
    response = _call(client, world, "my_bills", world.callers["neighbour"])
    assert response.status_code == 200
    assert len(response.json) == 2 and world.home.id not in {line["household_id"] for line in response.json}
    _assert_nothing_of_the_bill(world, response)


def test_roles_in_this_compound_give_no_reach_into_anothers_bill(client, world, make_user):
    b_bill = db.session.scalar(select(Bill).where(Bill.compound_id != world.a.id).order_by(Bill.id))
    before = _snapshot(world)
    for role in (Role.COMMITTEE, Role.STAFF, Role.MANAGER):
        headers = bearer_for(make_user(role, world.a))
        assert_error_shape(client.get(f"/api/v1/bills/{b_bill.id}", headers=headers), 404)
        assert_error_shape(client.get(f"/api/v1/households/{b_bill.household_id}/bills", headers=headers), 404)
        for tail, body in (("/waiver", {"reason": "甲免"}),
                           ("/offline-payments", {"method": "cash", "amount_fen": 6094, "offline_receipt_no": "甲1"})):
            assert_error_shape(client.post(f"/api/v1/bills/{b_bill.id}{tail}", json=body, headers=headers), 404)
    assert _snapshot(world)[0] == before[0]


def test_the_bill_is_still_there_for_its_own_people(client, world, make_user):
    """The 404s above are about who asks, not a broken bill."""
    owner = bearer_for(make_user(Role.RESIDENT, world.a, household=world.home))
    detail = client.get(_bill(world, bill="paid_bill"), headers=owner)
    assert detail.status_code == 200 and detail.json["household_label"] == HOME_LABEL
    assert [line["receipt_no"] for line in detail.json["payments"]][0] == world.receipt_no
    assert detail.json["refunds"][0]["reason"] == REFUND_REASON
    committee = bearer_for(make_user(Role.COMMITTEE, world.a))
    refund = client.post(_bill(world, "/refunds", "paid_bill"), headers=committee,
                         json={"amount_fen": 1, "method": "cash", "reason": "再退1分"})
    assert refund.status_code == 201
