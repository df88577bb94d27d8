"""治理骨干 roster: keepers add and end entries, residents put themselves forward and the party secretary confirms;
building heads follow their building's orders; the dashboard's counts.

Notices (通知公告) are per compound and reach its verified residents; a building head with an account is one (the
entry insists on it), so every notice of the compound reaches them through the same inbox without a hook here."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from backend.domain import backbones as rules
from backend.domain.backbones import (
    KIND_LABELS,
    BackboneAction,
    BackboneKind,
    BackboneRefused,
    BackboneStatus,
)
from backend.domain.notifications import BACKBONE_DECISION, BACKBONE_REVIEW, WORK_ORDER_UPDATE, quoted
from backend.domain.phones import InvalidPhone, normalize_phone
from backend.domain.rectifications import ResponsibleParty
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.workorders import brief
from backend.extensions import db
from backend.models import (
    Area,
    BackboneMember,
    Building,
    Compound,
    Membership,
    User,
    WorkOrder,
    WorkOrderFollower,
)
from backend.services.audit import record_audit
from backend.services.identity import phone_hash
from backend.services.notifications import notify
from backend.services.rectifications import party_people
from backend.shared.clock import beijing_date, utcnow

_HOUSEHOLD_ROLES = (Role.OWNER, Role.RESIDENT)
TAKEN_HEAD = "该楼栋已有在册的楼栋长，请先让其退出"
TAKEN_LIVE = "此人已在册或正待确认，不能重复登记"
ALREADY_ASKED = "您已提交过该申请或已在册"


def _is_verified_resident(compound_id: int, user_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Membership.user_id == user_id, Membership.compound_id == compound_id,
        Membership.role.in_(_HOUSEHOLD_ROLES), Membership.verified_at.is_not(None),
    ))))


def _resident_by_phone(compound_id: int, phone: str) -> int:
    """The verified resident of the compound with this mobile number: the keeper links an entry to an account by
    the number the person gives them (no list of residents is shown to choose from)."""
    try:
        hashed = phone_hash(normalize_phone(phone))
    except InvalidPhone as exc:
        raise BackboneRefused(str(exc), Kind.INVALID, errors={"phone": [str(exc)]}) from exc
    user_id = db.session.scalar(
        select(User.id).join(Membership, Membership.user_id == User.id).where(
            User.phone_hash == hashed, Membership.compound_id == compound_id,
            Membership.role.in_(_HOUSEHOLD_ROLES), Membership.verified_at.is_not(None))
        .limit(1)
    )
    if user_id is None:
        message = "该手机号不是本小区已认证的住户；没有账号的可只填姓名"
        raise BackboneRefused(message, Kind.INVALID, errors={"phone": [message]})
    return user_id


def _check_building(compound_id: int, building_id: int | None) -> None:
    if building_id is not None and db.session.scalar(
        select(Building.id).where(Building.id == building_id, Building.compound_id == compound_id)
    ) is None:
        raise BackboneRefused("请选择本小区的楼栋", Kind.INVALID, errors={"building_id": ["请选择本小区的楼栋"]})


def _insert(member: BackboneMember, taken_live: str) -> None:
    """The partial unique indexes decide: one live entry per person and kind, one active head per building. Two
    requests at once: the second waits for the first's commit and is refused here."""
    try:
        with db.session.begin_nested():
            db.session.add(member)
    except IntegrityError as exc:
        text = str(exc.orig)
        head = "one_head" in text or "building_id" in text
        raise BackboneRefused(TAKEN_HEAD if head else taken_live, Kind.CONFLICT) from exc


def _state(member: BackboneMember) -> dict:
    return {"kind": member.kind.value, "status": member.status.value, "user_id": member.user_id,
            "building_id": member.building_id, "name": member.name}


def add_member(compound_id: int, actor_id: int, *, name: str, kind: BackboneKind, skills: Sequence[str] = (),
               building_id: int | None = None, since: date | None = None, phone: str = "", note: str = "",
               ip: str | None = None) -> BackboneMember:
    """A keeper enters someone on the roster, active at once: a resident (linked by their mobile number) or a name
    only (an organisation, a social worker, a neighbour without the app)."""
    rules.check_building(kind, building_id)
    _check_building(compound_id, building_id)
    tags = rules.skills_of(skills)
    user_id = _resident_by_phone(compound_id, phone) if phone.strip() else None
    now = utcnow()
    member = BackboneMember(
        compound_id=compound_id, user_id=user_id, name=name.strip(), kind=kind, skills=tags, building_id=building_id,
        since=since or beijing_date(now), status=BackboneStatus.ACTIVE, note=note.strip(), created_by_id=actor_id,
        created_at=now, decided_by_id=actor_id, decided_at=now,
    )
    _insert(member, TAKEN_LIVE)
    record_audit(actor_id=actor_id, action="backbone.add", target_type="backbone", target_id=member.id,
                 compound_id=compound_id, after=_state(member), ip=ip)
    db.session.commit()
    return member


def volunteer(compound_id: int, user_id: int, *, name: str, kind: BackboneKind = BackboneKind.VOLUNTEER,
              skills: Sequence[str] = (), building_id: int | None = None, note: str = "",
              ip: str | None = None) -> BackboneMember:
    """我要当志愿者: a verified resident puts themselves forward; the entry waits for the party secretary."""
    rules.check_self_kind(kind)
    if not _is_verified_resident(compound_id, user_id):
        raise BackboneRefused("绑定并认证房屋后才能申请", Kind.FORBIDDEN)
    _check_building(compound_id, building_id)
    tags = rules.skills_of(skills)
    now = utcnow()
    member = BackboneMember(
        compound_id=compound_id, user_id=user_id, name=name.strip(), kind=kind, skills=tags, building_id=building_id,
        since=beijing_date(now), status=BackboneStatus.PENDING, note=note.strip(), created_by_id=user_id,
        created_at=now,
    )
    _insert(member, ALREADY_ASKED)
    record_audit(actor_id=user_id, action="backbone.volunteer", target_type="backbone", target_id=member.id,
                 compound_id=compound_id, after=_state(member), ip=ip)
    _tell_keepers(member)
    db.session.commit()
    return member


def _locked(member_id: int) -> BackboneMember:
    # FOR UPDATE on PostgreSQL: two keepers deciding at once decide once.
    member = db.session.scalar(
        select(BackboneMember).where(BackboneMember.id == member_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if member is None:
        raise BackboneRefused("没有找到该骨干", Kind.NOT_FOUND)
    return member


def decide(member_id: int, actor_id: int, action: BackboneAction, note: str = "",
           ip: str | None = None) -> BackboneMember:
    """Confirm or decline a resident's application, or end an active entry; the row stays, with who and when. (No
    building head is ever pending: heads are entered by keepers, active at once, so a confirmation cannot collide
    with another head.)"""
    member = _locked(member_id)
    before = _state(member)
    target = rules.next_status(member.status, action)
    if (action is BackboneAction.CONFIRM and member.user_id is not None
            and not _is_verified_resident(member.compound_id, member.user_id)):
        # Moved away (or the binding was taken off) since applying: the roster is of the compound's people.
        raise BackboneRefused("申请人已不是本小区的认证住户，请婉拒该申请", Kind.CONFLICT)
    now = utcnow()
    member.status = target
    if note.strip():
        member.note = note.strip()
    if action is BackboneAction.END:
        member.ended_by_id, member.ended_at = actor_id, now
    else:
        member.decided_by_id, member.decided_at = actor_id, now
        if target is BackboneStatus.ACTIVE:
            member.since = beijing_date(now)
    record_audit(actor_id=actor_id, action=f"backbone.{action.value}", target_type="backbone", target_id=member.id,
                 compound_id=member.compound_id, before=before, after=_state(member) | {"note": member.note}, ip=ip)
    if action is not BackboneAction.END and member.user_id is not None:
        _tell_applicant(member)
    db.session.commit()
    return member


# ---- reading ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    member: BackboneMember
    building_name: str | None


def _entries(query) -> list[Entry]:
    rows = db.session.execute(
        query.add_columns(Building.name).outerjoin(Building, Building.id == BackboneMember.building_id)
    ).all()
    return [Entry(row[0], row[1]) for row in rows]


def _by_roster_order():
    return select(BackboneMember).order_by(BackboneMember.kind, BackboneMember.building_id.is_(None),
                                           BackboneMember.building_id, BackboneMember.id)


def roster(compound_id: int, statuses: Sequence[BackboneStatus], kind: BackboneKind | None = None) -> list[Entry]:
    query = _by_roster_order().where(BackboneMember.compound_id == compound_id,
                                     BackboneMember.status.in_(list(statuses)))
    if kind is not None:
        query = query.where(BackboneMember.kind == kind)
    # A compound's roster is tens of people; the cap only bounds a pathological history.
    return _entries(query.limit(500))


def entries_of(compound_id: int, user_id: int) -> list[Entry]:
    """The person's own entries here, every status, newest first."""
    return _entries(select(BackboneMember).where(
        BackboneMember.compound_id == compound_id, BackboneMember.user_id == user_id)
        .order_by(BackboneMember.id.desc()).limit(50))


def get_entry(member_id: int) -> Entry | None:
    found = _entries(select(BackboneMember).where(BackboneMember.id == member_id))
    return found[0] if found else None


def member_compound_id(member_id: int) -> int | None:
    return db.session.scalar(select(BackboneMember.compound_id).where(BackboneMember.id == member_id))


def display_name(user_id: int) -> str:
    return db.session.scalar(select(User.display_name).where(User.id == user_id)) or ""


def pending_count(compound_id: int) -> int:
    return db.session.scalar(select(func.count()).where(
        BackboneMember.compound_id == compound_id, BackboneMember.status == BackboneStatus.PENDING)) or 0


# ---- telling ----------------------------------------------------------------------------------------------------


def _code(compound_id: int) -> str:
    return db.session.scalar(select(Compound.code).where(Compound.id == compound_id))


def _tell_keepers(member: BackboneMember) -> None:
    """The compound's party secretary confirms; where there is none, the community's officials hear of it."""
    keepers = list(db.session.scalars(select(Membership.user_id).distinct().where(
        Membership.compound_id == member.compound_id, Membership.role == Role.PARTY_SECRETARY)))
    keepers = keepers or party_people(member.compound_id, ResponsibleParty.COMMUNITY)
    if keepers:
        label = KIND_LABELS[member.kind]
        notify(keepers, BACKBONE_REVIEW, f"有居民申请成为{label}：{member.name}",
               f"{member.name}申请成为{label}，请确认或婉拒。{quoted(member.note) if member.note else ''}",
               link=f"/h5/c/{_code(member.compound_id)}/backbones", dedupe_key=f"backbone-{member.id}-asked")


def _tell_applicant(member: BackboneMember) -> None:
    label = KIND_LABELS[member.kind]
    if member.status is BackboneStatus.ACTIVE:
        title, body = f"您已成为{label}", f"感谢您为小区出力！您已登记为{label}，名单在小区的治理骨干页公示。"
    else:
        title = f"您的{label}申请未通过"
        body = f"原因：{quoted(member.note)}" if member.note else "感谢您的热心，欢迎以后参加小区的活动。"
    notify([member.user_id], BACKBONE_DECISION, title, body, link=f"/h5/c/{_code(member.compound_id)}/backbones",
           dedupe_key=f"backbone-{member.id}-{member.status.value}")


# ---- building heads (楼栋长) --------------------------------------------------------------------------------------


def _heads(building_id: int) -> list[int]:
    # Still a verified resident here: a head who moved away keeps the entry until a keeper ends it, but no longer
    # hears of the building's orders.
    return list(db.session.scalars(select(BackboneMember.user_id).where(
        BackboneMember.building_id == building_id, BackboneMember.kind == BackboneKind.BUILDING_HEAD,
        BackboneMember.status == BackboneStatus.ACTIVE, BackboneMember.user_id.is_not(None),
        exists().where(Membership.user_id == BackboneMember.user_id,
                       Membership.compound_id == BackboneMember.compound_id,
                       Membership.role.in_(_HOUSEHOLD_ROLES), Membership.verified_at.is_not(None)))))


def follow_as_building_head(order: WorkOrder) -> None:
    """Called as a new order is submitted, in its transaction: the head of its building follows it (a follower row,
    so every later notice of the order reaches them) and hears of it now. A common area's order only: a
    household's own repair stays the household's, as everywhere in work orders."""
    if order.household_id is not None or order.building_id is None:
        return
    heads = [user_id for user_id in _heads(order.building_id) if user_id != order.submitter_id]
    for user_id in heads:
        db.session.add(WorkOrderFollower(work_order_id=order.id, user_id=user_id))
    if heads:
        notify(heads, WORK_ORDER_UPDATE, f"您负责的楼栋有新报修：{order.category}",
               f"居民报修：{brief(order.description)}。您已自动关注，进展会通知您。",
               link=f"/h5/work-orders/{order.id}", dedupe_key=f"wo-{order.id}-building-head")


# ---- the officials' dashboard ------------------------------------------------------------------------------------


def counts_by_compound(compound_ids: Sequence[int]) -> dict[int, dict[BackboneKind, int]]:
    """Active entries per compound and kind, in one GROUP BY over the compounds' index."""
    counts: dict[int, dict[BackboneKind, int]] = {}
    if not compound_ids:
        return counts
    for compound_id, kind, count in db.session.execute(
        select(BackboneMember.compound_id, BackboneMember.kind, func.count())
        .where(BackboneMember.compound_id.in_(list(compound_ids)), BackboneMember.status == BackboneStatus.ACTIVE)
        .group_by(BackboneMember.compound_id, BackboneMember.kind)
    ).all():
        counts.setdefault(compound_id, {})[BackboneKind(kind)] = int(count)
    return counts


def area_counts(area: Area) -> tuple[dict[BackboneKind, int], int]:
    """Active entries by kind below the area, and how many of its compounds have any (the caller has authorized)."""
    rows = db.session.execute(
        select(BackboneMember.kind, func.count())
        .join(Compound, Compound.id == BackboneMember.compound_id).join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(area.path), BackboneMember.status == BackboneStatus.ACTIVE)
        .group_by(BackboneMember.kind)
    ).all()
    with_roster = db.session.scalar(
        select(func.count(BackboneMember.compound_id.distinct()))
        .join(Compound, Compound.id == BackboneMember.compound_id).join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(area.path), BackboneMember.status == BackboneStatus.ACTIVE)
    ) or 0
    return {BackboneKind(kind): int(count) for kind, count in rows}, int(with_roster)

