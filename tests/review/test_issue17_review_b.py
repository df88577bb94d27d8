"""Review of issue 17 (public money) — access, input and pages: bad periods, months and bodies answer 4xx in the
error shape; every API read and page answers each reader (owner, tenant, staff, manager, committee, officials of
the area and of another, stranger) by their rights, escaped, with CSRF on every form; a spending request is
approved only by a passed motion; the overdue sweep tells the street once however many run at once."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from backend.domain import disclosures as board_rules
from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.funds import AccountKind
from backend.domain.notifications import DISCLOSURE_OVERDUE
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, FundAccount, Household, Notice, User
from backend.services import disclosures as board
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests import photo_samples as samples
from tests.support import assert_error_shape


@dataclass
class World:
    compound: Compound
    owner: User
    tenant: User
    staff: User
    manager: User
    members: list[User]
    official: User
    other_official: User
    stranger: User


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, _street, community = area_tree
    compound = make_compound(name="五十四街坊", area=community, model=ManagementModel.TRUST, buildings=1,
                             households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    return World(
        compound=compound, owner=make_user(Role.OWNER, compound, household=homes[0]),
        tenant=make_user(Role.RESIDENT, compound, household=homes[1]), staff=make_user(Role.STAFF, compound),
        manager=make_user(Role.MANAGER, compound), members=[make_user(Role.COMMITTEE, compound) for _ in range(2)],
        official=make_user(Role.OFFICIAL, area=community),
        other_official=make_user(Role.OFFICIAL, area=make_area("B街道", AreaLevel.STREET, district)),
        stranger=make_user(),
    )


def call(client, method: str, path: str, user: User, **kwargs):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {issue_tokens(user)[0]}"}, **kwargs)


def no_500(response) -> None:
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert_error_shape(response, response.status_code)


def open_account(client, world: World, opened_on: str | None = None) -> int:
    day = opened_on or beijing_date(utcnow()).replace(day=1).isoformat()
    response = call(client, "POST", f"/api/v1/compounds/{world.compound.id}/fund-accounts", world.members[0],
                    json={"kind": "trust", "opened_on": day, "opening_balance_fen": 100000})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["items"][-1]["id"]


def test_disclosure_periods_outside_the_calendar_are_refused(client, world):
    for kind, period in [("public_income", "9999Q4"), ("public_income", "0000Q1"), ("annual_audit", "0000"),
                         ("maintenance_fund", "0000Q1"), ("maintenance_fund", "9999Q4")]:
        response = call(client, "POST", f"/api/v1/compounds/{world.compound.id}/disclosures", world.manager,
                        data={"kind": kind, "period": period, "body": "说明"}, content_type="multipart/form-data")
        no_500(response)


def test_bad_months_and_years_never_500(client, world):
    open_account(client, world)
    cid = world.compound.id
    for month in ["2026-13", "0000-01", "2026-00", "abcd-ef", "9999-12", "2026-1x", "0001-01"]:
        for path in [f"/api/v1/compounds/{cid}/fund-statements/{month}",
                     f"/api/v1/compounds/{cid}/fund-statements/{month}.xlsx",
                     f"/api/v1/compounds/{cid}/fund-entries?month={month}"]:
            no_500(call(client, "GET", path, world.members[0]))
        no_500(call(client, "POST", f"/api/v1/compounds/{cid}/fund-statements/{month}/close", world.members[0],
                    json={"bank_balances": {}}))
        no_500(call(client, "POST", f"/api/v1/compounds/{cid}/fund-statements/{month}/explanation",
                    world.members[0], json={"account_id": 1, "note": "x"}))


def test_bad_bodies_never_500(client, world):
    cid = world.compound.id
    account = open_account(client, world)
    big = 2**63
    posts = [
        (f"/api/v1/compounds/{cid}/fund-accounts", {"kind": "trust", "opened_on": "0001-01-01"}),
        (f"/api/v1/compounds/{cid}/fund-accounts", {"kind": "trust", "opened_on": "2026-02-30"}),
        (f"/api/v1/compounds/{cid}/fund-accounts", {"kind": ["trust"], "opened_on": 5}),
        (f"/api/v1/compounds/{cid}/fund-statements/2026-01/close", {"bank_balances": {"x": "y"}}),
        (f"/api/v1/compounds/{cid}/fund-statements/2026-01/close", {"bank_balances": {str(big): big}}),
        (f"/api/v1/compounds/{cid}/fund-statements/2026-01/close", {"bank_balances": [1, 2]}),
        (f"/api/v1/compounds/{cid}/fund-statements/2026-01/explanation",
         {"account_id": big, "note": "x" * 5000}),
        (f"/api/v1/compounds/{cid}/fund-years/2025", {"use": "refund", "note": "x", "topic_id": big}),
        (f"/api/v1/compounds/{cid}/fund-years/2025", {"use": None}),
        ("/api/v1/fund-entries/1/reversal", {"reason": "x" * 10000}),
        ("/api/v1/spending-requests/1/reject", {"note": ["a"]}),
    ]
    for path, body in posts:
        no_500(call(client, "POST", path, world.members[0], json=body))
        no_500(call(client, "POST", path, world.members[0], data="{not json", content_type="application/json"))
    no_500(call(client, "PUT", f"/api/v1/compounds/{cid}/fund-settings", world.members[0],
                json={"spending_threshold_fen": big}))
    # Multipart endpoints given JSON, JSON endpoints given a form.
    for path in (f"/api/v1/compounds/{cid}/fund-entries", f"/api/v1/compounds/{cid}/spending-requests",
                 f"/api/v1/compounds/{cid}/disclosures"):
        no_500(call(client, "POST", path, world.members[0], json={"category": "repair", "amount_fen": 1}))
        no_500(call(client, "POST", path, world.members[0], data=b"\xff\xfe", content_type="multipart/form-data"))
    for path in (f"/api/v1/compounds/{cid}/fund-accounts", "/api/v1/spending-requests/1/reject",
                 f"/api/v1/compounds/{cid}/fund-statements/2026-01/close"):
        no_500(call(client, "POST", path, world.members[0], data={"kind": "trust", "note": "x"}))
    forms = [
        {"category": "repair", "amount_fen": str(big), "account_id": str(account), "vouchers": "text"},
        {"category": "parking", "amount_fen": "100", "account_id": str(big),
         "vouchers": [samples.camera_jpeg(80, 60).upload()]},
        {"category": "repair", "amount_fen": "100", "spending_request_id": str(big),
         "vouchers": [samples.camera_jpeg(80, 60).upload()]},
        {"category": "parking", "amount_fen": "100", "entry_date": "0001-01-01",
         "vouchers": [samples.camera_jpeg(80, 60).upload()]},
    ]
    for form in forms:
        no_500(call(client, "POST", f"/api/v1/compounds/{cid}/fund-entries", world.members[0], data=form,
                    content_type="multipart/form-data"))


def test_nul_characters_in_text_never_500(client, world):
    cid = world.compound.id
    no_500(call(client, "POST", f"/api/v1/compounds/{cid}/disclosures", world.manager,
                data={"kind": "staff_on_duty", "staff": ["张三\x00", "李四"]}, content_type="multipart/form-data"))
    no_500(call(client, "POST", f"/api/v1/compounds/{cid}/disclosures", world.manager,
                data={"kind": "service_standards", "body": "保洁\x00每日"}, content_type="multipart/form-data"))
    no_500(call(client, "POST", f"/api/v1/compounds/{cid}/spending-requests", world.members[0],
                data={"title": "门\x00禁", "purpose": "other", "amount_fen": "100", "category": "repair",
                      "payee": "x"}, content_type="multipart/form-data"))


EVIL = "<script>alert(17)</script>"


def seed(client, world: World) -> dict:
    """An account, an entry with a voucher, a spending request with a quote, two disclosures: hostile text in each."""
    cid = world.compound.id
    account = open_account(client, world)
    member = world.members[0]
    entry = call(client, "POST", f"/api/v1/compounds/{cid}/fund-entries", member, content_type="multipart/form-data",
                 data={"category": "parking", "amount_fen": "12345", "counterparty": f"甲ZQX{EVIL}",
                       "note": f"ZQX{EVIL}", "vouchers": [samples.camera_jpeg(80, 60).upload()]})
    assert entry.status_code == 201, entry.get_json()
    request = call(client, "POST", f"/api/v1/compounds/{cid}/spending-requests", member,
                   content_type="multipart/form-data",
                   data={"title": f"门禁ZQS{EVIL}", "purpose": "other", "amount_fen": "1000", "category": "repair",
                         "payee": f"乙{EVIL}", "quotes": [samples.camera_jpeg(80, 60).upload()]})
    assert request.status_code == 201, request.get_json()
    board = call(client, "POST", f"/api/v1/compounds/{cid}/disclosures", world.manager,
                 content_type="multipart/form-data",
                 data={"kind": "service_standards", "title": f"标准{EVIL}", "body": f"保洁{EVIL}"})
    assert board.status_code == 201, board.get_json()
    staff = call(client, "POST", f"/api/v1/compounds/{cid}/disclosures", world.manager,
                 content_type="multipart/form-data", data={"kind": "staff_on_duty", "staff": [f"王{EVIL}", "李四"]})
    assert staff.status_code == 201, staff.get_json()
    return {"account": account, "entry": entry.get_json(), "request": request.get_json(),
            "disclosure": board.get_json(), "staff": staff.get_json()}


def page_urls(world: World, seeded: dict) -> list[str]:
    cid = world.compound.id
    month = beijing_date(utcnow()).strftime("%Y-%m")
    return [f"/h5/compounds/{cid}/funds", f"/h5/compounds/{cid}/funds/desk",
            f"/h5/compounds/{cid}/funds/entries", f"/h5/compounds/{cid}/funds/entries?month={month}",
            f"/h5/compounds/{cid}/funds/entries/new", f"/h5/fund-entries/{seeded['entry']['id']}",
            f"/h5/compounds/{cid}/funds/accounts", f"/h5/compounds/{cid}/funds/settings",
            f"/h5/compounds/{cid}/funds/statements/{month}", f"/h5/compounds/{cid}/spending",
            f"/h5/compounds/{cid}/spending/new", f"/h5/spending-requests/{seeded['request']['id']}",
            f"/h5/compounds/{cid}/disclosures", f"/h5/compounds/{cid}/disclosures/new",
            f"/h5/disclosures/{seeded['disclosure']['id']}", f"/h5/disclosures/{seeded['staff']['id']}",
            f"/h5/compounds/{cid}/funds/years/{beijing_date(utcnow()).year - 1}"]


def test_every_page_escapes_and_answers_each_reader(client, app, world, page_sign_in):
    seeded = seed(client, world)
    readers = {"owner": world.owner, "tenant": world.tenant, "staff": world.staff, "manager": world.manager,
               "member": world.members[1], "official": world.official, "other_official": world.other_official,
               "stranger": world.stranger}
    for name, user in readers.items():
        phone = app.test_client()
        page_sign_in(phone, user)
        for url in page_urls(world, seeded):
            response = phone.get(url)
            body = response.get_data(as_text=True)
            assert response.status_code in (200, 403, 404), (name, url, response.status_code, body[:300])
            assert EVIL not in body, (name, url)
            if name in ("stranger", "other_official"):
                assert response.status_code == 404, (name, url)
            if name in ("tenant", "staff"):
                assert "ZQX" not in body and "ZQS" not in body, (name, url)
            if response.status_code == 200:
                assert ">None<" not in body and "None</" not in body, (name, url)
                for form in body.split("<form")[1:]:
                    if 'method="post"' in form.split(">")[0]:
                        assert 'name="csrf_token"' in form.split("</form>")[0], (name, url)


def test_a_ballot_without_an_approval_option_never_approves_a_request(client, world):
    """Options drafted as plain choices ("同意", "不同意" with neither marked as the motion's yes): whichever wins
    "passes" the ballot, so "不同意" winning must not approve the spending request."""
    with time_machine.travel(utcnow(), tick=False) as clock:
        start = utcnow()
        filed = call(client, "POST", f"/api/v1/compounds/{world.compound.id}/spending-requests", world.members[0],
                     content_type="multipart/form-data",
                     data={"title": "外墙粉刷", "purpose": "other", "amount_fen": "600000", "category": "repair",
                           "payee": "某公司"})
        assert filed.status_code == 201, filed.get_json()
        topic_id = filed.get_json()["topic"]["id"]
        review = {"decision": "accept", "vote_kind": "consultation", "civil_code_item": None,
                  "deliberation_ends_at": (start + timedelta(days=3)).isoformat(), "voting_hours": 72,
                  "publicity_days": 7, "responsible_party": "业委会"}
        assert call(client, "POST", f"/api/v1/topics/{topic_id}/review", world.members[1], json=review).status_code \
            == 200
        options = call(client, "PUT", f"/api/v1/topics/{topic_id}/options", world.members[1],
                       json={"options": [{"label": "同意"}, {"label": "不同意"}]}).get_json()["items"]
        no = next(option["id"] for option in options if option["label"] == "不同意")
        assert call(client, "POST", f"/api/v1/topics/{topic_id}/ballot/open", world.members[1]).status_code == 200
        assert call(client, "PUT", f"/api/v1/topics/{topic_id}/vote", world.owner, json={"option_id": no}) \
            .status_code == 200
        clock.move_to(start + timedelta(hours=73))
        closed = call(client, "POST", f"/api/v1/topics/{topic_id}/ballot/close", world.members[1])
        assert closed.status_code == 200, closed.get_json()
        seen = call(client, "GET", f"/api/v1/spending-requests/{filed.get_json()['id']}", world.members[0])
        assert (seen.get_json()["status"], seen.get_json()["spendable"]) == ("rejected", False), seen.get_json()


def page_posts(world: World, seeded: dict) -> list[tuple[str, dict]]:
    cid = world.compound.id
    month = beijing_date(utcnow()).strftime("%Y-%m")
    huge = "9" * 40
    return [
        (f"/h5/compounds/{cid}/funds/entries/new", {"category": "parking", "amount": huge, "entry_date": "0001-01-01",
                                                     "account_id": huge, "spending_request_id": "-1"}),
        (f"/h5/compounds/{cid}/funds/entries/new", {"category": "repair", "amount": "1e5", "entry_date": "2026-02-30",
                                                     "account_id": "１", "spending_request_id": huge}),
        (f"/h5/fund-entries/{seeded['entry']['id']}/reversal", {"reason": "x" * 5000}),
        (f"/h5/compounds/{cid}/funds/accounts", {"kind": "trust", "opened_on": "0001-01-01",
                                                  "opening_balance": huge}),
        (f"/h5/compounds/{cid}/funds/accounts", {"kind": "x", "opened_on": "x", "opening_balance": "-5"}),
        (f"/h5/compounds/{cid}/funds/settings", {"spending_threshold": huge, "remuneration_rate_bp": huge,
                                                  "remuneration_fixed": "-1"}),
        (f"/h5/compounds/{cid}/funds/statements/{month}/close", {f"bank_{seeded['account']}": huge}),
        (f"/h5/compounds/{cid}/funds/statements/0000-01/close", {}),
        (f"/h5/compounds/{cid}/funds/statements/{month}/explanation", {"account_id": huge, "note": "x" * 5000}),
        (f"/h5/compounds/{cid}/funds/years/2025", {"use": "refund", "topic_id": huge, "note": "x" * 5000}),
        (f"/h5/compounds/{cid}/spending/new", {"title": "x", "purpose": "other", "amount": huge,
                                               "category": "repair", "payee": "x", "emergency": "maybe"}),
        (f"/h5/spending-requests/{seeded['request']['id']}/reject", {"note": "x" * 5000}),
        (f"/h5/compounds/{cid}/disclosures/new", {"kind": "public_income", "period": "9999Q4"}),
        (f"/h5/compounds/{cid}/disclosures/new", {"kind": "staff_on_duty", "staff": "\n".join(["张三"] * 500)}),
    ]


def test_page_forms_refuse_bad_values_and_a_missing_csrf_token(client, app, world, page_sign_in):
    seeded = seed(client, world)
    for user in (world.members[1], world.manager):
        phone = app.test_client()
        csrf = page_sign_in(phone, user)
        for url, form in page_posts(world, seeded):
            response = phone.post(url, data=form, content_type="multipart/form-data")
            assert response.status_code in (400, 403), (url, response.status_code)
            response = phone.post(url, data=form | {"csrf_token": csrf}, content_type="multipart/form-data")
            assert response.status_code in (403, 404, 409, 422), (url, response.status_code,
                                                                   response.get_data(as_text=True)[:300])


def test_page_queries_with_bad_values_never_500(client, app, world, page_sign_in):
    seed(client, world)
    cid = world.compound.id
    phone = app.test_client()
    page_sign_in(phone, world.members[1])
    huge = "9" * 30
    for url in [f"/h5/compounds/{cid}/funds/entries?month=0000-01", f"/h5/compounds/{cid}/funds/entries?month=x",
                f"/h5/compounds/{cid}/funds/entries?page={huge}", f"/h5/compounds/{cid}/funds/entries?page=-1",
                f"/h5/compounds/{cid}/funds/entries/new?direction=x", f"/h5/compounds/{cid}/spending?status=x",
                f"/h5/compounds/{cid}/spending?page={huge}", f"/h5/compounds/{cid}/disclosures?kind=x",
                f"/h5/compounds/{cid}/disclosures?page={huge}", f"/h5/compounds/{cid}/disclosures/new?kind=x",
                f"/h5/compounds/{cid}/funds/statements/0000-01", f"/h5/compounds/{cid}/funds/statements/9999-12",
                f"/h5/compounds/{cid}/funds/years/2100", "/h5/fund-entries/2147483647",
                "/h5/spending-requests/2147483647", "/h5/disclosures/2147483647", "/h5/disclosures/2147483647/file",
                "/h5/spending-quotes/2147483647"]:
        response = phone.get(url)
        assert response.status_code in (200, 302, 400, 404, 422), (url, response.status_code)
    for url in [f"/api/v1/compounds/{cid}/spending-requests?page={huge}", f"/api/v1/compounds/{cid}/disclosures?page=0",
                f"/api/v1/compounds/{cid}/fund-entries?page={huge}", f"/api/v1/compounds/{cid}/disclosures?kind=x",
                f"/api/v1/compounds/{cid}/fund-years/2100", f"/api/v1/compounds/{cid}/fund-years/2100/refunds",
                "/api/v1/areas/2147483647/fund-coverage", "/api/v1/disclosure-files/2147483647",
                "/api/v1/fund-vouchers/2147483647", "/api/v1/spending-quotes/2147483647"]:
        no_500(call(client, "GET", url, world.members[1]))


@pytest.mark.live
def test_overdue_sweeps_at_the_same_instant_tell_the_street_once(app, area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compound = make_compound(area=community, model=ManagementModel.TRUST, buildings=1, households_per_building=1)
    make_user(Role.OFFICIAL, area=street)
    owed = board_rules.quarter_due(beijing_date(utcnow()))
    late = board_rules.due_on(owed) + timedelta(days=1)
    db.session.add(FundAccount(compound_id=compound.id, kind=AccountKind.TRUST, opening_balance_fen=0,
                               opened_on=owed.first_day))
    db.session.commit()
    db.session.close()
    barrier = threading.Barrier(4)
    told: list[int] = []

    def sweep():
        with app.app_context():
            barrier.wait()
            told.append(board.sweep_overdue(late))
            db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(told) == [0, 0, 0, 1]
    assert db.session.scalar(select(func.count()).where(Notice.kind == DISCLOSURE_OVERDUE)) == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "disclosure.overdue")) == 1


def test_every_api_read_answers_each_reader_by_their_rights(client, world):
    seeded = seed(client, world)
    cid = world.compound.id
    month = beijing_date(utcnow()).strftime("%Y-%m")
    entry = call(client, "GET", f"/api/v1/fund-entries/{seeded['entry']['id']}", world.members[0]).get_json()
    voucher_url = entry["vouchers"][0]["url"]
    quote_url = seeded["request"]["quotes"][0]["url"]
    insiders_only = [f"/api/v1/compounds/{cid}/fund-accounts", f"/api/v1/compounds/{cid}/fund-entries",
                     f"/api/v1/fund-entries/{seeded['entry']['id']}", voucher_url,
                     f"/api/v1/compounds/{cid}/spending-requests", f"/api/v1/spending-requests/{seeded['request']['id']}",
                     quote_url]
    everyone = [f"/api/v1/compounds/{cid}/fund-summary", f"/api/v1/compounds/{cid}/fund-statements",
                f"/api/v1/compounds/{cid}/fund-statements/{month}", f"/api/v1/compounds/{cid}/fund-statements/{month}.xlsx",
                f"/api/v1/compounds/{cid}/disclosures", f"/api/v1/disclosures/{seeded['disclosure']['id']}",
                f"/api/v1/compounds/{cid}/fund-years/{beijing_date(utcnow()).year - 1}"]
    for user in (world.owner, world.manager, world.members[1], world.official):
        for url in insiders_only + everyone:
            assert call(client, "GET", url, user).status_code == 200, (user.username, url)
    for user in (world.tenant, world.staff):
        for url in insiders_only:
            assert_error_shape(call(client, "GET", url, user), 403)
        for url in everyone:
            response = call(client, "GET", url, user)
            assert response.status_code == 200, (url, response.status_code)
            assert b"ZQX" not in response.data and b"ZQS" not in response.data, url
            assert b"fund-vouchers" not in response.data, url
    for user in (world.stranger, world.other_official):
        for url in insiders_only + everyone:
            assert_error_shape(call(client, "GET", url, user), 404)



def test_a_request_is_for_an_expense_the_journal_can_post(client, world, make_compound, make_user):
    """酬金 is posted by the close, never by hand, and a provider's journal keeps no remuneration: a request for it
    could be approved and never spent."""
    response = call(client, "POST", f"/api/v1/compounds/{world.compound.id}/spending-requests", world.members[0],
                    content_type="multipart/form-data",
                    data={"title": "酬金", "purpose": "other", "amount_fen": "1000", "category": "remuneration",
                          "payee": "物业公司"})
    assert_error_shape(response, 422)
    assert "category" in str(response.get_json()["errors"])
    market = make_compound(name="阳光花园小区", area=world.compound.area, model=ManagementModel.MARKET)
    manager = make_user(Role.MANAGER, market)
    response = call(client, "POST", f"/api/v1/compounds/{market.id}/spending-requests", manager,
                    content_type="multipart/form-data",
                    data={"title": "酬金", "purpose": "other", "amount_fen": "1000", "category": "remuneration",
                          "payee": "物业公司"})
    assert_error_shape(response, 422)


def test_a_market_compounds_money_answers_each_reader_by_their_rights(client, app, area_tree, make_compound, make_user,
                                                                     page_sign_in):
    compound = make_compound(name="阳光花园小区", area=area_tree[3], model=ManagementModel.MARKET, buildings=1,
                             households_per_building=2)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    owner, tenant = make_user(Role.OWNER, compound, household=homes[0]), make_user(Role.RESIDENT, compound,
                                                                                   household=homes[1])
    manager, member, staff = make_user(Role.MANAGER, compound), make_user(Role.COMMITTEE, compound), \
        make_user(Role.STAFF, compound)
    cid = compound.id
    opened = call(client, "POST", f"/api/v1/compounds/{cid}/fund-accounts", manager,
                  json={"kind": "basic", "opened_on": beijing_date(utcnow()).replace(day=1).isoformat()})
    assert opened.status_code == 201, opened.get_json()
    assert_error_shape(call(client, "POST", f"/api/v1/compounds/{cid}/fund-accounts", member,
                            json={"kind": "basic", "opened_on": beijing_date(utcnow()).isoformat()}), 403)
    posted = call(client, "POST", f"/api/v1/compounds/{cid}/fund-entries", manager, content_type="multipart/form-data",
                  data={"category": "advertising", "amount_fen": "5000", "counterparty": "ZQX广告",
                        "vouchers": [samples.camera_jpeg(80, 60).upload()]})
    assert posted.status_code == 201, posted.get_json()
    assert_error_shape(call(client, "POST", f"/api/v1/compounds/{cid}/disclosures", member,
                            content_type="multipart/form-data", data={"kind": "service_standards", "body": "x"}), 403)
    entries = f"/api/v1/compounds/{cid}/fund-entries"
    for user in (owner, manager, member):
        assert call(client, "GET", entries, user).get_json()["items"][0]["counterparty"] == "ZQX广告"
    for user in (tenant, staff):
        assert_error_shape(call(client, "GET", entries, user), 403)
        summary = call(client, "GET", f"/api/v1/compounds/{cid}/fund-summary", user)
        assert summary.status_code == 200 and "ZQX" not in summary.get_data(as_text=True)
        phone = app.test_client()
        page_sign_in(phone, user)
        overview = phone.get(f"/h5/compounds/{cid}/funds")
        assert overview.status_code == 200 and "ZQX" not in overview.get_data(as_text=True)
        assert phone.get(f"/h5/compounds/{cid}/funds/entries").status_code == 403


def test_an_emergency_expense_shows_where_its_ratification_stands(client, app, world, page_sign_in, make_user):
    cid = world.compound.id
    open_account(client, world)
    filed = call(client, "POST", f"/api/v1/compounds/{cid}/spending-requests", world.members[0],
                 content_type="multipart/form-data",
                 data={"title": "水管爆裂抢修", "purpose": "other", "amount_fen": "30000", "category": "repair",
                       "payee": "水电班", "emergency": "true"}).get_json()
    spent = call(client, "POST", f"/api/v1/compounds/{cid}/fund-entries", world.members[0],
                 content_type="multipart/form-data",
                 data={"category": "repair", "amount_fen": "30000", "spending_request_id": str(filed["id"]),
                       "vouchers": [samples.camera_jpeg(80, 60).upload()]})
    assert spent.status_code == 201, spent.get_json()
    phone = app.test_client()
    page_sign_in(phone, world.owner)
    url = f"/h5/fund-entries/{spent.get_json()['id']}"
    assert "紧急维修（待追认）" in phone.get(url).get_data(as_text=True)
    for member in (world.members[1], make_user(Role.COMMITTEE, world.compound)):
        assert call(client, "POST", f"/api/v1/spending-requests/{filed['id']}/approve", member).status_code == 200
    assert "紧急维修（已追认）" in phone.get(url).get_data(as_text=True)
