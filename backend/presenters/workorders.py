"""Work orders (报事报修) as each screen shows them, built once for the API to dump and the pages to render: an order
with its place, its timeline naming who did what, its escalations, and what this person may do with it now;
the list of orders with what the list offers."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from backend.domain import workorders as rules
from backend.domain.phones import tel_uri
from backend.domain.roles import Action as Permission
from backend.domain.roles import Role, allows
from backend.domain.workorders import (
    ESCALATION_LABELS,
    EVENT_LABELS,
    STATUS_LABELS,
    Action,
    EscalationLevel,
    Phase,
    Status,
)
from backend.policy import Access, roles_in_compound
from backend.schemas.workorders import place_label
from backend.services import workorders as service
from backend.services.workorders import OrderFilter, Viewer
from backend.shared.clock import utcnow
from backend.shared.pagination import Page

if TYPE_CHECKING:
    from backend.models import Compound, User, WorkOrder, WorkOrderEvent

# The steps of whoever handles an order: the page shows them together, under 处理工单.
HANDLING_STEPS = frozenset({Action.ACCEPT, Action.START, Action.CLOSE, Action.REJECT, Action.ASSIGN, Action.MERGE})
# What a person may do with an order besides its steps, each named as `allowed` holds it.
URGE, RATE, REPLY, FOLLOW, UPLOAD_PHOTOS = "urge", "rate", "reply", "follow", "upload_photos"
# What the page shows together, under 我的操作.
RESIDENT_SIDE = frozenset({URGE, FOLLOW, RATE, Action.WITHDRAW, Action.CONFIRM, Action.DISPUTE})


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    action: str
    action_label: str
    from_status: str | None
    to_status: str | None
    to_status_label: str
    note: str
    actor_name: str
    actor_title: str
    actor_label: str
    mine: bool
    photos: list
    created_at: datetime


@dataclass(frozen=True)
class EscalationEntry:
    phase: str
    phase_label: str
    label: str
    created_at: datetime


@dataclass(frozen=True)
class OrderDetail:
    """One order as one person sees it. The API's WorkOrderDetailSchema reads the order's own columns through
    it; `allowed` is everything the person may do now, by name: the steps (Action values) and URGE, RATE,
    REPLY, FOLLOW, UPLOAD_PHOTOS."""

    order: WorkOrder
    viewer: Viewer
    place: str
    submitter_name: str
    assignee_name: str | None
    awaiting_confirmation: bool
    timeline: list[TimelineEntry]
    escalations: list[EscalationEntry]
    pending_photos: list
    allowed: frozenset[str]
    # Someone who may urge, but must wait: when they may again.
    next_urge_at: datetime | None
    # The staff the manager may assign it to, when they may.
    assignees: list[User]
    # 138****1234 for those who see every order and for the reporter; None for anyone else.
    reporter_phone_masked: str | None
    # The assigned staff member and the manager may reveal the whole number (audited).
    can_reveal_phone: bool

    def __getattr__(self, name: str):
        return getattr(self.order, name)

    @property
    def compound(self) -> Compound:
        return Access(self.order.compound_id, self.viewer.roles).compound

    @property
    def mine(self) -> bool:
        return self.order.submitter_id == self.viewer.user_id

    @property
    def following(self) -> bool:
        return self.viewer.follows

    @property
    def actions(self) -> list[Action]:
        """The steps, in Action order."""
        return [action for action in Action if action.value in self.allowed]

    @property
    def handles(self) -> bool:
        return bool(self.allowed & HANDLING_STEPS)

    @property
    def acts_as_resident(self) -> bool:
        """Something to do as the one who reported or follows it, or an urge to wait for."""
        return bool(self.allowed & RESIDENT_SIDE) or self.next_urge_at is not None

    @property
    def can_urge(self) -> bool:
        return URGE in self.allowed

    @property
    def can_rate(self) -> bool:
        return RATE in self.allowed

    @property
    def can_reply(self) -> bool:
        return REPLY in self.allowed

    @property
    def can_follow(self) -> bool:
        return FOLLOW in self.allowed

    @property
    def can_upload_photos(self) -> bool:
        return UPLOAD_PHOTOS in self.allowed


def order_detail(order_id: int, user_id: int | None, now: datetime | None = None) -> OrderDetail:
    """The order as this person sees it; NOT_FOUND for anyone who may not see it."""
    order, viewer = service.seen_by(order_id, user_id)
    now = now or utcnow()
    allowed = _allowed(order, viewer, now)
    urge_again = rules.next_urge_at(order.last_urged_at, now)
    return OrderDetail(
        order=order,
        viewer=viewer,
        place=place_label(order),
        submitter_name=_name(order.submitter) if viewer.sees_all or order.submitter_id == viewer.user_id
        else rules.RESIDENT_TITLE,
        assignee_name=order.assignee.display_name if order.assignee else None,
        awaiting_confirmation=_awaiting(order, now),
        timeline=_timeline(order, viewer),
        escalations=[
            EscalationEntry(item.phase, rules.OVERDUE_LABELS[Phase(item.phase)],
                            ESCALATION_LABELS[EscalationLevel(item.level)], item.created_at)
            for item in service.escalations(order.id)
        ],
        pending_photos=service.pending_photos(order.id, viewer.user_id),
        allowed=allowed,
        next_urge_at=urge_again if viewer.concerned and order.status in rules.OPEN_STATUSES else None,
        assignees=service.staff_members(order.compound_id) if Action.ASSIGN.value in allowed else [],
        reporter_phone_masked=order.submitter.phone_masked
        if viewer.sees_all or order.submitter_id == viewer.user_id else None,
        can_reveal_phone=service.may_reveal_phone(order, viewer) and bool(order.submitter.phone_masked),
    )


def _awaiting(order: WorkOrder, now: datetime) -> bool:
    return rules.awaiting_confirmation(order.status, order.closed_at, order.confirmed_at is not None, now)


def _allowed(order: WorkOrder, viewer: Viewer, now: datetime) -> frozenset[str]:
    """Each action the service would take from this person now: the same rules it refuses with."""
    steps = service.actions_open_to(order, viewer, now)
    rated = order.rating_stars is not None
    extras = {
        URGE: rules.permitted(rules.check_urge, order.status, order.last_urged_at, now, concerned=viewer.concerned),
        RATE: rules.permitted(rules.check_rating, order.status, submitter=order.submitter_id == viewer.user_id,
                              confirmed=order.confirmed_at is not None, rated=rated),
        REPLY: rules.permitted(rules.check_reply, viewer.roles, rated=rated),
        # Offered to one not following it yet (who sees every order of the compound); whether the place is
        # theirs is asked of the database only for someone who may report at all.
        FOLLOW: not viewer.follows and allows(viewer.roles, Permission.SUBMIT_WORK_ORDER)
        and rules.permitted(rules.check_follow, order.status, viewer.roles,
                            own_place=service.own_place(order, viewer.user_id)),
        UPLOAD_PHOTOS: rules.permitted(rules.check_photo, order.status, viewer.actors),
    }
    return frozenset({action.value for action in steps} | {name for name, allowed in extras.items() if allowed})


def _name(user: User) -> str:
    return user.display_name or rules.RESIDENT_TITLE


# ---- who did what ------------------------------------------------------------------------------------------


def _timeline(order: WorkOrder, viewer: Viewer) -> list[TimelineEntry]:
    titles: dict[int, str] = {}

    def title_of(user_id: int) -> str:
        if user_id not in titles:
            titles[user_id] = rules.title_of(roles_in_compound(user_id, order.compound_id))
        return titles[user_id]

    entries = []
    for event in service.timeline(order.id):
        name, title = _actor(event, order, viewer, title_of)
        mine = event.actor_id is not None and event.actor_id == viewer.user_id
        changed = event.to_status is not None and event.to_status != event.from_status
        entries.append(TimelineEntry(
            id=event.id, action=event.action, action_label=EVENT_LABELS.get(event.action, event.action),
            from_status=event.from_status, to_status=event.to_status,
            to_status_label=STATUS_LABELS[Status(event.to_status)] if changed else "",
            note=event.note, actor_name=name, actor_title=title, actor_label=_label(name, title, mine),
            mine=mine, photos=list(event.photos), created_at=event.created_at,
        ))
    return entries


def _actor(event: WorkOrderEvent, order: WorkOrder, viewer: Viewer, title_of: Callable[[int], str]) -> tuple[str, str]:
    """The name and title of who did it. 个人信息保护法: residents never learn who else reported or joined (only
    their title, 报修人 or 居民); those who run the compound do. Those acting for the compound act by name."""
    if event.actor is None:
        return rules.SYSTEM_TITLE, rules.SYSTEM_TITLE
    if event.action in rules.RESIDENT_EVENTS:
        title = rules.SUBMITTER_TITLE if event.actor_id == order.submitter_id else rules.RESIDENT_TITLE
        shown = viewer.sees_all or event.actor_id == viewer.user_id
        return (_name(event.actor) if shown else rules.RESIDENT_TITLE), title
    title = title_of(event.actor_id)
    return event.actor.display_name or title, title


def _label(name: str, title: str, mine: bool) -> str:
    if mine:
        return rules.ME
    if name in (title, rules.RESIDENT_TITLE):
        return title
    return f"{title} {name}"


# ---- lists --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderList:
    """A compound's orders for one person: every order (the board) for those who run or oversee the compound,
    else the orders they filed or follow; and what the list offers them."""

    page: Page
    board: bool
    can_submit: bool
    can_handle: bool
    can_configure: bool


def order_list(compound_id: int, user_id: int, roles: frozenset[Role], flt: OrderFilter, page: int,
               page_size: int) -> OrderList:
    board = allows(roles, Permission.VIEW_WORK_ORDERS)
    return OrderList(
        page=service.orders_page(compound_id, user_id, board, flt, page, page_size),
        board=board,
        can_submit=allows(roles, Permission.SUBMIT_WORK_ORDER),
        can_handle=allows(roles, Permission.HANDLE_WORK_ORDERS),
        can_configure=allows(roles, Permission.CONFIGURE_WORK_ORDERS),
    )


# ---- 我的待办: the workbench on the compound home --------------------------------------------------------------

# How many orders the workbench lists before its link to the whole queue.
WORKBENCH_ITEMS = 5


@dataclass(frozen=True)
class WorkbenchItem:
    """An order on the workbench, and whether the person may accept it from there in one tap."""

    order: WorkOrder
    can_accept: bool

    def __getattr__(self, name: str):
        return getattr(self.order, name)


@dataclass(frozen=True)
class Workbench:
    """我的待办 of a staff member (orders assigned to them or to nobody) or the manager (every open order): the
    counts, the orders to see to first, and for the manager the ones not assigned yet. A fixed number of
    statements however many orders are open."""

    to_accept: int
    in_progress: int
    overdue: int
    unassigned_count: int | None
    items: list[WorkbenchItem]
    unassigned: list[WorkbenchItem]
    manager: bool
    # The moment the counts were taken: the page marks as late what they counted as late.
    now: datetime


def workbench(compound_id: int, user_id: int, roles: frozenset[Role], now: datetime | None = None) -> Workbench | None:
    """None for anyone who does not handle orders: they have no workbench."""
    if not allows(roles, Permission.HANDLE_WORK_ORDERS):
        return None
    now = now or utcnow()
    manager = allows(roles, Permission.ASSIGN_WORK_ORDERS)
    counts = service.workbench_counts(compound_id, user_id, manager, now)

    def item(order: WorkOrder) -> WorkbenchItem:
        # The same rule the accept step refuses with, decided from the row alone (no follower lookup: following
        # never makes anyone a handler).
        actors = service.actors_for(order, user_id, roles)
        return WorkbenchItem(order, Action.ACCEPT in rules.allowed_actions(order.status, actors))

    items = [item(order) for order in service.workbench_orders(compound_id, user_id, manager, WORKBENCH_ITEMS, now)]
    unassigned = []
    if manager and counts.unassigned:
        unassigned = [item(order) for order in service.workbench_orders(
            compound_id, user_id, manager, WORKBENCH_ITEMS, now, unassigned_only=True)]
    return Workbench(
        to_accept=counts.to_accept, in_progress=counts.in_progress, overdue=counts.overdue,
        unassigned_count=counts.unassigned if manager else None, items=items, unassigned=unassigned, manager=manager,
        now=now,
    )


# ---- call buttons -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallButton:
    label: str
    phone: str
    tel: str


def call_buttons(compound: Compound) -> list[CallButton]:
    """The tel: links the home page and every order page show: 物业服务电话, and the committee's contact when the
    committee chose to show it. From the compound row alone (no statement)."""
    buttons = []
    if compound.service_phone:
        buttons.append(CallButton("物业服务电话", compound.service_phone, tel_uri(compound.service_phone)))
    if compound.committee_phone and compound.committee_phone_public:
        buttons.append(CallButton("业委会联系电话", compound.committee_phone, tel_uri(compound.committee_phone)))
    return buttons


@dataclass(frozen=True)
class ContactPhones:
    """The phone settings as one person sees them: the values, the buttons, and which ones they may set."""

    service_phone: str
    committee_phone: str
    committee_phone_public: bool
    buttons: list[CallButton]
    can_set_service: bool
    can_set_committee: bool


def contact_phones(compound: Compound, roles: frozenset[Role]) -> ContactPhones:
    """The committee's number is the committee's to publish: until it does, only it reads the number back."""
    can_set_committee = allows(roles, Permission.SET_COMMITTEE_PHONE)
    shown = compound.committee_phone_public or can_set_committee
    return ContactPhones(
        service_phone=compound.service_phone, committee_phone=compound.committee_phone if shown else "",
        committee_phone_public=compound.committee_phone_public, buttons=call_buttons(compound),
        can_set_service=allows(roles, Permission.SET_SERVICE_PHONE), can_set_committee=can_set_committee,
    )
