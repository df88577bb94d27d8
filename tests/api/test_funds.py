"""The journal (日记账) through the API: accounts and settings, posting with a voucher (a photo or PDF), the refusals
(no voucher, a category the compound does not keep, a closed month, an expense without an approved request or beyond
it), reversals once, vouchers as files, and who sees what per model and role — bodies, not only status codes."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.funds import Category, SpendingPurpose, SpendingStatus
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, FundEntry, FundMonth, FundVoucher, SpendingRequest, User
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape, first_household

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class People:
    compound: Compound
    bookkeeper: User
    owner: User
    tenant: User
    staff: User
    committee: User
    manager: User
    official: User
    far_official: User
    stranger: User


def _people(compound, make_user, area, far_area) -> People:
    home = first_household(compound)
    committee = make_user(Role.COMMITTEE, compound)
    manager = make_user(Role.MANAGER, compound)
    return People(
        compound=compound,
        bookkeeper=committee if compound.management_model == ManagementModel.TRUST else manager,
        owner=make_user(Role.OWNER, compound, household=home),
        tenant=make_user(Role.RESIDENT, compound, household=home),
        staff=make_user(Role.STAFF, compound),
        committee=committee,
        manager=manager,
        official=make_user(Role.OFFICIAL, area=area),
        far_official=make_user(Role.OFFICIAL, area=far_area),
        stranger=make_user(),
    )


@pytest.fixture
def places(area_tree, make_area):
    _, district, street, community = area_tree
    far = make_area("远方社区", AreaLevel.COMMUNITY, make_area("远方街道", AreaLevel.STREET, district))
    return community, far


@pytest.fixture
def trust(places, make_compound, make_user) -> People:
    community, far = places
    return _people(make_compound(name="信托小区", area=community, model=ManagementModel.TRUST, buildings=1,
                                 households_per_building=2), make_user, community, far)


@pytest.fixture
def market(places, make_compound, make_user) -> People:
    community, far = places
    return _people(make_compound(name="市场小区", area=community, model=ManagementModel.MARKET, buildings=1,
                                 households_per_building=2), make_user, community, far)


def today():
    return beijing_date(utcnow())


def _open_account(client, sign_in, people: People, opened_on=None, **changes) -> dict:
    body = {"kind": "trust", "bank_name": "成都银行", "account_no": "6222 0000 1111 2345", "holder": "全体业主",
            "opening_balance_fen": 100_000, "opened_on": (opened_on or today().replace(day=1)).isoformat()} | changes
    response = client.post(f"/api/v1/compounds/{people.compound.id}/fund-accounts", json=body,
                           headers=sign_in(people.bookkeeper))
    assert response.status_code == 201, response.json
    return response.json["items"][-1]


def _post(client, headers, compound_id: int, files=None, **fields):
    data = {"category": "parking", "amount_fen": "12345", "counterparty": "停车管理", "note": "十月停车费"} | {
        key: str(value) for key, value in fields.items()}
    uploads = [(samples.camera_jpeg(400, 300).stream(), "v.jpg")] if files is None else files
    if uploads:
        data["vouchers"] = uploads
    return client.post(f"/api/v1/compounds/{compound_id}/fund-entries", data=data, headers=headers,
                       content_type="multipart/form-data")


def _request(people: People, status=SpendingStatus.APPROVED, amount_fen=50_000, emergency=False) -> int:
    request = SpendingRequest(compound_id=people.compound.id, requester_id=people.committee.id, title="更换路灯",
                              purpose=SpendingPurpose.OTHER, amount_fen=amount_fen, category=Category.REPAIR,
                              payee="某电工", status=status, threshold_fen=500_000, emergency=emergency)
    db.session.add(request)
    db.session.commit()
    return request.id


# ---- accounts and settings --------------------------------------------------------------------------------------


def test_bookkeeper_opens_an_account_whose_number_is_kept_masked(client, sign_in, trust):
    account = _open_account(client, sign_in, trust)

    assert account["account_no_masked"] == "****2345"
    assert (account["balance_fen"], account["receiving"], account["kind_label"]) == (100_000, True, "信托户")
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "fund.account.open")) == 1
    owner_view = client.get(f"/api/v1/compounds/{trust.compound.id}/fund-accounts", headers=sign_in(trust.owner))
    assert owner_view.status_code == 200 and owner_view.json["items"][0]["account_no_masked"] == "****2345"
    assert owner_view.json["actions"] == []


def test_an_account_opened_tomorrow_is_refused(client, sign_in, trust):
    response = client.post(f"/api/v1/compounds/{trust.compound.id}/fund-accounts",
                           json={"kind": "joint", "opened_on": (today() + timedelta(days=1)).isoformat()},
                           headers=sign_in(trust.bookkeeper))
    assert_error_shape(response, 422)
    assert "opened_on" in response.json["errors"]


def test_owners_cannot_open_accounts(client, sign_in, trust):
    response = client.post(f"/api/v1/compounds/{trust.compound.id}/fund-accounts",
                           json={"kind": "joint", "opened_on": today().isoformat()}, headers=sign_in(trust.owner))
    assert_error_shape(response, 403)


def test_settings_default_until_saved_then_rate_or_fixed(client, sign_in, trust, market):
    url = f"/api/v1/compounds/{trust.compound.id}/fund-settings"
    first = client.get(url, headers=sign_in(trust.owner)).json
    assert (first["saved"], first["spending_threshold_fen"], first["actions"]) == (False, 500_000, [])

    saved = client.put(url, json={"spending_threshold_fen": 300_000, "remuneration_rate_bp": 1200},
                       headers=sign_in(trust.bookkeeper))
    assert saved.status_code == 200, saved.json
    assert (saved.json["saved"], saved.json["remuneration_rate_bp"], saved.json["actions"]) == (True, 1200,
                                                                                                  ["update"])
    both = client.put(url, json={"spending_threshold_fen": 1, "remuneration_rate_bp": 1,
                                 "remuneration_fixed_fen": 1}, headers=sign_in(trust.bookkeeper))
    assert_error_shape(both, 422)
    assert_error_shape(client.put(url, json={"spending_threshold_fen": 1}, headers=sign_in(trust.owner)), 403)
    market_rate = client.put(f"/api/v1/compounds/{market.compound.id}/fund-settings",
                             json={"spending_threshold_fen": 1, "remuneration_rate_bp": 1000},
                             headers=sign_in(market.bookkeeper))
    assert_error_shape(market_rate, 422)


# ---- posting ------------------------------------------------------------------------------------------------------


def test_an_income_with_a_voucher_photo_is_posted_listed_and_its_voucher_served(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    headers = sign_in(trust.bookkeeper)

    response = _post(client, headers, trust.compound.id)

    assert response.status_code == 201, response.json
    entry = response.json
    assert (entry["category_label"], entry["amount_fen"], entry["signed_fen"], entry["origin"]) == (
        "停车", 12345, 12345, "manual")
    assert entry["entry_date"] == today().isoformat() and entry["actions"] == ["reverse"]
    (voucher,) = entry["vouchers"]
    file = client.get(voucher["url"], headers=sign_in(trust.owner))
    assert file.status_code == 200 and file.mimetype == "image/jpeg"
    # Re-encoded: the camera's comment and position are gone.
    assert samples.CAMERA_COMMENT not in file.data
    listed = client.get(f"/api/v1/compounds/{trust.compound.id}/fund-entries?month={today():%Y-%m}",
                        headers=sign_in(trust.owner)).json
    assert [item["id"] for item in listed["items"]] == [entry["id"]] and listed["actions"] == []
    assert listed["items"][0]["voucher_count"] == 1
    accounts = client.get(f"/api/v1/compounds/{trust.compound.id}/fund-accounts", headers=headers).json
    assert accounts["total_balance_fen"] == 100_000 + 12345
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "fund.entry.manual")) == 1


def test_a_pdf_voucher_is_kept_as_a_pdf(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    response = _post(client, sign_in(trust.bookkeeper), trust.compound.id, files=[(io.BytesIO(PDF), "收据.pdf")])
    assert response.status_code == 201, response.json
    assert response.json["vouchers"][0]["content_type"] == "application/pdf"


def test_an_entry_without_a_voucher_is_refused(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    response = _post(client, sign_in(trust.bookkeeper), trust.compound.id, files=[])
    assert_error_shape(response, 422)
    assert "vouchers" in response.json["errors"]
    assert db.session.scalar(select(func.count()).select_from(FundEntry)) == 0


def test_a_voucher_that_is_not_a_photo_or_pdf_is_refused_and_nothing_is_kept(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    response = _post(client, sign_in(trust.bookkeeper), trust.compound.id,
                     files=[(io.BytesIO(b"<?php echo 1; ?>"), "a.jpg")])
    assert_error_shape(response, 422)
    assert db.session.scalar(select(func.count()).select_from(FundVoucher)) == 0


def test_posting_without_an_account_is_a_conflict(client, sign_in, trust):
    assert_error_shape(_post(client, sign_in(trust.bookkeeper), trust.compound.id), 409)


@pytest.mark.parametrize("category", ["remuneration", "property_fee"])
def test_a_market_compound_keeps_only_public_income_and_no_remuneration(client, sign_in, market, category):
    _open_account(client, sign_in, market, kind="basic")
    response = _post(client, sign_in(market.bookkeeper), market.compound.id, category=category)
    assert_error_shape(response, 422)
    assert "category" in response.json["errors"]


def test_an_entry_dated_in_a_closed_month_is_refused_on_its_date(client, sign_in, trust):
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    account = _open_account(client, sign_in, trust, opened_on=last_month)
    db.session.add(FundMonth(compound_id=trust.compound.id, account_id=account["id"], month=last_month,
                             opening_fen=100_000, income_fen=0, expense_fen=0, closing_fen=100_000))
    db.session.commit()

    response = _post(client, sign_in(trust.bookkeeper), trust.compound.id, entry_date=last_month.isoformat())

    assert_error_shape(response, 422)
    assert response.json["errors"]["entry_date"] == ["该月已结账，请在当前月份记一笔更正"]
    assert _post(client, sign_in(trust.bookkeeper), trust.compound.id).status_code == 201


def test_an_entry_dated_tomorrow_is_refused(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    response = _post(client, sign_in(trust.bookkeeper), trust.compound.id,
                     entry_date=(today() + timedelta(days=1)).isoformat())
    assert_error_shape(response, 422)


def test_an_expense_needs_an_approved_request_and_stays_within_it(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    headers = sign_in(trust.bookkeeper)
    expense = {"category": "repair", "amount_fen": 30_000}
    without = _post(client, headers, trust.compound.id, **expense)
    assert_error_shape(without, 422)
    assert "spending_request_id" in without.json["errors"]
    pending = _request(trust, SpendingStatus.PENDING)
    assert_error_shape(_post(client, headers, trust.compound.id, spending_request_id=pending, **expense), 422)

    approved = _request(trust, amount_fen=50_000)
    first = _post(client, headers, trust.compound.id, spending_request_id=approved, **expense)
    assert first.status_code == 201, first.json
    assert (first.json["signed_fen"], first.json["emergency"]) == (-30_000, False)
    over = _post(client, headers, trust.compound.id, spending_request_id=approved, **expense)
    assert_error_shape(over, 422)
    assert over.json["errors"]["amount_fen"] == ["超出该支出申请的金额，剩余可支出¥200.00"]
    assert _post(client, headers, trust.compound.id, spending_request_id=approved, category="repair",
                 amount_fen=20_000).status_code == 201


def test_an_emergency_repair_is_spendable_at_once_and_flagged_unless_rejected(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    headers = sign_in(trust.bookkeeper)
    emergency = _request(trust, SpendingStatus.PENDING, emergency=True)
    response = _post(client, headers, trust.compound.id, category="repair", amount_fen=10_000,
                     spending_request_id=emergency)
    assert response.status_code == 201, response.json
    assert response.json["emergency"] is True
    rejected = _request(trust, SpendingStatus.REJECTED, emergency=True)
    assert_error_shape(_post(client, headers, trust.compound.id, category="repair", amount_fen=10_000,
                             spending_request_id=rejected), 422)


def test_another_compounds_request_cannot_be_spent_against(client, sign_in, trust, market):
    _open_account(client, sign_in, trust)
    theirs = _request(market)
    response = _post(client, sign_in(trust.bookkeeper), trust.compound.id, category="repair", amount_fen=100,
                     spending_request_id=theirs)
    assert_error_shape(response, 422)


def test_an_income_names_no_request(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    assert_error_shape(_post(client, sign_in(trust.bookkeeper), trust.compound.id,
                             spending_request_id=_request(trust)), 422)


# ---- reversals ----------------------------------------------------------------------------------------------------


def test_a_reversal_negates_names_and_is_made_once(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    headers = sign_in(trust.bookkeeper)
    entry = _post(client, headers, trust.compound.id).json

    reversal = client.post(f"/api/v1/fund-entries/{entry['id']}/reversal", data={"reason": "金额记错"},
                           headers=headers)

    assert reversal.status_code == 201, reversal.json
    body = reversal.json
    assert (body["amount_fen"], body["category"], body["reverses_id"], body["origin"], body["reason"]) == (
        -12345, "parking", entry["id"], "reversal", "金额记错")
    assert body["signed_fen"] == -12345 and body["actions"] == []
    original = client.get(f"/api/v1/fund-entries/{entry['id']}", headers=sign_in(trust.owner)).json
    assert original["reversed_by_id"] == body["id"] and original["actions"] == []
    again = client.post(f"/api/v1/fund-entries/{entry['id']}/reversal", data={"reason": "再来"}, headers=headers)
    assert_error_shape(again, 409)
    of_reversal = client.post(f"/api/v1/fund-entries/{body['id']}/reversal", data={"reason": "再来"},
                              headers=headers)
    assert_error_shape(of_reversal, 409)
    balance = client.get(f"/api/v1/compounds/{trust.compound.id}/fund-accounts", headers=headers).json
    assert balance["total_balance_fen"] == 100_000


def test_a_reversal_needs_a_reason_and_a_bookkeeper(client, sign_in, trust):
    _open_account(client, sign_in, trust)
    entry = _post(client, sign_in(trust.bookkeeper), trust.compound.id).json
    assert_error_shape(client.post(f"/api/v1/fund-entries/{entry['id']}/reversal", data={"reason": ""},
                                   headers=sign_in(trust.bookkeeper)), 422)
    assert_error_shape(client.post(f"/api/v1/fund-entries/{entry['id']}/reversal", data={"reason": "x"},
                                   headers=sign_in(trust.owner)), 403)
    assert_error_shape(client.post(f"/api/v1/fund-entries/{entry['id']}/reversal", data={"reason": "x"},
                                   headers=sign_in(trust.stranger)), 404)


def test_an_entry_of_a_closed_month_is_reversed_today(client, sign_in, trust):
    last_month = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    account = _open_account(client, sign_in, trust, opened_on=last_month)
    headers = sign_in(trust.bookkeeper)
    entry = _post(client, headers, trust.compound.id, entry_date=last_month.isoformat()).json
    db.session.add(FundMonth(compound_id=trust.compound.id, account_id=account["id"], month=last_month,
                             opening_fen=100_000, income_fen=12345, expense_fen=0, closing_fen=112_345))
    db.session.commit()

    reversal = client.post(f"/api/v1/fund-entries/{entry['id']}/reversal", data={"reason": "重复记账"},
                           headers=headers)

    assert reversal.status_code == 201, reversal.json
    assert reversal.json["entry_date"] == today().isoformat() and reversal.json["month_closed"] is False
    assert client.get(f"/api/v1/fund-entries/{entry['id']}", headers=headers).json["month_closed"] is True


# ---- who sees what ------------------------------------------------------------------------------------------------

READERS = ("owner", "committee", "manager", "official")
STATEMENT_ONLY = ("tenant", "staff")
NOBODY = ("far_official", "stranger")


@pytest.mark.parametrize("model", ["trust", "market"])
def test_who_sees_accounts_entries_and_vouchers(client, sign_in, request, model):
    people: People = request.getfixturevalue(model)
    _open_account(client, sign_in, people, kind="joint")
    entry = _post(client, sign_in(people.bookkeeper), people.compound.id).json
    voucher_url = entry["vouchers"][0]["url"]
    urls = [f"/api/v1/compounds/{people.compound.id}/fund-accounts",
            f"/api/v1/compounds/{people.compound.id}/fund-entries",
            f"/api/v1/compounds/{people.compound.id}/fund-settings",
            f"/api/v1/fund-entries/{entry['id']}"]

    for name in READERS:
        headers = sign_in(getattr(people, name))
        keeps = getattr(people, name) is people.bookkeeper
        accounts, entries, settings, detail = (client.get(url, headers=headers) for url in urls)
        assert accounts.status_code == 200 and accounts.json["items"][0]["kind"] == "joint", name
        assert accounts.json["actions"] == (["open_account"] if keeps else []), name
        assert [item["id"] for item in entries.json["items"]] == [entry["id"]], name
        assert entries.json["actions"] == (["post"] if keeps else []), name
        assert settings.status_code == 200 and settings.json["actions"] == (["update"] if keeps else []), name
        assert detail.json["actions"] == (["reverse"] if keeps else []), name
        assert client.get(voucher_url, headers=headers).status_code == 200, name
        if not keeps:
            assert_error_shape(_post(client, headers, people.compound.id), 403)
    for name in STATEMENT_ONLY:
        headers = sign_in(getattr(people, name))
        for url in [*urls, voucher_url]:
            assert_error_shape(client.get(url, headers=headers), 403)
        assert_error_shape(_post(client, headers, people.compound.id), 403)
    for name in NOBODY:
        headers = sign_in(getattr(people, name))
        for url in [*urls, voucher_url]:
            response = client.get(url, headers=headers)
            assert_error_shape(response, 404)
            assert "12345" not in response.get_data(as_text=True)
        assert_error_shape(_post(client, headers, people.compound.id), 404)


def test_the_other_models_bookkeeper_cannot_post(client, sign_in, trust, market):
    """Under the trust model the committee keeps the books, not the company's manager; under the market model the
    manager does, not the committee."""
    _open_account(client, sign_in, trust)
    _open_account(client, sign_in, market)
    assert_error_shape(_post(client, sign_in(trust.manager), trust.compound.id), 403)
    assert_error_shape(_post(client, sign_in(market.committee), market.compound.id), 403)


def test_an_unknown_entry_and_voucher_are_404(client, sign_in, trust):
    headers = sign_in(trust.owner)
    assert_error_shape(client.get("/api/v1/fund-entries/2147483647", headers=headers), 404)
    assert_error_shape(client.get("/api/v1/fund-vouchers/2147483647", headers=headers), 404)
    assert_error_shape(client.get("/api/v1/compounds/2147483647/fund-entries", headers=headers), 404)


def test_a_bad_month_filter_is_refused(client, sign_in, trust):
    response = client.get(f"/api/v1/compounds/{trust.compound.id}/fund-entries?month=2026-13",
                          headers=sign_in(trust.owner))
    assert_error_shape(response, 422)


def test_the_journal_lists_in_a_fixed_number_of_queries(client, sign_in, trust, count_queries):
    _open_account(client, sign_in, trust)
    headers = sign_in(trust.bookkeeper)
    first = _post(client, headers, trust.compound.id).json
    client.post(f"/api/v1/fund-entries/{first['id']}/reversal", data={"reason": "记错"}, headers=headers)
    url = f"/api/v1/compounds/{trust.compound.id}/fund-entries"
    owner = sign_in(trust.owner)
    with count_queries() as few:
        assert len(client.get(url, headers=owner).json["items"]) == 2
    for _ in range(5):
        _post(client, headers, trust.compound.id)
    with count_queries() as more:
        assert len(client.get(url, headers=owner).json["items"]) == 7
    assert len(more) == len(few)
