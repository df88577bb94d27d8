"""Every list endpoint issues the same number of SQL statements whatever the page size (no N+1)."""

from __future__ import annotations

import pytest

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.compounds import AreaLevel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BindingRequest, Household, Membership, User
from backend.services.auth import issue_tokens
from backend.shared.clock import utcnow

SMALL, LARGE = 5, 50


def bearer_for(user) -> dict[str, str]:
    """A bearer header minted as /auth/password mints it, without paying its deliberate argon2 cost."""
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


def households_of(compound) -> list[Household]:
    return list(
        db.session.scalars(
            db.select(Household).where(Household.compound_id == compound.id).order_by(Household.id)
        )
    )


def add_users(count: int) -> list[User]:
    users = [User(display_name=f"住户{n}") for n in range(count)]
    db.session.add_all(users)
    db.session.flush()
    return users


def statements_for(client, count_queries, url: str, headers: dict, **query) -> tuple[list[str], dict]:
    # Start from an empty identity map each time, so neither call profits from rows the other loaded.
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    return statements, response.json


def assert_same_count(small: list[str], large: list[str]) -> None:
    assert len(small) == len(large), "\n".join(["-- small page:", *small, "-- large page:", *large])


@pytest.fixture
def big_compound(make_compound):
    compound = make_compound(buildings=3, households_per_building=22)
    households = households_of(compound)
    assert len(households) >= 60
    # Verified owners on most households, two on some, so the owner count is not a constant.
    owners = add_users(60)
    for n, owner in enumerate(owners):
        household = households[n % 45]
        db.session.add(
            Membership(
                user_id=owner.id,
                role=Role.OWNER,
                compound_id=compound.id,
                household_id=household.id,
                verified_at=utcnow(),
            )
        )
    db.session.commit()
    return compound


def test_household_list_runs_the_same_queries_for_5_and_50_rows(
    client, count_queries, big_compound, make_user
):
    headers = bearer_for(make_user(Role.COMMITTEE, big_compound))
    url = f"/api/v1/compounds/{big_compound.id}/households"
    client.get(url, headers=headers)
    small, small_body = statements_for(client, count_queries, url, headers, page_size=SMALL)
    large, large_body = statements_for(client, count_queries, url, headers, page_size=LARGE)
    assert (len(small_body["items"]), len(large_body["items"])) == (SMALL, LARGE)
    assert {item["verified_owner_count"] for item in large_body["items"]} == {0, 1, 2}
    assert_same_count(small, large)


def test_household_list_of_one_building_runs_the_same_queries(client, count_queries, big_compound, make_user):
    headers = bearer_for(make_user(Role.STAFF, big_compound))
    url = f"/api/v1/compounds/{big_compound.id}/households"
    building_id = households_of(big_compound)[0].building_id
    client.get(url, headers=headers)
    small, _ = statements_for(client, count_queries, url, headers, page_size=SMALL, building_id=building_id)
    large, body = statements_for(
        client, count_queries, url, headers, page_size=LARGE, building_id=building_id
    )
    assert len(body["items"]) == 22
    assert_same_count(small, large)


def test_compound_list_runs_the_same_queries_for_an_official_over_many_compounds(
    client, count_queries, area_tree, make_area, make_compound, make_user
):
    _city, _district, street, community = area_tree
    second = make_area("第二社区", AreaLevel.COMMUNITY, street)
    for n in range(60):
        make_compound(area=community if n % 2 else second, buildings=1, households_per_building=1)
    headers = bearer_for(make_user(Role.OFFICIAL, area=street))
    client.get("/api/v1/compounds", headers=headers)
    small, small_body = statements_for(client, count_queries, "/api/v1/compounds", headers, page_size=SMALL)
    large, large_body = statements_for(client, count_queries, "/api/v1/compounds", headers, page_size=LARGE)
    assert (len(small_body["items"]), len(large_body["items"]), large_body["total"]) == (SMALL, LARGE, 60)
    assert {item["household_count"] for item in large_body["items"]} == {1}
    assert_same_count(small, large)


def test_binding_list_runs_the_same_queries_for_5_and_50_rows(client, count_queries, big_compound, make_user):
    households = households_of(big_compound)
    applicants = add_users(60)
    for applicant, household in zip(applicants, households, strict=False):
        db.session.add(
            BindingRequest(
                user_id=applicant.id,
                compound_id=big_compound.id,
                household_id=household.id,
                claimed_name="申请人",
                relation=Relation.TENANT,
                status=BindingStatus.PENDING,
            )
        )
    db.session.commit()
    headers = bearer_for(make_user(Role.COMMITTEE, big_compound))
    url = f"/api/v1/compounds/{big_compound.id}/bindings"
    client.get(url, headers=headers)
    small, _ = statements_for(client, count_queries, url, headers, page_size=SMALL, status="pending")
    large, body = statements_for(client, count_queries, url, headers, page_size=LARGE, status="pending")
    assert len(body["items"]) == LARGE and all(item["household"]["building_name"] for item in body["items"])
    assert_same_count(small, large)


def test_me_runs_the_same_queries_for_one_or_many_households(
    client, count_queries, big_compound, make_compound
):
    households = households_of(big_compound)
    few, many = add_users(2)
    for user, count in ((few, 1), (many, 30)):
        for household in households[:count]:
            db.session.add(
                Membership(
                    user_id=user.id,
                    role=Role.RESIDENT,
                    compound_id=big_compound.id,
                    household_id=household.id,
                    verified_at=utcnow(),
                )
            )
        for household in households[30 : 30 + count]:
            db.session.add(
                BindingRequest(
                    user_id=user.id,
                    compound_id=big_compound.id,
                    household_id=household.id,
                    claimed_name="住户",
                    relation=Relation.OWNER,
                    status=BindingStatus.PENDING,
                )
            )
    db.session.commit()
    few_headers, many_headers = bearer_for(few), bearer_for(many)
    client.get("/api/v1/me", headers=few_headers)
    small, small_body = statements_for(client, count_queries, "/api/v1/me", few_headers)
    large, large_body = statements_for(client, count_queries, "/api/v1/me", many_headers)
    assert (len(small_body["memberships"]), len(large_body["memberships"])) == (1, 30)
    assert (len(small_body["bindings"]), len(large_body["bindings"])) == (1, 30)
    assert all(m["household"]["building_name"] for m in large_body["memberships"])
    assert_same_count(small, large)
