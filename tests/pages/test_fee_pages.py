"""The property fee pages (物业缴费, 先买后补): a resident's bills with the subsidy month by month, paying through the
sandbox (and WeChat Pay's page inside WeChat), the receipt; the staff's desk and the arrears list; schedules,
collection rates, policies, adjusting, waiving and refunding for the committee; the officials' settlement. Each page
for the right roles only (404 for anyone with nothing to do with it, 403 for a role that may not), refusals as
Chinese messages, money as ¥ that adds up to the fen."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update

from backend.domain.compounds import GovernanceBody, HouseholdKind
from backend.domain.consultations import MeetingKind
from backend.domain.fees import BillingCycle, BillStatus, PaymentMethod
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.integrations.wechat_pay import WeChatPay
from backend.models import (
    AuditEvent,
    Bill,
    FeeSchedule,
    Household,
    Payment,
    PaymentOrder,
    Refund,
    SubsidyGrant,
)
from backend.services import meetings as meeting_service
from backend.services import subsidies as subsidy_service
from backend.services.payment_provider import wechat_pay
from backend.shared.clock import utcnow
from tests.fees_support import follow_up_payments, issue_bills_for, make_policy, make_schedule
from tests.integrations.wechat_pay_standin import PayKeys, running_standin
from tests.support import link_wechat

pytestmark = pytest.mark.calendar

# 10:00 on 20 January 2026 in Beijing: January's bills were due on the 15th, so they are overdue.
T0 = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)
JANUARY = date(2026, 1, 1)
# Households of the factory: 81.25 m² and 82.50 m² in each building; ¥1.50/m²/month; January is month 7 of the
# transition period that began in July 2025 (50%).
H1_AMOUNT, H1_SUBSIDY = 12188, 6094  # 8125 × 150 / 100 = 12187.5 → 12188; 50% → 6094
H2_AMOUNT, H2_SUBSIDY = 12375, 6188  # 8250 × 150 / 100 = 12375; 50% = 6187.5 → 6188
MONEY = re.compile(r"−?¥([0-9,]+)\.([0-9]{2})")


@pytest.fixture(autouse=True)
def travel():
    with time_machine.travel(T0, tick=False):
        yield


@pytest.fixture
def compound(make_compound, area_tree):
    return make_compound(name="金沙苑小区", area=area_tree[3], buildings=2, households_per_building=2)


@pytest.fixture
def households(compound) -> list[Household]:
    return list(db.session.scalars(
        select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
    ))


@pytest.fixture
def people(compound, households, make_user, make_compound, make_area, area_tree):
    other = make_compound(name="五十四街坊")
    return {
        "owner": make_user(Role.OWNER, compound, household=households[0]),
        "tenant": make_user(Role.RESIDENT, compound, household=households[0]),
        "neighbour": make_user(Role.OWNER, compound, household=households[1]),
        "committee": make_user(Role.COMMITTEE, compound),
        "staff": make_user(Role.STAFF, compound),
        "manager": make_user(Role.MANAGER, compound),
        "official": make_user(Role.OFFICIAL, area=area_tree[2]),
        "stranger": make_user(Role.COMMITTEE, other),
        "stranger_owner": make_user(Role.OWNER, other, household=db.session.scalars(
            select(Household).where(Household.compound_id == other.id)).first()),
        "other_official": make_user(Role.OFFICIAL, area=make_area("仁和区")),
    }


@pytest.fixture
def policy(area_tree):
    return make_policy(area_id=area_tree[2].id, name="炳草岗街道物业费过渡期补贴", budget_fen=1_000_000)


@pytest.fixture
def bills(compound, policy) -> list[Bill]:
    make_schedule(compound)
    return issue_bills_for(compound, JANUARY)


@pytest.fixture
def phone(app, page_sign_in):
    """A phone signed in as `user`; `.csrf` is the value its forms carry."""

    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def fen_of(money: str) -> int:
    match = MONEY.search(money)
    return int(match[1].replace(",", "")) * 100 + int(match[2])


def card(body: str, element_id: str) -> str:
    """The <section> with that id, its own attributes included."""
    start = body.rindex("<section", 0, body.index(f'id="{element_id}"'))
    return body[start:body.index("</section>", start)]


def figure(section: str, css: str) -> int:
    return fen_of(re.search(rf'class="{css}">(.*?)</dd>', section, re.S)[1])


def flashed(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return text(client.get(response.headers["Location"]))


def shown_again(response, status: int) -> str:
    """A refused step on a bill: the bill again, with the message (and what was typed) on it."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = text(response)
    assert 'id="bill-error"' in body
    return body


# ---- my bills ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "tenant"])
def test_household_people_see_their_bills_with_the_subsidy_month_by_month(compound, people, bills, phone, who):
    page = phone(people[who]).get(f"/h5/c/{compound.code}/bills")
    assert page.status_code == 200
    body = text(page)
    mine, neighbours = bills[0], bills[1]
    assert "1栋1单元101室 · 81.25 m²" in body
    section = card(body, f"bill-{mine.id}")
    assert "2026年1月" in section and "待缴" in section
    # 物业费 − 补贴 = 应缴, to the fen; the subsidy is an estimate until the bill is paid.
    assert figure(section, "ll-fee-amount") == H1_AMOUNT
    assert figure(section, "ll-fee-subsidy") == H1_SUBSIDY
    assert figure(section, "ll-fee-share") == H1_AMOUNT - H1_SUBSIDY
    assert "补贴（预计）" in section and "预计，以缴费时为准" in section
    assert "炳草岗街道物业费过渡期补贴" in section
    months = re.findall(r'<tr class="ll-fee-month">(.*?)</tr>', section, re.S)
    assert [re.findall(r"<td>(.*?)</td>", row) for row in months] == [["2026年1月", "¥121.88", "50%", "¥60.94"]]
    # Due on the 15th, now the 20th: overdue, in red and in words.
    assert "ll-fee-bill_overdue" in section and "已逾期" in section
    assert f'id="bill-{neighbours.id}"' not in body
    # Residents get no management links.
    assert 'id="desk-link"' not in body and 'id="arrears-link"' not in body


def test_a_bill_spanning_two_tiers_shows_each_months_rate(make_compound, make_user, area_tree, phone):
    """A quarter from July 2026 under a policy begun in August 2025: July is month 12 (50%), August and
    September months 13 and 14 (30%)."""
    compound = make_compound(area=area_tree[3], buildings=1, households_per_building=1)
    household = db.session.scalar(select(Household).where(Household.compound_id == compound.id))
    household.floor_area_centi_m2 = 123456  # 1,234.56 m²
    db.session.commit()
    owner = make_user(Role.OWNER, compound, household=household)
    make_policy(compound_id=compound.id, name="本小区补贴", period_start=date(2025, 8, 1))
    make_schedule(compound, effective_from=date(2026, 7, 1), cycle=BillingCycle.QUARTERLY)
    (bill,) = issue_bills_for(compound, date(2026, 7, 1))
    with time_machine.travel(datetime(2026, 7, 3, 2, 0, tzinfo=UTC), tick=False):
        body = text(phone(owner).get(f"/h5/c/{compound.code}/bills"))
    section = card(body, f"bill-{bill.id}")
    # 123456 × 150 × 3 / 100 = 555552; spread as 185184 a month; 50%, 30%, 30%.
    assert "2026年第3季度" in section
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r'<tr class="ll-fee-month">(.*?)</tr>', section, re.S)]
    assert rows == [
        ["2026年7月", "¥1,851.84", "50%", "¥925.92"],
        ["2026年8月", "¥1,851.84", "30%", "¥555.55"],
        ["2026年9月", "¥1,851.84", "30%", "¥555.55"],
    ]
    assert figure(section, "ll-fee-amount") == 555552
    assert figure(section, "ll-fee-subsidy") == 92592 + 55555 + 55555
    assert figure(section, "ll-fee-share") == 555552 - 203702
    assert "ll-fee-bill_overdue" not in section


def test_someone_without_a_household_is_told_how_to_get_one(compound, people, bills, phone):
    body = text(phone(people["staff"]).get(f"/h5/c/{compound.code}/bills"))
    assert "还没有已认证的房屋" in body
    # …and the staff member gets the fee pages their role opens.
    for link in ("schedules-link", "desk-link", "arrears-link", "collection-link", "policies-link"):
        assert f'id="{link}"' in body
    assert 'id="settlement-link"' not in body


def test_my_bills_needs_sign_in_and_a_role_here(compound, people, bills, phone, client):
    response = client.get(f"/h5/c/{compound.code}/bills")
    assert response.status_code == 302 and "/h5/login" in response.headers["Location"]
    assert phone(people["stranger"]).get(f"/h5/c/{compound.code}/bills").status_code == 404


def test_home_tile_links_to_the_bills_and_counts_what_is_unpaid(compound, people, bills, phone):
    body = text(phone(people["owner"]).get(f"/h5/c/{compound.code}"))
    tile = body[body.index('id="fees-link"'):body.index("</a>", body.index('id="fees-link"'))]
    assert f'href="/h5/c/{compound.code}/bills"' in tile
    assert "待缴 1" in tile and "即将开放" not in tile
    assert "服务评价" in body and 'id="surveys-link"' in body
    staff_home = text(phone(people["staff"]).get(f"/h5/c/{compound.code}"))
    assert 'id="fees-link"' in staff_home and 'id="unpaid-bills"' not in staff_home


# ---- paying -----------------------------------------------------------------------------------------------------


def pay(client, compound, bill) -> str:
    """Press 缴费 on the bill; returns the pay page."""
    response = client.post(f"/h5/c/{compound.code}/bills/{bill.id}/pay", data={"csrf_token": client.csrf})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return text(response)


def sandbox_pay(client, compound, bill, body: str):
    action = re.search(r'id="sandbox-pay-form" action="([^"]+)"', body)[1]
    return client.post(action, data={"csrf_token": client.csrf})


def test_resident_pays_through_the_sandbox_and_gets_the_receipt(compound, people, bills, phone):
    owner = phone(people["owner"])
    bill = bills[0]
    detail = text(owner.get(f"/h5/c/{compound.code}/bills/{bill.id}"))
    assert "缴费 ¥60.94" in detail and "81.25 m²" in detail and "¥1.50/m²/月 × 1个月" in detail

    body = pay(owner, compound, bill)
    assert "确认支付（模拟）" in body and "WeixinJSBridge" not in body
    assert fen_of(re.search(r'id="order-amount">(.*?)<', body)[1]) == H1_AMOUNT - H1_SUBSIDY
    assert figure(card(body, "order"), "ll-fee-subsidy") == H1_SUBSIDY
    # 15 minutes to pay, shown in Beijing time.
    assert re.search(r'id="order-expires">2026-01-20 10:15<', body)
    grant = db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bill.id))
    assert (grant.status.value, grant.amount_fen) == ("held", H1_SUBSIDY)

    response = sandbox_pay(owner, compound, bill, body)
    assert response.status_code == 302
    payment = db.session.scalar(select(Payment).where(Payment.bill_id == bill.id))
    assert response.headers["Location"] == f"/h5/c/{compound.code}/receipts/{payment.id}"
    receipt = text(owner.get(response.headers["Location"]))
    assert "缴费成功" in receipt
    assert re.search(rf'id="receipt-no">{payment.receipt_no}<', receipt)
    facts = {key: re.search(rf'id="receipt-{key}">(.*?)</dd>', receipt)[1]
             for key in ("household", "period", "bill", "subsidy", "paid", "method", "time")}
    assert facts == {
        "household": "1栋1单元101室", "period": "2026年1月", "bill": "¥121.88", "subsidy": "¥60.94",
        "paid": "¥60.94", "method": "模拟支付", "time": "2026-01-20 10:00（北京时间）",
    }
    assert "金沙苑小区" in receipt and "打印收据" in receipt
    # The bill is paid, its subsidy fixed (no longer an estimate), and the home tile has nothing to pay.
    db.session.expire_all()
    assert db.session.get(Bill, bill.id).status is BillStatus.PAID
    section = card(text(owner.get(f"/h5/c/{compound.code}/bills")), f"bill-{bill.id}")
    assert "已缴" in section and "预计" not in section and "ll-fee-bill_overdue" not in section
    assert figure(section, "ll-fee-subsidy") + figure(section, "ll-fee-share") == figure(section, "ll-fee-amount")
    assert 'id="unpaid-bills"' not in text(owner.get(f"/h5/c/{compound.code}"))
    # The household's other person reads the same receipt.
    assert phone(people["tenant"]).get(f"/h5/c/{compound.code}/receipts/{payment.id}").status_code == 200


def test_paying_a_paid_bill_again_is_refused_with_a_message(compound, people, bills, phone):
    owner = phone(people["owner"])
    sandbox_pay(owner, compound, bills[0], pay(owner, compound, bills[0]))
    response = owner.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/pay", data={"csrf_token": owner.csrf})
    assert "该账单已缴清" in shown_again(response, 409)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_subsidy_covering_the_whole_bill_settles_it_without_paying(compound, people, area_tree, phone):
    make_policy(compound_id=compound.id, name="全额补贴", tiers=[SubsidyTier(months=36, rate_bp=10_000)])
    make_schedule(compound)
    bill = issue_bills_for(compound, JANUARY)[0]
    owner = phone(people["owner"])
    response = owner.post(f"/h5/c/{compound.code}/bills/{bill.id}/pay", data={"csrf_token": owner.csrf})
    assert "补贴已抵扣全部费用" in flashed(owner, response)
    db.session.expire_all()
    assert (db.session.get(Bill, bill.id).status, db.session.get(Bill, bill.id).subsidy_fen) == (
        BillStatus.PAID, H1_AMOUNT)


def test_inside_wechat_the_pay_page_opens_wechat_pays_sheet(app, compound, people, bills, phone, monkeypatch):
    keys = PayKeys.generate()
    link_wechat(people["owner"], "oFee-test-openid-0001")
    monkeypatch.setitem(app.config, "LINLI_PUBLIC_URL", "https://linli.test")
    with running_standin(keys) as standin:
        pay_client = WeChatPay(
            appid=keys.appid, mchid=keys.mchid, apiv3_key=keys.apiv3_key,
            merchant_serial_no=keys.merchant_serial_no, merchant_private_key=keys.merchant_private_key,
            public_key_id=keys.public_key_id, public_key=keys.platform_private_key.public_key(),
            api_base=standin.url, timeout=2.0,
        )
        monkeypatch.setitem(app.extensions, "linli_wechat_pay", pay_client)
        try:
            owner = phone(people["owner"])
            body = pay(owner, compound, bills[0])
            neighbour = phone(people["neighbour"])
            refused = neighbour.post(f"/h5/c/{compound.code}/bills/{bills[1].id}/pay",
                                     data={"csrf_token": neighbour.csrf})
            refused_page = shown_again(refused, 409)
        finally:
            pay_client.http.close()
    assert "确认支付（模拟）" not in body and 'id="wechat-pay-button"' in body
    assert 'WeixinJSBridge.invoke("getBrandWCPayRequest", params' in body
    params = re.search(r"var params = (\{.*?\});", body)[1]
    assert '"package": "prepay_id=' in params and '"signType": "RSA"' in params and keys.appid in params
    assert f'var billUrl = "/h5/c/{compound.code}/bills/{bills[0].id}"' in body
    # Someone signed in without WeChat cannot pay by WeChat Pay: told where to go, nothing held.
    assert "请在微信中打开本页面完成支付" in refused_page
    assert db.session.scalar(select(SubsidyGrant).where(SubsidyGrant.bill_id == bills[1].id)) is None


# ---- isolation ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["neighbour", "stranger", "stranger_owner", "other_official"])
def test_outsiders_never_learn_a_bill_or_receipt_exists(compound, people, bills, phone, who):
    owner = phone(people["owner"])
    body = pay(owner, compound, bills[0])
    order_action = re.search(r'id="sandbox-pay-form" action="([^"]+)"', body)[1]
    sandbox_pay(owner, compound, bills[0], body)
    payment = db.session.scalar(select(Payment))
    outsider = phone(people[who])
    for path in (f"/h5/c/{compound.code}/bills/{bills[0].id}", f"/h5/c/{compound.code}/receipts/{payment.id}"):
        assert outsider.get(path).status_code == 404, path
    for path in (f"/h5/c/{compound.code}/bills/{bills[0].id}/pay", order_action):
        assert outsider.post(path, data={"csrf_token": outsider.csrf}).status_code == 404, path
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


@pytest.mark.parametrize("who", ["committee", "staff", "manager", "official"])
def test_the_people_who_keep_the_books_read_a_bill_but_do_not_pay_it(compound, people, bills, phone, who):
    client = phone(people[who])
    body = text(client.get(f"/h5/c/{compound.code}/bills/{bills[0].id}"))
    assert "2026年1月物业费" in body and 'id="pay-form"' not in body
    response = client.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/pay", data={"csrf_token": client.csrf})
    assert response.status_code == 403
    assert db.session.scalar(select(SubsidyGrant)) is None


def test_a_bill_is_only_found_under_its_own_compound(compound, people, bills, phone, make_compound):
    other = make_compound()
    make_schedule(other)
    other_bill = issue_bills_for(other, JANUARY)[0]
    committee = phone(people["committee"])
    assert committee.get(f"/h5/c/{compound.code}/bills/{other_bill.id}").status_code == 404
    assert committee.get(f"/h5/c/{compound.code}/bills/2147483648").status_code == 404
    assert committee.get(f"/h5/c/{compound.code}/bills/abc").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(compound, people, bills, client, scan):
    scan(client, compound)
    for path in (f"/h5/c/{compound.code}/bills/{bills[0].id}", f"/h5/c/{compound.code}/fees/desk",
                 f"/h5/c/{compound.code}/fees/arrears", f"/h5/c/{compound.code}/fees/collection",
                 f"/h5/c/{compound.code}/fees/policies", "/h5/settlement"):
        response = client.get(path)
        assert response.status_code == 302 and "/h5/login" in response.headers["Location"], path
    # The fee standard is public to whoever scanned the compound's code.
    assert client.get(f"/h5/c/{compound.code}/fees/schedules").status_code == 200


# ---- the staff's desk -------------------------------------------------------------------------------------------


def desk_form(client, amount: str, receipt_no: str = "0012345", method: str = "cash") -> dict:
    return {"csrf_token": client.csrf, "method": method, "amount": amount, "offline_receipt_no": receipt_no}


def test_staff_find_a_household_and_record_cash_against_the_paper_receipt(compound, people, bills, phone, households):
    staff = phone(people["staff"])
    building_id = households[1].building_id
    body = text(staff.get(f"/h5/c/{compound.code}/fees/desk?building_id={building_id}&unit=1&room=201"))
    assert "1栋1单元201室 · 82.50 m²" in body
    section = card(body, f"desk-bill-{bills[1].id}")
    # Prefilled with what is owed after the subsidy.
    assert 'name="amount" inputmode="decimal" maxlength="12" required value="61.87"' in section
    assert figure(section, "ll-fee-share") == H2_AMOUNT - H2_SUBSIDY

    response = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(staff, "61.87"))
    payment = db.session.scalar(select(Payment))
    receipt = flashed(staff, response)
    assert "已登记现金收款¥61.87" in receipt
    assert re.search(r'id="receipt-method">现金<', receipt) and "0012345" in receipt
    assert (payment.method, payment.amount_fen, payment.subsidy_fen, payment.recorded_by_id) == (
        PaymentMethod.CASH, H2_AMOUNT - H2_SUBSIDY, H2_SUBSIDY, people["staff"].id)
    db.session.expire_all()
    assert db.session.get(Bill, bills[1].id).status is BillStatus.PAID
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target_type == "payment",
                                                        AuditEvent.target_id == payment.id)) == "payment.offline"
    # Nothing left to take for that household; the household's people see it paid.
    after = text(staff.get(f"/h5/c/{compound.code}/fees/desk?household_id={households[1].id}"))
    assert "该房屋没有待缴的账单" in after
    assert "已缴" in card(text(phone(people["neighbour"]).get(f"/h5/c/{compound.code}/bills")), f"bill-{bills[1].id}")


@pytest.mark.parametrize(("amount", "message", "status"), [
    ("60.00", "金额应为应缴的¥61.87（已扣除补贴）", 422),
    ("123.75", "金额应为应缴的¥61.87（已扣除补贴）", 422),
    ("61.875", "请填写收款金额（元），最多两位小数", 422),
    ("六十", "请填写收款金额（元），最多两位小数", 422),
    ("", "请填写收款金额（元），最多两位小数", 422),
])
def test_a_wrong_amount_is_refused_in_words_and_nothing_is_recorded(compound, people, bills, phone, amount, message,
                                                                   status):
    staff = phone(people["staff"])
    response = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(staff, amount))
    assert response.status_code == status
    body = text(response)
    assert message in body and "1栋1单元201室" in body
    # What was typed stays in the form.
    assert 'value="0012345"' in body
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert db.session.scalar(select(SubsidyGrant)) is None


def test_a_paper_receipt_number_is_used_once_and_a_method_must_be_chosen(compound, people, bills, phone):
    staff = phone(people["staff"])
    staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(staff, "61.87", "A-1"))
    again = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94", "A-1"))
    assert again.status_code == 409 and "该收据号已登记过" in text(again)
    no_method = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}",
                           data=desk_form(staff, "60.94", "A-2", method="wechat"))
    assert no_method.status_code == 422 and "请选择收款方式：现金或银行转账" in text(no_method)
    no_number = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94", " "))
    assert no_number.status_code == 422 and "请填写纸质收据编号" in text(no_number)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_budget_too_busy_shows_the_desk_again_to_try_shortly(compound, people, bills, phone, monkeypatch):
    # Every compare-and-set on the policy's committed total lost to another payment.
    monkeypatch.setattr(subsidy_service, "_BUDGET_ATTEMPTS", 0)
    staff = phone(people["staff"])
    response = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(staff, "61.87"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    body = text(response)
    assert "同时缴费的人较多，请稍后再试" in body and 'value="0012345"' in body
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_an_unknown_room_is_said_so(compound, people, bills, phone, households):
    staff = phone(people["staff"])
    body = text(staff.get(f"/h5/c/{compound.code}/fees/desk?building_id={households[0].building_id}&unit=1&room=999"))
    assert "找不到该房屋，请核对楼栋、单元和房号" in body
    for query in ("room=%00", "room=101&unit=%00", "room=" + "1" * 17, "room="):
        response = staff.get(f"/h5/c/{compound.code}/fees/desk?building_id={households[0].building_id}&{query}")
        assert response.status_code == 200 and "请选择楼栋并填写房号" in text(response), query
    assert staff.get(f"/h5/c/{compound.code}/fees/desk?household_id=99999999").status_code == 404


@pytest.mark.parametrize(("who", "status"), [("committee", 403), ("owner", 403), ("official", 403), ("stranger", 404)])
def test_only_staff_use_the_desk(compound, people, bills, phone, who, status):
    client = phone(people[who])
    assert client.get(f"/h5/c/{compound.code}/fees/desk").status_code == status
    response = client.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(client, "61.87"))
    assert response.status_code == status
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


# ---- arrears ----------------------------------------------------------------------------------------------------


def test_arrears_list_the_households_past_due_with_what_they_owe(compound, people, bills, phone):
    staff = phone(people["staff"])
    staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(staff, "61.87"))
    body = text(staff.get(f"/h5/c/{compound.code}/fees/arrears"))
    assert "共 3 户欠费" in body
    rows = re.findall(r'data-household="(\d+)"', body)
    assert [int(row) for row in rows] == sorted(
        [bills[0].household_id, bills[2].household_id, bills[3].household_id],
        key=lambda household_id: (-{b.household_id: b.amount_fen for b in bills}[household_id], household_id))
    # Staff open the desk from a row; the page's total adds the rows up.
    assert f'/fees/desk?household_id={bills[0].household_id}' in body
    assert fen_of(re.search(r"本页合计 <strong[^>]*>(.*?)<", body)[1]) == H1_AMOUNT * 2 + H2_AMOUNT
    committee = text(phone(people["committee"]).get(f"/h5/c/{compound.code}/fees/arrears"))
    assert "共 3 户欠费" in committee and "/fees/desk?" not in committee


def test_arrears_come_in_pages(make_compound, make_user, phone):
    compound = make_compound(buildings=2, households_per_building=11)
    make_schedule(compound)
    issue_bills_for(compound, JANUARY)
    client = phone(make_user(Role.COMMITTEE, compound))
    first = text(client.get(f"/h5/c/{compound.code}/fees/arrears"))
    second = text(client.get(f"/h5/c/{compound.code}/fees/arrears?page=2"))
    assert "共 22 户欠费" in first
    assert len(re.findall(r'data-household="', first)) == 20 and len(re.findall(r'data-household="', second)) == 2
    assert "下一页" in first and "上一页" in second
    assert client.get(f"/h5/c/{compound.code}/fees/arrears?page=99999999999").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("owner", 403), ("stranger", 404), ("other_official", 404)])
def test_arrears_collection_and_policies_are_for_those_who_keep_the_books(compound, people, bills, phone, who, status):
    client = phone(people[who])
    for page in ("arrears", "collection", "policies"):
        assert client.get(f"/h5/c/{compound.code}/fees/{page}").status_code == status, page


# ---- schedules ----------------------------------------------------------------------------------------------------


def schedule_form(client, **changes) -> dict:
    return {
        "csrf_token": client.csrf, "household_kind": "residential", "standard": "1.80", "effective_from": "2026-03-01",
        "cycle": "monthly", "due_day": "20", "charges_fees": "1", "hearing_meeting_id": "", "note": "经听证会讨论",
    } | changes


def test_everyone_of_the_compound_reads_the_fee_standard_and_only_the_committee_changes_it(compound, people, bills,
                                                                                           phone):
    body = text(phone(people["owner"]).get(f"/h5/c/{compound.code}/fees/schedules"))
    assert "¥1.50/m²/月" in body and "执行中" in body and "2026-01-01 起 · 按月计费 · 每期15日前缴清" in body
    assert 'id="schedule-form"' not in body
    assert 'id="schedule-form"' not in text(phone(people["staff"]).get(f"/h5/c/{compound.code}/fees/schedules"))
    for who, status in (("staff", 403), ("owner", 403), ("stranger", 404)):
        client = phone(people[who])
        assert client.post(f"/h5/c/{compound.code}/fees/schedules", data=schedule_form(client)).status_code == status
    assert db.session.scalar(select(func.count()).select_from(FeeSchedule)) == 1


def test_the_committee_sets_a_new_standard_linked_to_a_hearing(compound, people, bills, phone):
    compound.governance_body = GovernanceBody.OWNERS_COMMITTEE
    db.session.commit()
    committee = phone(people["committee"])
    form = text(committee.get(f"/h5/c/{compound.code}/fees/schedules"))
    assert "调整收费标准前应召开听证会" in form and "召集听证会" in form and 'id="hearing-select"' not in form
    starts = T0 + timedelta(days=3)
    hearing = meeting_service.create_meeting(
        compound_id=compound.id, convener_id=people["committee"].id, kind=MeetingKind.HEARING,
        title="物业费调整听证会", agenda="调价方案", starts_at=starts, place="党群服务站")
    meeting_service.create_meeting(
        compound_id=compound.id, convener_id=people["committee"].id, kind=MeetingKind.DELIBERATION,
        title="停车议事会", agenda="停车", starts_at=starts, place="党群服务站")
    form = text(committee.get(f"/h5/c/{compound.code}/fees/schedules"))
    select_html = form[form.index('id="hearing-select"'):form.index("</select>", form.index('id="hearing-select"'))]
    assert "物业费调整听证会（2026-01-23 10:00）" in select_html and "停车议事会" not in select_html

    response = committee.post(f"/h5/c/{compound.code}/fees/schedules",
                              data=schedule_form(committee, hearing_meeting_id=str(hearing.id)))
    assert "收费标准已保存" in flashed(committee, response)
    schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.effective_from == date(2026, 3, 1)))
    assert (schedule.standard_fen_per_m2, schedule.due_day, schedule.hearing_meeting_id, schedule.created_by_id) == (
        180, 20, hearing.id, people["committee"].id)
    listed = text(committee.get(f"/h5/c/{compound.code}/fees/schedules"))
    assert "¥1.80/m²/月" in listed and f"/h5/meetings/{hearing.id}" in listed
    # Issued bills stay as they were.
    db.session.expire_all()
    assert db.session.get(Bill, bills[0].id).amount_fen == H1_AMOUNT


@pytest.mark.parametrize(("changes", "message", "status"), [
    ({"effective_from": "2026-03-15"}, "生效日期须是一个计费周期的第一天", 422),
    ({"effective_from": "2026-02-01", "cycle": "quarterly"}, "生效日期须是一个计费周期的第一天", 422),
    ({"effective_from": "2026-01-01"}, "该类房屋在这一天生效的收费标准已存在", 409),
    ({"standard": "1.505"}, "请填写收费标准（元/平方米/月），最多两位小数", 422),
    ({"standard": "-1"}, "请填写收费标准（元/平方米/月），最多两位小数", 422),
    ({"effective_from": "2026-02-30"}, "请选择生效日期", 422),
    ({"due_day": "29"}, "缴费截止日须是每期第1至28日", 422),
    ({"due_day": "０"}, "缴费截止日须是每期第1至28日", 422),
    ({"cycle": "weekly"}, "请选择计费周期", 422),
    ({"household_kind": "garage"}, "请选择房屋类型", 422),
    ({"charges_fees": "maybe"}, "请选择本小区是否收取物业费", 422),
    ({"hearing_meeting_id": "x"}, "请选择关联的听证会", 422),
    ({"hearing_meeting_id": "99999"}, "关联的会议须是本小区的听证会", 422),
    ({"note": "说" * 501}, "说明最多500个字", 422),
])
def test_a_bad_schedule_is_refused_in_words(compound, people, bills, phone, changes, message, status):
    committee = phone(people["committee"])
    response = committee.post(f"/h5/c/{compound.code}/fees/schedules", data=schedule_form(committee, **changes))
    assert response.status_code == status
    body = text(response)
    assert message in body and 'id="schedule-form"' in body
    assert db.session.scalar(select(func.count()).select_from(FeeSchedule)) == 1


def test_a_standard_left_without_the_charging_choice_charges_as_the_management_model_says(compound, people, bills,
                                                                                          phone):
    """As the API: no choice given is the compound's default (a market compound charges)."""
    committee = phone(people["committee"])
    response = committee.post(f"/h5/c/{compound.code}/fees/schedules", data=schedule_form(committee, charges_fees=""))
    assert "收费标准已保存" in flashed(committee, response)
    schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.effective_from == date(2026, 3, 1)))
    assert schedule.charges_fees is True


def test_a_commercial_standard_that_charges_nothing_is_listed_as_such(compound, people, bills, phone):
    committee = phone(people["committee"])
    committee.post(f"/h5/c/{compound.code}/fees/schedules",
                   data=schedule_form(committee, household_kind="commercial", charges_fees="0"))
    schedule = db.session.scalar(select(FeeSchedule).where(FeeSchedule.household_kind == HouseholdKind.COMMERCIAL))
    assert schedule.charges_fees is False
    assert "不收取物业费" in text(committee.get(f"/h5/c/{compound.code}/fees/schedules"))


# ---- collection rate ----------------------------------------------------------------------------------------------


def rates(body: str) -> dict[str, str]:
    return dict(re.findall(r'data-rate="(\w+)">(.*?)<', body))


def test_the_collection_rate_moves_with_each_payment(compound, people, bills, phone):
    committee = phone(people["committee"])
    before = text(committee.get(f"/h5/c/{compound.code}/fees/collection"))
    assert "2026年1月起账期" in before and rates(before) == {"households": "0%", "fen": "0%"}
    assert "已缴 0 / 应缴 4 户" in before
    staff = phone(people["staff"])
    staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94"))
    after = text(committee.get(f"/h5/c/{compound.code}/fees/collection"))
    billed = 2 * H1_AMOUNT + 2 * H2_AMOUNT
    # 1 of 4 households; 12188 of 49126 fen = 24.8096…% → 24.81%.
    assert rates(after) == {"households": "25%", "fen": "24.81%"}
    assert "已缴 1 / 应缴 4 户" in after
    assert f"已缴 ¥121.88 / 应收 {f'¥{billed // 100:,}.{billed % 100:02d}'}" in after
    assert 'style="width: 25.0%"' in after and 'style="width: 24.81%"' in after


# ---- policies -------------------------------------------------------------------------------------------------------


def test_the_policies_covering_the_compound_show_their_tiers_and_budget(compound, people, bills, policy, phone, area_tree):
    make_policy(area_id=area_tree[1].id, name="东区老旧小区补贴", built_before_year=2000)
    staff = phone(people["staff"])
    staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94"))
    body = text(phone(people["committee"]).get(f"/h5/c/{compound.code}/fees/policies"))
    start = body.index(f'data-policy="{policy.id}"')
    street = body[start:body.index("</section>", start)]
    assert "炳草岗街道物业费过渡期补贴" in street and "本小区适用" in street and "炳草岗街道" in street
    assert re.findall(r"<li>(.*?)</li>", street.split("</ul>")[0]) == [
        "第1–12个月 50%", "第13–24个月 30%", "第25–36个月 10%"]
    assert "2025年7月—2028年6月" in street
    assert fen_of(re.search(r'class="ll-fee-budget-left">(.*?)<', street)[1]) == 1_000_000 - H1_SUBSIDY
    assert "东区老旧小区补贴" in body and "本小区不符合条件" in body and "2000年以前建成" in body


# ---- adjusting, waiving, refunding ----------------------------------------------------------------------------------


def test_the_committee_adjusts_and_waives_a_bill_with_a_reason(compound, people, bills, phone):
    committee = phone(people["committee"])
    detail = text(committee.get(f"/h5/c/{compound.code}/bills/{bills[2].id}"))
    assert 'id="adjust-form"' in detail and 'id="waive-form"' in detail and 'id="refund-form"' not in detail
    assert 'value="121.88"' in detail

    response = committee.post(f"/h5/c/{compound.code}/bills/{bills[2].id}/adjust",
                              data={"csrf_token": committee.csrf, "amount": "100", "reason": "漏水期间减收"})
    page = flashed(committee, response)
    assert "账单金额已调整为¥100.00" in page and "漏水期间减收" in page and "原金额" in page
    db.session.expire_all()
    assert db.session.get(Bill, bills[2].id).amount_fen == 10000

    # Waiving asks first, in one sentence, and does nothing until confirmed.
    asked = committee.post(f"/h5/c/{compound.code}/bills/{bills[3].id}/waive",
                           data={"csrf_token": committee.csrf, "reason": "低保户"})
    assert asked.status_code == 200 and "确认减免" in text(asked) and "不再收取。减免原因：低保户" in text(asked)
    db.session.expire_all()
    assert db.session.get(Bill, bills[3].id).status is BillStatus.UNPAID
    response = committee.post(f"/h5/c/{compound.code}/bills/{bills[3].id}/waive",
                              data={"csrf_token": committee.csrf, "reason": "低保户", "confirm": "1"})
    page = flashed(committee, response)
    assert "账单已减免" in page and "减免原因" in page and "已减免" in page
    db.session.expire_all()
    assert db.session.get(Bill, bills[3].id).status is BillStatus.WAIVED
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("bill.%"))).all()
    assert sorted(actions) == ["bill.adjust", "bill.waive"]


@pytest.mark.parametrize(("path", "data", "message"), [
    ("adjust", {"amount": "1.2.3", "reason": "x"}, "请填写调整后的金额（元），最多两位小数"),
    ("adjust", {"amount": "100", "reason": "  "}, "请填写调整原因"),
    ("waive", {"reason": ""}, "请填写减免原因"),
    ("waive", {"reason": "长" * 501}, "填写内容过长，最多500个字"),
])
def test_a_bad_adjustment_is_refused_in_words(compound, people, bills, phone, path, data, message):
    committee = phone(people["committee"])
    response = committee.post(f"/h5/c/{compound.code}/bills/{bills[2].id}/{path}",
                              data={"csrf_token": committee.csrf} | data)
    body = shown_again(response, 422)
    assert message in body
    # What was typed stays in the form.
    if data.get("amount"):
        assert f'value="{data["amount"]}"' in body
    db.session.expire_all()
    bill = db.session.get(Bill, bills[2].id)
    assert (bill.amount_fen, bill.status) == (H1_AMOUNT, BillStatus.UNPAID)


def test_the_desk_closes_the_households_online_payment_before_taking_cash(compound, people, bills, phone):
    owner, staff = phone(people["owner"]), phone(people["staff"])
    body = pay(owner, compound, bills[0])
    desk = f"/h5/c/{compound.code}/fees/desk?household_id={bills[0].household_id}"

    page = text(staff.get(desk))
    assert "住户正在线上缴费（¥60.94，" in page and "查询并关闭线上支付" in page
    assert f'action="/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}"' not in page

    closed = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}/online-payment/close",
                        data={"csrf_token": staff.csrf})

    after = flashed(staff, closed)
    assert "已关闭住户未完成的线上支付，现在可以登记收款" in after
    assert f'action="/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}"' in after and "住户正在线上缴费" not in after
    # The resident's open sheet cannot pay it any more; the desk takes the cash.
    assert "本次支付已关闭，请重新发起缴费" in shown_again(sandbox_pay(owner, compound, bills[0], body), 409)
    recorded = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94"))
    assert recorded.status_code == 302 and "/receipts/" in recorded.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_the_desk_learns_the_resident_has_paid_online(compound, people, bills, phone):
    owner, staff = phone(people["owner"]), phone(people["staff"])
    pay(owner, compound, bills[0])
    order = db.session.scalar(select(PaymentOrder))
    # Paid at WeChat Pay's end; the notification has not come.
    wechat_pay().pay(order.out_trade_no, "4200002100202601010000000004", order.amount_fen, order.openid)

    checked = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}/online-payment/close",
                         data={"csrf_token": staff.csrf})

    page = flashed(staff, checked)
    assert "住户的线上支付已完成，无需再收款" in page and f'id="desk-bill-{bills[0].id}"' not in page
    db.session.expire_all()
    assert db.session.get(Bill, bills[0].id).status is BillStatus.PAID


def test_a_paid_bill_is_not_adjusted_but_an_overpayment_is_refunded(compound, people, bills, phone):
    """The resident opens WeChat's sheet; the desk may not take cash while the order is open, but once it has
    expired it does (which closes the order at WeChat Pay), and then WeChat Pay notifies a payment of that closed
    order all the same: the second payment is an overpayment the committee refunds."""
    owner, staff, committee = phone(people["owner"]), phone(people["staff"]), phone(people["committee"])
    pay(owner, compound, bills[0])
    refused = staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94"))
    assert "住户正在线上缴费（订单" in text(refused) and "请先“查询并关闭线上支付”，再登记收款" in text(refused)
    order = db.session.scalar(select(PaymentOrder))
    db.session.execute(update(PaymentOrder).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[0].id}", data=desk_form(staff, "60.94"))
    headers, raw = wechat_pay().signed_notification(order.out_trade_no, "4200002100202601010000000003",
                                                    order.amount_fen, order.openid)
    assert owner.post("/api/v1/payments/wechat/notify", data=raw, headers=headers).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 2
    # The desk sees the overpayment among the household's bills.
    desk = text(staff.get(f"/h5/c/{compound.code}/fees/desk?household_id={bills[0].household_id}"))
    assert 'id="desk-overpaid"' in desk and "多缴¥60.94" in desk

    waive = committee.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/waive",
                           data={"csrf_token": committee.csrf, "reason": "x"})
    assert "已缴或已减免的账单不能再调整" in shown_again(waive, 409)
    detail = text(committee.get(f"/h5/c/{compound.code}/bills/{bills[0].id}"))
    assert "退还多缴的 ¥60.94" in detail and 'id="adjust-form"' not in detail
    too_much = committee.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/refund",
                              data={"csrf_token": committee.csrf, "amount": "60.95", "method": "cash", "reason": "重复缴费"})
    assert "最多可退¥60.94" in shown_again(too_much, 422)
    zero = committee.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/refund",
                          data={"csrf_token": committee.csrf, "amount": "0", "method": "cash", "reason": "重复缴费"})
    assert "退款金额须大于0" in shown_again(zero, 422)
    done = committee.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/refund",
                          data={"csrf_token": committee.csrf, "amount": "60.94", "method": "bank", "reason": "重复缴费"})
    page = flashed(committee, done)
    assert "已退款¥60.94" in page and "银行转账退款 ¥60.94" in page and 'id="refund-form"' not in page
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_fen, refund.method, refund.refunded_by_id) == (6094, PaymentMethod.BANK, people["committee"].id)


@pytest.mark.parametrize(("who", "status"), [("staff", 403), ("owner", 403), ("stranger", 404)])
def test_only_the_committee_and_officials_adjust(compound, people, bills, phone, who, status):
    client = phone(people[who])
    assert 'id="adjust-form"' not in client.get(f"/h5/c/{compound.code}/bills/{bills[0].id}").get_data(as_text=True)
    for path, data in (("adjust", {"amount": "1", "reason": "x"}), ("waive", {"reason": "x"}),
                       ("refund", {"amount": "1", "method": "cash", "reason": "x"})):
        response = client.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/{path}",
                               data={"csrf_token": client.csrf} | data)
        assert response.status_code == status, path
    db.session.expire_all()
    assert db.session.get(Bill, bills[0].id).status is BillStatus.UNPAID


def test_an_official_adjusts_too(compound, people, bills, phone):
    official = phone(people["official"])
    response = official.post(f"/h5/c/{compound.code}/bills/{bills[0].id}/waive",
                             data={"csrf_token": official.csrf, "reason": "困难家庭", "confirm": "1"})
    assert "账单已减免" in flashed(official, response)


# ---- settlement -----------------------------------------------------------------------------------------------------


def test_an_official_sees_the_streets_settlement_with_the_budget_left(compound, people, bills, policy, phone, area_tree):
    owner, staff = phone(people["owner"]), phone(people["staff"])
    sandbox_pay(owner, compound, bills[0], pay(owner, compound, bills[0]))
    assert follow_up_payments() == 1
    staff.post(f"/h5/c/{compound.code}/fees/desk/bills/{bills[1].id}", data=desk_form(staff, "61.87"))
    official = phone(people["official"])
    body = text(official.get("/h5/settlement"))
    street = area_tree[2]
    assert f'<option value="{street.id}" selected>炳草岗街道</option>' in body
    rows = re.findall(r'data-compound="(\d+)" data-month="([\d-]+)"', body)
    assert rows == [(str(compound.id), "2026-01")]
    assert "金沙苑小区" in body and "2026年1月 · 炳草岗街道 · （无物业公司） · 2 笔" in body
    assert fen_of(re.search(r'id="settlement-total">(.*?)<', body)[1]) == H1_SUBSIDY + H2_SUBSIDY
    # Subtotals per month, street and property company, each adding up to the total as the .xlsx does.
    for key, label in (("month", "2026年1月"), ("street", "炳草岗街道"), ("company", "（无物业公司）")):
        block = body[body.index(f'id="settlement-by-{key}"'):]
        block = block[:block.index('class="weui-cells__title"')]
        assert label in block and "2 笔" in block, key
        assert sum(fen_of(m) for m in re.findall(r'll-fee-settle__amount">(.*?)<', block)) == H1_SUBSIDY + H2_SUBSIDY
    assert fen_of(re.search(r'class="ll-fee-budget-left">(.*?)<', body)[1]) == 1_000_000 - H1_SUBSIDY - H2_SUBSIDY
    assert f'href="/api/v1/subsidies/settlement.xlsx?area_id={street.id}"' in body

    january_page = official.get(f"/h5/settlement?area_id={street.id}&month=2026-01").get_data(as_text=True)
    assert f'href="/api/v1/subsidies/settlement.xlsx?area_id={street.id}&amp;month=2026-01"' in january_page
    january = html.unescape(january_page)
    assert fen_of(re.search(r'id="settlement-total">(.*?)<', january)[1]) == H1_SUBSIDY + H2_SUBSIDY
    february = text(official.get(f"/h5/settlement?area_id={street.id}&month=2026-02"))
    assert "所选范围内没有已发放的补贴" in february and re.search(r'id="settlement-total">¥0.00<', february)


def test_a_bad_month_is_said_so(people, bills, phone, area_tree):
    response = phone(people["official"]).get(f"/h5/settlement?area_id={area_tree[2].id}&month=2026-13")
    assert response.status_code == 422 and "月份格式应为 YYYY-MM" in text(response)


@pytest.mark.parametrize(("who", "query", "status"), [
    ("committee", "", 403),
    ("committee", "?area_id={street}", 403),
    ("owner", "?area_id={street}", 403),
    ("other_official", "?area_id={street}", 404),
    ("official", "?area_id=99999999", 404),
    ("official", "?area_id=abc", 404),
])
def test_the_settlement_is_for_officials_of_the_area(people, bills, phone, area_tree, who, query, status):
    response = phone(people[who]).get("/h5/settlement" + query.format(street=area_tree[2].id))
    assert response.status_code == status
