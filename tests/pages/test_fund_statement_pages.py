"""The 公共账本 pages: the overview as an owner and as a tenant, the compound home's block, and the committee closing a
month through the statement page's form (yuan in, a missing bank balance refused on the form, a difference shown
red until explained)."""
from __future__ import annotations

import html

import pytest

from backend.domain.compounds import ManagementModel
from backend.domain.funds import Category
from backend.domain.roles import Role
from tests.fund_statements_support import month_text, months_ago, open_account, post, this_month
from tests.support import first_household


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def books(make_compound, make_user):
    compound = make_compound(model=ManagementModel.TRUST)
    start = months_ago(1)
    account = open_account(compound, start, opening_fen=10_000)
    post(account, start.replace(day=8), Category.PROPERTY_FEE, 25_050)
    post(account, this_month(), Category.CLEANING, 1_234, voucher=True)
    home = first_household(compound)
    return {"compound": compound, "account": account, "start": start,
            "owner": make_user(Role.OWNER, compound, household=home),
            "tenant": make_user(Role.RESIDENT, compound, household=home),
            "committee": make_user(Role.COMMITTEE, compound),
            "stranger": make_user(Role.STAFF, make_compound())}


def test_the_overview_shows_the_balance_to_everyone_and_the_vouchers_to_owners(books, phone):
    compound = books["compound"]
    owner = text(phone(books["owner"]).get(f"/h5/compounds/{compound.id}/funds"))
    assert "¥338.16" in owner  # 100.00 + 250.50 − 12.34
    assert "voucher-link" in owner and "保洁" in owner and 'id="chart-spending"' in owner
    assert 'id="desk-link"' not in owner
    tenant = text(phone(books["tenant"]).get(f"/h5/compounds/{compound.id}/funds"))
    assert "¥338.16" in tenant and "voucher-link" not in tenant and 'id="latest-entries"' not in tenant
    assert "6222****1234" not in tenant
    assert phone(books["stranger"]).get(f"/h5/compounds/{compound.id}/funds").status_code == 404
    home = text(phone(books["tenant"]).get(f"/h5/c/{compound.code}"))
    assert 'id="home-funds"' in home and "余额 ¥338.16" in home


def test_the_committee_closes_a_month_through_the_statement_page(books, phone):
    compound, account, start = books["compound"], books["account"], books["start"]
    committee = phone(books["committee"])
    page = f"/h5/compounds/{compound.id}/funds/statements/{month_text(start)}"
    shown = text(committee.get(page))
    assert 'id="close-form"' in shown and "¥350.50" in shown
    assert 'id="close-form"' not in text(phone(books["owner"]).get(page))
    desk = text(committee.get(f"/h5/compounds/{compound.id}/funds/desk"))
    assert f'data-month="{month_text(start)}"' in desk
    assert phone(books["owner"]).get(f"/h5/compounds/{compound.id}/funds/desk").status_code == 403

    refused = committee.post(f"{page}/close", data={"csrf_token": committee.csrf, f"bank_{account.id}": ""})
    assert refused.status_code == 422 and "请填写银行月末余额" in text(refused)
    closed = committee.post(f"{page}/close", data={"csrf_token": committee.csrf, f"bank_{account.id}": "350.00"},
                            follow_redirects=True)
    shown = text(closed)
    assert 'data-status="closed"' in shown and "-¥0.50（待说明）" in shown and 'class="explain-form"' in shown
    again = committee.post(f"{page}/close", data={"csrf_token": committee.csrf, f"bank_{account.id}": "350.00"})
    assert again.status_code == 409 and "该月已结账" in text(again)
    explained = committee.post(f"{page}/explanation", data={"csrf_token": committee.csrf, "account_id": account.id,
                                                            "note": "手续费"}, follow_redirects=True)
    shown = text(explained)
    assert "说明：手续费" in shown and "待说明" not in shown
