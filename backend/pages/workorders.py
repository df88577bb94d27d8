"""Work order (报事报修) pages: submit, my orders, the staff queue, the board and public figures, the order
detail with its actions, and the access-checked photos. What an order shows and offers is the presenter's, the
same the API dumps; forms are loaded by the API's schemas; a refusal is answered by the one handler."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for

from backend.domain import workorders as rules
from backend.domain.phones import tel_uri
from backend.domain.refusals import Kind
from backend.domain.roles import Action as RoleAction
from backend.domain.roles import allows
from backend.domain.text import unstorable
from backend.domain.workorders import (
    HALF_DAY_LABELS,
    RATING_TAGS,
    STATUS_LABELS,
    URGENCY_LABELS,
    Action,
    Urgency,
)
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.policy import authorize, roles_in_compound
from backend.presenters import workorders as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.workorders import (
    ContactPhonesForm,
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
from backend.shared.clock import beijing_date, utcnow

PAGE_SIZE = 20
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
STEP = "<any(accept, start, close, reject, withdraw, assign, merge, confirm, dispute):action>"
DONE = {
    Action.ACCEPT: "已受理", Action.START: "已开始处理", Action.CLOSE: "已办结，等待居民确认",
    Action.REJECT: "已驳回，并告知原因", Action.WITHDRAW: "已撤回报修", Action.ASSIGN: "已派单",
    Action.MERGE: "已合并到另一张工单", Action.CONFIRM: "感谢您的确认和评价", Action.DISPUTE: "已反馈未解决，工单重新处理",
}

h5.add_app_template_filter(place_label, "place")
# The call buttons of a compound (tel: links), from its row alone: the home page and every order page show them.
h5.add_app_template_filter(presenter.call_buttons, "call_buttons")


@h5.app_template_filter("visit")
def visit(order) -> str:
    """预约上门时间 as the API's visit_label says it ("12月8日 上午"), empty when none was booked."""
    return rules.visit_label(order.visit_date, order.visit_half_day)


@h5.app_template_filter("duration_zh")
def duration_zh(seconds: int | None) -> str:
    """A time span as every work-order page writes it (rules.format_duration)."""
    return rules.format_duration(seconds)


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
    today = beijing_date(utcnow())
    return render_template(
        "workorders/new.html", compound=compound, form=form, error=error, duplicates=duplicates, held=held,
        place=form.get("place") or (str(households[0].id) if households else "common"),
        categories=service.categories(compound.id), households=households,
        buildings=compound_service.list_buildings(compound.id), status_labels=STATUS_LABELS,
        max_photos=MAX_PHOTOS_PER_ORDER, now=utcnow(), half_days=HALF_DAY_LABELS,
        visit_first=today, visit_last=today + timedelta(days=rules.VISIT_DAYS_AHEAD),
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
    chosen = [prepare_photo(item.stream) for item in _chosen_photos()]
    if not report.pop("confirm_new"):
        place = service.resolve_place(user_id, compound.id, report["household_id"], report["building_id"],
                                      report["location_text"])
        duplicates = service.find_duplicates(compound.id, report["category"], place)
        if duplicates:
            # The photos wait on the server while the resident decides: not chosen or sent over 3G again. Those
            # already held keep their tokens, so an earlier offer's tokens never name a second copy.
            held = held_photos.keep(user_id, held_tokens) + held_photos.hold(user_id, chosen)
            return _render_form(compound, user_id, request.form, duplicates=duplicates, held=held)
    # Taken and let go in one step: a second tap with the same tokens finds them gone and files no copy.
    taken, photos = held_photos.take(user_id, held_tokens)
    try:
        order = service.submit_order(user_id=user_id, compound_id=compound.id, photos=photos + chosen,
                                     ip=client_ip(), **report)
    except BaseException:
        # Not filed: the person gets the form back with their photos still held, not silently lost.
        held_photos.put_back(user_id, taken, photos)
        raise
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


def _render_detail(order_id: int, user_id: int, revealed_phone: str | None = None):
    detail = presenter.order_detail(order_id, user_id)
    return render_template(
        "workorders/detail.html", detail=detail, order=detail.order, compound=detail.compound, now=utcnow(),
        status_labels=STATUS_LABELS, urgency_labels=URGENCY_LABELS, rating_tags=RATING_TAGS,
        max_photos=MAX_PHOTOS_PER_ORDER, reject_limit=rules.REJECT_REASON_LIMIT, revealed_phone=revealed_phone,
        revealed_tel=tel_uri(revealed_phone) if revealed_phone else "",
    )


@h5.get(f"/work-orders/{ORDER_ID}")
def work_order_detail(order_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return _render_detail(order_id, user_id)


@h5.post(f"/work-orders/{ORDER_ID}/reporter-phone")
def work_order_reveal_phone(order_id: int):
    """显示电话: the whole number on this one answer (never kept in the page's address or a cookie); audited."""
    user_id = require_user_for_post()
    phone = service.reveal_reporter_phone(order_id, user_id, client_ip())
    return _render_detail(order_id, user_id, revealed_phone=phone or "未留电话")


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


# ---- 我的待办 on the home page, and the call buttons' settings ----------------------------------------------------


@h5.post(f"/c/<code>/workbench/{ORDER_ID}/accept")
def workbench_accept(code: str, order_id: int):
    """受理 in one tap from the home page's 我的待办: the detail page's accept step, then back to the home page."""
    compound = compound_by_code(code)
    order, viewer = service.seen_by(order_id, require_user_for_post())
    if order.compound_id != compound.id:
        raise rules.WorkOrderRefused("工单不存在", Kind.NOT_FOUND)
    service.transition(order_id, viewer.user_id, viewer.roles, Action.ACCEPT, ip=client_ip())
    flash(f"已受理：{order.category} #{order.id}", "success")
    return redirect(url_for("h5.compound_home", code=code) + "#workbench")


def _render_phones(compound, roles, error: str | None = None, form=None):
    return render_template("workorders/phones.html", compound=compound, phones=presenter.contact_phones(compound, roles),
                           error=error, form=form)


@h5.get("/c/<code>/contact-phones")
def contact_phones_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    roles = _phone_setter(compound, user_id)
    return _render_phones(compound, roles)


@h5.post("/c/<code>/contact-phones")
def contact_phones_save(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    roles = _phone_setter(compound, user_id)
    show_refusal_with(lambda refused: _render_phones(compound, roles, refused.message, request.form))
    changes = load_form(ContactPhonesForm())
    phones = presenter.contact_phones(compound, roles)
    # Each person sends only the fields their part of the form shows; an unticked box sends nothing.
    allowed = ({"service_phone"} if phones.can_set_service else set()) | (
        {"committee_phone", "committee_phone_public"} if phones.can_set_committee else set())
    if phones.can_set_committee:
        changes["committee_phone_public"] = bool(changes.get("committee_phone_public"))
    service.set_contact_phones(compound.id, user_id, roles, {k: v for k, v in changes.items() if k in allowed},
                               client_ip())
    flash("电话已保存", "success")
    return redirect(url_for("h5.contact_phones_form", code=code))


def _phone_setter(compound, user_id: int):
    """The manager or the committee; anyone else of the compound is refused, anyone outside it never learns it."""
    roles = roles_in_compound(user_id, compound.id)
    if not roles:
        raise rules.WorkOrderRefused("小区不存在", Kind.NOT_FOUND)
    if not (allows(roles, RoleAction.SET_SERVICE_PHONE) or allows(roles, RoleAction.SET_COMMITTEE_PHONE)):
        raise rules.WorkOrderRefused("只有物业经理和业委会可以设置电话", Kind.FORBIDDEN)
    return roles
