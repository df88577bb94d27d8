"""The year's page (年度收支与结余) without JavaScript: the committee sees the year's figures and records the surplus
decision (a bad form shows its message on the page, the entries kept), an owner reads their own household's refund
and the list, a tenant their household's share without the list, a stranger gets 404."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from backend.domain.compounds import ManagementModel
from backend.domain.fees import format_fen
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Household, SurplusRefund
from tests.fund_books import EXPENSE_FEN, INCOME_FEN, REMUNERATION_FEN, close_months, write_books


@pytest.fixture
def phone(app, page_sign_in):
    def open_as(user):
        client = app.test_client()
        client.csrf = page_sign_in(client, user)
        return client

    return open_as


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_committee_decides_and_the_owner_reads_their_refund(make_compound, make_user, phone):
    compound = make_compound(model=ManagementModel.TRUST)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    committee = make_user(Role.COMMITTEE, compound)
    owner = make_user(Role.OWNER, compound, household=homes[2])
    tenant = make_user(Role.RESIDENT, compound, household=homes[2])
    stranger = make_user(Role.STAFF, make_compound())
    books = write_books(compound)
    path = f"/h5/compounds/{compound.id}/funds/years/{books.year}"

    desk = phone(committee)
    page = text(desk.get(path))
    assert format_fen(INCOME_FEN - EXPENSE_FEN - REMUNERATION_FEN) in page and 'id="decision-form"' in page
    refused = desk.post(path, data={"csrf_token": desk.csrf, "note": "业主大会表决"})
    assert refused.status_code == 422 and "请选择结余的用途" in text(refused)
    done = desk.post(path, data={"csrf_token": desk.csrf, "use": "refund", "note": "业主大会表决通过"},
                     follow_redirects=True)
    assert done.status_code == 200
    page = text(done)
    assert "按面积退还各户" in page and 'id="decision-form"' not in page and 'id="refunds"' in page

    share = db.session.scalar(select(SurplusRefund.amount_fen).where(SurplusRefund.household_id == homes[2].id))
    mine = text(phone(owner).get(path))
    assert 'id="my-refunds"' in mine and format_fen(share) in mine and "（我家）" in mine
    theirs = text(phone(tenant).get(path))
    assert 'id="my-refunds"' in theirs and format_fen(share) in theirs and 'id="refunds"' not in theirs
    assert phone(stranger).get(path).status_code == 404
    again = desk.post(path, data={"csrf_token": desk.csrf, "use": "carry_forward"})
    assert again.status_code == 409


def test_an_open_month_is_named(make_compound, make_user, phone):
    compound = make_compound(model=ManagementModel.TRUST)
    committee = make_user(Role.COMMITTEE, compound)
    books = write_books(compound, close=False)
    close_months(compound.id, books.account_id, books.year, [10])
    db.session.commit()
    page = text(phone(committee).get(f"/h5/compounds/{compound.id}/funds/years/{books.year}"))
    assert f"{books.year}-11、{books.year}-12" in page and 'id="decision-form"' not in page
