"""Paying several months at once (issue 15): one WeChat Pay order for every unpaid bill of a household, each bill's
subsidy held exactly as paying it alone would hold it (a budget running out partway included), one notification
recording one payment per bill on one receipt however often it comes, the order's expiry giving every held
subsidy back; the desk taking several months under one amount and one paper receipt number, refusing the whole
entry when one month is wrong; the household's payment history; the payer's 缴费成功 notice. Another compound's
or another household's bills are none of the caller's (404)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.fees import ABANDONED_HOLD_AFTER, PAYMENT_WINDOW, BillingCycle, BillStatus, GrantStatus
from backend.domain.notifications import FEE_PAID
from backend.domain.roles import Role
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.models import (
    AuditEvent,
    Bill,
    Compound,
    Household,
    Notice,
    Payment,
    PaymentOrder,
    PaymentOrderBill,
    PropertyCompany,
    Receipt,
    SubsidyGrant,
    SubsidyPolicy,
    User,
)
from backend.services import subsidies as subsidy_service
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from backend.shared.clock import beijing_date, utcnow
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.support import assert_error_shape

# 1栋1单元101 is 81.25 m² at ¥1.50: 12188 fen a month. The street's transition period began 13 months before
# this one, so the oldest of the three months is the last at 50% and the other two are at 30%.
AMOUNT = 12188
SUBSIDIES = [6094, 3656, 3656]
SHARES = [AMOUNT - subsidy for subsidy in SUBSIDIES]


def this_month():
    return beijing_date(utcnow()).replace(day=1)


@dataclass
class Quarter:
    compound: Compound
    other: Compound
    home: Household
    bills: list[Bill]  # the household's three months, oldest first
    neighbour_bill: Bill
    other_bill: Bill
    policy: SubsidyPolicy
    people: dict[str, User]


def households_of(compound: Compound) -> list[Household]:
    return list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                   .order_by(Household.id)))


def three_months(compound: Compound) -> list[Bill]:
    """The compound's bills of the last three months (this one included), monthly at ¥1.50."""
    first = add_months(this_month(), -2)
    make_schedule(compound, effective_from=first, cycle=BillingCycle.MONTHLY)
    return [bill for month in range(3) for bill in issue_bills_for(compound, add_months(first, month))]


@pytest.fixture
def quarter(area_tree, make_area, make_compound, make_user) -> Quarter:
    _, _, street, community = area_tree
    company = PropertyCompany(name="攀枝花金沙物业服务有限公司", credit_code="91510400MA6XYZ1234")
    db.session.add(company)
    compound = make_compound(name="金沙小区", area=community, buildings=1, households_per_building=2)
    compound.property_company_id = company.id
    other = make_compound(name="东华小区", area=community, buildings=1, households_per_building=1)
    policy = make_policy(area_id=street.id, period_start=add_months(this_month(), -13))
    bills = three_months(compound)
    other_bill = three_months(other)[0]
    home, neighbour_home = households_of(compound)
    mine = sorted((bill for bill in bills if bill.household_id == home.id), key=lambda bill: bill.period_start)
    people = {
        "owner": make_user(Role.OWNER, compound, household=home),
        "tenant": make_user(Role.RESIDENT, compound, household=home),
        "neighbour": make_user(Role.OWNER, compound, household=neighbour_home),
        "staff": make_user(Role.STAFF, compound),
        "manager": make_user(Role.MANAGER, compound),
        "committee": make_user(Role.COMMITTEE, compound),
        "official": make_user(Role.OFFICIAL, area=street),
        "other_owner": make_user(Role.OWNER, other, household=households_of(other)[0]),
        "other_staff": make_user(Role.STAFF, other),
        "other_official": make_user(Role.OFFICIAL, area=make_area("东区")),
        "stranger": make_user(),
    }
    people["owner"].display_name = "王建国"
    db.session.commit()
    return Quarter(compound=compound, other=other, home=home, bills=mine,
                   neighbour_bill=next(bill for bill in bills if bill.household_id == neighbour_home.id),
                   other_bill=other_bill, policy=policy, people=people)


@pytest.fixture
def api(client):
    def call(method: str, path: str, user: User | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def pay_all(api, q: Quarter, user: User | None = None, **body):
    return api("POST", f"/api/v1/households/{q.home.id}/payments", user or q.people["owner"], json=body)


def notification(order_id: int):
    """The notification WeChat Pay sends for the order's payment (the sandbox signs it)."""
    order = db.session.get(PaymentOrder, order_id)
    return wechat_pay().signed_notification(order.out_trade_no, f"42000021{order_id:020d}", order.amount_fen,
                                            order.openid)


def notify(client, order_id: int):
    headers, body = notification(order_id)
    return client.post("/api/v1/payments/wechat/notify", data=body, headers=headers)


def grants(bills: list[Bill]) -> list[SubsidyGrant]:
    db.session.expire_all()
    by_bill = {grant.bill_id: grant for grant in db.session.scalars(
        select(SubsidyGrant).where(SubsidyGrant.bill_id.in_([bill.id for bill in bills])))}
    return [by_bill.get(bill.id) for bill in bills]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---- one order for several bills ------------------------------------------------------------------------------


def test_one_order_pays_every_unpaid_month_of_the_household(api, client, quarter):
    response = pay_all(api, quarter)

    assert response.status_code == 201, response.json
    body = response.json
    order = body["order"]
    assert [bill["id"] for bill in body["bills"]] == [bill.id for bill in quarter.bills]
    assert [(line["bill_id"], line["amount_fen"], line["subsidy_fen"]) for line in order["lines"]] == [
        (bill.id, share, subsidy) for bill, share, subsidy in zip(quarter.bills, SHARES, SUBSIDIES, strict=True)]
    assert (order["amount_fen"], order["subsidy_fen"]) == (sum(SHARES), sum(SUBSIDIES))
    assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.HELD] * 3
    assert db.session.get(SubsidyPolicy, quarter.policy.id).committed_fen == sum(SUBSIDIES)

    assert notify(client, order["id"]).status_code == 200
    assert follow_up_payments() == 1

    db.session.expire_all()
    assert [(bill.status, bill.paid_fen) for bill in map(lambda b: db.session.get(Bill, b.id), quarter.bills)] == [
        (BillStatus.PAID, share) for share in SHARES]
    assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.GRANTED] * 3
    [receipt] = db.session.scalars(select(Receipt)).all()
    assert (receipt.amount_fen, receipt.order_id, receipt.payer_id) == (sum(SHARES), order["id"],
                                                                        quarter.people["owner"].id)
    payments = db.session.scalars(select(Payment).order_by(Payment.bill_id)).all()
    assert [(p.bill_id, p.amount_fen, p.subsidy_fen, p.receipt_id) for p in payments] == [
        (bill.id, share, subsidy, receipt.id)
        for bill, share, subsidy in zip(quarter.bills, SHARES, SUBSIDIES, strict=True)]


def test_the_bills_named_are_paid_and_the_rest_left(api, client, quarter):
    response = pay_all(api, quarter, bill_ids=[quarter.bills[0].id, quarter.bills[2].id])

    assert response.status_code == 201, response.json
    assert [line["bill_id"] for line in response.json["order"]["lines"]] == [quarter.bills[0].id,
                                                                             quarter.bills[2].id]
    assert response.json["order"]["amount_fen"] == SHARES[0] + SHARES[2]
    assert [grant is not None for grant in grants(quarter.bills)] == [True, False, True]


def test_one_notification_delivered_twenty_times_pays_each_bill_once_on_one_receipt(api, client, quarter):
    order_id = pay_all(api, quarter).json["order"]["id"]
    headers, body = notification(order_id)

    statuses = {client.post("/api/v1/payments/wechat/notify", data=body, headers=headers).status_code
                for _ in range(20)}

    assert statuses == {200}
    assert follow_up_payments() == 1
    assert (count(Receipt), count(Payment)) == (1, 3)
    db.session.expire_all()
    for bill, share in zip(quarter.bills, SHARES, strict=True):
        paid = db.session.get(Bill, bill.id)
        assert (paid.status, paid.paid_fen, paid.overpaid_fen) == (BillStatus.PAID, share, 0)
    assert db.session.get(SubsidyPolicy, quarter.policy.id).committed_fen == sum(SUBSIDIES)
    # The payer hears of it once, in a sentence, with the receipt's link.
    [notice] = db.session.scalars(select(Notice).where(Notice.kind == FEE_PAID)).all()
    first = db.session.scalar(select(func.min(Payment.id)))
    last = add_months(this_month(), 0)
    oldest = add_months(this_month(), -2)
    span = (f"{oldest.year}年{oldest.month}月—{last.month}月" if oldest.year == last.year
            else f"{oldest.year}年{oldest.month}月—{last.year}年{last.month}月")
    assert (notice.title, notice.body, notice.link) == (
        "缴费成功", f"您已缴纳1栋1单元101室 {span}物业费 ¥{sum(SHARES) // 100}.{sum(SHARES) % 100:02d}，点击查看收据",
        f"/h5/c/{quarter.compound.code}/receipts/{first}")


def test_a_notification_for_another_total_is_refused_and_nothing_recorded(api, client, quarter):
    order = db.session.get(PaymentOrder, pay_all(api, quarter).json["order"]["id"])
    # What one bill of the order would cost: not the order's total.
    headers, body = wechat_pay().signed_notification(order.out_trade_no, "4200002100000000000000000001",
                                                     SHARES[0], order.openid)

    response = client.post("/api/v1/payments/wechat/notify", data=body, headers=headers)

    assert_error_shape(response, 400)
    assert (count(Receipt), count(Payment)) == (0, 0)
    assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.HELD] * 3


def test_the_payer_asking_again_gets_the_same_order_and_the_tenant_is_refused(api, quarter):
    first = pay_all(api, quarter).json["order"]

    again = pay_all(api, quarter).json["order"]
    tenant = pay_all(api, quarter, quarter.people["tenant"])
    one_month = api("POST", f"/api/v1/bills/{quarter.bills[1].id}/payments", quarter.people["tenant"])

    assert (again["id"], again["amount_fen"]) == (first["id"], first["amount_fen"])
    assert_error_shape(tenant, 409)
    assert tenant.json["message"] == "所选账单中有正在进行的支付，请完成支付或15分钟后再试"
    assert_error_shape(one_month, 409)
    assert count(PaymentOrder) == 1


def test_paying_one_month_then_all_closes_the_first_order_and_no_bill_is_in_two(api, client, quarter):
    single = api("POST", f"/api/v1/bills/{quarter.bills[0].id}/payments", quarter.people["owner"]).json["order"]

    several = pay_all(api, quarter).json["order"]

    assert several["id"] != single["id"]
    assert wechat_pay().query_order(single["out_trade_no"]).trade_state == "CLOSED"
    live = db.session.execute(select(PaymentOrderBill.bill_id, func.count()).where(PaymentOrderBill.live.is_(True))
                              .group_by(PaymentOrderBill.bill_id)).all()
    assert sorted(live) == sorted((bill.id, 1) for bill in quarter.bills)
    # The first order's subsidy was held once and is the one the bill keeps.
    assert db.session.get(SubsidyPolicy, quarter.policy.id).committed_fen == sum(SUBSIDIES)


@pytest.mark.parametrize("refusal", ["paid", "waived", "another household", "another compound"])
def test_one_bill_that_cannot_be_paid_refuses_the_whole_order(api, client, quarter, refusal):
    bills = [bill.id for bill in quarter.bills]
    if refusal == "paid":
        order = api("POST", f"/api/v1/bills/{bills[1]}/payments", quarter.people["owner"]).json["order"]
        notify(client, order["id"])
    elif refusal == "waived":
        api("POST", f"/api/v1/bills/{bills[1]}/waiver", quarter.people["committee"], json={"reason": "困难户"})
    else:
        bills.append((quarter.neighbour_bill if refusal == "another household" else quarter.other_bill).id)
    before = count(PaymentOrder)

    response = pay_all(api, quarter, bill_ids=bills)

    if refusal in ("paid", "waived"):
        assert_error_shape(response, 409)
        assert response.json["errors"]["bill_ids"] == [response.json["message"]]
        assert response.json["message"].endswith("该账单已缴清" if refusal == "paid" else "该账单已减免，无需缴费")
    else:
        assert_error_shape(response, 404)
    assert count(PaymentOrder) == before
    assert all(grant is None for grant in grants([quarter.bills[0], quarter.bills[2]]))


@pytest.mark.parametrize(("who", "status"), [
    ("neighbour", 404), ("other_owner", 404), ("other_staff", 404), ("other_official", 404), ("stranger", 404),
    ("staff", 403), ("committee", 403), ("official", 403),
])
def test_only_the_household_pays_its_months(api, quarter, who, status):
    assert_error_shape(pay_all(api, quarter, quarter.people[who]), status)
    assert_error_shape(api("POST", "/api/v1/households/2147483647/payments", quarter.people["owner"], json={}),
                       404)
    assert count(PaymentOrder) == 0 and count(SubsidyGrant) == 0


def test_no_bill_left_to_pay_is_said_so(api, client, quarter):
    notify(client, pay_all(api, quarter).json["order"]["id"])

    response = pay_all(api, quarter)

    assert_error_shape(response, 409)
    assert response.json["message"] == "没有待缴的账单"


# ---- the subsidy of each bill is what paying it alone would hold -----------------------------------------------


@pytest.fixture
def twins(area_tree, make_compound, make_user):
    """Two compounds alike (households, fees, months), each with its own policy and budget: the first household
    of one pays three months at once, the other's pays them one by one, oldest first."""

    def make(budget_fen: int | None):
        pair = []
        for name in ("甲小区", "乙小区"):
            compound = make_compound(name=name, area=area_tree[3], buildings=1, households_per_building=1)
            make_policy(compound_id=compound.id, period_start=add_months(this_month(), -13), budget_fen=budget_fen)
            bills = sorted(three_months(compound), key=lambda bill: bill.period_start)
            owner = make_user(Role.OWNER, compound, household=households_of(compound)[0])
            pair.append((bills, owner))
        return pair

    return make


@pytest.mark.parametrize("budget_fen", [None, SUBSIDIES[0] + 1000, SUBSIDIES[0], 0],
                         ids=["no budget", "runs out in the second month", "runs out after the first", "empty"])
def test_each_bill_holds_the_subsidy_paying_it_alone_would_hold(api, client, twins, budget_fen):
    (together, payer), (one_by_one, other_payer) = twins(budget_fen)

    order = api("POST", f"/api/v1/households/{together[0].household_id}/payments", payer, json={}).json["order"]
    for bill in one_by_one:
        alone = api("POST", f"/api/v1/bills/{bill.id}/payments", other_payer).json["order"]
        assert notify(client, alone["id"]).status_code == 200
    assert notify(client, order["id"]).status_code == 200

    held_together = [grant.amount_fen for grant in grants(together)]
    held_alone = [grant.amount_fen for grant in grants(one_by_one)]
    assert held_together == held_alone
    if budget_fen is not None:
        assert sum(held_together) == min(budget_fen, sum(SUBSIDIES))
    db.session.expire_all()
    for bill, subsidy in zip(together, held_together, strict=True):
        paid = db.session.get(Bill, bill.id)
        assert (paid.status, paid.subsidy_fen, paid.paid_fen + paid.subsidy_fen) == (BillStatus.PAID, subsidy, AMOUNT)


# ---- expiry, the desk closing it, abandonment ------------------------------------------------------------------


def test_an_abandoned_order_of_several_bills_gives_every_held_subsidy_back(api, quarter):
    pay_all(api, quarter)
    assert db.session.get(SubsidyPolicy, quarter.policy.id).committed_fen == sum(SUBSIDIES)
    later = utcnow() + PAYMENT_WINDOW + ABANDONED_HOLD_AFTER + timedelta(minutes=1)

    with time_machine.travel(later, tick=False):
        released = [subsidy_service.release_abandoned_hold(bill_id, later)
                    for bill_id in subsidy_service.abandoned_hold_bill_ids(later)]
        db.session.commit()

    assert released == [True, True, True]
    assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.RELEASED] * 3
    assert db.session.get(SubsidyPolicy, quarter.policy.id).committed_fen == 0


def test_the_desk_closing_the_order_frees_every_bill_of_it(api, quarter):
    order = pay_all(api, quarter).json["order"]

    response = api("POST", f"/api/v1/bills/{quarter.bills[2].id}/online-payment/close", quarter.people["staff"])

    assert response.status_code == 200 and response.json["outcome"] == "closed"
    assert wechat_pay().query_order(order["out_trade_no"]).trade_state == "CLOSED"
    assert db.session.scalar(select(func.count()).select_from(PaymentOrderBill)
                             .where(PaymentOrderBill.live.is_(True))) == 0
    # Every month can now be taken at the desk, under one paper receipt.
    taken = desk(api, quarter, [bill.id for bill in quarter.bills], sum(SHARES))
    assert taken.status_code == 201, taken.json


# ---- the desk: several months, one amount, one paper receipt ------------------------------------------------


def desk(api, q: Quarter, bill_ids: list[int], amount_fen: int, paper: str = "SJ-0101", user: User | None = None):
    return api("POST", f"/api/v1/households/{q.home.id}/offline-payments", user or q.people["staff"],
               json={"bill_ids": bill_ids, "method": "cash", "amount_fen": amount_fen, "offline_receipt_no": paper})


def test_the_desk_takes_several_months_under_one_amount_and_one_paper_receipt(api, quarter):
    response = desk(api, quarter, [bill.id for bill in quarter.bills], sum(SHARES))

    assert response.status_code == 201, response.json
    body = response.json
    assert (body["total_fen"], body["offline_receipt_no"], body["method"]) == (sum(SHARES), "SJ-0101", "cash")
    assert [(line["bill_id"], line["amount_fen"], line["subsidy_fen"]) for line in body["lines"]] == [
        (bill.id, share, subsidy) for bill, share, subsidy in zip(quarter.bills, SHARES, SUBSIDIES, strict=True)]
    assert (count(Receipt), count(Payment)) == (1, 3)
    db.session.expire_all()
    assert {db.session.get(Bill, bill.id).status for bill in quarter.bills} == {BillStatus.PAID}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "payment.offline")).all()
    assert sorted(event.after["bill_id"] for event in events) == [bill.id for bill in quarter.bills]
    # The paper receipt's number is used once in the compound, whatever it covered.
    again = desk(api, quarter, [quarter.neighbour_bill.id], 8532, user=quarter.people["staff"])
    assert_error_shape(again, 404)
    neighbour = api("POST", f"/api/v1/bills/{quarter.neighbour_bill.id}/offline-payments", quarter.people["staff"],
                    json={"method": "cash", "amount_fen": 12375 - 6188, "offline_receipt_no": "SJ-0101"})
    assert_error_shape(neighbour, 409)
    assert neighbour.json["errors"] == {"offline_receipt_no": ["该收据号已登记过"]}


@pytest.mark.parametrize("wrong", ["amount", "paid", "waived", "online order", "another household",
                                   "another compound"])
def test_one_wrong_month_refuses_the_whole_desk_entry_and_records_nothing(api, client, quarter, wrong):
    bills, amount = [bill.id for bill in quarter.bills], sum(SHARES)
    if wrong == "amount":
        amount -= 1
    elif wrong == "paid":
        notify(client, api("POST", f"/api/v1/bills/{bills[1]}/payments", quarter.people["owner"]).json["order"]["id"])
    elif wrong == "waived":
        api("POST", f"/api/v1/bills/{bills[1]}/waiver", quarter.people["committee"], json={"reason": "困难户"})
    elif wrong == "online order":
        api("POST", f"/api/v1/bills/{bills[1]}/payments", quarter.people["owner"])
    else:
        bills.append((quarter.neighbour_bill if wrong == "another household" else quarter.other_bill).id)
    receipts, payments = count(Receipt), count(Payment)

    response = desk(api, quarter, bills, amount)

    expected = {"amount": (422, "amount_fen"), "paid": (409, "bill_ids"), "waived": (409, "bill_ids"),
                "online order": (409, "bill_ids")}.get(wrong, (404, None))
    assert_error_shape(response, expected[0])
    if expected[1]:
        assert response.json["errors"] == {expected[1]: [response.json["message"]]}
    if wrong == "amount":
        assert "¥231.58" in response.json["message"]
    assert (count(Receipt), count(Payment)) == (receipts, payments)
    db.session.expire_all()
    assert db.session.get(Bill, quarter.bills[0].id).status is BillStatus.UNPAID
    assert grants([quarter.bills[0]]) == [None]


@pytest.mark.parametrize(("who", "status"), [("owner", 403), ("committee", 403), ("other_staff", 404),
                                             ("stranger", 404)])
def test_only_the_compounds_staff_take_several_months(api, quarter, who, status):
    response = desk(api, quarter, [bill.id for bill in quarter.bills], sum(SHARES), user=quarter.people[who])

    assert_error_shape(response, status)
    assert count(Payment) == 0


# ---- the household's payment history and the receipt ----------------------------------------------------------


def test_the_history_lists_receipts_newest_first_with_each_bill(api, client, quarter):
    notify(client, api("POST", f"/api/v1/bills/{quarter.bills[0].id}/payments",
                       quarter.people["owner"]).json["order"]["id"])
    desk(api, quarter, [quarter.bills[1].id, quarter.bills[2].id], SHARES[1] + SHARES[2])

    response = api("GET", f"/api/v1/households/{quarter.home.id}/payments", quarter.people["tenant"])

    assert response.status_code == 200, response.json
    body = response.json
    assert body["total"] == 2 and body["page"] == 1
    cash, online = body["items"]
    assert (cash["method"], cash["amount_fen"], cash["offline_receipt_no"]) == ("cash", SHARES[1] + SHARES[2],
                                                                                "SJ-0101")
    assert [line["bill_id"] for line in cash["lines"]] == [quarter.bills[1].id, quarter.bills[2].id]
    assert (online["method"], online["amount_fen"], [line["bill_id"] for line in online["lines"]]) == (
        "sandbox", SHARES[0], [quarter.bills[0].id])
    receipt = api("GET", cash["receipt_url"], quarter.people["tenant"]).json
    assert (receipt["receipt_no"], receipt["total_fen"], len(receipt["lines"])) == (
        cash["receipt_no"], SHARES[1] + SHARES[2], 2)


@pytest.mark.parametrize(("who", "status"), [
    ("owner", 200), ("tenant", 200), ("staff", 200), ("manager", 200), ("committee", 200), ("official", 200),
    ("neighbour", 404), ("other_owner", 404), ("other_staff", 404), ("other_official", 404), ("stranger", 404),
])
def test_the_history_is_for_the_household_and_those_who_keep_the_books(api, quarter, who, status):
    response = api("GET", f"/api/v1/households/{quarter.home.id}/payments", quarter.people[who])

    assert response.status_code == status, response.json
    if status == 404:
        assert_error_shape(response, 404)
    assert_error_shape(api("GET", f"/api/v1/households/{quarter.home.id}/payments"), 401)


def test_the_receipt_lists_each_bill_the_payee_and_the_masked_payer(api, client, quarter):
    notify(client, pay_all(api, quarter).json["order"]["id"])
    payment_id = db.session.scalar(select(func.max(Payment.id)))

    body = api("GET", f"/api/v1/payments/{payment_id}/receipt", quarter.people["committee"]).json

    assert (body["payee_name"], body["payer_household"], body["payer_name"]) == (
        "攀枝花金沙物业服务有限公司", "1栋1单元101室", "王**")
    assert [(line["period_start"], line["bill_amount_fen"], line["subsidy_fen"], line["amount_fen"])
            for line in body["lines"]] == [
        (bill.period_start.isoformat(), AMOUNT, subsidy, share)
        for bill, subsidy, share in zip(quarter.bills, SUBSIDIES, SHARES, strict=True)]
    assert (body["bill_total_fen"], body["subsidy_total_fen"], body["total_fen"]) == (
        3 * AMOUNT, sum(SUBSIDIES), sum(SHARES))
    assert body["bill_total_fen"] == body["subsidy_total_fen"] + body["total_fen"]
    assert_error_shape(api("GET", f"/api/v1/payments/{payment_id}/receipt", quarter.people["other_staff"]), 404)


def test_planning_several_months_reads_the_grants_and_the_policy_once_however_many_months(quarter, count_queries):
    """全部缴清 and the desk plan every month shown together: no statement per month."""
    bills = quarter.bills

    def statements(shown: list[Bill]) -> int:
        db.session.expire_all()
        shown = [db.session.get(Bill, bill.id) for bill in shown]
        for bill in shown:
            assert bill.compound is not None
        with count_queries() as seen:
            subsidy_service.planned_subsidies(shown)
        return len(seen)

    assert statements(bills[:1]) == statements(bills)
