"""Several-months payments as a review probed them (money): a bill paid once and its subsidy held, granted or
released once whatever path touches a bill inside an order of several bills; the desk's entry refused whole;
another household's or compound's receipts hidden; bad input a 4xx, never a 500; the totals shown (the desk's,
全部缴清) what the payment takes when the budget runs out partway; a month its subsidy covers whole settled along
with the desk's several months."""
# The fixtures api and quarter are imported, and every test taking one by name "redefines" it.
# ruff: noqa: F811
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain.fees import PAYMENT_WINDOW, BillStatus, GrantStatus
from backend.domain.subsidy import add_months
from backend.extensions import db
from backend.models import Bill, Payment, PaymentOrder, PaymentOrderBill, Receipt, SubsidyGrant, SubsidyPolicy
from backend.services.payment_provider import wechat_pay
from backend.shared.clock import utcnow
from tests.api.test_payment_several_months import (  # noqa: F401 - api, quarter: fixtures
    SHARES,
    SUBSIDIES,
    api,
    count,
    desk,
    grants,
    notification,
    notify,
    pay_all,
    quarter,
    this_month,
)
from tests.fees_support import follow_up_payments
from tests.support import TEST_PASSWORD, assert_error_shape


@pytest.fixture
def phone_login(app):
    """A phone signed in as `user` through the password form; `.csrf` is the value its forms carry."""

    def open_as(user):
        browser = app.test_client()
        signed_in = browser.post("/h5/login/password", data={"username": user.username, "password": TEST_PASSWORD})
        assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:300]
        browser.csrf = browser.get_cookie("csrf_access_token").value
        return browser

    return open_as


def bill(bill_id: int) -> Bill:
    db.session.expire_all()
    return db.session.get(Bill, bill_id)


def committed(q) -> int:
    db.session.expire_all()
    return db.session.get(SubsidyPolicy, q.policy.id).committed_fen


def live_lines() -> list[tuple[int, int]]:
    return sorted(db.session.execute(select(PaymentOrderBill.bill_id, PaymentOrderBill.order_id)
                                     .where(PaymentOrderBill.live.is_(True))).all())


# ---- waive / adjust of a bill inside a live order of several bills ---------------------------------------------


@pytest.mark.parametrize("step", ["waiver", "adjustments"])
def test_waive_or_adjust_of_a_month_inside_a_live_multi_order_is_refused(api, quarter, step):
    order = pay_all(api, quarter).json["order"]
    body = {"reason": "困难户"} | ({"amount_fen": 100} if step == "adjustments" else {})

    response = api("POST", f"/api/v1/bills/{quarter.bills[1].id}/{step}", quarter.people["committee"], json=body)

    assert_error_shape(response, 409)
    assert bill(quarter.bills[1].id).status is BillStatus.UNPAID
    assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.HELD] * 3
    assert committed(quarter) == sum(SUBSIDIES)
    assert {order_id for _, order_id in live_lines()} == {order["id"]}


def test_waive_after_the_multi_order_expired_closes_it_frees_every_month_and_releases_only_its_own(api, client,
                                                                                                   quarter):
    order = pay_all(api, quarter).json["order"]
    later = utcnow() + PAYMENT_WINDOW + timedelta(minutes=1)

    with time_machine.travel(later, tick=False):
        waived = api("POST", f"/api/v1/bills/{quarter.bills[1].id}/waiver", quarter.people["committee"],
                     json={"reason": "困难户"})
        assert waived.status_code == 200, waived.json
        assert wechat_pay().query_order(order["out_trade_no"]).trade_state == "CLOSED"
        assert live_lines() == []
        # The waived month's subsidy goes back; the other two stay held for the household's next try.
        assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.HELD, GrantStatus.RELEASED,
                                                                     GrantStatus.HELD]
        assert committed(quarter) == SUBSIDIES[0] + SUBSIDIES[2]

        again = pay_all(api, quarter)
        assert again.status_code == 201, again.json
        assert [(line["bill_id"], line["amount_fen"]) for line in again.json["order"]["lines"]] == [
            (quarter.bills[0].id, SHARES[0]), (quarter.bills[2].id, SHARES[2])]
        assert notify(client, again.json["order"]["id"]).status_code == 200
        assert follow_up_payments() == 1
    assert committed(quarter) == SUBSIDIES[0] + SUBSIDIES[2]
    assert [grant.status for grant in grants(quarter.bills)] == [GrantStatus.GRANTED, GrantStatus.RELEASED,
                                                                 GrantStatus.GRANTED]
    assert bill(quarter.bills[1].id).status is BillStatus.WAIVED


# ---- a late notification after the desk closed the order and took the cash ------------------------------------


def test_a_late_payment_of_a_closed_multi_order_after_the_desk_took_cash_never_settles_or_grants_twice(
        api, client, quarter):
    order = pay_all(api, quarter).json["order"]
    headers, body = notification(order["id"])  # signed while the sandbox still had the order open
    closed = api("POST", f"/api/v1/bills/{quarter.bills[0].id}/online-payment/close", quarter.people["staff"])
    assert closed.json["outcome"] == "closed"
    taken = desk(api, quarter, [b.id for b in quarter.bills], sum(SHARES))
    assert taken.status_code == 201, taken.json

    late = client.post("/api/v1/payments/wechat/notify", data=body, headers=headers)

    # The money was taken: recorded, each month overpaid by its share (for the committee to refund), never
    # settled again, and no subsidy granted twice.
    assert late.status_code == 200, late.json
    assert (count(Receipt), count(Payment)) == (2, 6)
    for paid, share in zip(quarter.bills, SHARES, strict=True):
        row = bill(paid.id)
        assert (row.status, row.paid_fen, row.overpaid_fen) == (BillStatus.PAID, 2 * share, share)
    assert committed(quarter) == sum(SUBSIDIES)
    assert db.session.scalar(select(func.count()).select_from(SubsidyGrant)) == 3


# ---- the desk's paper receipt and several months ------------------------------------------------------------


def test_duplicate_bill_ids_at_the_desk_are_one_month_and_one_payment(api, quarter):
    first = quarter.bills[0].id
    response = desk(api, quarter, [first, first, first], SHARES[0])

    assert response.status_code == 201, response.json
    assert (count(Receipt), count(Payment)) == (1, 1)
    assert bill(first).paid_fen == SHARES[0]


def test_duplicate_bill_ids_online_are_one_line(api, quarter):
    first = quarter.bills[0].id
    response = pay_all(api, quarter, bill_ids=[first, first])

    assert response.status_code == 201, response.json
    assert [line["bill_id"] for line in response.json["order"]["lines"]] == [first]
    assert response.json["order"]["amount_fen"] == SHARES[0]


def test_a_paper_number_differing_only_in_width_or_spaces_is_the_same_paper(api, quarter):
    assert desk(api, quarter, [quarter.bills[0].id], SHARES[0], paper="SJ-0101").status_code == 201

    again = desk(api, quarter, [quarter.bills[1].id], SHARES[1], paper="  SJ-0101\u3000")

    assert_error_shape(again, 409)
    assert again.json["errors"] == {"offline_receipt_no": ["该收据号已登记过"]}


def test_the_desk_of_one_household_cannot_take_another_households_months_under_its_id(api, quarter):
    response = desk(api, quarter, [quarter.bills[0].id, quarter.neighbour_bill.id], SHARES[0] + 6187)

    assert_error_shape(response, 404)
    assert count(Payment) == 0


# ---- receipts and history: who reads them --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["neighbour", "other_owner", "other_staff", "other_official", "stranger"])
def test_a_receipt_of_several_months_is_hidden_from_others(api, client, quarter, who):
    notify(client, pay_all(api, quarter).json["order"]["id"])
    for payment_id in db.session.scalars(select(Payment.id)):
        assert_error_shape(api("GET", f"/api/v1/payments/{payment_id}/receipt", quarter.people[who]), 404)


def test_a_receipt_page_through_another_compounds_code_is_404(client, api, quarter, phone_login):
    notify(client, pay_all(api, quarter).json["order"]["id"])
    payment_id = db.session.scalar(select(func.min(Payment.id)))
    browser = phone_login(quarter.people["owner"])

    assert browser.get(f"/h5/c/{quarter.compound.code}/receipts/{payment_id}").status_code == 200
    assert browser.get(f"/h5/c/{quarter.other.code}/receipts/{payment_id}").status_code == 404
    assert browser.get(f"/h5/c/{quarter.other.code}/households/{quarter.home.id}/payments").status_code == 404


def test_the_neighbour_cannot_pay_all_through_the_page(quarter, phone_login):
    browser = phone_login(quarter.people["neighbour"])

    response = browser.post(f"/h5/c/{quarter.compound.code}/households/{quarter.home.id}/pay",
                            data={"csrf_token": browser.csrf})

    assert response.status_code == 404
    assert count(PaymentOrder) == 0


# ---- bad input: 4xx, never 500 -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"bill_ids": []}, {"bill_ids": [2147483648]}, {"bill_ids": [0]}, {"bill_ids": ["1"]}, {"bill_ids": [1.5]},
    {"bill_ids": "1"}, {"bill_ids": [[1]]}, {"bill_ids": [{"id": 1}]}, {"bill_ids": list(range(1, 122))},
    {"bill_ids": [-1]}, {"bill_ids": [10 ** 30]},
], ids=lambda body: str(body)[:40])
def test_pay_all_bad_bill_ids_are_422(api, quarter, body):
    response = pay_all(api, quarter, **body)

    assert_error_shape(response, 422)
    assert count(PaymentOrder) == 0


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"1", b"{", b'{"bill_ids": null, "x": 1}'])
def test_pay_all_odd_json_bodies_are_4xx(api, quarter, raw):
    response = api("POST", f"/api/v1/households/{quarter.home.id}/payments", quarter.people["owner"], data=raw,
                   content_type="application/json")

    assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize("body", [
    {"bill_ids": None}, {"bill_ids": [2147483648]}, {"amount_fen": -1}, {"amount_fen": 2 ** 31},
    {"amount_fen": "100"}, {"offline_receipt_no": ""}, {"offline_receipt_no": "x" * 33}, {"method": "wechat"},
    {"method": "sandbox"}, {"bill_ids": list(range(1, 122))}, {"amount_fen": 0}, {"offline_receipt_no": "SJ\x00"},
    {"offline_receipt_no": "\ud800"},
], ids=lambda body: str(body)[:40])
def test_desk_bad_input_is_4xx_and_records_nothing(api, quarter, body):
    payload = {"bill_ids": [b.id for b in quarter.bills], "method": "cash", "amount_fen": sum(SHARES),
               "offline_receipt_no": "SJ-9"} | body
    response = api("POST", f"/api/v1/households/{quarter.home.id}/offline-payments", quarter.people["staff"],
                   json=payload)

    assert 400 <= response.status_code < 500, response.json
    assert_error_shape(response, response.status_code)
    assert count(Payment) == 0


@pytest.mark.parametrize("form", [
    {"bill_ids": "abc"}, {"bill_ids": "99999999999"}, {"bill_ids": ""}, {"amount": "1e9"}, {"amount": "-1"},
    {"amount": "１２３"}, {"method": "wechat"},
], ids=lambda form: str(form))
def test_desk_page_bad_form_is_4xx(quarter, phone_login, form):
    browser = phone_login(quarter.people["staff"])
    data = {"csrf_token": browser.csrf, "form": "months", "bill_ids": [str(b.id) for b in quarter.bills], "method": "cash",
            "amount": f"{sum(SHARES) / 100:.2f}", "offline_receipt_no": "SJ-7"} | form

    response = browser.post(f"/h5/c/{quarter.compound.code}/fees/desk/households/{quarter.home.id}", data=data)

    assert 400 <= response.status_code < 500, response.status_code
    assert count(Payment) == 0


def test_the_neighbours_receipt_page_is_404(client, api, quarter, phone_login):
    notify(client, pay_all(api, quarter).json["order"]["id"])
    payment_id = db.session.scalar(select(func.min(Payment.id)))

    for who in ("neighbour", "other_owner", "other_staff"):
        browser = phone_login(quarter.people[who])
        assert browser.get(f"/h5/c/{quarter.compound.code}/receipts/{payment_id}").status_code == 404, who
        assert browser.get(f"/h5/c/{quarter.compound.code}/households/{quarter.home.id}/payments").status_code == 404


@pytest.mark.parametrize("reason", ["困难户\x00", "\ud800"])
def test_a_waiver_reason_with_a_nul_or_a_lone_surrogate_is_4xx(api, quarter, reason):
    response = api("POST", f"/api/v1/bills/{quarter.bills[0].id}/waiver", quarter.people["committee"],
                   json={"reason": reason})

    assert 400 <= response.status_code < 500, response.status_code


# ---- the totals shown when a budget runs out partway -----------------------------------------------------------


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def test_the_desks_shown_total_is_what_the_desk_takes_when_the_budget_runs_out_partway(quarter, phone_login):
    """The street's budget covers the oldest month's subsidy only: held oldest first, the two newer months get
    none, so the desk must take 3 × ¥121.88 − ¥60.94. The total the desk shows (and prefills) must be that sum, not
    the sum of each month's estimate as if it alone met the whole budget."""
    quarter.policy.budget_fen = SUBSIDIES[0]
    db.session.commit()
    owed = 3 * 12188 - SUBSIDIES[0]
    staff = phone_login(quarter.people["staff"])
    code, home = quarter.compound.code, quarter.home.id

    page = staff.get(f"/h5/c/{code}/fees/desk?household_id={home}").get_data(as_text=True)
    prefilled = re.search(r'id="desk-months-amount"[^>]*value="([0-9.]+)"', page).group(1)
    taken = staff.post(f"/h5/c/{code}/fees/desk/households/{home}", data={
        "csrf_token": staff.csrf, "form": "months", "bill_ids": [str(b.id) for b in quarter.bills], "method": "cash",
        "amount": prefilled, "offline_receipt_no": "SJ-0101"})

    assert prefilled == yuan(owed)
    assert taken.status_code == 302, re.findall(r'll-error[^>]*>([^<]*)<', taken.get_data(as_text=True))


def test_the_pay_all_button_says_what_the_order_will_charge_when_the_budget_runs_out_partway(api, quarter,
                                                                                             phone_login):
    quarter.policy.budget_fen = SUBSIDIES[0]
    db.session.commit()
    owner = phone_login(quarter.people["owner"])

    page = html.unescape(owner.get(f"/h5/c/{quarter.compound.code}/bills").get_data(as_text=True))
    shown = re.search(rf'id="pay-all-button-{quarter.home.id}">全部缴清 ¥([0-9.]+)', page).group(1)
    charged = pay_all(api, quarter).json["order"]["amount_fen"]

    assert charged == 3 * 12188 - SUBSIDIES[0]
    assert shown == yuan(charged)


def test_the_desks_default_several_months_entry_goes_through_when_one_month_is_fully_subsidised(quarter,
                                                                                                phone_login):
    """The oldest month is covered whole by the subsidy (a 100% first tier), the other two at 30%. The desk offers
    every month ticked with the total prefilled: taking it as offered must not be refused whole because the
    covered month has nothing to collect."""
    quarter.policy.period_start = add_months(this_month(), -2)
    quarter.policy.tiers = [[1, 10000], [24, 3000]]
    db.session.commit()
    staff = phone_login(quarter.people["staff"])
    code, home = quarter.compound.code, quarter.home.id

    page = staff.get(f"/h5/c/{code}/fees/desk?household_id={home}").get_data(as_text=True)
    ticked = re.findall(r'name="bill_ids" value="(\d+)"[^>]*checked', page)
    prefilled = re.search(r'id="desk-months-amount"[^>]*value="([0-9.]+)"', page).group(1)
    taken = staff.post(f"/h5/c/{code}/fees/desk/households/{home}", data={
        "csrf_token": staff.csrf, "form": "months", "bill_ids": ticked, "method": "cash", "amount": prefilled,
        "offline_receipt_no": "SJ-0101"})

    assert taken.status_code == 302, re.findall(r'll-error[^>]*>([^<]*)<', taken.get_data(as_text=True))


def fully_covered_oldest_month(q) -> list[int]:
    """The oldest month covered whole (a 100% first tier), the other two at 30%: what the two newer months owe."""
    q.policy.period_start = add_months(this_month(), -2)
    q.policy.tiers = [[1, 10000], [24, 3000]]
    db.session.commit()
    return [12188 - 3656, 12188 - 3656]


def test_the_desks_fully_subsidised_month_is_settled_with_its_subsidy_granted_and_no_payment(api, quarter):
    owed = fully_covered_oldest_month(quarter)
    response = desk(api, quarter, [b.id for b in quarter.bills], sum(owed))

    assert response.status_code == 201, response.json
    covered, *rest = quarter.bills
    assert [bill(b.id).status for b in quarter.bills] == [BillStatus.PAID] * 3
    assert [g.status for g in grants(quarter.bills)] == [GrantStatus.GRANTED] * 3
    assert grants([covered])[0].amount_fen == 12188
    assert sorted(db.session.scalars(select(Payment.bill_id))) == [b.id for b in rest]
    assert [p.amount_fen for p in db.session.scalars(select(Payment).order_by(Payment.bill_id))] == owed
    assert db.session.scalar(select(Receipt.amount_fen)) == sum(owed)


def test_the_desk_asks_the_rest_only_and_refuses_the_total_with_the_covered_month(api, quarter):
    owed = fully_covered_oldest_month(quarter)
    response = desk(api, quarter, [b.id for b in quarter.bills], sum(owed) + 12188)

    assert response.status_code == 422, response.json
    assert count(Payment) == 0
    assert [bill(b.id).status for b in quarter.bills] == [BillStatus.UNPAID] * 3


def test_a_desk_entry_with_nothing_to_collect_is_refused(api, quarter):
    fully_covered_oldest_month(quarter)
    covered = quarter.bills[0]

    several = desk(api, quarter, [covered.id], 1)
    single = api("POST", f"/api/v1/bills/{covered.id}/offline-payments", quarter.people["staff"],
                 json={"method": "cash", "amount_fen": 1, "offline_receipt_no": "SJ-0102"})

    assert_error_shape(several, 409)
    assert "补贴已全额抵扣" in several.json["message"]
    assert_error_shape(single, 409)
    assert "补贴已全额抵扣" in single.json["message"]
    assert bill(covered.id).status is BillStatus.UNPAID
    assert count(Payment) == count(Receipt) == 0


def test_a_subsidy_already_held_keeps_its_figure_in_the_total_shown(api, quarter, phone_login):
    """The oldest month's subsidy is held (a single-month order) before the budget is cut to nothing: 全部缴清 counts
    it, the two newer months none, and is what the order charges."""
    api("POST", f"/api/v1/bills/{quarter.bills[0].id}/payments", quarter.people["owner"], json={})
    policy = db.session.get(SubsidyPolicy, quarter.policy.id)
    policy.budget_fen = policy.committed_fen
    db.session.commit()
    owner = phone_login(quarter.people["owner"])

    page = html.unescape(owner.get(f"/h5/c/{quarter.compound.code}/bills").get_data(as_text=True))
    shown = re.search(rf'id="pay-all-button-{quarter.home.id}">全部缴清 ¥([0-9.]+)', page).group(1)
    charged = pay_all(api, quarter).json["order"]["amount_fen"]

    assert charged == 3 * 12188 - SUBSIDIES[0]
    assert shown == yuan(charged)
