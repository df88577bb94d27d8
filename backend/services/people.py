"""Users' own settings, and the admin's hand on accounts: deactivating a person, removing a role. Either takes
effect on the person's very next request, in every worker (services/auth_cache hears of the change)."""
from __future__ import annotations

from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.extensions import db
from backend.models import Membership, User
from backend.policy import NOT_FOUND, authorize_everywhere
from backend.services.audit import record_audit


def get_user(user_id: int) -> User:
    return db.session.get(User, user_id)


def update_profile(user_id: int, *, large_text: bool | None = None, display_name: str | None = None) -> User:
    user = db.session.get(User, user_id)
    if large_text is not None:
        user.large_text = large_text
    if display_name is not None:
        user.display_name = display_name.strip()
    db.session.commit()
    return user


def deactivate(user_id: int, admin_id: int, ip: str | None = None) -> None:
    """The person can no longer sign in, and every token of theirs stops working. Deactivating again changes
    nothing."""
    authorize_everywhere(Action.MANAGE_ACCOUNTS, admin_id)
    user = db.session.get(User, user_id)
    if user is None:
        raise Refused(NOT_FOUND, Kind.NOT_FOUND)
    if user_id == admin_id:
        raise Refused("不能停用自己的账号", Kind.CONFLICT)
    if user.is_active:
        user.is_active = False
        record_audit(actor_id=admin_id, action="user.deactivate", target_type="user", target_id=user_id,
                     compound_id=None, before={"is_active": True}, after={"is_active": False}, ip=ip)
    db.session.commit()


def remove_membership(membership_id: int, admin_id: int, ip: str | None = None) -> None:
    """Take a role away (a household binding, a committee seat, an official's area)."""
    authorize_everywhere(Action.MANAGE_ACCOUNTS, admin_id)
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        raise Refused(NOT_FOUND, Kind.NOT_FOUND)
    if membership.user_id == admin_id and membership.role == Role.ADMIN:
        raise Refused("不能移除自己的管理员角色", Kind.CONFLICT)
    record_audit(
        actor_id=admin_id, action="membership.remove", target_type="membership", target_id=membership_id,
        compound_id=membership.compound_id, ip=ip,
        before={"user_id": membership.user_id, "role": membership.role.value, "household_id": membership.household_id,
                "area_id": membership.area_id},
    )
    db.session.delete(membership)
    db.session.commit()
