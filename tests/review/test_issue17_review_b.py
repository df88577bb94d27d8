"""Review probes for issue 17 (public money): access, bad input and pages."""
from __future__ import annotations

import html
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Household, User
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


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
