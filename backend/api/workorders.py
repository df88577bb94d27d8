"""Work orders (报事报修) API: submit, list, read, move through the states, photos, follow, urge, rate, figures.

Refusals keep the error shape: the state forbids it → 409, this person may not → 403, bad input → 422, an
order one may not see → 404 (its existence stays hidden), urging again within 4 hours → 429, a photo over
10 MB → 413 and any other refused photo → 422."""
from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from backend.api.uploads import limit_photo_upload
from backend.domain import workorders as rules
from backend.domain.phones import tel_uri
from backend.domain.roles import Action as Permission
from backend.domain.roles import Role, allows
from backend.policy import authorize, roles_in_compound
from backend.presenters import workorders as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, envelope
from backend.schemas.workorders import (
    CategoryListSchema,
    ContactPhonesInput,
    ContactPhonesSchema,
    DuplicateListSchema,
    DuplicateQuery,
    FiguresSchema,
    PhotoSchema,
    PhotoUploadSchema,
    RatingInputSchema,
    RatingSchema,
    ReplySchema,
    RevealedPhoneSchema,
    StatsQuery,
    TransitionSchema,
    WorkbenchSchema,
    WorkOrderDetailSchema,
    WorkOrderListQuery,
    WorkOrderSchema,
    WorkOrderSubmitSchema,
)
from backend.services import photos as photo_service
from backend.services import workorder_stats
from backend.services import workorders as workorder_service
from backend.services.workorders import OrderFilter

blp = Blueprint("workorders", __name__, url_prefix="/api/v1", description="报事报修")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PHOTO_ID = "<int(min=1, max=2147483647):photo_id>"


def _authorize_any(compound_id: int, *actions: Permission) -> frozenset[Role]:
    roles = roles_in_compound(optional_user_id(), compound_id, entry_compound_id())
    if not roles:
        abort(404)
    if not any(allows(roles, action) for action in actions):
        abort(403)
    return roles


def _detail(order_id: int) -> presenter.OrderDetail:
    return presenter.order_detail(order_id, optional_user_id())


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
        rules.check_reporter(authorize(Permission.VIEW_COMPOUND, compound_id, optional_user_id()).roles)
        order = workorder_service.submit_order(user_id=optional_user_id(), compound_id=compound_id, ip=client_ip(),
                                               **body)
        return _detail(order.id)

    @blp.arguments(WorkOrderListQuery, location="query")
    @blp.response(200, envelope(WorkOrderSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Orders newest first: all of the compound for those who run or oversee it, residents their own and
        the ones they follow. Filters: status, category, overdue."""
        access = authorize(Permission.VIEW_COMPOUND, compound_id, optional_user_id())
        listed = presenter.order_list(
            compound_id, optional_user_id(), access.roles,
            OrderFilter(status=query.get("status"), category=query.get("category"), overdue=query.get("overdue")),
            query["page"], query["page_size"],
        )
        return listed.page.__dict__


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
        place = workorder_service.resolve_place(
            optional_user_id(), compound_id, query["household_id"], query["building_id"], query["location_text"]
        )
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


@blp.route(f"/compounds/{COMPOUND_ID}/workbench")
class Workbench(MethodView):
    @blp.response(200, WorkbenchSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """我的待办 (staff and manager): counts (待受理, 处理中, 已超时), the open orders to see to first (urgent,
        then the nearest deadline) with whether each may be accepted now, and for the manager the unassigned."""
        roles = _authorize_any(compound_id, Permission.HANDLE_WORK_ORDERS)
        return presenter.workbench(compound_id, optional_user_id(), roles)


@blp.route(f"/compounds/{COMPOUND_ID}/contact-phones")
class ContactPhones(MethodView):
    @blp.response(200, ContactPhonesSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """The compound's call buttons: 物业服务电话 and, when the committee shows it, its contact."""
        access = authorize(Permission.VIEW_COMPOUND, compound_id, optional_user_id(), entry_compound_id())
        return presenter.contact_phones(access.compound, access.roles)

    @blp.arguments(ContactPhonesInput)
    @blp.response(200, ContactPhonesSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="不是可拨打的电话号码")
    @jwt_required()
    def patch(self, body, compound_id):
        """Set the numbers (audited): the manager 物业服务电话, the committee its contact and whether the home
        page shows it. An empty number removes its button."""
        roles = _authorize_any(compound_id, Permission.SET_SERVICE_PHONE, Permission.SET_COMMITTEE_PHONE)
        compound = workorder_service.set_contact_phones(compound_id, optional_user_id(), roles, body, client_ip())
        return presenter.contact_phones(compound, roles)


# ---- one order ----------------------------------------------------------------------------------------


@blp.route(f"/work-orders/{ORDER_ID}")
class WorkOrderDetail(MethodView):
    @blp.response(200, WorkOrderDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, order_id):
        """The order with its timeline and photos, whether it is late, and what the caller may do next."""
        return _detail(order_id)


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
        _order, viewer = workorder_service.seen_by(order_id, optional_user_id())
        workorder_service.transition(order_id, viewer.user_id, viewer.roles, ip=client_ip(), **body)
        return _detail(order_id)


@blp.route(f"/work-orders/{ORDER_ID}/reporter-phone")
class ReporterPhone(MethodView):
    @blp.response(200, RevealedPhoneSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="不是此工单的处理人或物业经理")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, order_id):
        """The reporter's whole phone number, to the staff the order is assigned to and the manager; each
        reveal is audited. Everyone else sees only reporter_phone_masked."""
        phone = workorder_service.reveal_reporter_phone(order_id, optional_user_id(), client_ip())
        return {"phone": phone, "tel": tel_uri(phone) if phone else ""}


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
        _order, viewer = workorder_service.seen_by(order_id, optional_user_id())
        prepared = photo_service.prepare_photo(files["photo"].stream)
        return workorder_service.upload_photo(order_id, viewer.user_id, prepared)


@blp.route(f"/work-orders/{ORDER_ID}/photos/{PHOTO_ID}")
class PhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, order_id, photo_id):
        """The photo's JPEG, only to those who may see the order (a photo not yet used: only its uploader)."""
        order, viewer = workorder_service.seen_by(order_id, optional_user_id())
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
        workorder_service.follow(order_id, optional_user_id())
        return _detail(order_id)


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
        _order, viewer = workorder_service.seen_by(order_id, optional_user_id())
        workorder_service.urge(order_id, viewer.user_id)
        return _detail(order_id)


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
        _order, viewer = workorder_service.seen_by(order_id, optional_user_id())
        return workorder_service.rate(order_id, viewer.user_id, **body)


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
        _order, viewer = workorder_service.seen_by(order_id, optional_user_id())
        return workorder_service.reply_to_rating(order_id, viewer.user_id, body["reply"], client_ip())

