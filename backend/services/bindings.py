"""Household binding: a resident asks, the compound's committee, party secretary or staff decide."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from backend.domain.bindings import (
    RELATION_LABELS,
    BindingRefused,
    BindingStatus,
    Relation,
    check_can_decide,
    check_not_own_request,
    role_for,
    verified_by_register,
)
from backend.domain.compounds import household_label
from backend.domain.notifications import BINDING_DECISION, BINDING_REVIEW, quoted
from backend.domain.roles import PERMISSIONS, Action
from backend.extensions import db
from backend.models import BindingRequest, Building, Compound, Household, Membership, RegisteredOwner, User
from backend.services.audit import record_audit
from backend.services.notifications import notify
from backend.shared.clock import utcnow
from backend.shared.pagination import Page, paginate


def find_household(compound_id: int, building_id: int, unit: str, room: str) -> Household:
    household = db.session.scalar(
        select(Household)
        .where(
            Household.compound_id == compound_id,
            Household.building_id == building_id,
            Household.unit == unit.strip(),
            Household.room == room.strip(),
        )
    )
    if household is None:
        raise BindingRefused("找不到该房屋，请核对楼栋、单元和房号")
    return household


def request_binding(
    *, user_id: int, compound_id: int, building_id: int, unit: str, room: str, name: str, relation: Relation, ip: str | None
) -> BindingRequest:
    household = find_household(compound_id, building_id, unit, room)
    already = db.session.scalar(
        select(Membership.id).where(Membership.user_id == user_id, Membership.household_id == household.id)
    )
    if already:
        raise BindingRefused("您已绑定该房屋")
    binding = BindingRequest(
        user_id=user_id,
        compound_id=compound_id,
        household_id=household.id,
        claimed_name=name.strip(),
        relation=relation,
        status=BindingStatus.PENDING,
    )
    db.session.add(binding)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise BindingRefused("您已提交过该房屋的绑定申请，请等待审核") from exc
    record_audit(
        actor_id=user_id, action="binding.request", target_type="binding", target_id=binding.id,
        compound_id=compound_id, after={"household_id": household.id, "relation": relation.value}, ip=ip,
    )
    user_phone_hash = db.session.scalar(select(User.phone_hash).where(User.id == user_id))
    registered = set(
        db.session.scalars(
            select(RegisteredOwner.phone_hash).where(
                RegisteredOwner.household_id == household.id, RegisteredOwner.phone_hash.is_not(None)
            )
        )
    )
    if verified_by_register(relation, user_phone_hash, registered):
        _approve(binding, actor_id=None, ip=ip, reason="手机号与产权名册一致，自动认证")
    else:
        _tell_reviewers(binding)
    db.session.commit()
    return binding


def bindings_page(compound_id: int, status: BindingStatus | None, page: int, page_size: int) -> Page:
    query = (
        select(BindingRequest)
        .options(joinedload(BindingRequest.household).joinedload(Household.building), joinedload(BindingRequest.user))
        .where(BindingRequest.compound_id == compound_id)
        .order_by(BindingRequest.id.desc())
    )
    if status is not None:
        query = query.where(BindingRequest.status == status)
    result = paginate(query, page, page_size)
    return Page(items=[row.BindingRequest for row in result.items], total=result.total, page=page, page_size=page_size)


def my_bindings(user_id: int) -> list[BindingRequest]:
    return list(
        db.session.scalars(
            select(BindingRequest)
            # The applicant is the person asking: their row is already in the session.
            .options(joinedload(BindingRequest.household).joinedload(Household.building))
            .where(BindingRequest.user_id == user_id)
            .order_by(BindingRequest.id.desc())
            .limit(50)
        )
    )


def standing_in_compound(user_id: int, compound_id: int) -> tuple[list[Membership], list[BindingRequest]]:
    """For the compound home page: my verified households here, and my requests here still open or refused."""
    memberships = db.session.scalars(
        select(Membership)
        .options(joinedload(Membership.household).joinedload(Household.building))
        .where(Membership.user_id == user_id, Membership.compound_id == compound_id,
               Membership.household_id.is_not(None))
        .order_by(Membership.id)
    ).all()
    requests = db.session.scalars(
        select(BindingRequest)
        .options(joinedload(BindingRequest.household).joinedload(Household.building))
        .where(BindingRequest.user_id == user_id, BindingRequest.compound_id == compound_id,
               BindingRequest.status != BindingStatus.APPROVED)
        .order_by(BindingRequest.id.desc())
        .limit(20)
    ).all()
    return list(memberships), list(requests)


def pending_count(compound_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(BindingRequest.compound_id == compound_id, BindingRequest.status == BindingStatus.PENDING)
    ) or 0


def _locked(binding_id: int) -> BindingRequest:
    # FOR UPDATE on PostgreSQL: two reviewers clicking at once decide once.
    return db.session.scalar(select(BindingRequest).where(BindingRequest.id == binding_id).with_for_update())


def _approve(binding: BindingRequest, actor_id: int | None, ip: str | None, reason: str = "") -> None:
    check_can_decide(binding.status)
    now = utcnow()
    binding.status = BindingStatus.APPROVED
    binding.decided_by_id = actor_id
    binding.decided_at = now
    binding.reason = reason
    membership = Membership(
        user_id=binding.user_id,
        role=role_for(binding.relation),
        compound_id=binding.compound_id,
        household_id=binding.household_id,
        verified_by_id=actor_id,
        verified_at=now,
    )
    db.session.add(membership)
    user = db.session.get(User, binding.user_id)
    if not user.display_name:
        user.display_name = binding.claimed_name
    address = _address(binding)
    _tell_applicant(binding, f"您的房屋绑定申请已通过：{address}",
                    f"您已认证为{address}的{RELATION_LABELS[binding.relation]}，现在可以使用小区的全部服务。")
    record_audit(
        actor_id=actor_id, action="binding.approve", target_type="binding", target_id=binding.id,
        compound_id=binding.compound_id, before={"status": "pending"},
        after={"status": "approved", "role": membership.role.value, "household_id": binding.household_id, "reason": reason},
        ip=ip,
    )


def approve_binding(binding_id: int, actor_id: int, ip: str | None) -> BindingRequest:
    binding = _locked(binding_id)
    check_not_own_request(binding.user_id, actor_id)
    _approve(binding, actor_id, ip)
    db.session.commit()
    return binding


def reject_binding(binding_id: int, actor_id: int, reason: str, ip: str | None) -> BindingRequest:
    binding = _locked(binding_id)
    check_not_own_request(binding.user_id, actor_id)
    check_can_decide(binding.status)
    binding.status = BindingStatus.REJECTED
    binding.decided_by_id = actor_id
    binding.decided_at = utcnow()
    binding.reason = reason.strip()
    _tell_applicant(binding, f"您的房屋绑定申请未通过：{_address(binding)}",
                    f"未通过的原因：{quoted(binding.reason)}核实后可以重新申请。")
    record_audit(
        actor_id=actor_id, action="binding.reject", target_type="binding", target_id=binding.id,
        compound_id=binding.compound_id, before={"status": "pending"}, after={"status": "rejected", "reason": binding.reason},
        ip=ip,
    )
    db.session.commit()
    return binding


def _address(binding: BindingRequest) -> str:
    household = db.session.get(Household, binding.household_id)
    building = db.session.get(Building, household.building_id)
    return household_label(building.name, household.unit, household.room)


def _tell_applicant(binding: BindingRequest, title: str, body: str) -> None:
    code = db.session.scalar(select(Compound.code).where(Compound.id == binding.compound_id))
    notify([binding.user_id], BINDING_DECISION, title, body, link=f"/h5/c/{code}",
           dedupe_key=f"binding-{binding.id}-{binding.status.value}")


def _tell_reviewers(binding: BindingRequest) -> None:
    reviewers = db.session.scalars(
        select(Membership.user_id).where(
            Membership.compound_id == binding.compound_id,
            Membership.role.in_(PERMISSIONS[Action.REVIEW_BINDINGS]),
            Membership.user_id != binding.user_id,
        )
    ).all()
    if reviewers:
        code = db.session.scalar(select(Compound.code).where(Compound.id == binding.compound_id))
        notify(reviewers, BINDING_REVIEW, f"有新的房屋绑定申请待审核：{_address(binding)}",
               f"{binding.claimed_name}申请以{RELATION_LABELS[binding.relation]}身份绑定{_address(binding)}，请核实后通过或驳回。",
               link=f"/h5/c/{code}/bindings", dedupe_key=f"binding-{binding.id}-requested")


def get_binding(binding_id: int) -> BindingRequest | None:
    return db.session.scalar(
        select(BindingRequest)
        .options(joinedload(BindingRequest.household).joinedload(Household.building), joinedload(BindingRequest.user))
        .where(BindingRequest.id == binding_id)
    )


def binding_compound_id(binding_id: int) -> int | None:
    return db.session.scalar(select(BindingRequest.compound_id).where(BindingRequest.id == binding_id))


def my_memberships(user_id: int) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .options(joinedload(Membership.household).joinedload(Household.building))
            .where(Membership.user_id == user_id)
            .order_by(Membership.id)
        )
    )
