"""First secretaries (第一书记, measure 1): a district sends one to a compound as its `party_secretary`, with a start
date and goals; the assignment ends; the secretary keeps a monthly log that the officials above read."""
from __future__ import annotations

from calendar import monthrange
from datetime import date

from sqlalchemy import or_, select

from backend.domain.governance import log_editable, may_assign_first_secretary, month_start
from backend.domain.phones import InvalidPhone, normalize_phone
from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role
from backend.extensions import db, dialect_insert
from backend.models import Area, Compound, FirstSecretary, FirstSecretaryLog, Membership, User
from backend.policy import FORBIDDEN, NOT_FOUND, ancestor_area_ids, authorize, authorize_area
from backend.services.audit import record_audit
from backend.services.identity import phone_columns, phone_hash
from backend.shared.clock import beijing_date, utcnow


class FirstSecretaryRefused(Refused):
    default_kind = Kind.CONFLICT


def current(compound_id: int) -> FirstSecretary | None:
    return db.session.scalar(
        select(FirstSecretary).where(FirstSecretary.compound_id == compound_id, FirstSecretary.ended_on.is_(None))
    )


def past(compound_id: int) -> list[FirstSecretary]:
    return list(db.session.scalars(
        select(FirstSecretary).where(FirstSecretary.compound_id == compound_id).order_by(FirstSecretary.id.desc())
    ))


def may_assign(compound_id: int, user_id: int | None) -> bool:
    """An admin, or an official over the compound at district level or above."""
    if user_id is None:
        return False
    compound = db.session.get(Compound, compound_id)
    above = ancestor_area_ids(db.session.get(Area, compound.area_id).path)
    rows = db.session.execute(
        select(Membership.role, Area.level).outerjoin(Area, Area.id == Membership.area_id)
        .where(Membership.user_id == user_id,
               or_(Membership.role == Role.ADMIN, (Membership.role == Role.OFFICIAL) & Membership.area_id.in_(above)))
    ).all()
    return may_assign_first_secretary([level for role, level in rows if role == Role.OFFICIAL],
                                      admin=any(role == Role.ADMIN for role, _ in rows))


def _authorize_assigning(compound_id: int, user_id: int) -> None:
    authorize(Action.ASSIGN_FIRST_SECRETARY, compound_id, user_id)
    if not may_assign(compound_id, user_id):
        raise Refused("第一书记由县区及以上选派", Kind.FORBIDDEN)


def _person(user_id: int | None, phone: str | None, name: str) -> User:
    """An existing user by id, or by phone (a person not yet signed in gets an account their first sign-in with
    that phone finds, as evaluators do)."""
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or not user.is_active:
            raise Refused("没有这个用户", Kind.INVALID, errors={"user_id": ["没有这个用户"]})
        return user
    try:
        phone = normalize_phone(phone or "")
    except InvalidPhone as exc:
        raise Refused(str(exc), Kind.INVALID, errors={"phone": [str(exc)]}) from None
    db.session.execute(
        dialect_insert(User).values(display_name=name, is_active=True, large_text=False, created_at=utcnow(),
                                    **phone_columns(phone))
        .on_conflict_do_nothing(index_elements=[User.phone_hash])
    )
    user = db.session.scalar(select(User).where(User.phone_hash == phone_hash(phone)))
    if not user.is_active:
        raise Refused("该账号已停用", Kind.INVALID, errors={"phone": ["该账号已停用"]})
    if name and not user.display_name:
        user.display_name = name
    return user


def assign(compound_id: int, actor_id: int, *, user_id: int | None = None, phone: str | None = None, name: str = "",
           started_on: date, goals: str, ip: str | None = None) -> FirstSecretary:
    """One at a time per compound (409 while another's assignment lasts); the person becomes the compound's party
    secretary at once."""
    _authorize_assigning(compound_id, actor_id)
    compound = db.session.scalar(select(Compound).where(Compound.id == compound_id).with_for_update())
    if current(compound_id) is not None:
        raise FirstSecretaryRefused("该小区已有第一书记，请先结束当前选派")
    person = _person(user_id, phone, name)
    membership = Membership(user_id=person.id, role=Role.PARTY_SECRETARY, compound_id=compound_id)
    db.session.add(membership)
    db.session.flush()
    assignment = FirstSecretary(compound_id=compound_id, user_id=person.id, membership_id=membership.id,
                                started_on=started_on, goals=goals, assigned_by_id=actor_id)
    db.session.add(assignment)
    compound.first_secretary_name = (person.display_name or "")[:64]
    db.session.flush()
    record_audit(actor_id=actor_id, action="first_secretary.assign", target_type="compound", target_id=compound_id,
                 compound_id=compound_id, after={"user_id": person.id, "started_on": started_on.isoformat(),
                                                 "goals": goals}, ip=ip)
    db.session.commit()
    return assignment


def end(compound_id: int, actor_id: int, ip: str | None = None) -> FirstSecretary:
    """The assignment ends today (Beijing); the party secretary membership it gave goes with it; logs stay."""
    _authorize_assigning(compound_id, actor_id)
    compound = db.session.scalar(select(Compound).where(Compound.id == compound_id).with_for_update())
    assignment = current(compound_id)
    if assignment is None:
        raise FirstSecretaryRefused("该小区目前没有第一书记", Kind.NOT_FOUND)
    assignment.ended_on = beijing_date(utcnow())
    assignment.ended_by_id = actor_id
    if assignment.membership_id is not None:
        db.session.delete(db.session.get(Membership, assignment.membership_id))
        assignment.membership_id = None
    compound.first_secretary_name = ""
    record_audit(actor_id=actor_id, action="first_secretary.end", target_type="compound", target_id=compound_id,
                 compound_id=compound_id, before={"user_id": assignment.user_id}, ip=ip)
    db.session.commit()
    return assignment


# ---- the monthly log ---------------------------------------------------------------------------------------------


def _assignment_for_reading(assignment_id: int, user_id: int | None) -> FirstSecretary:
    """The secretary themself, officials over the compound and admins read the log; anyone else 404/403 as the
    compound's policy answers."""
    assignment = db.session.get(FirstSecretary, assignment_id)
    if assignment is None or user_id is None:
        raise Refused(NOT_FOUND, Kind.NOT_FOUND)
    if assignment.user_id == user_id:
        return assignment
    access = authorize(Action.VIEW_GOVERNANCE, assignment.compound_id, user_id)
    if not access.roles & {Role.OFFICIAL, Role.ADMIN}:
        raise Refused(FORBIDDEN, Kind.FORBIDDEN)
    return assignment


def logs(assignment_id: int, user_id: int | None) -> tuple[FirstSecretary, list[FirstSecretaryLog]]:
    assignment = _assignment_for_reading(assignment_id, user_id)
    return assignment, list(db.session.scalars(
        select(FirstSecretaryLog).where(FirstSecretaryLog.first_secretary_id == assignment_id)
        .order_by(FirstSecretaryLog.month.desc())
    ))


def write_log(assignment_id: int, user_id: int | None, body: str) -> FirstSecretaryLog:
    """This month's entry, by the secretary of a current assignment: the first write makes it, later writes in the
    same month correct it (one row per month, by the database's unique key)."""
    assignment = _assignment_for_reading(assignment_id, user_id)
    if assignment.user_id != user_id:
        raise Refused("只有第一书记本人可以填写工作日志", Kind.FORBIDDEN)
    if assignment.ended_on is not None:
        raise FirstSecretaryRefused("选派已结束，不能再填写日志")
    today = beijing_date(utcnow())
    month = month_start(today)
    if not log_editable(month, today):
        raise FirstSecretaryRefused("只能填写本月的日志")
    now = utcnow()
    db.session.execute(
        dialect_insert(FirstSecretaryLog)
        .values(first_secretary_id=assignment_id, month=month, body=body, created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=["first_secretary_id", "month"], set_={"body": body, "updated_at": now})
    )
    db.session.commit()
    return db.session.scalar(select(FirstSecretaryLog).where(
        FirstSecretaryLog.first_secretary_id == assignment_id, FirstSecretaryLog.month == month))


def mine(user_id: int) -> list[FirstSecretary]:
    return list(db.session.scalars(
        select(FirstSecretary).where(FirstSecretary.user_id == user_id).order_by(FirstSecretary.id.desc())
    ))


def first_secretary_logs(area_id: int, month: date) -> list[dict]:
    """For the periodic report: every assignment under the area that ran during `month`, with that month's log
    (None when it was not written). No policy: the report job calls it for the area it reports on."""
    area = db.session.get(Area, area_id)
    first = month_start(month)
    rows = db.session.execute(
        select(FirstSecretary, Compound.name, User.display_name, FirstSecretaryLog.body)
        .join(Compound, Compound.id == FirstSecretary.compound_id)
        .join(Area, Area.id == Compound.area_id)
        .join(User, User.id == FirstSecretary.user_id)
        .outerjoin(FirstSecretaryLog, (FirstSecretaryLog.first_secretary_id == FirstSecretary.id)
                   & (FirstSecretaryLog.month == first))
        .where(Area.path.startswith(area.path), FirstSecretary.started_on <= _month_end(first),
               or_(FirstSecretary.ended_on.is_(None), FirstSecretary.ended_on >= first))
        .order_by(Compound.name, FirstSecretary.id)
    ).all()
    return [{"first_secretary_id": a.id, "compound_id": a.compound_id, "compound_name": compound_name,
             "secretary_name": secretary, "started_on": a.started_on, "ended_on": a.ended_on, "goals": a.goals,
             "log": body} for a, compound_name, secretary, body in rows]


def _month_end(first: date) -> date:
    # The month's last day rather than the next month's first, which December 9999 does not have.
    return first.replace(day=monthrange(first.year, first.month)[1])


def area_logs(area_id: int, user_id: int | None, month: date) -> list[dict]:
    authorize_area(Action.VIEW_COVERAGE, area_id, user_id)
    return first_secretary_logs(area_id, month)
