"""Work orders (报事报修) API: submit, list, read, move through the states, photos, follow, urge, rate, figures.

Refusals keep the error shape: the state forbids it → 409, this person may not → 403, bad input → 422, an
order one may not see → 404 (its existence stays hidden), urging again within 4 hours → 429, a photo over
10 MB → 413 and any other refused photo → 422."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort

from backend.api.uploads import limit_photo_upload
from backend.domain import workorders as rules
from backend.domain.roles import Action as Permission
from backend.domain.roles import Role, allows
from backend.domain.workorders import ACTION_LABELS, Action, Actor, Status, TransitionRefused
from backend.extensions import db
from backend.models import WorkOrder, WorkOrderEvent
from backend.policy import authorize, roles_in_compound
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.common import ApiErrorSchema, envelope
from backend.schemas.workorders import (
    CategoryListSchema,
    DuplicateListSchema,
    DuplicateQuery,
    FiguresSchema,
    PhotoSchema,
    PhotoUploadSchema,
    RatingInputSchema,
    RatingSchema,
    ReplySchema,
    StatsQuery,
    TransitionSchema,
    WorkOrderDetailSchema,
    WorkOrderListQuery,
    WorkOrderSchema,
    WorkOrderSubmitSchema,
)
from backend.services import photos as photo_service
from backend.services import workorder_stats
from backend.services import workorders as workorder_service
from backend.services.workorders import OrderFilter, Viewer, WorkOrderRefused
from backend.shared.clock import utcnow

blp = Blueprint("workorders", __name__, url_prefix="/api/v1", description="报事报修")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PHOTO_ID = "<int(min=1, max=2147483647):photo_id>"

# What residents do; to other residents the person doing it is shown only as "居民".
_RESIDENT_EVENTS = frozenset({"submit", "withdraw", "confirm", "dispute", "follow", "urge", "rate"})
_EVENT_LABELS = {
    **{action.value: label for action, label in ACTION_LABELS.items()},
    "submit": "提交报修",
    "follow": "关注",
    "urge": "催办",
    "rate": "评价",
    "escalate": "超时上报",
}
# The title a person acting on an order is shown with, first match wins.
_TITLES = (
    (Role.MANAGER, "物业经理"),
    (Role.STAFF, "物业人员"),
    (Role.PARTY_SECRETARY, "党组织书记"),
    (Role.COMMITTEE, "业委会"),
    (Role.OFFICIAL, "社区工作人员"),
    (Role.ADMIN, "平台管理员"),
)
_PHOTO_TAKERS = frozenset({Actor.SUBMITTER, Actor.HANDLER, Actor.MANAGER})


def _refused(exc: WorkOrderRefused | TransitionRefused, headers: dict[str, str] | None = None):
    # Nothing of a refused request may be committed later by accident; this also frees the order's row lock.
    db.session.rollback()
    if isinstance(exc, TransitionRefused):
        abort(exc.status, message=str(exc))
    abort(exc.status, message=str(exc), headers=headers or {})


def _order(order_id: int) -> WorkOrder:
    order = workorder_service.get_order(order_id)
    if order is None:
        abort(404)
    return order


def _seen(order_id: int) -> tuple[WorkOrder, Viewer]:
    """The order and how the caller stands to it; 404 for everyone who may not see it."""
    order, user_id = _order(order_id), optional_user_id()
    viewer = workorder_service.viewer_of(order, user_id, roles_in_compound(user_id, order.compound_id))
    if viewer is None:
        abort(404)
    return order, viewer


def _authorize_any(compound_id: int, *actions: Permission) -> frozenset[Role]:
    roles = roles_in_compound(optional_user_id(), compound_id, entry_compound_id())
    if not roles:
        abort(404)
    if not any(allows(roles, action) for action in actions):
        abort(403)
    return roles


# ---- the detail ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDetail:
    """An order as one person sees it; WorkOrderDetailSchema reads the order's own columns through it."""

    order: WorkOrder
    mine: bool
    following: bool
    submitter_name: str
    assignee_name: str | None
    awaiting_confirmation: bool
    timeline: list[dict]
    pending_photos: list
    actions: list[Action]
    can_urge: bool
    can_rate: bool
    can_reply: bool
    can_upload_photos: bool

    def __getattr__(self, name: str):
        return getattr(self.order, name)


def _timeline(order: WorkOrder, viewer: Viewer) -> list[dict]:
    titles: dict[int, str] = {}

    def title_of(user_id: int) -> str:
        if user_id not in titles:
            roles = roles_in_compound(user_id, order.compound_id)
            titles[user_id] = next((title for role, title in _TITLES if role in roles), "工作人员")
        return titles[user_id]

    entries = []
    for event in workorder_service.timeline(order.id):
        entries.append({
            "id": event.id, "action": event.action, "action_label": _EVENT_LABELS.get(event.action, ""),
            "from_status": event.from_status, "to_status": event.to_status, "note": event.note,
            "mine": event.actor_id == viewer.user_id, "photos": event.photos, "created_at": event.created_at,
            **_actor(event, viewer, title_of),
        })
    return entries


def _actor(event: WorkOrderEvent, viewer: Viewer, title_of) -> dict:
    if event.actor is None:
        return {"actor_name": "系统", "actor_title": "系统"}
    if event.action in _RESIDENT_EVENTS:
        # 个人信息保护法: residents never learn who else reported or joined; those who run the compound do.
        shown = viewer.sees_all or event.actor_id == viewer.user_id
        return {"actor_name": (event.actor.display_name or "居民") if shown else "居民", "actor_title": "居民"}
    title = title_of(event.actor_id)
    return {"actor_name": event.actor.display_name or title, "actor_title": title}


def _detail(order: WorkOrder, viewer: Viewer) -> OrderDetail:
    now = utcnow()
    mine = order.submitter_id == viewer.user_id
    awaiting = rules.awaiting_confirmation(order.status, order.closed_at, order.confirmed_at is not None, now)
    return OrderDetail(
        order=order,
        mine=mine,
        following=viewer.follows,
        submitter_name=(order.submitter.display_name or "居民") if viewer.sees_all or mine else "居民",
        assignee_name=order.assignee.display_name if order.assignee else None,
        awaiting_confirmation=awaiting,
        timeline=_timeline(order, viewer),
        pending_photos=workorder_service.pending_photos(order.id, viewer.user_id),
        actions=rules.allowed_actions(order.status, viewer.actors, awaiting_confirmation=awaiting),
        can_urge=(viewer.follows or mine) and rules.may_urge(order.status, order.last_urged_at, now),
        can_rate=mine and order.confirmed_at is not None and order.rating is None,
        can_reply=allows(viewer.roles, Permission.REPLY_TO_RATINGS) and order.rating is not None,
        can_upload_photos=bool(viewer.actors & _PHOTO_TAKERS)
        and (order.status in rules.OPEN_STATUSES or order.status is Status.CLOSED),
    )


def _fresh_detail(order_id: int) -> OrderDetail:
    """The detail after a change, read again: the commit expired the rows."""
    return _detail(*_seen(order_id))


# ---- compound-level ----------------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/work-orders")
class CompoundWorkOrders(MethodView):
    @blp.arguments(WorkOrderSubmitSchema)
    @blp.response(201, WorkOrderDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Report a problem (报事报修): my household (household_id), or a common area (building_id and/or
        location_text). Photos follow through POST /work-orders/<id>/photos."""
        authorize(Permission.SUBMIT_WORK_ORDER, compound_id, optional_user_id())
        try:
            order = workorder_service.submit_order(
                user_id=optional_user_id(), compound_id=compound_id, ip=client_ip(), **body
            )
        except WorkOrderRefused as exc:
            _refused(exc)
        return _fresh_detail(order.id)

    @blp.arguments(WorkOrderListQuery, location="query")
    @blp.response(200, envelope(WorkOrderSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Orders newest first: all of the compound for those who run or oversee it, residents their own and
        the ones they follow. Filters: status, category, overdue."""
        access = authorize(Permission.VIEW_COMPOUND, compound_id, optional_user_id())
        page = workorder_service.orders_page(
            compound_id, optional_user_id(), allows(access.roles, Permission.VIEW_WORK_ORDERS),
            OrderFilter(
                status=query.get("status"), category=query.get("category"), overdue=query.get("overdue")
            ),
            query["page"], query["page_size"],
        )
        return page.__dict__


@blp.route(f"/compounds/{COMPOUND_ID}/work-orders/duplicates")
class Duplicates(MethodView):
    @blp.arguments(DuplicateQuery, location="query")
    @blp.response(200, DuplicateListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Open orders of the same category at the same building or common spot from the last 14 days, to
        join (POST /work-orders/<id>/follow) instead of filing another."""
        _authorize_any(compound_id, Permission.SUBMIT_WORK_ORDER, Permission.VIEW_WORK_ORDERS)
        user_id = optional_user_id()
        try:
            place = workorder_service.resolve_place(
                user_id, compound_id, query["household_id"], query["building_id"], query["location_text"]
            )
        except WorkOrderRefused as exc:
            _refused(exc)
        return {"items": workorder_service.find_duplicates(compound_id, query["category"], place)}


@blp.route(f"/compounds/{COMPOUND_ID}/work-orders/stats")
class WorkOrderFigures(MethodView):
    @blp.arguments(StatsQuery, location="query")
    @blp.response(200, FiguresSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """The month's figures (default: this month, Asia/Shanghai): orders, accepted, closed, within SLA,
        confirmed 已解决, median times, average rating. Public to everyone of the compound; no names."""
        authorize(Permission.VIEW_WORK_ORDER_STATS, compound_id, optional_user_id(), entry_compound_id())
        month = None
        if "month" in query:
            year, number = query["month"].split("-")
            month = date(int(year), int(number), 1)
        return workorder_stats.compound_figures(compound_id, month)


@blp.route(f"/compounds/{COMPOUND_ID}/work-order-categories")
class Categories(MethodView):
    @blp.response(200, CategoryListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """The compound's categories with their SLA in minutes (the defaults until it sets its own)."""
        authorize(Permission.VIEW_COMPOUND, compound_id, optional_user_id(), entry_compound_id())
        return {"items": workorder_service.categories(compound_id)}

    @blp.arguments(CategoryListSchema)
    @blp.response(200, CategoryListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, body, compound_id):
        """Replace the category list and its SLA (manager, committee, party secretary; audited). Orders
        already filed keep their deadlines."""
        authorize(Permission.CONFIGURE_WORK_ORDERS, compound_id, optional_user_id())
        workorder_service.set_categories(compound_id, body["items"], optional_user_id(), client_ip())
        return {"items": workorder_service.categories(compound_id)}


# ---- one order ----------------------------------------------------------------------------------------


@blp.route(f"/work-orders/{ORDER_ID}")
class WorkOrderDetail(MethodView):
    @blp.response(200, WorkOrderDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, order_id):
        """The order with its timeline and photos, whether it is late, and what the caller may do next."""
        return _detail(*_seen(order_id))


@blp.route(f"/work-orders/{ORDER_ID}/transitions")
class Transitions(MethodView):
    @blp.arguments(TransitionSchema)
    @blp.response(200, WorkOrderDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="此人不能执行该操作")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="工单当前状态不允许该操作")
    @jwt_required()
    def post(self, body, order_id):
        """One step: accept, start, close (办结, note and after-photos), reject (with a reason), withdraw
        (before accept), assign (manager), merge (into merge_into_id), confirm (已解决, optionally with a
        rating) or dispute (未解决, reopens)."""
        _order_row, viewer = _seen(order_id)
        try:
            workorder_service.transition(
                order_id, viewer.user_id, viewer.roles, body["action"], note=body["note"],
                assignee_id=body["assignee_id"], merge_into_id=body["merge_into_id"],
                photo_ids=body["photo_ids"], rating=body["rating"], ip=client_ip(),
            )
        except (WorkOrderRefused, TransitionRefused) as exc:
            _refused(exc)
        return _fresh_detail(order_id)


@blp.route(f"/work-orders/{ORDER_ID}/photos")
class Photos(MethodView):
    decorators = [limit_photo_upload()]

    @blp.arguments(PhotoUploadSchema, location="files")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema, description="不是可用的照片，或照片已达上限")
    @jwt_required()
    def post(self, files, order_id):
        """Upload one photo (multipart field `photo`), re-encoded without EXIF. The submitter's photos while
        the order waits to be accepted belong to the report; others are used by sending their ids as
        photo_ids with the next transition (e.g. after-photos for 办结)."""
        order, viewer = _seen(order_id)
        if not viewer.actors & _PHOTO_TAKERS:
            abort(403, message="只有报修人和处理人员可以上传照片")
        try:
            prepared = photo_service.prepare_photo(files["photo"].stream)
        except photo_service.PhotoRefused as exc:
            status = 413 if isinstance(exc, photo_service.PhotoTooLarge) else 422
            abort(status, message=str(exc), errors={"photo": [str(exc)]})
        try:
            return workorder_service.upload_photo(order.id, viewer.user_id, prepared)
        except WorkOrderRefused as exc:
            _refused(exc)


@blp.route(f"/work-orders/{ORDER_ID}/photos/{PHOTO_ID}")
class PhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, order_id, photo_id):
        """The photo's JPEG, only to those who may see the order (a photo not yet used: only its uploader)."""
        order, viewer = _seen(order_id)
        photo = workorder_service.visible_photo(order, photo_id, viewer)
        return photo_service.photo_response(photo, max_age=3600)


@blp.route(f"/work-orders/{ORDER_ID}/follow")
class Follow(MethodView):
    @blp.response(200, WorkOrderDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, order_id):
        """Join an open order about the same problem (a common area's, or my household's), to hear of it."""
        user_id = optional_user_id()
        order = _order(order_id)
        roles = roles_in_compound(user_id, order.compound_id)
        if not roles:
            abort(404)
        if not allows(roles, Permission.SUBMIT_WORK_ORDER):
            abort(403)
        try:
            workorder_service.follow(order_id, user_id)
        except WorkOrderRefused as exc:
            _refused(exc)
        return _fresh_detail(order_id)


@blp.route(f"/work-orders/{ORDER_ID}/urge")
class Urge(MethodView):
    @blp.response(200, WorkOrderDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @blp.alt_response(429, schema=ApiErrorSchema, description="4小时内已催办过（Retry-After：还需等待的秒数）")
    @jwt_required()
    def post(self, order_id):
        """催办: the submitter or a follower, once per 4 hours; brings the escalation steps forward."""
        order, viewer = _seen(order_id)
        if not (viewer.follows or order.submitter_id == viewer.user_id):
            abort(403, message="只有报修人和关注者可以催办")
        last_urged_at = order.last_urged_at
        try:
            workorder_service.urge(order_id, viewer.user_id)
        except WorkOrderRefused as exc:
            retry = None
            if exc.status == 429 and last_urged_at is not None:
                wait = (last_urged_at + rules.URGE_INTERVAL - utcnow()).total_seconds()
                retry = {"Retry-After": str(max(1, math.ceil(wait)))}
            _refused(exc, retry)
        return _fresh_detail(order_id)


@blp.route(f"/work-orders/{ORDER_ID}/rating")
class Rating(MethodView):
    @blp.arguments(RatingInputSchema)
    @blp.response(201, RatingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, order_id):
        """Rate a confirmed order: 1–5 stars, an optional comment and tags; once, by its submitter."""
        _order_row, viewer = _seen(order_id)
        try:
            return workorder_service.rate(order_id, viewer.user_id, **body)
        except WorkOrderRefused as exc:
            _refused(exc)


@blp.route(f"/work-orders/{ORDER_ID}/rating/reply")
class RatingReply(MethodView):
    @blp.arguments(ReplySchema)
    @blp.response(200, RatingSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, order_id):
        """The manager's public answer to the rating (audited); a second answer replaces the first."""
        _order_row, viewer = _seen(order_id)
        if not allows(viewer.roles, Permission.REPLY_TO_RATINGS):
            abort(403)
        try:
            return workorder_service.reply_to_rating(order_id, optional_user_id(), body["reply"], client_ip())
        except WorkOrderRefused as exc:
            _refused(exc)

