"""The one authorization policy: a role in this compound, an official over one of its ancestor areas,
an admin, or a visitor holding a current QR entry for it. Every API view and page asks here."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, or_, select

from backend.domain.roles import Action, Role, allows
from backend.extensions import db
from backend.models import Area, Compound, Membership


@dataclass(frozen=True)
class Access:
    compound: Compound
    roles: frozenset[Role]


def ancestor_area_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def roles_in_compound(user_id: int | None, compound: Compound, entry_compound_id: int | None = None) -> frozenset[Role]:
    roles: set[Role] = set()
    if entry_compound_id == compound.id:
        roles.add(Role.VISITOR)
    if user_id is None:
        return frozenset(roles)
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
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        abort(404)
    roles = roles_in_compound(user_id, compound, entry_compound_id)
    if not roles:
        abort(404)
    if not allows(roles, action):
        abort(403)
    return Access(compound=compound, roles=roles)


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
