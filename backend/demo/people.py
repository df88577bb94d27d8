"""The demo's people: an account for every role (password `linli-demo`), the verified owners and a tenant of the
first compound, an owner of the second, an owner on the register who has not signed up yet, and two people who
signed in by phone and asked to be bound to a household."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.demo import factories
from backend.demo.places import Places
from backend.domain.bindings import BindingStatus, Relation
from backend.domain.compounds import AreaLevel
from backend.domain.phones import mask_phone
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import BindingRequest, Household, RegisteredOwner, User
from backend.services.identity import hash_password, phone_hash

DEMO_PASSWORD = "linli-demo"


@dataclass(frozen=True)
class People:
    password_hash: str
    admin: User
    # The first compound's party secretary, committee, manager and staff: username → user id.
    crew: dict[str, int]
    # Verified owners and the tenant: username → (user, household).
    residents: dict[str, tuple[User, Household]]
    # Every account with a username (username → user id) and every resident's household (username → id), read
    # while they are at hand: the ORM rows expire at each commit of the stories that follow.
    accounts: dict[str, int]
    homes: dict[str, int]


def make_people(places: Places, now: datetime) -> People:
    password_hash = hash_password(DEMO_PASSWORD)
    first, second = places.first, places.second
    first_homes, second_homes = places.homes[first.id], places.homes[second.id]
    accounts: dict[str, int] = {}

    def account(username: str, display_name: str, phone: str | None = None) -> User:
        person = factories.make_user(username, display_name, password_hash, phone)
        accounts[username] = person.id
        return person

    admin = account("admin", "平台管理员")
    factories.grant_role(admin, Role.ADMIN)
    official = account("official", "炳草岗街道 王科长")
    factories.grant_role(official, Role.OFFICIAL, area=places.areas[AreaLevel.STREET])
    crew: dict[str, int] = {}
    for username, display_name, role in (
        ("secretary", "李红梅（第一书记）", Role.PARTY_SECRETARY),
        ("committee", "张建国（业委会主任）", Role.COMMITTEE),
        ("manager", "陈经理（安居物业）", Role.MANAGER),
        ("staff", "刘师傅（维修工）", Role.STAFF),
    ):
        person = account(username, display_name)
        crew[username] = person.id
        factories.grant_role(person, role, compound=first)

    residents: dict[str, tuple[User, Household]] = {}

    def resident(username: str, display_name: str, role: Role, home: Household, phone: str | None = None) -> None:
        person = account(username, display_name, phone)
        compound = first if home.compound_id == first.id else second
        factories.grant_role(person, role, compound=compound, household=home, verified_by=admin, verified_at=now)
        residents[username] = (person, home)

    resident("owner", "王秀英", Role.OWNER, first_homes[0], phone="13900000001")
    _on_the_register(first_homes[0], "王秀英", "13900000001")
    resident("tenant", "赵小军", Role.RESIDENT, first_homes[0])
    resident("owner2", "孙桂兰", Role.OWNER, second_homes[0])
    for index in range(1, 41):
        resident(f"owner{index:02d}", f"业主{index:02d}", Role.OWNER, first_homes[index])
    # An owner on the register who has not signed up yet: signing in with this phone and asking to be
    # bound to this household as its owner is approved at once.
    _on_the_register(first_homes[50], "周德明", "13900000050")
    for index, name in ((45, "吴海燕"), (46, "郑大伟")):
        applicant = factories.make_user(None, "", None, f"1370000{index:04d}")
        db.session.add(BindingRequest(user_id=applicant.id, compound_id=first.id, household_id=first_homes[index].id,
                                      claimed_name=name, relation=Relation.OWNER, status=BindingStatus.PENDING))
    return People(
        password_hash=password_hash, admin=admin, crew=crew, residents=residents, accounts=accounts,
        homes={username: home.id for username, (_, home) in residents.items()},
    )


def _on_the_register(household: Household, name: str, phone: str) -> None:
    db.session.add(RegisteredOwner(household_id=household.id, name=name, phone_hash=phone_hash(phone),
                                   phone_masked=mask_phone(phone)))
