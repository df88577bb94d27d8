"""The one authorization policy: a role in this compound, an official over one of its ancestor areas,
an admin, or a visitor holding a current QR entry for it. Every API view and page asks here."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, func, or_, select

from backend.domain.roles import Action, Role, allows
from backend.extensions import db
from backend.models import Area, Compound, Membership


@dataclass(frozen=True)
class Access:
    compound: Compound
    roles: frozenset[Role]


def ancestor_area_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def roles_in_compound(
    user_id: int | None, compound: Compound, entry_compound_id: int | None = None, area_path: str | None = None
) -> frozenset[Role]:
    roles: set[Role] = set()
    if entry_compound_id == compound.id:
        roles.add(Role.VISITOR)
    if user_id is None:
        return frozenset(roles)
    if area_path is None:
        area_path = db.session.scalar(select(Area.path).where(Area.id == compound.area_id)) or ""
    rows = db.session.scalars(
        select(Membership.role).where(
            Membership.user_id == user_id,
            or_(
                Membership.compound_id == compound.id,
                Membership.area_id.in_(ancestor_area_ids(area_path)),
                Membership.role == Role.ADMIN,
            ),
        )
    )
    roles.update(rows)
    return frozenset(roles)


def authorize(
    action: Action, compound_id: int, user_id: int | None, entry_compound_id: int | None = None
) -> Access:
    """Abort 404 when the caller has nothing to do with the compound (its existence stays hidden),
    403 when they do but their role does not allow the action."""
    row = db.session.execute(
        select(Compound, Area.path).join(Area, Area.id == Compound.area_id).where(Compound.id == compound_id)
    ).first()
    if row is None:
        abort(404)
    compound = row.Compound
    roles = roles_in_compound(user_id, compound, entry_compound_id, area_path=row.path)
    if not roles:
        abort(404)
    if not allows(roles, action):
        abort(403)
    return Access(compound=compound, roles=roles)


def authorize_area(action: Action, area_id: int, user_id: int | None) -> Area:
    """For actions on an area itself (e.g. importing a community's ledger): an admin, or an official of the
    area or one of its ancestors. 404 for strangers; 403 for people who only hold roles below the area."""
    area = db.session.get(Area, area_id)
    if area is None or user_id is None:
        abort(404)
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
        abort(403 if held_below else 404)
    if not allows(roles, action):
        abort(403)
    return area


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
