"""The one authorization policy: a role in this compound, an official over one of its ancestor areas,
an admin, or a visitor holding a current QR entry for it. Every API view and page asks here."""
from __future__ import annotations

from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import Select, String, bindparam, cast, exists, func, or_, select

from backend.domain.refusals import Kind, Refused
from backend.domain.roles import WITHOUT_PARTY_ORGANISATION, Action, Role, allows, has_party_organisation
from backend.extensions import db
from backend.models import Area, Compound, Membership
from backend.shared.lru import LRU

# The answers of the API's error shape for 404 and 403: a stranger learns nothing more from either.
NOT_FOUND = "没有找到"
FORBIDDEN = "没有权限进行此操作"


def _hidden() -> Refused:
    return Refused(NOT_FOUND, Kind.NOT_FOUND)


def _forbidden() -> Refused:
    return Refused(FORBIDDEN, Kind.FORBIDDEN)


@dataclass(frozen=True)
class Access:
    compound_id: int
    roles: frozenset[Role]

    @property
    def compound(self) -> Compound:
        # Loaded only by the views that show the compound; the session's identity map keeps it per request.
        return db.session.get(Compound, self.compound_id)

    def may(self, action: Action) -> bool:
        return permits(self.roles, action, self.compound_id)


def ancestor_area_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


# Built once: every API call and page asks this, and building the statement costs more than running it.
# A membership counts when it is in the compound, is an admin's, or is an official's over an area whose id
# appears in the compound's area path ("/1/4/9/").
_ROLES_IN_COMPOUND = (
    select(Membership.role)
    .select_from(Compound)
    .join(Area, Area.id == Compound.area_id)
    .join(
        Membership,
        or_(
            Membership.compound_id == Compound.id,
            Membership.role == Role.ADMIN,
            Area.path.contains("/" + cast(Membership.area_id, String) + "/"),
        ),
    )
    .where(Compound.id == bindparam("compound_id"), Membership.user_id == bindparam("user_id"))
)


# A person's roles per compound, kept by each worker under the person's version (services/auth_cache): any change
# of their memberships gives them a new version, so a removed role is gone on the very next request.
_ROLES = LRU(8192)
_VERSION_KEY = "linli.person_version"


def remember_person_version(user_id: int, version: str | None) -> None:
    """Called by the sign-in check with the version it read for the signed-in person (None: Redis gave none)."""
    request.environ[_VERSION_KEY] = (user_id, version)


def stop_caching_roles_of(user_ids: set[int]) -> None:
    """This request changed these people's memberships: roles read from now on are not theirs for the version
    read at its start (the change may yet be rolled back, or commit under a new version)."""
    if has_request_context() and request.environ.get(_VERSION_KEY, (None,))[0] in user_ids:
        del request.environ[_VERSION_KEY]


def _person_version(user_id: int) -> str | None:
    if not has_request_context():
        return None
    remembered = request.environ.get(_VERSION_KEY)
    return remembered[1] if remembered and remembered[0] == user_id else None


def _roles_of(user_id: int, compound_id: int) -> frozenset[Role]:
    version = _person_version(user_id)
    key = (user_id, version, compound_id)
    roles = _ROLES.get(key) if version else None
    if roles is None:
        roles = frozenset(db.session.scalars(_ROLES_IN_COMPOUND, {"compound_id": compound_id, "user_id": user_id}))
        # None kept: no roles may mean no such compound yet, and one created (a ledger import) changes no one's
        # version, so an admin's or an official's role in it would stay hidden.
        if version and roles:
            _ROLES.put(key, roles)
    return roles


def roles_in_compound(user_id: int | None, compound_id: int, entry_compound_id: int | None = None) -> frozenset[Role]:
    """Every role the caller holds here; empty when the compound does not exist or is none of theirs. The
    visitor's role comes from the QR entry token of this request, never from the cache."""
    roles = _roles_of(user_id, compound_id) if user_id is not None else frozenset()
    if entry_compound_id == compound_id:
        roles |= {Role.VISITOR}
    return roles


def permits(roles: frozenset[Role], action: Action, compound_id: int) -> bool:
    """The permission table as it stands in this compound: who reviews topics depends on whether the compound has
    a party organisation, so that action is answered with the compound's own."""
    if action not in WITHOUT_PARTY_ORGANISATION:
        return allows(roles, action)
    form = db.session.get(Compound, compound_id).party_org_form
    return allows(roles, action, party_organisation=has_party_organisation(form))


def authorize(
    action: Action, compound_id: int, user_id: int | None, entry_compound_id: int | None = None
) -> Access:
    """Refused NOT_FOUND when the caller has nothing to do with the compound (its existence stays hidden),
    FORBIDDEN when they do but their role does not allow the action."""
    roles = roles_in_compound(user_id, compound_id, entry_compound_id)
    if not roles:
        raise _hidden()
    if not permits(roles, action, compound_id):
        raise _forbidden()
    return Access(compound_id=compound_id, roles=roles)


def authorize_everywhere(action: Action, user_id: int) -> None:
    """For actions over the whole platform (the accounts): only roles held everywhere count, an admin's.
    FORBIDDEN for anyone else signed in."""
    roles = frozenset(db.session.scalars(
        select(Membership.role).where(Membership.user_id == user_id, Membership.role == Role.ADMIN)
    ))
    if not allows(roles, action):
        raise _forbidden()


def authorize_area(action: Action, area_id: int, user_id: int | None) -> Area:
    """For actions on an area itself (e.g. importing a community's ledger): an admin, or an official of the
    area or one of its ancestors. 404 for strangers; 403 for people who only hold roles below the area."""
    area = db.session.get(Area, area_id)
    if area is None or user_id is None:
        raise _hidden()
    memberships = db.session.execute(
        select(Membership.role, Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    above = set(ancestor_area_ids(area.path))
    roles = {row.role for row in memberships if row.role == Role.ADMIN or row.area_id in above}
    if not roles:
        # A role in a compound or a smaller area below this one makes the area known to the caller.
        held_below = db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .outerjoin(Compound, Compound.id == Membership.compound_id)
            .join(Area, Area.id == func.coalesce(Membership.area_id, Compound.area_id))
            .where(Membership.user_id == user_id, Area.path.startswith(area.path))
        )
        raise _forbidden() if held_below else _hidden()
    if not allows(roles, action):
        raise _forbidden()
    return area


def assessed_compounds(user_id: int) -> set[int] | None:
    """The compounds whose assessment the user may read in a list: None means all (admins, officials,
    whose lists hold only compounds below their area)."""
    memberships = db.session.execute(
        select(Membership.role, Membership.compound_id).where(Membership.user_id == user_id)
    ).all()
    if any(row.role in (Role.ADMIN, Role.OFFICIAL) for row in memberships):
        return None
    return {row.compound_id for row in memberships if allows({row.role}, Action.VIEW_ASSESSMENT)}


def visible_compounds(user_id: int) -> Select:
    """Compounds a user may list: by membership, by an official's area, or all for an admin."""
    memberships = db.session.execute(
        select(Membership.role, Membership.compound_id, Membership.area_id).where(Membership.user_id == user_id)
    ).all()
    if any(row.role == Role.ADMIN for row in memberships):
        return select(Compound)
    compound_ids = {row.compound_id for row in memberships if row.compound_id is not None}
    area_ids = [row.area_id for row in memberships if row.area_id is not None]
    conditions = [Compound.id.in_(compound_ids)] if compound_ids else []
    if area_ids:
        prefixes = db.session.scalars(select(Area.path).where(Area.id.in_(area_ids))).all()
        below = select(Area.id).where(or_(*[Area.path.startswith(prefix) for prefix in prefixes]))
        conditions.append(Compound.area_id.in_(below))
    if not conditions:
        return select(Compound).where(Compound.id.is_(None))
    return select(Compound).where(or_(*conditions))


def is_household_member(user_id: int | None, household_id: int) -> bool:
    """A verified owner or resident of the household: they see its bills and receipts, and pay them."""
    if user_id is None:
        return False
    return bool(db.session.scalar(select(exists().where(
        Membership.user_id == user_id, Membership.household_id == household_id,
        Membership.role.in_((Role.OWNER, Role.RESIDENT)), Membership.verified_at.is_not(None),
    ))))


@dataclass(frozen=True)
class FeeReader:
    """Someone who may read a household's bills and receipts, with their roles in its compound."""

    roles: frozenset[Role]
    member: bool


def fee_reader(user_id: int | None, compound_id: int, household_id: int) -> FeeReader | None:
    """The household's verified people, or those who see the compound's bills; None for anyone else, a
    neighbour of the same compound too, so that a household's bills and receipts stay hidden (404)."""
    roles = roles_in_compound(user_id, compound_id)
    member = is_household_member(user_id, household_id)
    if not member and not allows(roles, Action.VIEW_BILLS):
        return None
    return FeeReader(roles=roles, member=member)
