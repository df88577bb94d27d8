"""The pages of paying several months at once (issue 15): 全部缴清 on a household's bills, its pay page, the one
receipt listing each bill with payee and masked payer, the household's payment history; the desk's several months
under one amount and one paper receipt, a refusal said beside the field at fault with nothing recorded; waiving
asks first; the pay page opened again is the bill, and error pages still see who is signed in."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from backend.domain.fees import BillStatus
from backend.extensions import db
from backend.models import Bill, Payment, Receipt
from tests.api.test_payment_several_months import SHARES, SUBSIDIES, quarter  # noqa: F401  (the fixture)


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def test_the_owner_pays_every_month_at_once_and_gets_one_receipt_listing_them(quarter, phone):  # noqa: F811
    owner = phone(quarter.people["owner"])
    code, home = quarter.compound.code, quarter.home.id

    bills_page = text(owner.get(f"/h5/c/{code}/bills"))
    assert f"全部缴清 {yuan(sum(SHARES))}（3 个月）" in bills_page

    pay_page = owner.post(f"/h5/c/{code}/households/{home}/pay", data={"csrf_token": owner.csrf})
    assert pay_page.status_code == 200, text(pay_page)[:500]
    body = text(pay_page)
    assert len(re.findall(r'<tr class="ll-fee-month" data-bill=', body)) == 3
    assert re.search(rf'id="order-amount">{re.escape(yuan(sum(SHARES)))}<', body)
    action = re.search(r'id="sandbox-pay-form" action="([^"]+)"', body)[1]
    assert action.startswith(f"/h5/c/{code}/households/{home}/orders/")

    paid = owner.post(action, data={"csrf_token": owner.csrf})
    assert paid.status_code == 302
    receipt = text(owner.get(paid.headers["Location"]))
    assert "缴费成功" in receipt
    assert len(re.findall(r'<tr class="ll-fee-month" data-bill=', receipt)) == 3
    assert re.search(r'id="receipt-payee">攀枝花金沙物业服务有限公司<', receipt)
    assert re.search(r'id="receipt-payer">1栋1单元101室 王\*\*<', receipt)
    assert re.search(rf'id="receipt-paid">{re.escape(yuan(sum(SHARES)))}<', receipt)
    assert re.search(rf'id="receipt-subsidy">{re.escape(yuan(sum(SUBSIDIES)))}<', receipt)
    assert "长按保存或截屏保存" in receipt and "打印收据" in receipt
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
    db.session.expire_all()
    assert {db.session.get(Bill, bill.id).status for bill in quarter.bills} == {BillStatus.PAID}

    # Opened again, the pay page of several months is the bills; nothing is started.
    again = owner.get(f"/h5/c/{code}/households/{home}/pay")
    assert again.status_code == 302 and again.headers["Location"] == f"/h5/c/{code}/bills"
    # The tenant reads the household's history, with the receipt's link.
    history = text(phone(quarter.people["tenant"]).get(f"/h5/c/{code}/households/{home}/payments"))
    first = db.session.scalar(select(func.min(Payment.id)))
    assert "共 1 张收据" in history and f"/h5/c/{code}/receipts/{first}" in history and "3 个账单" in history


@pytest.mark.parametrize(("who", "status"), [("staff", 200), ("official", 200), ("neighbour", 404),
                                             ("other_staff", 404), ("other_owner", 404)])
def test_the_history_page_is_for_the_household_and_those_who_keep_the_books(quarter, phone, who,  # noqa: F811
                                                                            status):
    client = phone(quarter.people[who])
    assert client.get(f"/h5/c/{quarter.compound.code}/households/{quarter.home.id}/payments").status_code == status
    # Another compound's page never shows this household.
    other = client.get(f"/h5/c/{quarter.other.code}/households/{quarter.home.id}/payments")
    assert other.status_code in (403, 404)


def test_someone_else_of_the_household_cannot_pay_all_while_the_owner_pays(quarter, phone):  # noqa: F811
    code, home = quarter.compound.code, quarter.home.id
    owner, tenant = phone(quarter.people["owner"]), phone(quarter.people["tenant"])
    owner.post(f"/h5/c/{code}/households/{home}/pay", data={"csrf_token": owner.csrf})

    refused = tenant.post(f"/h5/c/{code}/households/{home}/pay", data={"csrf_token": tenant.csrf})

    assert refused.status_code == 409
    body = text(refused)
    assert "所选账单中有正在进行的支付" in body and f'id="household-{home}"' in body
    # Each month's page says the household's payment under way covers the three.
    bill_page = text(tenant.get(f"/h5/c/{code}/bills/{quarter.bills[0].id}"))
    assert f"线上支付进行中（{yuan(sum(SHARES))}，共3个账单" in bill_page


# ---- the desk -----------------------------------------------------------------------------------------------------


def months_form(client, bill_ids: list[int], amount: str, paper: str = "SJ-0101") -> dict:
    return {"csrf_token": client.csrf, "bill_ids": [str(bill_id) for bill_id in bill_ids], "method": "cash",
            "amount": amount, "offline_receipt_no": paper}


def test_the_desk_takes_several_months_under_one_paper_receipt(quarter, phone):  # noqa: F811
    staff = phone(quarter.people["staff"])
    code, home = quarter.compound.code, quarter.home.id
    desk = text(staff.get(f"/h5/c/{code}/fees/desk?household_id={home}"))
    assert 'id="desk-months"' in desk and len(re.findall(r'name="bill_ids"', desk)) == 3
    assert re.search(rf'id="desk-months-total">{re.escape(yuan(sum(SHARES)))}<', desk)

    response = staff.post(f"/h5/c/{code}/fees/desk/households/{home}",
                          data=months_form(staff, [bill.id for bill in quarter.bills], f"{sum(SHARES) / 100:.2f}"))

    assert response.status_code == 302, text(response)[:800]
    receipt = text(staff.get(response.headers["Location"]))
    assert f"已登记现金收款{yuan(sum(SHARES))}（3个账单）" in receipt
    assert re.search(r'id="receipt-paper">SJ-0101<', receipt)
    assert len(re.findall(r'<tr class="ll-fee-month" data-bill=', receipt)) == 3
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 3


@pytest.mark.parametrize("wrong", ["amount", "online order"])
def test_one_wrong_field_refuses_the_desk_entry_beside_it(quarter, phone, wrong):  # noqa: F811
    staff, owner = phone(quarter.people["staff"]), phone(quarter.people["owner"])
    code, home = quarter.compound.code, quarter.home.id
    amount = sum(SHARES)
    if wrong == "amount":
        amount -= 100
    else:
        owner.post(f"/h5/c/{code}/bills/{quarter.bills[1].id}/pay", data={"csrf_token": owner.csrf})

    response = staff.post(f"/h5/c/{code}/fees/desk/households/{home}",
                          data=months_form(staff, [bill.id for bill in quarter.bills], f"{amount / 100:.2f}"))

    body = text(response)
    if wrong == "amount":
        assert response.status_code == 422
        assert re.search(r'id="desk-months-amount-error">金额应为所选3个账单的应缴合计', body)
        assert f'value="{amount / 100:.2f}"' in body
    else:
        assert response.status_code == 409
        assert re.search(r'id="desk-months-bills-error">[^<]*住户正在线上缴费', body)
    assert 'value="SJ-0101"' in body
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


# ---- waiving asks first; the pay page again; the header on error pages -----------------------------------------


def test_waiving_asks_first_and_says_the_held_subsidy_goes_back(quarter, phone):  # noqa: F811
    owner, committee = phone(quarter.people["owner"]), phone(quarter.people["committee"])
    code, bill = quarter.compound.code, quarter.bills[0]
    owner.post(f"/h5/c/{code}/bills/{bill.id}/pay", data={"csrf_token": owner.csrf})
    staff = phone(quarter.people["staff"])
    staff.post(f"/h5/c/{code}/fees/desk/bills/{bill.id}/online-payment/close", data={"csrf_token": staff.csrf})

    asked = committee.post(f"/h5/c/{code}/bills/{bill.id}/waive", data={"csrf_token": committee.csrf,
                                                                         "reason": "低保户"})

    assert asked.status_code == 200
    body = text(asked)
    assert re.search(r'id="confirm-sentence">减免后，\d栋\d单元\d+室 \d{4}年\d+月的物业费¥[\d.]+不再收取，已占用的补贴将释放。减免原因：低保户<', body)
    assert 'name="confirm" value="1"' in body and 'name="reason" value="低保户"' in body
    db.session.expire_all()
    assert db.session.get(Bill, bill.id).status is BillStatus.UNPAID
    done = committee.post(f"/h5/c/{code}/bills/{bill.id}/waive", data={"csrf_token": committee.csrf,
                                                                        "reason": "低保户", "confirm": "1"})
    assert done.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Bill, bill.id).status, db.session.get(Bill, bill.id).subsidy_fen) == (
        BillStatus.WAIVED, 0)


def test_the_pay_page_opened_again_is_the_bill_and_error_pages_see_who_is_signed_in(quarter, phone):  # noqa: F811
    owner = phone(quarter.people["owner"])
    code, bill = quarter.compound.code, quarter.bills[0]

    again = owner.get(f"/h5/c/{code}/bills/{bill.id}/pay")

    assert again.status_code == 302 and again.headers["Location"] == f"/h5/c/{code}/bills/{bill.id}"
    for path in (f"/h5/c/{code}/bills/{bill.id}/no-such-page", f"/h5/c/{code}/bills/{bill.id}/adjust"):
        page = text(owner.get(path))
        header = page[page.index("<header"):page.index("</header>")]
        assert "退出" in header and "登录" not in header, path
