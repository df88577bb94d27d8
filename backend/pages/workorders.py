"""Work order (报事报修) pages: submit, my orders, the staff queue, the board and public figures, the order
detail with its actions, and the access-checked photos. What an order shows and offers is the presenter's, the
same the API dumps; forms are loaded by the API's schemas; a refusal is answered by the one handler."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain import workorders as rules
from backend.domain.roles import Action as RoleAction
from backend.domain.text import unstorable
from backend.domain.workorders import RATING_TAGS, STATUS_LABELS, URGENCY_LABELS, Action, Urgency
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.policy import authorize
from backend.presenters import workorders as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.workorders import (
    RatingForm,
    ReplySchema,
    TransitionForm,
    WorkOrderListQuery,
    WorkOrderSubmitForm,
    place_label,
)
from backend.services import compounds as compound_service
from backend.services import held_photos
from backend.services import workorder_stats as stats_service
from backend.services import workorders as service
from backend.services.photos import MAX_PHOTOS_PER_ORDER, photo_response, prepare_photo
from backend.services.workorders import OrderFilter
from backend.shared.clock import utcnow

PAGE_SIZE = 20
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
STEP = "<any(accept, start, close, reject, withdraw, assign, merge, confirm, dispute):action>"
DONE = {
    Action.ACCEPT: "已受理", Action.START: "已开始处理", Action.CLOSE: "已办结，等待居民确认",
    Action.REJECT: "已驳回，并告知原因", Action.WITHDRAW: "已撤回报修", Action.ASSIGN: "已派单",
    Action.MERGE: "已合并到另一张工单", Action.CONFIRM: "感谢您的确认和评价", Action.DISPUTE: "已反馈未解决，工单重新处理",
}

h5.add_app_template_filter(place_label, "place")


@h5.app_template_filter("duration_zh")
def duration_zh(seconds: int | None) -> str:
    """A median time for the figures, in hours and minutes (小时/分钟)."""
    if seconds is None:
        return "—"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes}分钟" if minutes else "不到1分钟"
    return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"


@h5.app_template_filter("percent")
def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


@h5.app_template_test("overdue")
def overdue(order, now) -> bool:
    return rules.is_overdue(order.status, order.sla_due_at, now)


def _detail(order_id: int):
    return redirect(url_for("h5.work_order_detail", order_id=order_id))


def _chosen_photos() -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist("photos") if item.filename]


# ---- submit ----------------------------------------------------------------------------------------------


def _reporter(compound, user_id: int) -> None:
    """Someone of the compound without a verified household learns how to get one, not a bare 403."""
    rules.check_reporter(authorize(RoleAction.VIEW_COMPOUND, compound.id, user_id, entry_compound_id()).roles)


def _render_form(compound, user_id: int, form, error: str | None = None, duplicates=(), held=None):
    households = service.my_households(user_id, compound.id)
    # Photos the server holds from the first step stay on the form until the report is sent.
    held = held_photos.still_held(user_id, request.form.getlist("held_photo")) if held is None else held
    return render_template(
        "workorders/new.html", compound=compound, form=form, error=error, duplicates=duplicates, held=held,
        place=form.get("place") or (str(households[0].id) if households else "common"),
        categories=service.categories(compound.id), households=households,
        buildings=compound_service.list_buildings(compound.id), status_labels=STATUS_LABELS,
        max_photos=MAX_PHOTOS_PER_ORDER, now=utcnow(),
    )


@h5.get("/c/<code>/work-orders/new")
def work_order_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    _reporter(compound, user_id)
    return _render_form(compound, user_id, {"urgency": Urgency.NORMAL.value})


@h5.post("/c/<code>/work-orders/new")
def work_order_submit(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    _reporter(compound, user_id)
    # A refused report comes back on its form with what was typed and the photos held (new ones are chosen again).
    show_refusal_with(lambda refused: _render_form(compound, user_id, request.form, refused.message))
    report = load_form(WorkOrderSubmitForm())
    held_tokens = request.form.getlist("held_photo")
    photos = held_photos.held(user_id, held_tokens) + [prepare_photo(item.stream) for item in _chosen_photos()]
    if not report.pop("confirm_new"):
        place = service.resolve_place(user_id, compound.id, report["household_id"], report["building_id"],
                                      report["location_text"])
        duplicates = service.find_duplicates(compound.id, report["category"], place)
        if duplicates:
            # The photos wait on the server while the resident decides: not chosen or sent over 3G again.
            return _render_form(compound, user_id, request.form, duplicates=duplicates,
                                held=held_photos.hold(user_id, photos))
    order = service.submit_order(user_id=user_id, compound_id=compound.id, photos=photos, ip=client_ip(), **report)
    held_photos.release(user_id, held_tokens)
    flash("报修已提交，物业会尽快受理", "success")
    return _detail(order.id)


# ---- lists and figures ------------------------------------------------------------------------------------


def _board_filter() -> OrderFilter:
    """The filters as the API reads them (WorkOrderListQuery); one that does not read filters nothing, and
    text PostgreSQL cannot hold (a NUL) is none of the categories."""
    schema = WorkOrderListQuery(only=("status", "category", "overdue"))
    typed = {key: value for key, value in request.args.items() if key in schema.fields and value
             and not unstorable(value)}
    errors = schema.validate(typed)
    query = schema.load({key: value for key, value in typed.items() if key not in errors})
    return OrderFilter(status=query.get("status"), category=query.get("category"), overdue=query.get("overdue"))


@h5.get("/c/<code>/work-orders")
def work_order_list(code: str):
    """Residents: the orders they filed or follow. Those who run the compound: the board with filters."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    access = authorize(RoleAction.VIEW_WORK_ORDER_STATS, compound.id, user_id, entry_compound_id())
    flt = _board_filter()
    listed = presenter.order_list(compound.id, user_id, access.roles, flt, page_number(), PAGE_SIZE)
    return render_template(
        "workorders/list.html", compound=compound, listed=listed, page=listed.page, board=listed.board, flt=flt,
        now=utcnow(), figures=stats_service.compound_figures(compound.id) if listed.board else None,
        categories=service.categories(compound.id) if listed.board else (), status_labels=STATUS_LABELS,
    )


@h5.get("/c/<code>/work-orders/queue")
def work_order_queue(code: str):
    """The staff member's queue: open orders assigned to them or to nobody, the nearest deadline first."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(RoleAction.HANDLE_WORK_ORDERS, compound.id, user_id)
    page = service.staff_queue(compound.id, user_id, page_number(), PAGE_SIZE)
    return render_template("workorders/queue.html", compound=compound, page=page, now=utcnow(),
                           status_labels=STATUS_LABELS)


@h5.get("/c/<code>/work-orders/figures")
def work_order_figures(code: str):
    """Public to everyone of the compound, QR visitors included: figures only, no names."""
    compound = compound_by_code(code)
    authorize(RoleAction.VIEW_WORK_ORDER_STATS, compound.id, optional_user_id(), entry_compound_id())
    return render_template("workorders/figures.html", compound=compound,
                           figures=stats_service.compound_figures(compound.id))


# ---- detail --------------------------------------------------------------------------------------------------


@h5.get(f"/work-orders/{ORDER_ID}")
def work_order_detail(order_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    detail = presenter.order_detail(order_id, user_id)
    return render_template(
        "workorders/detail.html", detail=detail, order=detail.order, compound=detail.compound, now=utcnow(),
        status_labels=STATUS_LABELS, urgency_labels=URGENCY_LABELS, rating_tags=RATING_TAGS,
        max_photos=MAX_PHOTOS_PER_ORDER, reject_limit=rules.REJECT_REASON_LIMIT,
    )


@h5.get(f"/work-orders/{ORDER_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def work_order_photo(order_id: int, photo_id: int):
    """Photo bytes for those who may see the order; a photo not yet used in a step only for its uploader."""
    order, viewer = service.seen_by(order_id, optional_user_id())
    return photo_response(service.visible_photo(order, photo_id, viewer), max_age=86400)


# ---- actions: each answers with the order again, a refusal as a message on top of it -------------------------


@h5.post(f"/work-orders/{ORDER_ID}/{STEP}")
def work_order_step(order_id: int, action: str):
    step = Action(action)
    _order, viewer = service.seen_by(order_id, require_user_for_post())
    # The confirm form asks for the rating too (已解决请评分).
    rating = load_form(RatingForm()) if step is Action.CONFIRM else None
    body = load_form(TransitionForm(), action=step.value, rating=rating)
    if step is Action.CLOSE:
        body["photo_ids"] = service.keep_after_photos(
            order_id, viewer.user_id, [prepare_photo(item.stream) for item in _chosen_photos()]
        )
    service.transition(order_id, viewer.user_id, viewer.roles, ip=client_ip(), **body)
    flash(DONE[step], "success")
    return _detail(order_id)


@h5.post(f"/work-orders/{ORDER_ID}/urge")
def work_order_urge(order_id: int):
    _order, viewer = service.seen_by(order_id, require_user_for_post())
    service.urge(order_id, viewer.user_id)
    flash("已催办，物业会尽快处理", "success")
    return _detail(order_id)


@h5.post(f"/work-orders/{ORDER_ID}/rate")
def work_order_rate(order_id: int):
    _order, viewer = service.seen_by(order_id, require_user_for_post())
    service.rate(order_id, viewer.user_id, **load_form(RatingForm()))
    flash("感谢您的评价", "success")
    return _detail(order_id)


@h5.post(f"/work-orders/{ORDER_ID}/reply")
def work_order_reply(order_id: int):
    _order, viewer = service.seen_by(order_id, require_user_for_post())
    service.reply_to_rating(order_id, viewer.user_id, load_form(ReplySchema())["reply"], client_ip())
    flash("回复已公开", "success")
    return _detail(order_id)


@h5.post(f"/work-orders/{ORDER_ID}/follow")
def work_order_follow(order_id: int):
    """Join an order someone else filed (the duplicate offer): the caller is not its viewer yet."""
    service.follow(order_id, require_user_for_post())
    flash("已关注此工单，处理进展会通知您", "success")
    return _detail(order_id)
