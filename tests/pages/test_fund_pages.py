"""The journal's pages: the committee of a trust compound opens an account, saves the settings, posts an income
with a voucher photo (refused on its own form without one), reverses it; an owner reads the entries, the entry and
its voucher; a tenant and staff are refused the entries; another street's official and a stranger get 404 — and
the market compound's manager keeps its books."""
from __future__ import annotations

import html

import pytest

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.roles import Role
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples
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
def world(area_tree, make_area, make_compound, make_user):
    _, district, _, community = area_tree
    far = make_area("远方社区", AreaLevel.COMMUNITY, make_area("远方街道", AreaLevel.STREET, district))
    compound = make_compound(name="信托小区", area=community, model=ManagementModel.TRUST, buildings=1,
                             households_per_building=2)
    market = make_compound(name="市场小区", area=community, buildings=1, households_per_building=1)
    home = first_household(compound)
    return {
        "compound": compound, "market": market,
        "committee": make_user(Role.COMMITTEE, compound),
        "owner": make_user(Role.OWNER, compound, household=home),
        "tenant": make_user(Role.RESIDENT, compound, household=home),
        "staff": make_user(Role.STAFF, compound),
        "official": make_user(Role.OFFICIAL, area=community),
        "far_official": make_user(Role.OFFICIAL, area=far),
        "stranger": make_user(),
        "manager": make_user(Role.MANAGER, market),
    }


def _open_account(committee, compound_id: int) -> None:
    today = beijing_date(utcnow())
    response = committee.post(f"/h5/compounds/{compound_id}/funds/accounts", data={
        "csrf_token": committee.csrf, "kind": "trust", "bank_name": "成都银行", "account_no": "62220000111122223333",
        "holder": "全体业主", "opening_balance": "1000.50", "opened_on": today.replace(day=1).isoformat()})
    assert response.status_code == 302, text(response)[:500]


def test_the_committee_keeps_the_books_through_the_pages_and_an_owner_reads_them(world, phone):
    compound_id = world["compound"].id
    committee = phone(world["committee"])
    _open_account(committee, compound_id)
    accounts = text(committee.get(f"/h5/compounds/{compound_id}/funds/accounts"))
    assert "****3333" in accounts and "¥1,000.50" in accounts

    saved = committee.post(f"/h5/compounds/{compound_id}/funds/settings", data={
        "csrf_token": committee.csrf, "spending_threshold": "3000", "remuneration_rate_bp": "1200"})
    assert saved.status_code == 302
    assert "物业费收入的12" in text(committee.get(f"/h5/compounds/{compound_id}/funds/settings"))

    form = {"csrf_token": committee.csrf, "category": "parking", "amount": "123.45", "counterparty": "停车管理",
            "note": "十月停车费"}
    without = committee.post(f"/h5/compounds/{compound_id}/funds/entries/new", data=form,
                             content_type="multipart/form-data")
    assert without.status_code == 422
    assert "请上传至少一张凭证" in text(without) and 'value="123.45"' in text(without)

    posted = committee.post(f"/h5/compounds/{compound_id}/funds/entries/new",
                            data=form | {"vouchers": (samples.camera_jpeg(400, 300).stream(), "v.jpg")},
                            content_type="multipart/form-data")
    assert posted.status_code == 302, text(posted)[:500]
    entry_url = posted.headers["Location"]
    page = text(committee.get(entry_url))
    assert "停车" in page and "¥123.45" in page and "/api/v1/fund-vouchers/" in page and 'id="reversal-form"' in page

    owner = phone(world["owner"])
    listing = text(owner.get(f"/h5/compounds/{compound_id}/funds/entries"))
    assert "十月停车费" in listing and "记一笔收入" not in listing
    owner_entry = owner.get(entry_url)
    assert owner_entry.status_code == 200 and 'id="reversal-form"' not in text(owner_entry)
    voucher_url = text(owner_entry).split('src="')[1].split('"')[0]
    assert voucher_url.startswith("/api/v1/fund-vouchers/")
    voucher = owner.get(voucher_url)
    assert voucher.status_code == 200 and voucher.mimetype == "image/jpeg"

    reversed_ = committee.post(f"{entry_url}/reversal", data={"csrf_token": committee.csrf, "reason": "重复记账"},
                               content_type="multipart/form-data")
    assert reversed_.status_code == 302, text(reversed_)[:500]
    reversal = text(committee.get(reversed_.headers["Location"]))
    assert "红字冲销" in reversal and "重复记账" in reversal and "−¥123.45" in reversal


def test_tenants_staff_and_strangers_do_not_read_the_entries(world, phone):
    compound_id = world["compound"].id
    _open_account(phone(world["committee"]), compound_id)
    urls = [f"/h5/compounds/{compound_id}/funds/entries", f"/h5/compounds/{compound_id}/funds/accounts",
            f"/h5/compounds/{compound_id}/funds/settings"]
    for name, status in (("tenant", 403), ("staff", 403), ("far_official", 404), ("stranger", 404)):
        client = phone(world[name])
        for url in urls:
            response = client.get(url)
            assert response.status_code == status, (name, url)
            assert "****" not in text(response)
        assert client.get(f"/h5/compounds/{compound_id}/funds/entries/new").status_code == status
    official = phone(world["official"])
    assert official.get(urls[0]).status_code == 200
    assert "记一笔收入" not in text(official.get(urls[0]))
    assert official.get(f"/h5/compounds/{compound_id}/funds/entries/new").status_code == 403


def test_the_market_compounds_manager_keeps_public_income_only(world, phone):
    market_id = world["market"].id
    manager = phone(world["manager"])
    _open_account(manager, market_id)
    form = text(manager.get(f"/h5/compounds/{market_id}/funds/entries/new"))
    assert "停车" in form and "物业费" not in form and "酬金" not in form
    assert "酬金" not in text(manager.get(f"/h5/compounds/{market_id}/funds/settings"))


def test_a_login_is_asked_for_first(client, world):
    response = client.get(f"/h5/compounds/{world['compound'].id}/funds/entries")
    assert response.status_code == 302 and "/h5/login" in response.headers["Location"]


def test_a_visitor_who_scanned_the_compounds_code_sees_nothing_of_its_money(world, phone, scan):
    compound = world["compound"]
    _open_account(phone(world["committee"]), compound.id)
    visitor = phone(world["stranger"])
    scan(visitor, compound)
    for url in (f"/h5/compounds/{compound.id}/funds/entries", f"/h5/compounds/{compound.id}/funds/accounts",
                f"/api/v1/compounds/{compound.id}/fund-accounts"):
        response = visitor.get(url)
        assert response.status_code == 404, url
        assert "****" not in text(response)
