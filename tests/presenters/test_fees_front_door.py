"""One front door for fees: every role reads a bill, in every state a bill goes through, through the API and through
the page, and both show the same figures (物业费, 补贴, 应缴, 已缴, to the fen) and offer the same actions — the API
in `actions`, the page as the forms and links it marks `data-action`. The same for the household's list of bills
(my bills): the same bills with the same figures."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from backend.domain.fees import PaymentMethod
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Bill, Compound, Household, User
from backend.services import fees as fee_service
from backend.services import payments as payment_service
from backend.services.auth import issue_tokens
from backend.services.payment_provider import wechat_pay
from tests.fees_support import issue_bills_for, make_policy, make_schedule

pytestmark = pytest.mark.calendar

# 10:00 on 20 January 2026 in Beijing: January's bills were due on the 15th.
T0 = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)
JANUARY = date(2026, 1, 1)
ROLES = ["owner", "resident", "neighbour", "staff", "manager", "committee", "official", "stranger"]
STATES = ["unpaid", "partly_subsidised", "live_order", "expired_order", "paid", "waived", "overpaid"]
MONEY = re.compile(r"¥([0-9,]+)\.([0-9]{2})")

# What each role may do with the household's bill in each state (None: the bill is hidden from them, 404). The
# API and the page are compared with each other; this table keeps the comparison from passing on two empty lists.
RUNS_THE_BILL = {"owner": ["pay"], "resident": ["pay"], "staff": ["record_payment"],
                 "manager": ["record_payment"], "committee": ["adjust", "waive"], "official": ["adjust", "waive"]}
EXPECTED = {
    "unpaid": RUNS_THE_BILL,
    "partly_subsidised": RUNS_THE_BILL,
    # The resident may be paying it now: the desk closes it before it may take cash.
    "live_order": RUNS_THE_BILL | {"staff": ["close_online_payment"], "manager": ["close_online_payment"]},
    # Expired: recording cash settles it with WeChat Pay first, or the desk closes it.
    "expired_order": RUNS_THE_BILL | {"staff": ["record_payment", "close_online_payment"],
                                      "manager": ["record_payment", "close_online_payment"]},
    "paid": dict.fromkeys(RUNS_THE_BILL, []),
    "waived": dict.fromkeys(RUNS_THE_BILL, []),
    "overpaid": dict.fromkeys(RUNS_THE_BILL, []) | {"committee": ["refund"], "official": ["refund"]},
}


@dataclass
class World:
    compound: Compound
    bill: Bill
    people: dict[str, User]


@pytest.fixture(autouse=True)
def travel():
    with time_machine.travel(T0, tick=False):
        yield


def build(state: str, make_compound, make_user, area_tree) -> World:
    compound = make_compound(name="金沙苑小区", area=area_tree[3], buildings=2, households_per_building=2)
    homes = list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)))
    other = make_compound(name="五十四街坊")
    people = {
        "owner": make_user(Role.OWNER, compound, household=homes[0]),
        "resident": make_user(Role.RESIDENT, compound, household=homes[0]),
        "neighbour": make_user(Role.OWNER, compound, household=homes[1]),
        "staff": make_user(Role.STAFF, compound),
        "manager": make_user(Role.MANAGER, compound),
        "committee": make_user(Role.COMMITTEE, compound),
        "official": make_user(Role.OFFICIAL, area=area_tree[2]),
        "stranger": make_user(Role.COMMITTEE, other),
    }
    if state == "partly_subsidised":
        # 50% capped at ¥30 a month: the subsidy pays part of the tier's half.
        make_policy(area_id=area_tree[2].id, cap_fen_per_month=3000)
    elif state != "unpaid":
        make_policy(area_id=area_tree[2].id)
    make_schedule(compound)
    bill = issue_bills_for(compound, JANUARY)[0]
    owner, staff = people["owner"], people["staff"]
    an_hour_ago = T0 - timedelta(hours=1)
    if state == "partly_subsidised":
        # A payment begun and abandoned: its subsidy is fixed, its order closed by the desk.
        payment_service.start_payment(bill.id, owner, now=an_hour_ago)
        payment_service.close_online_payment(bill.id, staff.id, None)
    elif state == "live_order":
        payment_service.start_payment(bill.id, owner)
    elif state == "expired_order":
        payment_service.start_payment(bill.id, owner, now=an_hour_ago)
    elif state == "paid":
        order = payment_service.start_payment(bill.id, owner).order
        payment_service.complete_sandbox_payment(order.id, owner.id)
    elif state == "waived":
        fee_service.waive_bill(bill.id, "低保户", people["committee"].id, None)
    elif state == "overpaid":
        # Cash taken once the order expired; WeChat Pay then tells of a payment of it all the same.
        order = payment_service.start_payment(bill.id, owner, now=an_hour_ago).order
        share = order.amount_fen
        payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, share, "XJ-0001", staff.id, None)
        payment_service.accept_notification(*wechat_pay().signed_notification(
            order.out_trade_no, "4200002100202601200000000001", share, order.openid))
    db.session.expire_all()
    return World(compound=compound, bill=db.session.get(Bill, bill.id), people=people)


# ---- reading the page -------------------------------------------------------------------------------------------


def fen_of(money: str) -> int:
    match = MONEY.search(money)
    return int(match[1].replace(",", "")) * 100 + int(match[2])


def figures_on_page(section: str) -> dict[str, int]:
    """物业费, 补贴, 应缴, 已缴 as the page shows them (a waived bill shows no subsidy, a bill nothing paid of no 已缴)."""
    def shown(css: str) -> int:
        found = re.search(rf'class="{css}">(.*?)</dd>', section, re.S)
        return fen_of(found[1]) if found else 0

    return {"amount": shown("ll-fee-amount"), "subsidy": shown("ll-fee-subsidy"), "share": shown("ll-fee-share"),
            "paid": shown("ll-fee-paid")}


def figures_in_api(line: dict) -> dict[str, int]:
    return {"amount": line["amount_fen"], "subsidy": line["expected_subsidy_fen"],
            "share": line["expected_share_fen"], "paid": line["paid_fen"]}


def page_cards(body: str) -> dict[int, str]:
    """Each bill card of the my-bills page, by bill id."""
    return {int(bill_id): card for bill_id, card in re.findall(
        r'<section class="ll-fee-bill[^"]*" id="bill-(\d+)"(.*?)</section>', body, re.S)}


# ---- the test -----------------------------------------------------------------------------------------------------


def clients_of(app, user: User):
    """An API client's Authorization header and a phone signed in to the pages, for `user`."""
    access_token = issue_tokens(user)[0]
    phone = app.test_client()
    phone.set_cookie("access_token_cookie", access_token)
    return app.test_client(), {"Authorization": f"Bearer {access_token}"}, phone


@pytest.mark.parametrize("state", STATES)
def test_the_api_and_the_page_show_a_bill_alike_to_every_role(app, make_compound, make_user, area_tree, state):
    world = build(state, make_compound, make_user, area_tree)
    bill, code = world.bill, world.compound.code
    for role in ROLES:
        api_client, headers, phone = clients_of(app, world.people[role])

        api = api_client.get(f"/api/v1/bills/{bill.id}", headers=headers)
        page = phone.get(f"/h5/c/{code}/bills/{bill.id}")

        expected = EXPECTED[state].get(role)
        assert (api.status_code, page.status_code) == ((200, 200) if expected is not None else (404, 404)), role
        if expected is not None:
            body = html.unescape(page.get_data(as_text=True))
            section = body[body.index('id="bill"'):]
            assert figures_on_page(section[:section.index("</section>")]) == figures_in_api(api.json), role
            assert re.findall(r'data-action="([a-z_]+)"', body) == api.json["actions"] == expected, role

        # The household's list of bills: the same bills, with the same figures.
        mine = api_client.get(f"/api/v1/compounds/{world.compound.id}/my-bills", headers=headers)
        listed = phone.get(f"/h5/c/{code}/bills")
        if listed.status_code == 404:
            assert mine.status_code == 404, role
            continue
        assert listed.status_code == 200, role
        # Someone with no household of their own here has no bills of their own: the API refuses the list (403).
        assert mine.status_code in (200, 403), role
        lines = mine.json if mine.status_code == 200 else []
        cards = page_cards(html.unescape(listed.get_data(as_text=True)))
        assert {line["id"]: figures_in_api(line) for line in lines} == {
            bill_id: figures_on_page(card) for bill_id, card in cards.items()}, role
        assert (bill.id in cards) == (role in ("owner", "resident")), role
