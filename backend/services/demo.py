"""Demo data for `make run` and the benchmark: one street, two compounds, ~120 households, a user per role,
and on request a `bench` compound scaled to any number of households for the fan-out benchmark."""
from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy import func, insert, select

from backend.domain.bindings import BindingStatus, Relation
from backend.domain.compounds import (
    AreaLevel,
    GovernanceBody,
    ManagementModel,
    PartyOrgForm,
    RenovationStatus,
)
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import (
    Area,
    BindingRequest,
    Building,
    Compound,
    Household,
    Membership,
    PropertyCompany,
    RegisteredOwner,
    User,
)
from backend.models.base import utcnow
from backend.services.identity import hash_password, phone_columns, phone_hash

DEMO_PASSWORD = "linli-demo"
DEMO_CITY = "攀枝花市"
# (code, name, model, built year, floors per unit): floors × 2 units × 2 rooms × 3 buildings households.
DEMO_COMPOUNDS = (
    ("yangguang", "阳光花园小区", ManagementModel.MARKET, 1996, 6),
    ("wushisi", "五十四街坊", ManagementModel.TRUST, 1988, 4),
)


def demo_loaded() -> bool:
    return db.session.scalar(select(Area.id).where(Area.name == DEMO_CITY, Area.parent_id.is_(None))) is not None


def _area(name: str, level: AreaLevel, parent: Area | None) -> Area:
    area = Area(name=name, level=level, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    return area


def load_demo() -> bool:
    """Load once; return False when the demo data is already there."""
    if demo_loaded():
        return False
    rng = random.Random(20261125)
    password_hash = hash_password(DEMO_PASSWORD)
    city = _area(DEMO_CITY, AreaLevel.CITY, None)
    district = _area("东区", AreaLevel.DISTRICT, city)
    street = _area("炳草岗街道", AreaLevel.STREET, district)
    community = _area("金沙社区", AreaLevel.COMMUNITY, street)
    company = PropertyCompany(name="攀枝花安居物业服务有限公司", credit_code="91510400MA6DEMO01X")
    db.session.add(company)
    db.session.flush()

    compounds: list[Compound] = []
    households: dict[int, list[Household]] = {}
    for code, name, model, built, floors in DEMO_COMPOUNDS:
        compound = Compound(
            code=code, name=name, address=f"攀枝花市东区炳草岗大道{rng.randint(10, 300)}号", area_id=community.id,
            built_year=built, management_model=model, party_org_form=PartyOrgForm.SINGLE, first_secretary_name="李红梅",
            governance_body=GovernanceBody.OWNERS_COMMITTEE, property_company_id=company.id,
            fee_standard_fen_per_m2=85 if model is ManagementModel.MARKET else 60,
            renovation_status=RenovationStatus.DONE if built < 1990 else RenovationStatus.IN_PROGRESS,
            open_problems="部分楼栋雨污管网老化" if built < 1990 else "",
        )
        db.session.add(compound)
        db.session.flush()
        compounds.append(compound)
        households[compound.id] = []
        for number in range(1, 4):
            building = Building(compound_id=compound.id, name=f"{number}栋")
            db.session.add(building)
            db.session.flush()
            for unit in ("1", "2"):
                for floor in range(1, floors + 1):
                    for door in (1, 2):
                        household = Household(
                            compound_id=compound.id, building_id=building.id, unit=unit, room=f"{floor}0{door}",
                            floor_area_centi_m2=rng.randint(4500, 12000) + rng.choice((0, 50)),
                        )
                        db.session.add(household)
                        households[compound.id].append(household)
    db.session.flush()
    first, second = compounds
    first_homes, second_homes = households[first.id], households[second.id]

    def user(username: str, display_name: str, phone: str | None = None) -> User:
        person = User(username=username, password_hash=password_hash, display_name=display_name,
                      **(phone_columns(phone) if phone else {}))
        db.session.add(person)
        db.session.flush()
        return person

    now = utcnow()
    admin = user("admin", "平台管理员")
    db.session.add(Membership(user_id=admin.id, role=Role.ADMIN))
    official = user("official", "炳草岗街道 王科长")
    db.session.add(Membership(user_id=official.id, role=Role.OFFICIAL, area_id=street.id))
    for username, display_name, role in (
        ("secretary", "李红梅（第一书记）", Role.PARTY_SECRETARY),
        ("committee", "张建国（业委会主任）", Role.COMMITTEE),
        ("manager", "陈经理（安居物业）", Role.MANAGER),
        ("staff", "刘师傅（维修工）", Role.STAFF),
    ):
        person = user(username, display_name)
        db.session.add(Membership(user_id=person.id, role=role, compound_id=first.id))

    def verified(person: User, role: Role, compound: Compound, household: Household) -> None:
        db.session.add(Membership(user_id=person.id, role=role, compound_id=compound.id, household_id=household.id,
                                  verified_by_id=admin.id, verified_at=now))

    owner = user("owner", "王秀英", phone="13900000001")
    verified(owner, Role.OWNER, first, first_homes[0])
    db.session.add(RegisteredOwner(household_id=first_homes[0].id, name="王秀英", phone_hash=phone_hash("13900000001"),
                                   phone_masked="139****0001"))
    verified(user("tenant", "赵小军"), Role.RESIDENT, first, first_homes[0])
    verified(user("owner2", "孙桂兰"), Role.OWNER, second, second_homes[0])
    for index in range(1, 41):
        verified(user(f"owner{index:02d}", f"业主{index:02d}"), Role.OWNER, first, first_homes[index])
    # An owner on the register who has not signed up yet: signing in with this phone and asking to be
    # bound to this household as its owner is approved at once.
    db.session.add(RegisteredOwner(household_id=first_homes[50].id, name="周德明", phone_hash=phone_hash("13900000050"),
                                   phone_masked="139****0050"))
    for index, name in ((45, "吴海燕"), (46, "郑大伟")):
        applicant = User(display_name="", **phone_columns(f"1370000{index:04d}"))
        db.session.add(applicant)
        db.session.flush()
        db.session.add(BindingRequest(user_id=applicant.id, compound_id=first.id, household_id=first_homes[index].id,
                                      claimed_name=name, relation=Relation.OWNER, status=BindingStatus.PENDING))
    db.session.commit()
    return True


def demo_compound() -> Compound:
    return db.session.scalar(select(Compound).where(Compound.code == DEMO_COMPOUNDS[0][0]))


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
    compound = Compound(
        code=BENCH_CODE, name="压测小区", address="攀枝花市东区炳草岗大道1号", area_id=home.area_id, built_year=1998,
        management_model=ManagementModel.MARKET, party_org_form=PartyOrgForm.SINGLE,
        governance_body=GovernanceBody.OWNERS_COMMITTEE, property_company_id=home.property_company_id,
        fee_standard_fen_per_m2=85,
    )
    db.session.add(compound)
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
                {"username": f"bench{index + 1:06d}", "display_name": f"压测业主{index + 1}",
                 "wechat_openid": f"bench-openid-{index + 1}", "created_at": now}
                for index in indexes
            ],
        ).all()
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
