"""The year's result and the surplus (年度收支与结余) through the API: the figures from the journal with reversals
netted in and the remuneration on its own line; the decision refused while a month is open, outside the trust
model, twice, by a reader; a refund split by floor area adding up to the surplus, each owner seeing their own
household's share; who sees what (owner, tenant, staff, committee, official of the area and of another, visitor);
and the officials' account coverage of an area."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import AreaLevel, ManagementModel
from backend.domain.consultations import Step
from backend.domain.funds import AccountKind, Category
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import AuditEvent, Compound, FundEntry, FundYear, Household, SurplusRefund, Topic, User
from tests.fund_books import EXPENSE_FEN, INCOME_FEN, REMUNERATION_FEN, close_months, last_year, write_books
from tests.support import assert_error_shape

SURPLUS_FEN = INCOME_FEN - EXPENSE_FEN - REMUNERATION_FEN


@dataclass
class World:
    trust: Compound
    market: Compound
    homes: list[Household]
    committee: User
    owner: User
    neighbour: User  # owner of the second household
    tenant: User
    staff: User
    manager: User  # the market compound's
    official: User
    other_official: User
    visitor: User  # an owner of the market compound: a stranger to the trust compound


@pytest.fixture
def world(area_tree, make_area, make_compound, make_user) -> World:
    _, district, street, community = area_tree
    trust = make_compound(name="信托小区", area=community, model=ManagementModel.TRUST)
    market = make_compound(name="市场小区", area=community)
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == trust.id)
                                    .order_by(Household.id)))
    market_home = db.session.scalar(select(Household).where(Household.compound_id == market.id))
    other_street = make_area("B街道", AreaLevel.STREET, district)
    return World(
        trust=trust, market=market, homes=homes,
        committee=make_user(Role.COMMITTEE, trust), owner=make_user(Role.OWNER, trust, household=homes[0]),
        neighbour=make_user(Role.OWNER, trust, household=homes[1]),
        tenant=make_user(Role.RESIDENT, trust, household=homes[0]), staff=make_user(Role.STAFF, trust),
        manager=make_user(Role.MANAGER, market), official=make_user(Role.OFFICIAL, area=street),
        other_official=make_user(Role.OFFICIAL, area=other_street),
        visitor=make_user(Role.OWNER, market, household=market_home),
    )


def _year_path(compound: Compound, year: int) -> str:
    return f"/api/v1/compounds/{compound.id}/fund-years/{year}"


def test_the_year_waits_for_its_months_to_close(client, sign_in, world):
    books = write_books(world.trust, close=False)
    close_months(world.trust.id, books.account_id, books.year, [10, 11])
    db.session.commit()
    committee = sign_in(world.committee)
    body = client.get(_year_path(world.trust, books.year), headers=committee).json
    assert body["closed"] is False and body["months_open"] == [f"{books.year}-12"]
    assert body["actions"] == [] and body["blocked_reason"]
    assert_error_shape(client.post(_year_path(world.trust, books.year), json={"use": "carry_forward"},
                                   headers=committee), 409)
    assert db.session.scalar(select(func.count()).select_from(FundYear)) == 0


def test_a_year_without_accounts_cannot_be_decided(client, sign_in, world):
    committee = sign_in(world.committee)
    body = client.get(_year_path(world.trust, last_year()), headers=committee).json
    assert body["closed"] is False and body["surplus_fen"] == 0 and body["actions"] == []
    assert_error_shape(client.post(_year_path(world.trust, last_year()), json={"use": "carry_forward"},
                                   headers=committee), 409)


def test_the_committee_refunds_the_surplus_by_floor_area(client, sign_in, world):
    books = write_books(world.trust)
    committee = sign_in(world.committee)
    before = client.get(_year_path(world.trust, books.year), headers=committee).json
    assert (before["income_fen"], before["expense_fen"], before["remuneration_fen"], before["surplus_fen"]) == (
        INCOME_FEN, EXPENSE_FEN, REMUNERATION_FEN, SURPLUS_FEN)
    assert {line["category"]: line["amount_fen"] for line in before["by_category"]}["repair"] == 90_000
    assert before["closed"] is True and before["actions"] == ["record_decision"] and before["decision"] is None

    response = client.post(_year_path(world.trust, books.year), headers=committee,
                           json={"use": "refund", "note": "业主大会决定按面积退还"})
    assert response.status_code == 201, response.json
    decision = response.json["decision"]
    assert decision["use"] == "refund" and decision["use_label"] == "按面积退还各户"
    assert decision["surplus_fen"] == SURPLUS_FEN and response.json["actions"] == ["see_refunds"]
    refunds = db.session.scalars(select(SurplusRefund)).all()
    assert len(refunds) == len(world.homes) and sum(refund.amount_fen for refund in refunds) == SURPLUS_FEN
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "fund_year.decide"))
    assert audit.actor_id == world.committee.id and audit.compound_id == world.trust.id

    again = client.post(_year_path(world.trust, books.year), headers=committee, json={"use": "carry_forward"})
    assert_error_shape(again, 409)

    owner = sign_in(world.owner)
    mine = client.get(_year_path(world.trust, books.year), headers=owner).json
    area = world.homes[0].floor_area_centi_m2
    whole = sum(home.floor_area_centi_m2 for home in world.homes)
    [line] = mine["my_refunds"]
    assert line["household_id"] == world.homes[0].id and line["mine"] is True
    assert abs(line["amount_fen"] - SURPLUS_FEN * area / whole) < 1
    listed = client.get(f"{_year_path(world.trust, books.year)}/refunds", headers=owner).json
    assert listed["total_fen"] == SURPLUS_FEN and listed["total"] == len(world.homes)
    assert [item["household_id"] for item in listed["items"] if item["mine"]] == [world.homes[0].id]
    assert listed["items"][0]["place"] == "1栋1单元101室"


def test_who_sees_the_year_and_the_refunds(client, sign_in, world):
    books = write_books(world.trust)
    client.post(_year_path(world.trust, books.year), headers=sign_in(world.committee), json={"use": "refund"})
    year_path = _year_path(world.trust, books.year)
    for person in (world.owner, world.official, world.staff, world.tenant):
        body = client.get(year_path, headers=sign_in(person)).json
        assert body["surplus_fen"] == SURPLUS_FEN and body["decision"]["use"] == "refund"
    # The tenant lives in the owner's household: the share is shown, the list of every household is not.
    tenant = sign_in(world.tenant)
    assert len(client.get(year_path, headers=tenant).json["my_refunds"]) == 1
    assert_error_shape(client.get(f"{year_path}/refunds", headers=tenant), 403)
    assert_error_shape(client.get(f"{year_path}/refunds", headers=sign_in(world.staff)), 403)
    official = client.get(f"{year_path}/refunds", headers=sign_in(world.official)).json
    assert official["total_fen"] == SURPLUS_FEN and not any(item["mine"] for item in official["items"])
    assert client.get(year_path, headers=sign_in(world.official)).json["actions"] == ["see_refunds"]
    for stranger in (world.visitor, world.other_official, world.manager):
        headers = sign_in(stranger)
        assert_error_shape(client.get(year_path, headers=headers), 404)
        assert_error_shape(client.get(f"{year_path}/refunds", headers=headers), 404)
        assert_error_shape(client.post(year_path, headers=headers, json={"use": "refund"}), 404)
    for reader in (world.owner, world.official, world.tenant):
        assert_error_shape(client.post(_year_path(world.trust, books.year), headers=sign_in(reader),
                                       json={"use": "carry_forward"}), 403)
    assert_error_shape(client.get(_year_path(world.trust, books.year)), 401)


def test_only_a_refund_lists_refunds(client, sign_in, world):
    books = write_books(world.trust)
    committee = sign_in(world.committee)
    assert_error_shape(client.get(f"{_year_path(world.trust, books.year)}/refunds", headers=committee), 404)
    response = client.post(_year_path(world.trust, books.year), headers=committee, json={"use": "reduce_fees"})
    assert response.status_code == 201 and response.json["my_refunds"] == []
    assert_error_shape(client.get(f"{_year_path(world.trust, books.year)}/refunds", headers=committee), 404)
    assert db.session.scalar(select(func.count()).select_from(SurplusRefund)) == 0


def test_the_market_model_keeps_no_year(client, sign_in, world):
    books = write_books(world.market, kind=AccountKind.BASIC)
    manager = sign_in(world.manager)
    body = client.get(_year_path(world.market, books.year), headers=manager).json
    assert body["actions"] == [] and body["blocked_reason"] == "只有信托制物业的小区按年度决定结余的用途"
    assert_error_shape(client.post(_year_path(world.market, books.year), headers=manager,
                                   json={"use": "carry_forward"}), 409)


def test_bad_decisions(client, sign_in, world, make_compound):
    books = write_books(world.trust)
    committee = sign_in(world.committee)
    path = _year_path(world.trust, books.year)
    for body, field in (({}, "use"), ({"use": "spend_it"}, "use"), ({"use": "refund", "note": "长" * 301}, "note"),
                        ({"use": "refund", "topic_id": 0}, "topic_id")):
        response = client.post(path, headers=committee, json=body)
        assert_error_shape(response, 422)
        assert field in str(response.json.get("errors")), response.json
    elsewhere = make_compound()
    topic = Topic(compound_id=elsewhere.id, proposer_id=world.committee.id, title="别处的议题", body="结余",
                  step=Step.DELIBERATION)
    db.session.add(topic)
    db.session.commit()
    response = client.post(path, headers=committee, json={"use": "refund", "topic_id": topic.id})
    assert_error_shape(response, 422)
    assert "topic_id" in response.json["errors"]
    for year in ("1999", "2101", "99999999999"):
        assert client.get(f"/api/v1/compounds/{world.trust.id}/fund-years/{year}", headers=committee).status_code \
            == 404
    assert db.session.scalar(select(func.count()).select_from(FundYear)) == 0


def test_a_deficit_is_not_refunded(client, sign_in, world):
    books = write_books(world.trust, close=False)
    db.session.add(FundEntry(compound_id=world.trust.id, account_id=books.account_id,
                             entry_date=date(books.year, 12, 20), month=date(books.year, 12, 1),
                             category=Category.REPAIR, amount_fen=2_000_000))
    close_months(world.trust.id, books.account_id, books.year, [10, 11, 12])
    db.session.commit()
    committee = sign_in(world.committee)
    response = client.post(_year_path(world.trust, books.year), headers=committee, json={"use": "refund"})
    assert_error_shape(response, 422)
    assert "use" in response.json["errors"]
    carried = client.post(_year_path(world.trust, books.year), headers=committee, json={"use": "carry_forward"})
    assert carried.status_code == 201 and carried.json["surplus_fen"] == SURPLUS_FEN - 2_000_000


def test_the_officials_see_which_compounds_keep_accounts(client, sign_in, world, area_tree):
    write_books(world.trust)
    street = area_tree[2]
    body = client.get(f"/api/v1/areas/{street.id}/fund-coverage", headers=sign_in(world.official)).json
    assert body["compounds"] == 2 and body["with_account"] == 1
    assert {row["compound_name"]: [a["kind"] for a in row["accounts"]] for row in body["items"]} == {
        "信托小区": ["trust"], "市场小区": []}
    assert {kind["kind"]: kind["count"] for kind in body["by_kind"]} == {"basic": 0, "joint": 0, "trust": 1,
                                                                         "none": 0}
    assert_error_shape(client.get(f"/api/v1/areas/{street.id}/fund-coverage",
                                  headers=sign_in(world.other_official)), 404)
    assert_error_shape(client.get(f"/api/v1/areas/{street.id}/fund-coverage", headers=sign_in(world.owner)), 403)
    board = client.get(f"/api/v1/areas/{street.id}/dashboard", headers=sign_in(world.official)).json
    assert board["fund_coverage"]["with_account"] == 1 and board["fund_coverage"]["compounds"] == 2
    page = client.get(f"/h5/areas/{street.id}/dashboard", headers=sign_in(world.official))
    assert page.status_code == 200
    assert "公共收益账户" in page.get_data(as_text=True) and "信托户 1" in page.get_data(as_text=True)
