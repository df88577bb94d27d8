"""`linli demo`: the demo data loads once, and its accounts sign in and see what their roles allow."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.demo import DEMO_PASSWORD
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound, Household, Membership, User

FIRST, SECOND = "阳光花园小区", "五十四街坊"


def load_the_demo_through_the_cli(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "已导入演示数据" in result.output


@pytest.fixture
def demo(built_once):
    """`linli demo` run once for the module."""
    built_once(load_the_demo_through_the_cli)


def _sign_in(client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/password", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, (username, response.json)
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def _visible(client, username: str) -> list[dict]:
    response = client.get("/api/v1/compounds", headers=_sign_in(client, username))
    assert response.status_code == 200
    return response.json["items"]


def test_demo_loads_once_and_a_second_run_skips(app, demo):
    households = db.session.scalar(select(func.count()).select_from(Household))

    again = app.test_cli_runner().invoke(args=["demo"])

    assert again.exit_code == 0
    assert "演示数据已存在，跳过" in again.output
    assert db.session.scalar(select(func.count()).select_from(Household)) == households
    assert db.session.scalar(select(func.count()).select_from(User).where(User.username == "admin")) == 1


def test_demo_accounts_sign_in_with_the_demo_password(client, demo):
    for username in ("admin", "official", "committee", "tenant", "owner01", "owner40"):
        assert _sign_in(client, username)["Authorization"].startswith("Bearer ")


def test_there_is_a_demo_account_for_each_role(demo):
    roles = dict(
        db.session.execute(
            select(User.username, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(User.username.in_(["admin", "official", "secretary", "committee", "manager", "staff", "owner",
                                      "tenant", "owner2"]))
        ).all()
    )

    assert roles == {
        "admin": Role.ADMIN, "official": Role.OFFICIAL, "secretary": Role.PARTY_SECRETARY,
        "committee": Role.COMMITTEE, "manager": Role.MANAGER, "staff": Role.STAFF, "owner": Role.OWNER,
        "tenant": Role.RESIDENT, "owner2": Role.OWNER,
    }


def test_demo_account_refuses_a_wrong_password(client, demo):
    response = client.post("/api/v1/auth/password", json={"username": "admin", "password": "linli-demo-"})
    assert response.status_code == 401


def test_owner01_to_owner40_are_verified_owners_of_40_households_of_the_first_compound(demo):
    first_id = db.session.scalar(select(Compound.id).where(Compound.name == FIRST))
    rows = db.session.execute(
        select(User.username, Membership.role, Membership.verified_at, Membership.compound_id, Household.compound_id)
        .join(Membership, Membership.user_id == User.id)
        .join(Household, Household.id == Membership.household_id)
        .where(User.username.in_([f"owner{n:02d}" for n in range(1, 41)]))
    ).all()

    assert len(rows) == 40
    assert {row.username for row in rows} == {f"owner{n:02d}" for n in range(1, 41)}
    assert all(row.role is Role.OWNER and row.verified_at is not None for row in rows)
    assert {row[3] for row in rows} == {row[4] for row in rows} == {first_id}
    distinct = db.session.scalar(
        select(func.count(func.distinct(Membership.household_id)))
        .join(User, User.id == Membership.user_id)
        .where(User.username.in_([f"owner{n:02d}" for n in range(1, 41)]))
    )
    assert distinct == 40


def test_the_street_official_sees_both_demo_compounds_and_about_120_households(client, demo):
    compounds = _visible(client, "official")

    assert sorted(c["name"] for c in compounds) == sorted([FIRST, SECOND])
    total = sum(c["household_count"] for c in compounds)
    assert 100 <= total <= 140
    assert total == db.session.scalar(select(func.count()).select_from(Household))


def test_owner2_sees_only_the_second_compound_and_owner_only_the_first(client, demo):
    assert [c["name"] for c in _visible(client, "owner2")] == [SECOND]
    assert [c["name"] for c in _visible(client, "owner")] == [FIRST]
