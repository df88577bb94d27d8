"""`linli demo --households N`: the benchmark compound `bench` with N households, one verified owner each."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.domain.compounds import ManagementModel
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Building, Compound, Household, Membership, User
from backend.services.demo import demo_compound, load_bench_households


@pytest.fixture
def demo_cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        result = runner.invoke(args=["demo", *args])
        assert result.exit_code == 0, result.output
        return result.output

    return invoke


def _bench() -> Compound | None:
    return db.session.scalar(select(Compound).where(Compound.code == "bench"))


def _counts(compound: Compound) -> tuple[int, int, int]:
    households = db.session.scalar(
        select(func.count()).select_from(Household).where(Household.compound_id == compound.id)
    )
    owners = db.session.scalar(
        select(func.count(func.distinct(Membership.user_id))).where(
            Membership.compound_id == compound.id, Membership.role == Role.OWNER, Membership.verified_at.is_not(None)
        )
    )
    buildings = db.session.scalar(select(func.count()).select_from(Building).where(Building.compound_id == compound.id))
    return households, owners, buildings


def test_households_450_makes_a_bench_compound_of_450_households_each_with_a_verified_owner(demo_cli):
    output = demo_cli("--households", "450")

    assert "已导入演示数据" in output
    assert "压测小区: 450/450 户" in output
    bench = _bench()
    home = demo_compound()
    assert (bench.area_id, bench.management_model) == (home.area_id, ManagementModel.MARKET)
    # 200 households a building: 200 + 200 + 50.
    assert _counts(bench) == (450, 450, 3)
    owners = db.session.execute(
        select(User.username, User.wechat_openid, User.password_hash, User.phone_hash, Household.compound_id)
        .join(Membership, Membership.user_id == User.id)
        .join(Household, Household.id == Membership.household_id)
        .where(Membership.compound_id == bench.id)
    ).all()
    assert sorted(row.username for row in owners) == [f"bench{n:06d}" for n in range(1, 451)]
    assert {row.wechat_openid for row in owners} == {f"bench-openid-{n}" for n in range(1, 451)}
    assert {(row.password_hash, row.phone_hash, row.compound_id) for row in owners} == {(None, None, bench.id)}
    one_household_each = db.session.scalar(
        select(func.count(func.distinct(Membership.household_id))).where(Membership.compound_id == bench.id)
    )
    assert one_household_each == 450


def test_a_second_run_with_the_same_count_adds_nothing(demo_cli):
    demo_cli("--households", "450")
    users = db.session.scalar(select(func.count()).select_from(User))

    output = demo_cli("--households", "450")

    assert "演示数据已存在，跳过" in output
    assert "压测小区已有 450 户，跳过" in output
    assert _counts(_bench()) == (450, 450, 3)
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(Compound).where(Compound.code == "bench")) == 1


def test_a_larger_count_adds_only_the_missing_households_chunk_by_chunk(demo_cli):
    demo_cli()
    load_bench_households(150, chunk_size=100)
    progress = []

    added = load_bench_households(450, chunk_size=100, on_chunk=lambda done, total: progress.append((done, total)))

    assert added == 300
    assert progress == [(250, 450), (350, 450), (450, 450)]
    assert _counts(_bench()) == (450, 450, 3)


def test_the_plain_demo_makes_no_bench_compound(demo_cli):
    demo_cli()

    assert _bench() is None


def test_the_bench_compound_needs_the_demo_first(app):
    with pytest.raises(LookupError):
        load_bench_households(10)
    assert _bench() is None
