"""The benchmark compound `bench` (压测小区): in the demo's community, with any number of households, each with a
verified owner who signs in through WeChat; served by the demo's staff and manager."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, select

from backend.demo import factories
from backend.demo.places import demo_compound
from backend.domain.auth import WeChatApp
from backend.domain.compounds import GovernanceBody, ManagementModel, PartyOrgForm
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Building, Compound, Household, Membership, User, WeChatAccount
from backend.shared.clock import utcnow

BENCH_CODE = "bench"
BENCH_BUILDING_SIZE = 200  # households per building: 4 units × 25 floors × 2 doors
BENCH_CHUNK = 5000


def _bench_compound() -> Compound:
    compound = db.session.scalar(select(Compound).where(Compound.code == BENCH_CODE))
    if compound is not None:
        return compound
    home = demo_compound()
    if home is None:
        raise LookupError("load the demo data first")
    compound = factories.make_compound(
        BENCH_CODE, "压测小区", home.area, ManagementModel.MARKET, address="攀枝花市东区炳草岗大道1号", built_year=1998,
        party_org_form=PartyOrgForm.SINGLE, governance_body=GovernanceBody.OWNERS_COMMITTEE,
        property_company_id=home.property_company_id, fee_standard_fen_per_m2=85,
    )
    db.session.commit()
    return compound


def _bench_home(index: int) -> tuple[int, str, str]:
    """Household `index` (from 0) → (building number, unit, room)."""
    building, place = divmod(index, BENCH_BUILDING_SIZE)
    unit, rest = divmod(place, 50)
    floor, door = divmod(rest, 2)
    return building + 1, str(unit + 1), f"{floor + 1}{door + 1:02d}"


def load_bench_households(
    count: int, on_chunk: Callable[[int, int], None] | None = None, chunk_size: int = BENCH_CHUNK
) -> int:
    """Ensure the `bench` compound has `count` households, each with one verified owner (username
    bench000001…, a sandbox WeChat openid, no password). Returns how many households were added.

    Bulk inserts, one commit per chunk of households together with their owners, so the compound's
    household count is also the number of owners made and a second run carries on where the first stopped."""
    compound = _bench_compound()
    admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    existing = db.session.scalar(
        select(func.count()).select_from(Household).where(Household.compound_id == compound.id)
    )
    buildings = dict(
        db.session.execute(select(Building.name, Building.id).where(Building.compound_id == compound.id)).all()
    )
    now = utcnow()
    for start in range(existing, count, chunk_size):
        indexes = range(start, min(start + chunk_size, count))
        homes = [_bench_home(index) for index in indexes]
        missing = sorted({number for number, _, _ in homes if f"{number}栋" not in buildings})
        if missing:
            rows = db.session.execute(
                insert(Building).returning(Building.name, Building.id),
                [{"compound_id": compound.id, "name": f"{number}栋"} for number in missing],
            )
            buildings.update(rows.all())
        household_ids = db.session.scalars(
            insert(Household).returning(Household.id, sort_by_parameter_order=True),
            [
                {"compound_id": compound.id, "building_id": buildings[f"{number}栋"], "unit": unit, "room": room,
                 # 60–120 m², spread deterministically so the same run gives the same areas.
                 "floor_area_centi_m2": 6000 + (index * 7919) % 6000}
                for index, (number, unit, room) in zip(indexes, homes, strict=True)
            ],
        ).all()
        user_ids = db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {"username": f"bench{index + 1:06d}", "display_name": f"压测业主{index + 1}", "created_at": now}
                for index in indexes
            ],
        ).all()
        db.session.execute(
            insert(WeChatAccount),
            [
                {"user_id": user_id, "app": WeChatApp.OFFICIAL_ACCOUNT, "openid": f"bench-openid-{index + 1}",
                 "created_at": now, "last_signed_in_at": now}
                for index, user_id in zip(indexes, user_ids, strict=True)
            ],
        )
        db.session.execute(
            insert(Membership),
            [
                {"user_id": user_id, "role": Role.OWNER, "compound_id": compound.id, "household_id": household_id,
                 "verified_by_id": admin_id, "verified_at": now, "created_at": now}
                for user_id, household_id in zip(user_ids, household_ids, strict=True)
            ],
        )
        db.session.commit()
        if on_chunk is not None:
            on_chunk(indexes[-1] + 1, count)
    return max(count - existing, 0)


def staff_the_bench_compound() -> None:
    """The demo staff and manager also serve the `bench` compound, so its orders have handlers to sign in as."""
    compound_id = db.session.scalar(select(Compound.id).where(Compound.code == BENCH_CODE))
    if compound_id is None:
        return
    for username, role in (("staff", Role.STAFF), ("manager", Role.MANAGER)):
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        held = db.session.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.compound_id == compound_id, Membership.role == role))
        if held is None:
            db.session.add(Membership(user_id=user_id, role=role, compound_id=compound_id))
    db.session.commit()
