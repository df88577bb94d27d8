"""Work order (报事报修) pages: submit, my orders, the staff queue, the board and public figures, the order
detail with its actions, and the access-checked photos."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain import workorders as rules
from backend.domain.refusals import Kind
from backend.domain.roles import Action as RoleAction
from backend.domain.roles import allows
from backend.domain.text import unstorable
from backend.domain.workorders import (
    ACTION_LABELS,
    ESCALATION_LABELS,
    OPEN_STATUSES,
    RATING_TAGS,
    STATUS_LABELS,
    URGENCY_LABELS,
    Action,
    EscalationLevel,
    Status,
    TransitionRefused,
    Urgency,
)
from backend.extensions import db
from backend.pages import h5
from backend.pages.helpers import (
    compound_by_code,
    login_redirect,
    page_number,
    parse_id,
    require_user_for_post,
)
from backend.policy import authorize, roles_in_compound
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.services import compounds as compound_service
from backend.services import workorder_stats as stats_service
from backend.services import workorders as service
from backend.services.photos import MAX_PHOTOS_PER_ORDER, PhotoRefused, photo_response, prepare_photo
from backend.services.workorders import OrderFilter, WorkOrderRefused
from backend.shared.clock import utcnow

PAGE_SIZE = 20
DESCRIPTION_LIMIT = 1000
LOCATION_LIMIT = 100
NOTE_LIMIT = 500
COMMENT_LIMIT = 300
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
STEP = "<any(accept, start, close, reject, withdraw, assign, merge, confirm, dispute):action>"

EVENT_LABELS = {
    **{action.value: label for action, label in ACTION_LABELS.items()},
    "submit": "提交报修", "follow": "关注工单", "urge": "催办", "rate": "评价", "escalate": "超时升级",
}
# Steps only whoever handles the order takes: a resident following it reads "物业", not a staff member's name.
HANDLER_EVENTS = frozenset({"accept", "start", "close", "reject", "assign", "merge"})
HANDLING_STEPS = frozenset({Action.ACCEPT, Action.START, Action.CLOSE, Action.REJECT, Action.ASSIGN, Action.MERGE})
DONE = {
    Action.ACCEPT: "已受理", Action.START: "已开始处理", Action.CLOSE: "已办结，等待居民确认",
    Action.REJECT: "已驳回，并告知原因", Action.WITHDRAW: "已撤回报修", Action.ASSIGN: "已派单",
    Action.MERGE: "已合并到另一张工单", Action.CONFIRM: "感谢您的确认和评价", Action.DISPUTE: "已反馈未解决，工单重新处理",
}
REFUSED = (TransitionRefused, WorkOrderRefused, PhotoRefused)


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


def _form_id(name: str) -> int | None:
    return parse_id(request.form.get(name, "").lstrip("#"))


def _detail(order_id: int):
    return redirect(url_for("h5.work_order_detail", order_id=order_id))


def _viewed_order(order_id: int, user_id: int | None):
    """The order and how the caller stands to it; 404 for anyone who may not see it (its existence stays hidden)."""
    order = service.get_order(order_id)
    if order is None or user_id is None:
        abort(404)
    access = authorize(RoleAction.VIEW_WORK_ORDER_STATS, order.compound_id, user_id, entry_compound_id())
    viewer = service.viewer_of(order, user_id, access.roles)
    if viewer is None:
        abort(404)
    return order, viewer, access


def _refuse_submit(compound_id: int, user_id: int):
    """Someone of the compound without a verified household learns how to get one, not a bare 403."""
    roles = roles_in_compound(user_id, compound_id, entry_compound_id())
    if not roles:
        abort(404)
    if not allows(roles, RoleAction.SUBMIT_WORK_ORDER):
        return render_template("error.html", code=403, message="绑定并认证房屋后才能报修"), 403
    return None


# ---- submit ----------------------------------------------------------------------------------------------


def _render_form(compound, user_id: int, form: dict, error: str | None = None, duplicates=()):
    households = service.my_households(user_id, compound.id)
    if not form.get("place"):
        form = form | {"place": str(households[0].id) if households else "common"}
    return render_template(
        "workorders/new.html", compound=compound, form=form, error=error, duplicates=duplicates,
        categories=service.categories(compound.id), households=households,
        buildings=compound_service.list_buildings(compound.id), urgency_labels=URGENCY_LABELS,
        status_labels=STATUS_LABELS, max_photos=MAX_PHOTOS_PER_ORDER, now=utcnow(),
    )


def _chosen_photos() -> list:
    # A file input left empty still sends one part with no file name.
    return [item for item in request.files.getlist("photos") if item.filename]


def _submission_error(form: dict, category_names: set[str]) -> str | None:
    if form["category"] not in category_names:
        return "请选择报修类别"
    if not form["description"]:
        return "请描述遇到的问题"
    if len(form["description"]) > DESCRIPTION_LIMIT or len(form["location_text"]) > LOCATION_LIMIT:
        return "填写内容过长，请精简后再提交"
    if form["urgency"] not in {u.value for u in Urgency}:
        return "请选择紧急程度"
    if form["place"] != "common" and _form_id("place") is None:
        return "请选择报修位置"
    if len(_chosen_photos()) > MAX_PHOTOS_PER_ORDER:
        return f"最多上传{MAX_PHOTOS_PER_ORDER}张照片"
    return None


@h5.get("/c/<code>/work-orders/new")
def work_order_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _refuse_submit(compound.id, user_id) or _render_form(compound, user_id, {"urgency": Urgency.NORMAL.value})


@h5.post("/c/<code>/work-orders/new")
def work_order_submit(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    refused = _refuse_submit(compound.id, user_id)
    if refused:
        return refused
    form = {key: request.form.get(key, "").strip()
            for key in ("category", "place", "location_text", "description", "urgency", "confirm_new")}
    form["building_id"] = request.form.get("building_id", "")
    error = _submission_error(form, {c.name for c in service.categories(compound.id)})
    if error:
        return _render_form(compound, user_id, form, error), 422
    common = form["place"] == "common"
    try:
        photos = [prepare_photo(item.stream) for item in _chosen_photos()]
        place = service.resolve_place(user_id, compound.id, None if common else _form_id("place"),
                                      _form_id("building_id") if common else None, form["location_text"])
        if form["confirm_new"] != "1":
            duplicates = service.find_duplicates(compound.id, form["category"], place)
            if duplicates:
                return _render_form(compound, user_id, form, duplicates=duplicates)
        order = service.submit_order(
            user_id=user_id, compound_id=compound.id, category=form["category"], description=form["description"],
            urgency=Urgency(form["urgency"]), household_id=place.household_id, building_id=place.building_id,
            location_text=place.location_text, photos=photos, ip=client_ip(),
        )
    except (WorkOrderRefused, PhotoRefused) as exc:
        db.session.rollback()
        return _render_form(compound, user_id, form, str(exc)), 422
    flash("报修已提交，物业会尽快受理", "success")
    return _detail(order.id)


# ---- lists and figures ------------------------------------------------------------------------------------


def _board_filter() -> OrderFilter:
    status = request.args.get("status", "")
    overdue = request.args.get("overdue", "")
    category = request.args.get("category", "").strip()[:16]
    return OrderFilter(
        status=Status(status) if status in {s.value for s in Status} else None,
        # A NUL would reach PostgreSQL as an error; no category holds one, so it filters nothing.
        category=None if unstorable(category) else category or None,
        overdue={"1": True, "0": False}.get(overdue),
    )


@h5.get("/c/<code>/work-orders")
def work_order_list(code: str):
    """Residents: the orders they filed or follow. Those who run the compound: the board with filters."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    access = authorize(RoleAction.VIEW_WORK_ORDER_STATS, compound.id, user_id, entry_compound_id())
    board = allows(access.roles, RoleAction.VIEW_WORK_ORDERS)
    flt = _board_filter() if board else OrderFilter()
    page = service.orders_page(compound.id, user_id, board, flt, page_number(), PAGE_SIZE)
    return render_template(
        "workorders/list.html", compound=compound, page=page, board=board, flt=flt, now=utcnow(),
        figures=stats_service.compound_figures(compound.id) if board else None,
        categories=service.categories(compound.id) if board else (),
        can_submit=allows(access.roles, RoleAction.SUBMIT_WORK_ORDER),
        can_handle=allows(access.roles, RoleAction.HANDLE_WORK_ORDERS),
        can_configure=allows(access.roles, RoleAction.CONFIGURE_WORK_ORDERS),
        status_labels=STATUS_LABELS,
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


def _actor_label(event, order, viewer) -> str:
    if event.actor_id is None:
        return "系统"
    if event.actor_id == viewer.user_id:
        return "我"
    if viewer.sees_all:
        return event.actor.display_name or "用户"
    if event.actor_id == order.submitter_id:
        return "报修人"
    return "物业" if event.action in HANDLER_EVENTS else "其他居民"


@h5.get(f"/work-orders/{ORDER_ID}")
def work_order_detail(order_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    order, viewer, access = _viewed_order(order_id, user_id)
    now = utcnow()
    steps = set(service.actions_open_to(order, viewer, now))
    resident = viewer.follows or order.submitter_id == viewer.user_id
    return render_template(
        "workorders/detail.html", order=order, viewer=viewer, compound=access.compound, steps=steps, now=now,
        handling=bool(steps & HANDLING_STEPS),
        events=[(event, _actor_label(event, order, viewer)) for event in service.timeline(order.id)],
        escalations=[(item, ESCALATION_LABELS[EscalationLevel(item.level)]) for item in service.escalations(order.id)],
        can_urge=resident and order.status in OPEN_STATUSES,
        urge_ready=rules.may_urge(order.status, order.last_urged_at, now),
        next_urge_at=order.last_urged_at + rules.URGE_INTERVAL if order.last_urged_at else None,
        can_rate=order.submitter_id == viewer.user_id and order.confirmed_at is not None and order.rating is None,
        can_reply=order.rating is not None and allows(viewer.roles, RoleAction.REPLY_TO_RATINGS),
        staff=service.staff_members(order.compound_id) if Action.ASSIGN in steps else (),
        pending_photos=service.pending_photos(order.id, viewer.user_id) if Action.CLOSE in steps else (),
        full_address=viewer.sees_all or order.submitter_id == viewer.user_id,
        event_labels=EVENT_LABELS, status_labels=STATUS_LABELS, urgency_labels=URGENCY_LABELS,
        rating_tags=RATING_TAGS, max_photos=MAX_PHOTOS_PER_ORDER,
    )


@h5.get(f"/work-orders/{ORDER_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def work_order_photo(order_id: int, photo_id: int):
    """Photo bytes for those who may see the order; a photo not yet used in a step only for its uploader."""
    user_id = optional_user_id()
    order, viewer, _ = _viewed_order(order_id, user_id)
    return photo_response(service.visible_photo(order, photo_id, viewer), max_age=86400)


# ---- actions ---------------------------------------------------------------------------------------------------


def _rating_from_form(required: bool) -> dict | None:
    stars = request.form.get("stars", "")
    if stars not in {"1", "2", "3", "4", "5"}:
        if required:
            raise WorkOrderRefused("请选择1到5星的评分", Kind.INVALID)
        return None
    return {"stars": int(stars), "comment": request.form.get("comment", "").strip()[:COMMENT_LIMIT],
            "tags": [tag for tag in request.form.getlist("tags") if tag in RATING_TAGS]}


def _after_photos(order_id: int, user_id: int) -> list[int]:
    """Save the after-photos chosen in the 办结 form; any left from an earlier try go along too."""
    chosen = _chosen_photos()
    if len(chosen) > MAX_PHOTOS_PER_ORDER:
        raise WorkOrderRefused(f"最多上传{MAX_PHOTOS_PER_ORDER}张照片", Kind.INVALID)
    prepared = [prepare_photo(item.stream) for item in chosen]
    for photo in prepared:
        service.upload_photo(order_id, user_id, photo)
    return [photo.id for photo in service.pending_photos(order_id, user_id)]


def _act(order_id: int, work) -> object:
    """Run one step for a viewer of the order; a refusal comes back as a message on the order, never a 500."""
    user_id = require_user_for_post()
    order, viewer, _ = _viewed_order(order_id, user_id)
    try:
        message = work(order, viewer)
    except REFUSED as exc:
        # The row lock of the refused step is let go now, not at the end of the request.
        db.session.rollback()
        flash(str(exc), "warn")
    else:
        flash(message, "success")
    return _detail(order_id)


@h5.post(f"/work-orders/{ORDER_ID}/{STEP}")
def work_order_step(order_id: int, action: str):
    step = Action(action)

    def run(order, viewer) -> str:
        service.transition(
            order.id, viewer.user_id, viewer.roles, step,
            note=request.form.get("note", "").strip()[:NOTE_LIMIT],
            assignee_id=_form_id("assignee_id"), merge_into_id=_form_id("merge_into_id"),
            # Photos are stored only for someone who may close it now; anyone else just hears the refusal.
            photo_ids=_after_photos(order.id, viewer.user_id)
            if step is Action.CLOSE and step in service.actions_open_to(order, viewer) else (),
            rating=_rating_from_form(required=True) if step is Action.CONFIRM else None, ip=client_ip(),
        )
        return DONE[step]

    return _act(order_id, run)


@h5.post(f"/work-orders/{ORDER_ID}/urge")
def work_order_urge(order_id: int):
    def run(order, viewer) -> str:
        if not (viewer.follows or order.submitter_id == viewer.user_id):
            abort(403)
        service.urge(order.id, viewer.user_id)
        return "已催办，物业会尽快处理"

    return _act(order_id, run)


@h5.post(f"/work-orders/{ORDER_ID}/rate")
def work_order_rate(order_id: int):
    def run(order, viewer) -> str:
        rating = _rating_from_form(required=True)
        service.rate(order.id, viewer.user_id, rating["stars"], rating["comment"], rating["tags"])
        return "感谢您的评价"

    return _act(order_id, run)


@h5.post(f"/work-orders/{ORDER_ID}/reply")
def work_order_reply(order_id: int):
    def run(order, viewer) -> str:
        if not allows(viewer.roles, RoleAction.REPLY_TO_RATINGS):
            abort(403)
        reply = request.form.get("reply", "").strip()[:COMMENT_LIMIT]
        if not reply:
            raise WorkOrderRefused("请填写回复内容", Kind.INVALID)
        service.reply_to_rating(order.id, viewer.user_id, reply, client_ip())
        return "回复已公开"

    return _act(order_id, run)


@h5.post(f"/work-orders/{ORDER_ID}/follow")
def work_order_follow(order_id: int):
    """Join an order someone else filed (the duplicate offer): the caller is not its viewer yet."""
    user_id = require_user_for_post()
    compound_id = service.order_compound_id(order_id)
    if compound_id is None:
        abort(404)
    access = authorize(RoleAction.SUBMIT_WORK_ORDER, compound_id, user_id, entry_compound_id())
    try:
        service.follow(order_id, user_id)
    except WorkOrderRefused as exc:
        db.session.rollback()
        flash(str(exc), "warn")
        return redirect(url_for("h5.work_order_form", code=access.compound.code))
    flash("已关注此工单，处理进展会通知您", "success")
    return _detail(order_id)
