"""Who may see and do what with one compound's public money: the caller's roles there and the compound's management
model, asked once per request by every funds view, page and service (domain/funds.fund_rights decides)."""
from __future__ import annotations

from dataclasses import dataclass

from backend.domain.compounds import ManagementModel
from backend.domain.funds import FundRefused, FundRights, fund_rights
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Compound
from backend.policy import FORBIDDEN, NOT_FOUND, roles_in_compound


@dataclass(frozen=True)
class FundAccess:
    compound_id: int
    model: ManagementModel
    roles: frozenset[Role]
    rights: FundRights
    user_id: int | None


def fund_access(compound_id: int, user_id: int | None, entry_compound_id: int | None = None) -> FundAccess:
    """The caller's rights over the compound's money; NOT_FOUND for a visitor, a stranger, another compound's people
    and a compound that does not exist (its existence stays hidden)."""
    compound = db.session.get(Compound, compound_id)
    roles = roles_in_compound(user_id, compound_id, entry_compound_id) if compound is not None else frozenset()
    rights = fund_rights(compound.management_model, roles) if compound is not None else FundRights()
    if not rights.sees_anything:
        raise FundRefused(NOT_FOUND, Kind.NOT_FOUND)
    return FundAccess(compound_id=compound_id, model=compound.management_model, roles=roles, rights=rights,
                      user_id=user_id)


def require(access: FundAccess, right: str) -> None:
    """FORBIDDEN unless `access.rights.<right>` (a FundRights field name): the person is of the compound but may not
    do or see this."""
    if not getattr(access.rights, right):
        raise FundRefused(FORBIDDEN, Kind.FORBIDDEN)
