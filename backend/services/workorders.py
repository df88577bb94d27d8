"""Work orders (报事报修): submit, move through the states, follow, urge, rate, list, and escalate."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from backend.domain import workorders as rules
from backend.domain.notifications import (
    WORK_ORDER_ASSIGNED,
    WORK_ORDER_ESCALATED,
    WORK_ORDER_RATE_REMINDER,
    WORK_ORDER_UPDATE,
)
from backend.domain.notifications import Urgency as NoticeUrgency
from backend.domain.phones import InvalidPhone, normalize_contact_phone
from backend.domain.refusals import Kind
from backend.domain.roles import Action as Permission
from backend.domain.roles import Role, allows
from backend.domain.workorders import (
    OPEN_STATUSES,
    Action,
    Actor,
    EscalationLevel,
    HalfDay,
    Phase,
    Sla,
    Status,
    Urgency,
    WorkOrderRefused,
)
from backend.extensions import db
from backend.models import (
    Area,
    Building,
    Compound,
    Household,
    Membership,
    User,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderEscalation,
    WorkOrderEvent,
    WorkOrderFollower,
    WorkOrderPhoto,
    WorkOrderRating,
)
from backend.policy import ancestor_area_ids, roles_in_compound
from backend.services import backbones as backbone_service
from backend.services.audit import record_audit
from backend.services.identity import decrypt_phone
from backend.services.notifications import notify
from backend.services.photos import (
    MAX_PHOTOS_PER_ORDER,
    KeptPhoto,
    PreparedPhoto,
    kept_only_on_commit,
    store_photo,
)
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page


@dataclass(frozen=True)
class CategorySla:
    name: str
    normal: Sla
    urgent: Sla


# ---- categories and SLA ---------------------------------------------------------------------------


def categories(compound_id: int) -> list[CategorySla]:
    rows = db.session.scalars(
        select(WorkOrderCategory).where(WorkOrderCategory.compound_id == compound_id).order_by(
            WorkOrderCategory.position, WorkOrderCategory.id
        )
    ).all()
    if not rows:
        return [
            CategorySla(name, rules.DEFAULT_SLA[Urgency.NORMAL], rules.DEFAULT_SLA[Urgency.URGENT])
            for name in rules.DEFAULT_CATEGORIES
        ]
    return [
        CategorySla(
            row.name,
            Sla(timedelta(minutes=row.accept_minutes_normal), timedelta(minutes=row.close_minutes_normal)),
            Sla(timedelta(minutes=row.accept_minutes_urgent), timedelta(minutes=row.close_minutes_urgent)),
        )
        for row in rows
    ]


def set_categories(compound_id: int, items: Sequence[CategorySla], actor_id: int, ip: str | None) -> None:
    """Replace the compound's category list and SLA. Orders already filed keep their deadlines."""
    before = [category_minutes(c) for c in categories(compound_id)]
    db.session.execute(WorkOrderCategory.__table__.delete().where(WorkOrderCategory.compound_id == compound_id))
    for position, item in enumerate(items):
        db.session.add(
            WorkOrderCategory(
                compound_id=compound_id, name=item.name, position=position,
                accept_minutes_normal=_minutes(item.normal.accept), close_minutes_normal=_minutes(item.normal.close),
                accept_minutes_urgent=_minutes(item.urgent.accept), close_minutes_urgent=_minutes(item.urgent.close),
            )
        )
    record_audit(
        actor_id=actor_id, action="work_order.categories", target_type="compound", target_id=compound_id,
        compound_id=compound_id, before={"categories": before},
        after={"categories": [category_minutes(c) for c in items]}, ip=ip,
    )
    db.session.commit()


def _minutes(value: timedelta) -> int:
    return int(value.total_seconds() // 60)


def category_minutes(category: CategorySla) -> dict:
    """A category as stored and as the API shows it: its name and four whole minute counts."""
    return {
        "name": category.name,
        "accept_minutes_normal": _minutes(category.normal.accept),
        "close_minutes_normal": _minutes(category.normal.close),
        "accept_minutes_urgent": _minutes(category.urgent.accept),
        "close_minutes_urgent": _minutes(category.urgent.close),
    }


def _sla_for(compound_id: int, category: str, urgency: Urgency) -> Sla:
    for item in categories(compound_id):
        if item.name == category:
            return item.urgent if urgency is Urgency.URGENT else item.normal
    raise WorkOrderRefused("请选择报修类别", Kind.INVALID)


# ---- submitting -----------------------------------------------------------------------------------


def my_households(user_id: int, compound_id: int) -> list[Household]:
    return list(
        db.session.scalars(
            select(Household)
            .join(Membership, Membership.household_id == Household.id)
            .options(joinedload(Household.building))
            .where(Membership.user_id == user_id, Membership.compound_id == compound_id,
                   Membership.role.in_((Role.OWNER, Role.RESIDENT)))
            .order_by(Household.id)
        ).unique()
    )


@dataclass(frozen=True)
class Place:
    household_id: int | None
    building_id: int | None
    location_text: str


def resolve_place(user_id: int, compound_id: int, household_id: int | None, building_id: int | None,
                  location_text: str) -> Place:
    """My household, or a common area: a building of this compound and/or a description of the spot."""
    location_text = location_text.strip()
    if household_id is not None:
        household = next((h for h in my_households(user_id, compound_id) if h.id == household_id), None)
        if household is None:
            raise WorkOrderRefused("只能为您已认证的房屋报修", Kind.INVALID)
        return Place(household.id, household.building_id, location_text)
    if building_id is not None:
        in_compound = db.session.scalar(
            select(Building.id).where(Building.id == building_id, Building.compound_id == compound_id)
        )
        if in_compound is None:
            raise WorkOrderRefused("请选择本小区的楼栋", Kind.INVALID)
    elif not location_text:
        raise WorkOrderRefused("请选择报修位置：我的房屋、楼栋或填写公共区域", Kind.INVALID)
    return Place(None, building_id, location_text)


def find_duplicates(compound_id: int, category: str, place: Place, now: datetime | None = None) -> list[WorkOrder]:
    """Open orders of the same category at the same place from the last 14 days, offered to the resident to
    join instead of filing another: for a home repair, that household's own orders; for a common area, the
    common-area orders of the same building, or of the same spot where no building was chosen. A neighbour's
    repair at home is the neighbour's business, and a home repair is not the same problem as the stairwell's."""
    now = now or utcnow()
    if place.household_id is not None:
        same_place = WorkOrder.household_id == place.household_id
    elif place.building_id is not None:
        same_place = and_(WorkOrder.household_id.is_(None), WorkOrder.building_id == place.building_id)
    else:
        same_place = and_(WorkOrder.household_id.is_(None), WorkOrder.building_id.is_(None),
                          WorkOrder.location_text == place.location_text)
    return list(
        db.session.scalars(
            select(WorkOrder)
            .options(joinedload(WorkOrder.building), joinedload(WorkOrder.household))
            .where(
                WorkOrder.compound_id == compound_id,
                WorkOrder.category == category,
                WorkOrder.status.in_(OPEN_STATUSES),
                WorkOrder.created_at >= now - rules.DUPLICATE_WINDOW,
                same_place,
            )
            .order_by(WorkOrder.id.desc())
            .limit(5)
        )
    )


def submit_order(
    *,
    user_id: int,
    compound_id: int,
    category: str,
    description: str,
    urgency: Urgency,
    household_id: int | None = None,
    building_id: int | None = None,
    location_text: str = "",
    visit_date: date | None = None,
    visit_half_day: HalfDay | None = None,
    photos: Sequence[PreparedPhoto] = (),
    ip: str | None = None,
) -> WorkOrder:
    if len(photos) > MAX_PHOTOS_PER_ORDER:
        raise WorkOrderRefused(f"最多上传{MAX_PHOTOS_PER_ORDER}张照片", Kind.INVALID)
    place = resolve_place(user_id, compound_id, household_id, building_id, location_text)
    rules.check_visit(visit_date, visit_half_day, beijing_date(utcnow()), at_home=place.household_id is not None)
    sla = _sla_for(compound_id, category, urgency)
    # One report at a time per person: the same report tapped twice (or retried by a bad connection) waits
    # here for the first one's commit and then finds it. NO KEY UPDATE, so rows that merely refer to the
    # person (a notice to them, say) are not held up. SQLite's BEGIN IMMEDIATE serialises writers already.
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
    now = utcnow()
    resubmitted = db.session.scalar(
        select(WorkOrder).where(
            WorkOrder.submitter_id == user_id, WorkOrder.compound_id == compound_id, WorkOrder.category == category,
            WorkOrder.description == description.strip(), WorkOrder.household_id == place.household_id,
            WorkOrder.building_id == place.building_id, WorkOrder.location_text == place.location_text,
            WorkOrder.created_at >= now - rules.RESUBMIT_WINDOW,
        ).limit(1)
    )
    if resubmitted is not None:
        return resubmitted
    order, event = _open_order(user_id, compound_id, place, category, description, urgency, sla, visit_date,
                               visit_half_day)
    with kept_only_on_commit() as stored:
        for prepared in photos:
            stored.append(_add_photo(order, user_id, prepared, event_id=event.id).storage_key)
        _tell_staff_of_new(order)
        db.session.commit()
    return order


def _open_order(user_id: int, compound_id: int, place: Place, category: str, description: str, urgency: Urgency,
                sla: Sla, visit_date: date | None, visit_half_day: HalfDay | None) -> tuple[WorkOrder, WorkOrderEvent]:
    now = utcnow()
    order = WorkOrder(
        compound_id=compound_id, submitter_id=user_id, household_id=place.household_id,
        building_id=place.building_id, location_text=place.location_text, category=category,
        description=description.strip(), urgency=urgency, status=Status.SUBMITTED,
        accept_due_at=rules.sla_due(now, sla, Phase.ACCEPT), close_due_at=rules.sla_due(now, sla, Phase.CLOSE),
        created_at=now, escalation_level=0, urge_count=0, dispute_count=0, visit_date=visit_date,
        visit_half_day=visit_half_day,
    )
    order.sla_due_at = order.accept_due_at
    plan_escalation(order)
    db.session.add(order)
    db.session.flush()
    db.session.add(WorkOrderFollower(work_order_id=order.id, user_id=user_id))
    # Issue 19: the building's head (楼栋长) follows it.
    backbone_service.follow_as_building_head(order)
    return order, _record_event(order, user_id, "submit", None, Status.SUBMITTED, "")


def _tell_staff_of_new(order: WorkOrder) -> None:
    handlers = _staff_ids(order.compound_id)
    if handlers:
        kind = "紧急报修" if order.urgency is Urgency.URGENT else "报修"
        notify(
            handlers, WORK_ORDER_ASSIGNED, f"新报修：{order.category}",
            f"居民提交了{kind}：{rules.brief(order.description)}，请尽快受理",
            link=f"/h5/work-orders/{order.id}", urgency=_notice_urgency(order),
            dedupe_key=f"wo-{order.id}-new",
        )


def open_order_with_kept_photos(*, user_id: int, compound_id: int, building_id: int, description: str,
                                photos: Sequence[KeptPhoto]) -> WorkOrder:
    """An order for a common area of a building, opened by another feature (an environment campaign's finding) in
    the caller's transaction: its photos are the finding's files under the same keys, and the caller commits. The
    category is the compound's 环境卫生 where it keeps one, else its last (其他)."""
    names = [item.name for item in categories(compound_id)]
    category = "环境卫生" if "环境卫生" in names else names[-1]
    order, event = _open_order(user_id, compound_id, Place(None, building_id, ""), category, description,
                               Urgency.NORMAL, _sla_for(compound_id, category, Urgency.NORMAL), None, None)
    for photo in photos:
        db.session.add(WorkOrderPhoto(
            work_order_id=order.id, event_id=event.id, uploader_id=user_id, storage_key=photo.storage_key,
            width=photo.width, height=photo.height, size_bytes=photo.size_bytes))
    _tell_staff_of_new(order)
    return order


def _add_photo(order: WorkOrder, uploader_id: int, prepared: PreparedPhoto, event_id: int | None) -> WorkOrderPhoto:
    photo = WorkOrderPhoto(
        work_order_id=order.id, event_id=event_id, uploader_id=uploader_id, storage_key=store_photo(prepared),
        width=prepared.width, height=prepared.height, size_bytes=len(prepared.data),
    )
    db.session.add(photo)
    return photo


def upload_photo(order_id: int, user_id: int, prepared: PreparedPhoto) -> WorkOrderPhoto:
    """A photo by the submitter or a handler. The submitter's photos while nobody has accepted the order yet
    belong to the report itself (its submit event); any other waits for the next step (e.g. after-photos for
    办结) and is attached by passing its id with that step."""
    order = _locked(order_id)
    rules.check_photo(order.status, actors_for(order, user_id, roles_in_compound(user_id, order.compound_id)))
    event_id = None
    if order.status is Status.SUBMITTED and order.submitter_id == user_id:
        event_id = db.session.scalar(
            select(WorkOrderEvent.id).where(
                WorkOrderEvent.work_order_id == order_id, WorkOrderEvent.action == "submit"
            )
        )
    kept = db.session.scalar(
        select(func.count()).where(
            WorkOrderPhoto.work_order_id == order_id, WorkOrderPhoto.uploader_id == user_id,
            WorkOrderPhoto.event_id.is_(None) if event_id is None else WorkOrderPhoto.event_id == event_id,
        )
    )
    if kept >= MAX_PHOTOS_PER_ORDER:
        raise WorkOrderRefused(f"最多上传{MAX_PHOTOS_PER_ORDER}张照片", Kind.INVALID)
    with kept_only_on_commit() as stored:
        photo = _add_photo(order, user_id, prepared, event_id=event_id)
        stored.append(photo.storage_key)
        db.session.commit()
    return photo


def keep_after_photos(order_id: int, user_id: int, photos: Sequence[PreparedPhoto]) -> list[int]:
    """The 办结 form's after-photos, stored only for someone who may close the order now (anyone else hears the
    step's own refusal and leaves nothing in storage): the ids of all their photos waiting for the step, those
    kept from an earlier try included."""
    if len(photos) > MAX_PHOTOS_PER_ORDER:
        raise WorkOrderRefused(f"最多上传{MAX_PHOTOS_PER_ORDER}张照片", Kind.INVALID)
    order, viewer = seen_by(order_id, user_id)
    rules.next_status(order.status, Action.CLOSE, viewer.actors)
    for prepared in photos:
        upload_photo(order_id, user_id, prepared)
    return [photo.id for photo in pending_photos(order_id, user_id)]


# ---- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """How one person stands to one order: their roles in its compound and their relation to the order."""

    user_id: int
    roles: frozenset[Role]
    actors: frozenset[Actor]
    follows: bool

    @property
    def sees_all(self) -> bool:
        return allows(self.roles, Permission.VIEW_WORK_ORDERS)

    @property
    def concerned(self) -> bool:
        """Its submitter or a follower: they hear of it, and may urge it."""
        return self.follows or Actor.SUBMITTER in self.actors


def actors_for(order: WorkOrder, user_id: int, roles: frozenset[Role]) -> frozenset[Actor]:
    actors = set()
    if order.submitter_id == user_id:
        actors.add(Actor.SUBMITTER)
    if Role.STAFF in roles and order.assignee_id in (None, user_id):
        actors.add(Actor.HANDLER)
    if allows(roles, Permission.ASSIGN_WORK_ORDERS):
        actors.add(Actor.MANAGER)
    return frozenset(actors or {Actor.OTHER})


def actions_open_to(order: WorkOrder, viewer: Viewer, now: datetime | None = None) -> list[Action]:
    awaiting = rules.awaiting_confirmation(order.status, order.closed_at, order.confirmed_at is not None,
                                           now or utcnow())
    return rules.allowed_actions(order.status, viewer.actors, awaiting_confirmation=awaiting)


def _follows(order_id: int, user_id: int) -> bool:
    return db.session.get(WorkOrderFollower, (order_id, user_id)) is not None


def viewer_of(order: WorkOrder, user_id: int, roles: frozenset[Role]) -> Viewer | None:
    """None when the person may not see the order: outside its compound, or a resident it is not theirs."""
    viewer = Viewer(user_id, roles, actors_for(order, user_id, roles), _follows(order.id, user_id))
    if not roles or not (viewer.sees_all or viewer.concerned):
        return None
    return viewer


def seen_by(order_id: int, user_id: int | None) -> tuple[WorkOrder, Viewer]:
    """The order and how the person stands to it; NOT_FOUND for anyone who may not see it (its existence stays
    hidden from them)."""
    order = get_order(order_id)
    viewer = None
    if order is not None and user_id is not None:
        viewer = viewer_of(order, user_id, roles_in_compound(user_id, order.compound_id))
    if viewer is None:
        raise WorkOrderRefused("工单不存在", Kind.NOT_FOUND)
    return order, viewer


def own_place(order: WorkOrder, user_id: int) -> bool:
    """A common area's order, or one of the person's own household's."""
    return order.household_id is None or order.household_id in {
        household.id for household in my_households(user_id, order.compound_id)
    }


def get_order(order_id: int) -> WorkOrder | None:
    return db.session.scalar(
        select(WorkOrder)
        .options(
            joinedload(WorkOrder.building), joinedload(WorkOrder.household).joinedload(Household.building),
            joinedload(WorkOrder.assignee), joinedload(WorkOrder.rating),
        )
        .where(WorkOrder.id == order_id)
    )


def timeline(order_id: int) -> list[WorkOrderEvent]:
    return list(
        db.session.scalars(
            select(WorkOrderEvent)
            .options(joinedload(WorkOrderEvent.actor), selectinload(WorkOrderEvent.photos))
            .where(WorkOrderEvent.work_order_id == order_id)
            .order_by(WorkOrderEvent.id)
        ).unique()
    )


def pending_photos(order_id: int, user_id: int) -> list[WorkOrderPhoto]:
    return list(
        db.session.scalars(
            select(WorkOrderPhoto).where(
                WorkOrderPhoto.work_order_id == order_id, WorkOrderPhoto.uploader_id == user_id,
                WorkOrderPhoto.event_id.is_(None),
            ).order_by(WorkOrderPhoto.id)
        )
    )


def visible_photo(order: WorkOrder, photo_id: int, viewer: Viewer) -> WorkOrderPhoto | None:
    """A photo of this order the viewer may see: any photo of a step, and their own not yet used in one."""
    photo = db.session.get(WorkOrderPhoto, photo_id)
    if photo is None or photo.work_order_id != order.id:
        return None
    if photo.event_id is None and photo.uploader_id != viewer.user_id:
        return None
    return photo


def escalations(order_id: int) -> list[WorkOrderEscalation]:
    return list(
        db.session.scalars(
            select(WorkOrderEscalation).where(WorkOrderEscalation.work_order_id == order_id).order_by(
                WorkOrderEscalation.id
            )
        )
    )


@dataclass(frozen=True)
class OrderFilter:
    status: Status | None = None
    category: str | None = None
    overdue: bool | None = None
    mine: bool = False  # only orders assigned to the viewer (the staff queue)


# One prebuilt shape for every list: the row plus what a list line shows, loaded in the same statement.
_LIST_OPTIONS = (joinedload(WorkOrder.building), joinedload(WorkOrder.household), joinedload(WorkOrder.rating))


def _handling_order(now: datetime) -> tuple:
    """Open orders first: the urgent and the overdue ones, then the rest, each group by its running deadline (an
    urgent, overdue burst main never sits behind newer routine orders); then the finished ones, newest first."""
    rank = case(
        (and_(WorkOrder.sla_due_at.is_not(None),
              or_(WorkOrder.urgency == Urgency.URGENT, WorkOrder.sla_due_at < now)), 0),
        (WorkOrder.sla_due_at.is_not(None), 1),
        else_=2,
    )
    return rank, WorkOrder.sla_due_at, WorkOrder.id.desc()


def orders_page(
    compound_id: int, viewer_id: int, sees_all: bool, flt: OrderFilter, page: int, page_size: int,
    now: datetime | None = None,
) -> Page:
    """Residents see the orders they filed or follow, newest first; staff and committee see the board, every
    order of the compound in handling order (_handling_order)."""
    now = now or utcnow()
    query = select(WorkOrder).where(WorkOrder.compound_id == compound_id)
    if not sees_all:
        followed = select(WorkOrderFollower.work_order_id).where(WorkOrderFollower.user_id == viewer_id)
        query = query.where(WorkOrder.id.in_(followed))
    if flt.status is not None:
        query = query.where(WorkOrder.status == flt.status)
    if flt.category:
        query = query.where(WorkOrder.category == flt.category)
    if flt.overdue is True:
        query = query.where(WorkOrder.status.in_(OPEN_STATUSES), WorkOrder.sla_due_at < now)
    elif flt.overdue is False:
        query = query.where(or_(WorkOrder.sla_due_at.is_(None), WorkOrder.sla_due_at >= now))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(*_LIST_OPTIONS).order_by(*(_handling_order(now) if sees_all else (WorkOrder.id.desc(),)))
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(items=list(items), total=total, page=page, page_size=page_size)


def _open_in_scope(compound_id: int, user_id: int, everyone: bool):
    """The open orders a handler answers for: assigned to them or to nobody yet; a manager's are all of them."""
    # An order is open exactly while it runs against a deadline (sla_due_at set): the partial index
    # ix_work_orders_open_due holds only those rows.
    query = select(WorkOrder).where(WorkOrder.compound_id == compound_id, WorkOrder.sla_due_at.is_not(None))
    if not everyone:
        query = query.where(or_(WorkOrder.assignee_id == user_id, WorkOrder.assignee_id.is_(None)))
    return query


def staff_queue(compound_id: int, user_id: int, page: int, page_size: int) -> Page:
    """Open orders assigned to me or to nobody yet: urgent and overdue first, each group by the nearest deadline."""
    now = utcnow()
    query = _open_in_scope(compound_id, user_id, everyone=False)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.options(*_LIST_OPTIONS).order_by(*_handling_order(now)).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return Page(items=list(items), total=total, page=page, page_size=page_size)


@dataclass(frozen=True)
class WorkbenchCounts:
    to_accept: int
    in_progress: int
    overdue: int
    unassigned: int


def workbench_counts(compound_id: int, user_id: int, everyone: bool, now: datetime) -> WorkbenchCounts:
    """我的待办's figures in one statement: waiting to be accepted, being handled, past their deadline, and
    (for the manager) not yet assigned to anyone."""
    scope = _open_in_scope(compound_id, user_id, everyone).subquery()
    row = db.session.execute(
        select(
            func.count(case((scope.c.status == Status.SUBMITTED, 1))),
            func.count(case((scope.c.status.in_([Status.ACCEPTED, Status.IN_PROGRESS]), 1))),
            func.count(case((scope.c.sla_due_at < now, 1))),
            func.count(case((scope.c.assignee_id.is_(None), 1))),
        ).select_from(scope)
    ).one()
    return WorkbenchCounts(*row)


def workbench_orders(compound_id: int, user_id: int, everyone: bool, limit: int, now: datetime, *,
                     unassigned_only: bool = False) -> list[WorkOrder]:
    """The first open orders of the handler's scope in handling order: urgent and overdue, then the rest."""
    query = _open_in_scope(compound_id, user_id, everyone)
    if unassigned_only:
        query = query.where(WorkOrder.assignee_id.is_(None))
    return list(db.session.scalars(query.options(*_LIST_OPTIONS).order_by(*_handling_order(now)).limit(limit)))


def staff_members(compound_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.compound_id == compound_id, Membership.role == Role.STAFF, User.is_active.is_(True))
            .order_by(User.id)
        ).unique()
    )


# ---- transitions -----------------------------------------------------------------------------------


def _locked(order_id: int) -> WorkOrder:
    # FOR UPDATE on PostgreSQL: of two staff accepting at once, the second sees the order accepted (409).
    order = db.session.scalar(
        select(WorkOrder).where(WorkOrder.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    if order is None:
        raise WorkOrderRefused("工单不存在", Kind.NOT_FOUND)
    return order


def transition(
    order_id: int,
    user_id: int,
    roles: frozenset[Role],
    action: Action,
    *,
    note: str = "",
    assignee_id: int | None = None,
    merge_into_id: int | None = None,
    photo_ids: Sequence[int] = (),
    rating: dict | None = None,
    ip: str | None = None,
) -> WorkOrder:
    """Apply one action of the state machine, record it as an event with its photos, tell who needs to know."""
    order = _locked(order_id)
    now = utcnow()
    note = note.strip()
    awaiting = rules.awaiting_confirmation(order.status, order.closed_at, order.confirmed_at is not None, now)
    target = rules.next_status(order.status, action, actors_for(order, user_id, roles), awaiting_confirmation=awaiting)
    if action in rules.NOTE_REQUIRED and not note:
        raise WorkOrderRefused("请填写说明，居民会看到", Kind.INVALID)
    if action is Action.REJECT and len(note) > rules.REJECT_REASON_LIMIT:
        raise WorkOrderRefused(f"驳回原因请控制在{rules.REJECT_REASON_LIMIT}字以内", Kind.INVALID)
    if action is Action.ASSIGN:
        _check_assignee(order, assignee_id)
    survivor = _merge_target(order, merge_into_id) if action is Action.MERGE else None
    source = order.status
    record_step(order, action, target, user_id=user_id, by_staff=Role.STAFF in roles, now=now, note=note,
                assignee_id=assignee_id, merged_into_id=survivor.id if survivor else None)
    event = _record_event(order, user_id, action.value, source, target, note)
    _attach_photos(order, user_id, photo_ids, event.id)
    if survivor is not None:
        for follower_id in _follower_ids(order.id):
            _follow(survivor.id, follower_id)
    if action is Action.CONFIRM and rating:
        _rate(order, user_id, **rating)
    if action is Action.ASSIGN:
        notify(
            [order.assignee_id], WORK_ORDER_ASSIGNED, f"派单：{order.category}",
            f"{_actor_called(user_id, roles)}给您派了一张报修：{rules.brief(order.description)}，请尽快处理",
            link=f"/h5/work-orders/{order.id}", urgency=_notice_urgency(order), dedupe_key=f"wo-event-{event.id}",
        )
    else:
        _tell_followers(order, action, note, user_id, roles, event.id)
    if action in (Action.REJECT, Action.MERGE, Action.ASSIGN):
        record_audit(
            actor_id=user_id, action=f"work_order.{action.value}", target_type="work_order", target_id=order.id,
            compound_id=order.compound_id, before={"status": source.value},
            after={"status": target.value, "note": note, "assignee_id": order.assignee_id,
                   "merged_into_id": order.merged_into_id}, ip=ip,
        )
    db.session.commit()
    return order


def _check_assignee(order: WorkOrder, assignee_id: int | None) -> None:
    if assignee_id is None or assignee_id not in {u.id for u in staff_members(order.compound_id)}:
        raise WorkOrderRefused("请选择本小区的物业工作人员", Kind.INVALID)


def _merge_target(order: WorkOrder, merge_into_id: int | None) -> WorkOrder:
    if merge_into_id is None or merge_into_id == order.id:
        raise WorkOrderRefused("请选择要合并到的另一张工单", Kind.INVALID)
    survivor = db.session.scalar(
        select(WorkOrder).where(WorkOrder.id == merge_into_id, WorkOrder.compound_id == order.compound_id)
    )
    if survivor is None:
        raise WorkOrderRefused("要合并到的工单不在本小区", Kind.INVALID)
    if survivor.status not in OPEN_STATUSES:
        raise WorkOrderRefused("只能合并到未办结的工单")
    # The duplicate's followers will follow the survivor: a household's own order never opens to others.
    if survivor.household_id is not None and survivor.household_id != order.household_id:
        raise WorkOrderRefused("住户家中的报修只能合并同一户的重复工单", Kind.INVALID)
    return survivor


def record_step(
    order: WorkOrder, action: Action, target: Status, *, user_id: int, by_staff: bool, now: datetime,
    note: str = "", assignee_id: int | None = None, merged_into_id: int | None = None,
) -> None:
    """The order's own columns after one allowed step: status, times, figures, deadline, next escalation. No
    queries, no messages, so the demo replays whole histories through it (on any object with the columns
    as attributes) and its orders come out as these would."""
    if action is Action.ACCEPT:
        # Staff who accept take the order; a manager accepting leaves it to the staff (only staff are assigned).
        if order.assignee_id is None and by_staff:
            order.assignee_id = user_id
        order.accepted_at = now
        order.seconds_to_accept = int((now - order.created_at).total_seconds())
    elif action is Action.CLOSE:
        order.closed_at = now
        order.seconds_to_close = int((now - order.created_at).total_seconds())
        order.closed_within_sla = now <= order.close_due_at and order.dispute_count == 0
    elif action is Action.REJECT:
        order.reject_reason = note
    elif action is Action.MERGE:
        order.merged_into_id = merged_into_id
        order.reject_reason = f"与工单#{merged_into_id}重复，已合并处理"
    elif action is Action.ASSIGN:
        order.assignee_id = assignee_id
    elif action is Action.CONFIRM:
        order.confirmed_at = now
    elif action is Action.DISPUTE:
        order.dispute_count += 1
        order.closed_at = order.seconds_to_close = order.closed_within_sla = None
    source, order.status = order.status, target
    _after_status_change(order, source)


def record_urge(order: WorkOrder, now: datetime) -> None:
    order.urge_count += 1
    order.last_urged_at = now
    plan_escalation(order)


def record_escalation_step(order: WorkOrder) -> None:
    order.escalation_level += 1
    plan_escalation(order)


def _after_status_change(order: WorkOrder, source: Status) -> None:
    """Keep the running deadline and the next escalation in step with the status."""
    phase, before = rules.phase_of(order.status), rules.phase_of(source)
    if phase is None:
        order.sla_due_at = None
        order.escalate_at = None
        return
    if before is Phase.ACCEPT and phase is Phase.CLOSE:
        # Accepted: the close deadline's steps start afresh. A reopened order (未解决) keeps the steps it
        # already took against the close deadline.
        order.escalation_level = 0
    order.sla_due_at = order.accept_due_at if phase is Phase.ACCEPT else order.close_due_at
    plan_escalation(order)


def _window(order: WorkOrder) -> timedelta:
    due = order.accept_due_at if rules.phase_of(order.status) is Phase.ACCEPT else order.close_due_at
    return due - order.created_at


def plan_escalation(order: WorkOrder) -> None:
    step = rules.next_escalation(order.sla_due_at, _window(order), order.escalation_level, order.urge_count)
    order.escalate_at = step[1] if step else None


def _attach_photos(order: WorkOrder, user_id: int, photo_ids: Sequence[int], event_id: int) -> None:
    if not photo_ids:
        return
    photos = db.session.scalars(
        select(WorkOrderPhoto).where(
            WorkOrderPhoto.id.in_(photo_ids), WorkOrderPhoto.work_order_id == order.id,
            WorkOrderPhoto.uploader_id == user_id, WorkOrderPhoto.event_id.is_(None),
        )
    ).all()
    if len(photos) != len(set(photo_ids)):
        raise WorkOrderRefused("照片无效：请先上传本工单的照片", Kind.INVALID)
    for item in photos:
        item.event_id = event_id


def _record_event(order: WorkOrder, actor_id: int | None, action: str, source: Status | None,
                  target: Status | None, note: str) -> WorkOrderEvent:
    event = WorkOrderEvent(
        work_order_id=order.id, actor_id=actor_id, action=action, from_status=source.value if source else None,
        to_status=target.value if target else None, note=note,
    )
    db.session.add(event)
    db.session.flush()
    return event


# ---- the reporter's phone and the compound's call buttons ---------------------------------------------------


def may_reveal_phone(order: WorkOrder, viewer: Viewer) -> bool:
    return rules.permitted(rules.check_reveal_phone, viewer.actors, assigned_to_me=order.assignee_id == viewer.user_id)


def reveal_reporter_phone(order_id: int, user_id: int | None, ip: str | None = None) -> str:
    """The reporter's whole number, to the staff the order is assigned to or the manager; each time audited.
    "" when the reporter left no phone."""
    order, viewer = seen_by(order_id, user_id)
    rules.check_reveal_phone(viewer.actors, assigned_to_me=order.assignee_id == viewer.user_id)
    cipher = db.session.scalar(select(User.phone_cipher).where(User.id == order.submitter_id))
    record_audit(actor_id=viewer.user_id, action="work_order.reveal_phone", target_type="work_order",
                 target_id=order.id, compound_id=order.compound_id, after={"reporter_id": order.submitter_id}, ip=ip)
    db.session.commit()
    return decrypt_phone(cipher) if cipher else ""


def set_contact_phones(compound_id: int, user_id: int, roles: frozenset[Role], changes: dict,
                       ip: str | None = None) -> Compound:
    """The call buttons: the manager sets 物业服务电话, the committee its own contact and whether the home page
    shows it. A field this person may not set is refused whole (403), a number that is not one with 422."""
    needs = {"service_phone": Permission.SET_SERVICE_PHONE, "committee_phone": Permission.SET_COMMITTEE_PHONE,
             "committee_phone_public": Permission.SET_COMMITTEE_PHONE}
    for field in changes:
        if not allows(roles, needs[field]):
            raise WorkOrderRefused("您无权设置该电话", Kind.FORBIDDEN)
    if not changes:
        return db.session.get(Compound, compound_id)
    values = dict(changes)
    for field in ("service_phone", "committee_phone"):
        if field in values:
            try:
                values[field] = normalize_contact_phone(values[field])
            except InvalidPhone as exc:
                raise WorkOrderRefused(str(exc), Kind.INVALID, errors={field: [str(exc)]}) from exc
    compound = db.session.scalar(select(Compound).where(Compound.id == compound_id).with_for_update())
    before = {field: getattr(compound, field) for field in values}
    for field, value in values.items():
        setattr(compound, field, value)
    record_audit(actor_id=user_id, action="compound.contact_phones", target_type="compound", target_id=compound_id,
                 compound_id=compound_id, before=before, after=values, ip=ip)
    db.session.commit()
    return compound


# ---- following, urging, rating -----------------------------------------------------------------------


def _follow(order_id: int, user_id: int) -> bool:
    """Whether the person follows the order only now."""
    if _follows(order_id, user_id):
        return False
    db.session.add(WorkOrderFollower(work_order_id=order_id, user_id=user_id))
    return True


def follow(order_id: int, user_id: int) -> WorkOrder:
    """Join an open order (the same problem already reported) instead of filing a duplicate: a common
    area's, or one of my own household's. Another household's order stays hidden (404). Joining twice is
    joining once."""
    order = _locked(order_id)
    roles = roles_in_compound(user_id, order.compound_id)
    if not roles:
        raise WorkOrderRefused("工单不存在", Kind.NOT_FOUND)
    rules.check_follow(order.status, roles, own_place=own_place(order, user_id))
    if _follow(order.id, user_id):
        _record_event(order, user_id, "follow", None, None, "")
    db.session.commit()
    return order


def urge(order_id: int, user_id: int, now: datetime | None = None) -> WorkOrder:
    """催办: by its submitter or a follower, once per 4 hours per order; every urge brings the escalation steps
    a quarter window forward."""
    order = _locked(order_id)
    now = now or utcnow()
    concerned = order.submitter_id == user_id or _follows(order.id, user_id)
    rules.check_urge(order.status, order.last_urged_at, now, concerned=concerned)
    record_urge(order, now)
    _record_event(order, user_id, "urge", None, None, "")
    recipients = [order.assignee_id] if order.assignee_id else _staff_ids(order.compound_id)
    if recipients:
        notify(recipients, WORK_ORDER_ASSIGNED, f"居民催办：{order.category}",
               f"居民催办报修：{rules.brief(order.description)}，请尽快处理",
               link=f"/h5/work-orders/{order.id}", urgency=_notice_urgency(order),
               dedupe_key=f"wo-{order.id}-urge-{order.urge_count}")
    db.session.commit()
    return order


def rate(order_id: int, user_id: int, stars: int, comment: str = "", tags: Sequence[str] = ()) -> WorkOrderRating:
    order = _locked(order_id)
    rules.check_rating(order.status, submitter=order.submitter_id == user_id, confirmed=order.confirmed_at is not None,
                       rated=order.rating_stars is not None)
    rating = _rate(order, user_id, stars=stars, comment=comment, tags=tags)
    db.session.commit()
    return rating


def _rate(order: WorkOrder, user_id: int, stars: int, comment: str = "", tags: Sequence[str] = ()) -> WorkOrderRating:
    """The rating of an order its submitter has just confirmed (rate, or confirm with a rating)."""
    if not 1 <= stars <= 5:
        raise WorkOrderRefused("评分为1到5星", Kind.INVALID)
    unknown = [tag for tag in tags if tag not in rules.RATING_TAGS]
    if unknown:
        raise WorkOrderRefused(f"未知的评价标签：{'、'.join(unknown)}", Kind.INVALID)
    rating = WorkOrderRating(work_order_id=order.id, user_id=user_id, stars=stars, comment=comment.strip(),
                             tags=",".join(dict.fromkeys(tags)))
    try:
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError as exc:
        # Two ratings at once: the one that lost the race hears what it would have heard a moment later.
        raise WorkOrderRefused("该工单已评价过") from exc
    order.rating_stars = stars
    _record_event(order, user_id, "rate", None, None, f"{stars}星")
    return rating


def reply_to_rating(order_id: int, user_id: int, reply: str, ip: str | None = None) -> WorkOrderRating:
    order = _locked(order_id)
    rules.check_reply(roles_in_compound(user_id, order.compound_id), rated=order.rating_stars is not None)
    rating = db.session.scalar(select(WorkOrderRating).where(WorkOrderRating.work_order_id == order_id))
    rating.reply = reply.strip()
    rating.replied_by_id = user_id
    rating.replied_at = utcnow()
    record_audit(actor_id=user_id, action="work_order.reply", target_type="work_order", target_id=order_id,
                 compound_id=order.compound_id, after={"reply": rating.reply}, ip=ip)
    db.session.commit()
    return rating


# ---- notifications ------------------------------------------------------------------------------------


def _notice_urgency(order: WorkOrder) -> NoticeUrgency:
    return NoticeUrgency.URGENT if order.urgency is Urgency.URGENT else NoticeUrgency.NORMAL


def _staff_ids(compound_id: int) -> list[int]:
    return [user.id for user in staff_members(compound_id)]


def _follower_ids(order_id: int) -> list[int]:
    return list(db.session.scalars(select(WorkOrderFollower.user_id).where(WorkOrderFollower.work_order_id == order_id)))


def _actor_called(user_id: int, roles: frozenset[Role]) -> str:
    """How a notice names whoever acted for the compound: their name ("刘师傅"), else their title."""
    name = db.session.scalar(select(User.display_name).where(User.id == user_id))
    return name or rules.title_of(roles)


def _tell_followers(order: WorkOrder, action: Action, note: str, actor_id: int, actor_roles: frozenset[Role],
                    event_id: int) -> None:
    """Everyone following the order hears of its new status, except whoever just changed it, in a sentence
    for them (its reporter: 您的报修; who joined it: 您关注的报修); its staff hear of a 未解决 answer and of a
    withdrawal."""
    followers = [user_id for user_id in _follower_ids(order.id) if user_id != actor_id]
    handlers = [order.assignee_id] if action in (Action.DISPUTE, Action.WITHDRAW) and order.assignee_id else []
    handlers = [user_id for user_id in handlers if user_id != actor_id and user_id not in followers]
    if not followers and not handlers:
        return
    actor = _actor_called(actor_id, actor_roles) if action in (Action.ACCEPT, Action.START, Action.ASSIGN) else ""
    audiences = (
        (rules.Audience.SUBMITTER, [user_id for user_id in followers if user_id == order.submitter_id]),
        (rules.Audience.FOLLOWER, [user_id for user_id in followers if user_id != order.submitter_id]),
        (rules.Audience.HANDLER, handlers),
    )
    for audience, people in audiences:
        if not people:
            continue
        title, body = rules.step_notice(action, audience, status=order.status, actor=actor,
                                        problem=rules.brief(order.description), note=note,
                                        merged_into_id=order.merged_into_id)
        suffix = "" if audience is rules.Audience.SUBMITTER else f"-{audience.value}"
        notify(people, WORK_ORDER_UPDATE, title, body, link=f"/h5/work-orders/{order.id}",
               dedupe_key=f"wo-event-{event_id}{suffix}")


# ---- escalation (cron sweep) -----------------------------------------------------------------------------


def escalation_recipients(compound_id: int, level: EscalationLevel) -> list[int]:
    """Managers; then the committee and the party secretary; then the officials of the nearest area above the
    compound that has any (the community first)."""
    if level is EscalationLevel.MANAGER:
        roles = (Role.MANAGER,)
    elif level is EscalationLevel.COMMITTEE:
        roles = (Role.COMMITTEE, Role.PARTY_SECRETARY)
    else:
        path = db.session.scalar(select(Area.path).join(Compound, Compound.area_id == Area.id).where(
            Compound.id == compound_id))
        rows = db.session.execute(
            select(Membership.user_id, Membership.area_id).where(
                Membership.role == Role.OFFICIAL, Membership.area_id.in_(ancestor_area_ids(path))
            )
        ).all()
        for area_id in reversed(ancestor_area_ids(path)):
            nearest = [row.user_id for row in rows if row.area_id == area_id]
            if nearest:
                return nearest
        return []
    return list(
        db.session.scalars(
            select(Membership.user_id).where(Membership.compound_id == compound_id, Membership.role.in_(roles))
        )
    )


def due_escalation_ids(now: datetime, limit: int = 500) -> list[int]:
    return list(
        db.session.scalars(
            select(WorkOrder.id)
            .where(WorkOrder.escalate_at <= now, WorkOrder.status.in_(OPEN_STATUSES))
            .order_by(WorkOrder.escalate_at)
            .limit(limit)
        )
    )


def escalate_order(order_id: int, now: datetime) -> EscalationLevel | None:
    """Take the order's next escalation step if it is due; None when there is nothing to do. Safe to call
    twice: the step is a unique row, and the plan moves on only when the row is new."""
    order = _locked(order_id)
    phase = rules.phase_of(order.status)
    if phase is None or order.escalate_at is None or order.escalate_at > now:
        db.session.rollback()
        return None
    level = EscalationLevel(order.escalation_level + 1)
    try:
        with db.session.begin_nested():
            db.session.add(WorkOrderEscalation(work_order_id=order.id, phase=phase.value, level=int(level)))
    except IntegrityError:
        # Already taken (e.g. a sweep that died before moving the plan on): only move the plan on.
        level = None
    record_escalation_step(order)
    if level is not None:
        _record_event(order, None, "escalate", None, None, rules.ESCALATION_LABELS[level])
        recipients = escalation_recipients(order.compound_id, level)
        if recipients:
            deadline = "受理" if phase is Phase.ACCEPT else "办结"
            # Urges can bring a step before the deadline: then it is the residents pressing, not the clock.
            title = "居民多次催办" if now < order.sla_due_at else f"工单超时未{deadline}"
            body = (f"居民多次催办工单#{order.id}：{rules.brief(order.description)}，请督促处理" if now < order.sla_due_at
                    else f"工单#{order.id}已超过{deadline}时限：{rules.brief(order.description)}，请督促处理")
            notify(recipients, WORK_ORDER_ESCALATED, f"{title}：{order.category}", body,
                   link=f"/h5/work-orders/{order.id}",
                   urgency=_notice_urgency(order), dedupe_key=f"wo-{order.id}-esc-{phase.value}-{int(level)}")
    db.session.commit()
    return level


def remind_to_rate(now: datetime, limit: int = 500) -> int:
    """Remind each submitter once to answer an order closed three days ago or more."""
    orders = db.session.execute(
        select(WorkOrder.id, WorkOrder.submitter_id, WorkOrder.description).where(
            WorkOrder.status == Status.CLOSED, WorkOrder.confirmed_at.is_(None), WorkOrder.rate_reminded.is_(False),
            WorkOrder.closed_at <= now - rules.RATE_REMINDER_AFTER,
            WorkOrder.closed_at > now - rules.CONFIRM_WINDOW,
        ).limit(limit)
    ).all()
    for row in orders:
        notify([row.submitter_id], WORK_ORDER_RATE_REMINDER, "请确认报修结果并评价",
               f"您的报修已办结：{rules.brief(row.description)}，问题解决了吗？请确认并评价",
               link=f"/h5/work-orders/{row.id}",
               dedupe_key=f"wo-{row.id}-rate-reminder")
    if orders:
        db.session.execute(update(WorkOrder).where(WorkOrder.id.in_([row.id for row in orders])).values(
            rate_reminded=True))
    db.session.commit()
    return len(orders)
