"""The 公共账本 statements through the API: the overview's balance from the last closed month, closing months in order
and once, the trust model's remuneration posted once before the month freezes, the bank difference red until
explained, the workbook adding up, and who sees what."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.fund_statements import last_day, next_month
from backend.domain.funds import AccountKind, Category, EntryOrigin
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent
from backend.models.funds import FundEntry, FundMonth
from tests.fund_statements_support import (
    month_text,
    months_ago,
    open_account,
    post,
    reverse,
    set_remuneration,
    this_month,
)
from tests.support import assert_error_shape, first_household


def _close(client, headers, compound, month, balances=None):
    return client.post(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(month)}/close", headers=headers,
                       json={"bank_balances": [{"account_id": a, "bank_balance_fen": b}
                                               for a, b in (balances or {}).items()]})


def _books(make_compound, make_user, model=ManagementModel.TRUST):
    compound = make_compound(model=model)
    keeper = make_user(Role.COMMITTEE if model == ManagementModel.TRUST else Role.MANAGER, compound)
    start = months_ago(3)
    account = open_account(compound, start.replace(day=10), opening_fen=100_000)
    return compound, keeper, account, start


def test_closing_freezes_each_month_and_the_balance_reads_from_the_last_closed(client, make_compound, make_user,
                                                                              sign_in):
    compound, keeper, account, start = _books(make_compound, make_user)
    second = next_month(start)
    post(account, start.replace(day=12), Category.PROPERTY_FEE, 50_000)
    repair = post(account, start.replace(day=20), Category.REPAIR, 8_000)
    post(account, second.replace(day=3), Category.PARKING, 1_200)
    reverse(repair, second.replace(day=4))
    post(account, this_month(), Category.CLEANING, 700)
    headers = sign_in(keeper)

    first = _close(client, headers, compound, start, {account.id: 142_000})
    assert first.status_code == 200, first.json
    assert first.json["status"] == "closed"
    [section] = first.json["accounts"]
    assert (section["opening_fen"], section["income_fen"], section["expense_fen"], section["closing_fen"]) == (
        100_000, 50_000, 8_000, 142_000)
    assert section["difference_fen"] == 0 and not section["needs_explanation"]

    live = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(second)}", headers=headers).json
    assert live["status"] == "closable" and live["actions"] == ["close"]
    assert live["accounts"][0]["opening_fen"] == 142_000
    # The reversal of March's repair is counted in April, in the repair's category, negative.
    assert {c["category"]: c["amount_fen"] for c in live["accounts"][0]["by_category"]} == {
        "parking": 1_200, "repair": -8_000}
    assert live["accounts"][0]["closing_fen"] == 142_000 + 1_200 + 8_000

    current = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(this_month())}",
                         headers=headers).json
    assert current["status"] == "open" and current["actions"] == []
    assert current["accounts"][0]["opening_fen"] == 142_000 + 1_200 + 8_000
    assert current["accounts"][0]["by_category"] == [{"category": "cleaning", "label": "保洁", "direction": "expense",
                                                      "direction_label": "支出", "amount_fen": 700}]
    assert (current["accounts"][0]["entry_count"], current["total"]["closing_fen"]) == (1, 151_200 - 700)
    summary = client.get(f"/api/v1/compounds/{compound.id}/fund-summary", headers=headers).json
    assert summary["balance_fen"] == 100_000 + 50_000 - 8_000 + 1_200 + 8_000 - 700
    assert summary["this_month"]["expense_fen"] == 700
    assert summary["latest_closed"] == [{"month": month_text(start), "income_fen": 50_000, "expense_fen": 8_000,
                                         "closing_fen": 142_000}]
    months = client.get(f"/api/v1/compounds/{compound.id}/fund-statements", headers=headers).json["items"]
    assert [m["status"] for m in months] == ["open", "waiting", "closable", "closed"]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "fund_month.close",
                                                        AuditEvent.compound_id == compound.id)) == 1


def test_months_close_in_order_after_their_end_and_once(client, make_compound, make_user, sign_in):
    compound, keeper, account, start = _books(make_compound, make_user)
    headers = sign_in(keeper)
    assert_error_shape(_close(client, headers, compound, next_month(start), {account.id: 100_000}), 409)
    assert_error_shape(_close(client, headers, compound, this_month(), {account.id: 100_000}), 409)
    missing = _close(client, headers, compound, start)
    assert_error_shape(missing, 422)
    assert f"bank_balances.{account.id}" in missing.json["errors"]
    assert _close(client, headers, compound, start, {account.id: 100_000}).status_code == 200
    again = _close(client, headers, compound, start, {account.id: 100_000})
    assert_error_shape(again, 409)
    assert again.json["message"] == "该月已结账"
    assert_error_shape(_close(client, headers, compound, months_ago(5), {account.id: 1}), 409)
    assert_error_shape(client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(months_ago(5))}",
                                  headers=headers), 404)
    assert_error_shape(client.post(f"/api/v1/compounds/{compound.id}/fund-statements/2026-13/close",
                                   headers=headers, json={}), 404)


def test_remuneration_is_posted_once_on_the_months_last_day_before_it_freezes(client, make_compound, make_user,
                                                                             sign_in):
    compound, keeper, account, start = _books(make_compound, make_user)
    set_remuneration(compound, rate_bp=1_000)
    fee = post(account, start.replace(day=15), Category.PROPERTY_FEE, 12_345, origin=EntryOrigin.FEE_PAYMENT)
    post(account, start.replace(day=16), Category.SUBSIDY, 10_000, origin=EntryOrigin.SUBSIDY_GRANT)
    reverse(fee, start.replace(day=17))
    post(account, start.replace(day=18), Category.PROPERTY_FEE, 12_345)
    headers = sign_in(keeper)
    # Fee income 22,345 fen at 10 %: 2,234.5 → 2,235 (half up).
    closed = _close(client, headers, compound, start, {account.id: 100_000 + 22_345 - 2_235})
    assert closed.status_code == 200, closed.json
    [entry] = db.session.scalars(select(FundEntry).where(FundEntry.origin == EntryOrigin.REMUNERATION,
                                                         FundEntry.compound_id == compound.id)).all()
    assert (entry.amount_fen, entry.entry_date, entry.account_id) == (2_235, last_day(start), account.id)
    section = closed.json["accounts"][0]
    assert section["expense_fen"] == 2_235 and section["closing_fen"] == 100_000 + 22_345 - 2_235
    assert section["difference_fen"] == 0
    assert_error_shape(_close(client, headers, compound, start, {account.id: 0}), 409)
    assert db.session.scalar(select(func.count()).where(FundEntry.origin == EntryOrigin.REMUNERATION,
                                                        FundEntry.compound_id == compound.id)) == 1


def test_a_market_compound_closes_by_its_manager_without_remuneration(client, make_compound, make_user, sign_in):
    compound, manager, account, start = _books(make_compound, make_user, ManagementModel.MARKET)
    set_remuneration(compound, fixed_fen=30_000)
    post(account, start.replace(day=15), Category.ADVERTISING, 5_000)
    assert _close(client, sign_in(manager), compound, start, {account.id: 105_000}).status_code == 200
    assert db.session.scalar(select(func.count()).where(FundEntry.compound_id == compound.id,
                                                        FundEntry.origin == EntryOrigin.REMUNERATION)) == 0
    committee = make_user(Role.COMMITTEE, compound)
    assert_error_shape(_close(client, sign_in(committee), compound, next_month(start), {account.id: 1}), 403)


def test_a_difference_from_the_bank_stays_red_until_explained_once(client, make_compound, make_user, sign_in):
    compound, keeper, account, start = _books(make_compound, make_user)
    cash = open_account(compound, start.replace(day=1), kind=AccountKind.NONE)
    post(account, start.replace(day=15), Category.INTEREST, 300)
    headers = sign_in(keeper)
    closed = _close(client, headers, compound, start, {account.id: 100_250}).json
    trust, none = closed["accounts"]
    assert (trust["difference_fen"], trust["needs_explanation"]) == (-50, True)
    assert (none["id"], none["bank_balance_fen"], none["difference_fen"]) == (cash.id, None, None)
    assert closed["actions"] == ["explain"]
    url = f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(start)}/explanation"
    assert_error_shape(client.post(url, headers=headers, json={"account_id": account.id, "note": "  "}), 422)
    explained = client.post(url, headers=headers, json={"account_id": account.id, "note": "银行手续费50分次月入账"})
    assert explained.status_code == 200, explained.json
    assert explained.json["accounts"][0]["difference_note"] == "银行手续费50分次月入账"
    assert explained.json["actions"] == []
    assert_error_shape(client.post(url, headers=headers, json={"account_id": account.id, "note": "再说明"}), 409)
    assert_error_shape(client.post(url, headers=headers, json={"account_id": cash.id, "note": "无"}), 409)


def test_the_workbook_adds_up_to_the_statement(client, make_compound, make_user, sign_in):
    compound, keeper, account, start = _books(make_compound, make_user)
    post(account, start.replace(day=11), Category.PROPERTY_FEE, 40_001)
    post(account, start.replace(day=12), Category.ADVERTISING, 999)
    post(account, start.replace(day=13), Category.GREENING, 12_345)
    post(account, start.replace(day=14), Category.REPAIR, 7)
    db.session.add(FundEntry(compound_id=compound.id, account_id=account.id, entry_date=start.replace(day=15),
                             month=start, category=Category.OTHER_INCOME, amount_fen=5, counterparty="=HYPERLINK(1)"))
    db.session.commit()
    headers = sign_in(keeper)
    statement = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(start)}", headers=headers).json
    response = client.get(f"/api/v1/compounds/{compound.id}/fund-statements/{month_text(start)}.xlsx", headers=headers)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [row for row in sheet.iter_rows(min_row=3, values_only=True)]
    by_label = {row[1]: row[4] for row in rows if row[0] != "合计"}
    categories = [row for row in rows if row[2] in ("收入", "支出")]
    assert sum(r[4] for r in categories if r[2] == "收入") == by_label["收入合计"] == statement["total"]["income_fen"]
    assert sum(r[4] for r in categories if r[2] == "支出") == by_label["支出合计"] == statement["total"]["expense_fen"]
    assert by_label["期初余额"] + by_label["收入合计"] - by_label["支出合计"] == by_label["期末余额"]
    assert rows[-1][0] == "合计" and rows[-1][4] == statement["total"]["closing_fen"]
    assert all(int(r[3] * 100) == r[4] for r in rows)


def test_who_sees_what(client, area_tree, make_area, make_compound, make_user, sign_in):
    compound = make_compound(model=ManagementModel.TRUST, area=area_tree[3])
    start = months_ago(2)
    account = open_account(compound, start)
    post(account, this_month(), Category.PARKING, 800, voucher=True)
    home = first_household(compound)
    people = {
        "owner": make_user(Role.OWNER, compound, household=home),
        "tenant": make_user(Role.RESIDENT, compound, household=home),
        "staff": make_user(Role.STAFF, compound),
        "manager": make_user(Role.MANAGER, compound),
        "committee": make_user(Role.COMMITTEE, compound),
        "official": make_user(Role.OFFICIAL, area=area_tree[3]),
    }
    stranger = make_user(Role.OFFICIAL, area=make_area("别的社区"))
    elsewhere = make_compound()
    other = make_user(Role.OWNER, elsewhere, household=first_household(elsewhere))
    base = f"/api/v1/compounds/{compound.id}"
    for name, person in people.items():
        headers = sign_in(person)
        summary = client.get(f"{base}/fund-summary", headers=headers)
        assert summary.status_code == 200, name
        assert summary.json["balance_fen"] == 800
        sees_entries = name not in ("tenant", "staff")
        assert (summary.json["latest_entries"] is not None) == sees_entries, name
        if sees_entries:
            assert summary.json["latest_entries"][0]["voucher_ids"], name
        label = summary.json["accounts"][0]["label"]
        assert ("6222****1234" in label) == sees_entries, name
        statement = client.get(f"{base}/fund-statements/{month_text(start)}", headers=headers)
        assert statement.status_code == 200, name
        assert statement.json["accounts"][0]["needs_bank_balance"] == sees_entries, name
        assert statement.json["actions"] == (["close"] if name == "committee" else []), name
        assert client.get(f"{base}/fund-statements/{month_text(start)}.xlsx", headers=headers).status_code == 200
        if name != "committee":
            assert_error_shape(_close(client, headers, compound, start, {account.id: 0}), 403)
    for outsider in (stranger, other):
        headers = sign_in(outsider)
        for path in ("fund-summary", "fund-statements", f"fund-statements/{month_text(start)}",
                     f"fund-statements/{month_text(start)}.xlsx"):
            assert_error_shape(client.get(f"{base}/{path}", headers=headers), 404)
        assert_error_shape(_close(client, headers, compound, start, {account.id: 0}), 404)
    assert_error_shape(client.get(f"{base}/fund-summary"), 401)
    assert_error_shape(client.get("/api/v1/compounds/2147483647/fund-summary", headers=sign_in(stranger)), 404)
    assert db.session.scalar(select(func.count()).select_from(FundMonth)) == 0
