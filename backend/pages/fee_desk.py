"""Property fee pages for the people who run the books: the staff's desk (现金 / 银行转账 against a paper receipt)
and the arrears list; the committee's and officials' fee schedules (with the 听证会 that discussed them), collection
rates, the subsidy policies covering the compound, adjusting, waiving and refunding a bill; and the street's
subsidy settlement for officials."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from backend.domain.bindings import BindingRefused
from backend.domain.compounds import (
    HOUSEHOLD_KIND_LABELS,
    MANAGEMENT_MODEL_LABELS,
    AreaLevel,
    GovernanceBody,
    HouseholdKind,
)
from backend.domain.consultations import MeetingKind
from backend.domain.fees import (
    CYCLE_LABELS,
    MAX_DUE_DAY,
    OFFLINE_METHODS,
    PAYMENT_METHOD_LABELS,
    BillingCycle,
    BillStatus,
    FeeRefused,
    PaymentMethod,
    charges_fees_by_default,
    format_fen,
)
from backend.domain.refusals import Kind
from backend.domain.roles import Action, Role, allows
from backend.domain.subsidy import add_months, format_rate, period_end
from backend.domain.text import unstorable
from backend.extensions import db
from backend.integrations.wechat_pay import WeChatPayError
from backend.models import Area, Bill, Household
from backend.pages import h5
from backend.pages.fees import BUSY_MESSAGE, bill_line
from backend.pages.helpers import (
    compound_by_code,
    login_redirect,
    page_number,
    parse_id,
    require_user_for_post,
)
from backend.policy import authorize, authorize_area
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.services import bindings as binding_service
from backend.services import compounds as compound_service
from backend.services import fees as fee_service
from backend.services import meetings as meeting_service
from backend.services import payment_orders, settlement_export
from backend.services import payments as payment_service
from backend.services import subsidies as subsidy_service
from backend.services.payment_orders import PROVIDER_DOWN
from backend.services.subsidies import SubsidyBusy
from backend.shared.clock import beijing_date, utcnow
from backend.shared.pagination import Page

PAGE_SIZE = 20
# A year of monthly periods on one page.
PERIODS_PER_PAGE = 12
# The hearings offered to link; a compound holds far fewer in the years a fee standard lasts.
HEARINGS_SHOWN = 100
BILL_ID = "<int(min=1, max=2147483647):bill_id>"
# Yuan as people write them: up to 7 digits (an integer column holds 2^31 fen) and at most 2 decimals.
YUAN = re.compile(r"([0-9]{1,7})(?:\.([0-9]{1,2}))?")
MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
REASON_LIMIT = 500
NOTE_LIMIT = 500
RECEIPT_NO_LIMIT = 32


@h5.app_template_filter("yuan")
def yuan(amount_fen: int) -> str:
    """What a money field is prefilled with: 12345 → "123.45" (no ¥, no separators)."""
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def parse_yuan(text: str, message: str) -> int:
    """A form's amount in yuan, as integer fen; FeeRefused(message) when it is not one."""
    match = YUAN.fullmatch(text.strip())
    if match is None:
        raise FeeRefused(message, Kind.INVALID)
    return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))


def _text(name: str, limit: int, required: str = "") -> str:
    value = request.form.get(name, "").strip()
    if required and not value:
        raise FeeRefused(required, Kind.INVALID)
    if len(value) > limit:
        raise FeeRefused(f"填写内容过长，最多{limit}个字", Kind.INVALID)
    return value


def _method(value: str) -> PaymentMethod:
    if value not in {method.value for method in OFFLINE_METHODS}:
        raise FeeRefused("请选择收款方式：现金或银行转账", Kind.INVALID)
    return PaymentMethod(value)


def _signed_in(action: Action, code: str, with_entry: bool = False):
    """The compound and the caller's access for a GET page (None for the sign-in redirect)."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and not (with_entry and entry_compound_id() == compound.id):
        return compound, None
    return compound, authorize(action, compound.id, user_id, entry_compound_id() if with_entry else None)


def _compound_bill(compound_id: int, bill_id: int) -> Bill:
    bill = db.session.get(Bill, bill_id)
    if bill is None or bill.compound_id != compound_id:
        abort(404)
    return bill


# ---- the staff's desk -------------------------------------------------------------------------------------------


def _find_household(compound_id: int) -> tuple[Household | None, str | None]:
    """The household asked for: by id (from the arrears list) or by building, unit and room."""
    household_id = request.args.get("household_id", "")
    if household_id:
        household = db.session.get(Household, parse_id(household_id) or 0)
        if household is None or household.compound_id != compound_id:
            return None, "找不到该房屋"
        return household, None
    building_id, room = request.args.get("building_id", ""), request.args.get("room", "").strip()
    if not building_id and not room:
        return None, None
    unit = request.args.get("unit", "").strip()
    # A query string is not checked like a form: a NUL would reach PostgreSQL and fail there.
    if parse_id(building_id) is None or not room or len(room) > 16 or len(unit) > 16 or unstorable([unit, room]):
        return None, "请选择楼栋并填写房号"
    try:
        return binding_service.find_household(compound_id, int(building_id), unit, room), None
    except BindingRefused as exc:
        return None, str(exc)


def _render_desk(compound, household: Household | None, error: str | None = None, status: int = 200,
                 entered: dict | None = None):
    now = utcnow()
    today = beijing_date(now)
    bills = fee_service.household_bills(household.id) if household else []
    lines = [bill_line(bill, today) for bill in bills if bill.status is BillStatus.UNPAID]
    online = payment_orders.online_payments([line.bill.id for line in lines], now)
    search = {
        "building_id": str(household.building_id) if household else request.args.get("building_id", ""),
        "unit": household.unit if household else request.args.get("unit", ""),
        "room": household.room if household else request.args.get("room", ""),
    }
    return (
        render_template(
            "fees/desk.html",
            compound=compound,
            buildings=compound_service.list_buildings(compound.id),
            search=search,
            household=household,
            household_label=(fee_service.household_label(household.building.name, household.unit, household.room)
                             if household else ""),
            lines=lines,
            paying={bill_id: payment for bill_id, payment in online.items() if payment.blocks_cash},
            overpaid=[bill for bill in bills if bill.overpaid_fen],
            error=error,
            entered=entered or {},
            methods=[(method.value, PAYMENT_METHOD_LABELS[method]) for method in OFFLINE_METHODS],
        ),
        status,
    )


@h5.get("/c/<code>/fees/desk")
def fee_desk(code: str):
    compound, access = _signed_in(Action.RECORD_PAYMENTS, code)
    if access is None:
        return login_redirect()
    household, error = _find_household(compound.id)
    return _render_desk(compound, household, error, 404 if error and request.args.get("household_id") else 200)


@h5.post(f"/c/<code>/fees/desk/bills/{BILL_ID}")
def fee_desk_record(code: str, bill_id: int):
    """Cash or a bank transfer for one bill, against the paper receipt's number; then the electronic receipt."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.RECORD_PAYMENTS, compound.id, user_id)
    bill = _compound_bill(compound.id, bill_id)
    household = bill.household
    entered = {key: request.form.get(key, "").strip() for key in ("method", "amount", "receipt_no")}
    entered["bill_id"] = bill_id
    try:
        method = _method(entered["method"])
        amount_fen = parse_yuan(entered["amount"], "请填写收款金额（元），最多两位小数")
        receipt_no = _text("receipt_no", RECEIPT_NO_LIMIT, "请填写纸质收据编号")
        payment = payment_service.record_offline_payment(bill_id, method, amount_fen, receipt_no, user_id,
                                                         client_ip())
    except FeeRefused as exc:
        db.session.rollback()
        return _render_desk(compound, household, exc.message, exc.status, entered)
    except SubsidyBusy:
        db.session.rollback()
        return _render_desk(compound, household, BUSY_MESSAGE, 409, entered)
    except WeChatPayError:
        db.session.rollback()
        return _render_desk(compound, household, PROVIDER_DOWN, 503, entered)
    flash(f"已登记{PAYMENT_METHOD_LABELS[method]}收款{format_fen(payment.amount_fen)}", "success")
    return redirect(url_for("h5.fee_receipt", code=code, payment_id=payment.id))


@h5.post(f"/c/<code>/fees/desk/bills/{BILL_ID}/online-payment/close")
def fee_desk_close_online(code: str, bill_id: int):
    """查询并关闭线上支付: what became of the household's online payment; then the desk again, saying it."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.RECORD_PAYMENTS, compound.id, user_id)
    bill = _compound_bill(compound.id, bill_id)
    household_id = bill.household_id
    try:
        check = payment_service.close_online_payment(bill_id, user_id, client_ip())
    except WeChatPayError:
        db.session.rollback()
        flash(PROVIDER_DOWN, "warn")
    else:
        done = check.outcome in (payment_service.OnlineOutcome.PAID, payment_service.OnlineOutcome.CLOSED)
        flash(check.message, "success" if done else "warn")
    return redirect(url_for("h5.fee_desk", code=code, household_id=household_id))


# ---- arrears ------------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/fees/arrears")
def fee_arrears(code: str):
    compound, access = _signed_in(Action.VIEW_BILLS, code)
    if access is None:
        return login_redirect()
    page = fee_service.arrears(compound.id, beijing_date(utcnow()), page_number(), PAGE_SIZE)
    return render_template(
        "fees/arrears.html",
        compound=compound,
        page=page,
        page_total_fen=sum(row.outstanding_fen for row in page.items),
        can_record=allows(access.roles, Action.RECORD_PAYMENTS),
    )


# ---- fee schedules ------------------------------------------------------------------------------------------------


def _hearings(compound_id: int) -> list:
    meetings = meeting_service.meetings_page(compound_id, 1, HEARINGS_SHOWN).items
    return [meeting for meeting in meetings if meeting.kind is MeetingKind.HEARING]


def _render_schedules(compound, access, form: dict, error: str | None = None, status: int = 200):
    today = beijing_date(utcnow())
    can_manage = allows(access.roles, Action.MANAGE_FEE_SCHEDULES)
    in_force = {
        kind: fee_service.schedule_in_force(compound.id, kind, today) for kind in HouseholdKind
    }
    return (
        render_template(
            "fees/schedules.html",
            compound=compound,
            schedules=fee_service.schedules_of(compound.id),
            in_force_ids={schedule.id for schedule in in_force.values() if schedule},
            can_manage=can_manage,
            hearings=_hearings(compound.id) if can_manage else [],
            has_committee=compound.governance_body is not GovernanceBody.NONE,
            form=form,
            error=error,
            kind_labels=HOUSEHOLD_KIND_LABELS,
            cycle_labels=CYCLE_LABELS,
            max_due_day=MAX_DUE_DAY,
        ),
        status,
    )


@h5.get("/c/<code>/fees/schedules")
def fee_schedules(code: str):
    compound, access = _signed_in(Action.VIEW_FEE_SCHEDULES, code, with_entry=True)
    if access is None:
        return login_redirect()
    form = {
        "household_kind": HouseholdKind.RESIDENTIAL.value,
        "cycle": BillingCycle.MONTHLY.value,
        "due_day": "15",
        "charges_fees": "1" if charges_fees_by_default(compound.management_model.value) else "0",
    }
    return _render_schedules(compound, access, form)


def _schedule_draft(form: dict) -> fee_service.ScheduleDraft:
    if form["household_kind"] not in {kind.value for kind in HouseholdKind}:
        raise FeeRefused("请选择房屋类型", Kind.INVALID)
    standard = parse_yuan(form["standard"], "请填写收费标准（元/平方米/月），最多两位小数")
    try:
        effective_from = date.fromisoformat(form["effective_from"])
    except ValueError:
        raise FeeRefused("请选择生效日期", Kind.INVALID) from None
    if form["cycle"] not in {cycle.value for cycle in BillingCycle}:
        raise FeeRefused("请选择计费周期", Kind.INVALID)
    due_day = form["due_day"]
    if not (due_day.isascii() and due_day.isdigit() and len(due_day) <= 2 and 1 <= int(due_day) <= MAX_DUE_DAY):
        raise FeeRefused(f"缴费截止日须是每期第1至{MAX_DUE_DAY}日", Kind.INVALID)
    if form["charges_fees"] not in ("0", "1"):
        raise FeeRefused("请选择本小区是否收取物业费", Kind.INVALID)
    hearing_id = parse_id(form["hearing_meeting_id"]) if form["hearing_meeting_id"] else None
    if form["hearing_meeting_id"] and hearing_id is None:
        raise FeeRefused("请选择关联的听证会", Kind.INVALID)
    if len(form["note"]) > NOTE_LIMIT:
        raise FeeRefused(f"说明最多{NOTE_LIMIT}个字", Kind.INVALID)
    return fee_service.ScheduleDraft(
        household_kind=HouseholdKind(form["household_kind"]), standard_fen_per_m2=standard,
        effective_from=effective_from, cycle=BillingCycle(form["cycle"]), due_day=int(due_day),
        charges_fees=form["charges_fees"] == "1", hearing_meeting_id=hearing_id, note=form["note"],
    )


@h5.post("/c/<code>/fees/schedules")
def fee_schedule_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    access = authorize(Action.MANAGE_FEE_SCHEDULES, compound.id, user_id)
    form = {
        key: request.form.get(key, "").strip()
        for key in ("household_kind", "standard", "effective_from", "cycle", "due_day", "charges_fees",
                    "hearing_meeting_id", "note")
    }
    try:
        fee_service.create_schedule(compound, _schedule_draft(form), user_id, client_ip())
    except FeeRefused as exc:
        db.session.rollback()
        return _render_schedules(compound, access, form, exc.message, exc.status)
    flash("收费标准已保存：用于生效日之后开具的账单，已开具的账单不变", "success")
    return redirect(url_for("h5.fee_schedules", code=code))


# ---- collection rate ------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/fees/collection")
def fee_collection(code: str):
    compound, access = _signed_in(Action.VIEW_BILLS, code)
    if access is None:
        return login_redirect()
    periods = fee_service.billed_periods(compound.id)
    page = page_number()
    shown = periods[(page - 1) * PERIODS_PER_PAGE:page * PERIODS_PER_PAGE]
    return render_template(
        "fees/collection.html",
        compound=compound,
        rows=[(period_start, fee_service.collection(compound.id, period_start)) for period_start in shown],
        page=Page(items=shown, total=len(periods), page=page, page_size=PERIODS_PER_PAGE),
    )


# ---- subsidy policies -----------------------------------------------------------------------------------------------


def tier_lines(tiers: list) -> list[str]:
    """[[12, 5000], [12, 3000]] → ["第1–12个月 50%", "第13–24个月 30%"]."""
    lines, first = [], 1
    for months, rate_bp in tiers:
        last = first + months - 1
        span = f"第{first}个月" if months == 1 else f"第{first}–{last}个月"
        lines.append(f"{span} {format_rate(rate_bp)}")
        first = last + 1
    return lines


def eligibility_text(policy) -> str:
    parts = []
    if policy.built_before_year is not None:
        parts.append(f"{policy.built_before_year}年以前建成")
    if policy.management_models:
        parts.append("、".join(MANAGEMENT_MODEL_LABELS[model] for model in policy.management_models))
    return "；".join(parts) or "不限"


@h5.get("/c/<code>/fees/policies")
def fee_policies(code: str):
    compound, access = _signed_in(Action.VIEW_BILLS, code)
    if access is None:
        return login_redirect()
    applicable = subsidy_service.applicable_policy(compound)
    policies = [
        {
            "policy": policy,
            "scope": "本小区" if policy.compound_id else db.session.get(Area, policy.area_id).name,
            "tiers": tier_lines(policy.tiers),
            "last_month": _last_month(policy),
            "eligibility": eligibility_text(policy),
            "covers": subsidy_service.policy_covers(policy, compound),
            "applicable": applicable is not None and policy.id == applicable.id,
        }
        for policy in subsidy_service.covering_policies(compound)
    ]
    return render_template("fees/policies.html", compound=compound, policies=policies)


def _last_month(policy) -> date:
    return add_months(period_end(policy.period_start, subsidy_service.policy_tiers(policy)), -1)


# ---- adjusting, waiving and refunding a bill ------------------------------------------------------------------------


def _adjusting(code: str, bill_id: int, work):
    """Run one committee / official step on a bill; a refusal comes back as a message on the bill, never a 500."""
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.ADJUST_BILLS, compound.id, user_id)
    _compound_bill(compound.id, bill_id)
    try:
        message = work(user_id)
    except FeeRefused as exc:
        db.session.rollback()
        flash(exc.message, "warn")
    except WeChatPayError:
        db.session.rollback()
        flash(PROVIDER_DOWN, "warn")
    except LookupError:
        abort(404)
    else:
        flash(message, "success")
    return redirect(url_for("h5.bill_detail", code=code, bill_id=bill_id))


@h5.post(f"/c/<code>/bills/{BILL_ID}/adjust")
def bill_adjust(code: str, bill_id: int):
    def run(user_id: int) -> str:
        amount_fen = parse_yuan(request.form.get("amount", ""), "请填写调整后的金额（元），最多两位小数")
        reason = _text("reason", REASON_LIMIT, "请填写调整原因")
        fee_service.adjust_bill(bill_id, amount_fen, reason, user_id, client_ip())
        return f"账单金额已调整为{format_fen(amount_fen)}"

    return _adjusting(code, bill_id, run)


@h5.post(f"/c/<code>/bills/{BILL_ID}/waive")
def bill_waive(code: str, bill_id: int):
    def run(user_id: int) -> str:
        fee_service.waive_bill(bill_id, _text("reason", REASON_LIMIT, "请填写减免原因"), user_id, client_ip())
        return "账单已减免"

    return _adjusting(code, bill_id, run)


@h5.post(f"/c/<code>/bills/{BILL_ID}/refund")
def bill_refund(code: str, bill_id: int):
    def run(user_id: int) -> str:
        amount_fen = parse_yuan(request.form.get("amount", ""), "请填写退款金额（元），最多两位小数")
        if amount_fen == 0:
            raise FeeRefused("退款金额须大于0", Kind.INVALID)
        method = _method(request.form.get("method", ""))
        reason = _text("reason", REASON_LIMIT, "请填写退款原因")
        payment_service.refund_overpayment(bill_id, amount_fen, method, reason, user_id, client_ip())
        return f"已退款{format_fen(amount_fen)}"

    return _adjusting(code, bill_id, run)


# ---- the street's settlement ----------------------------------------------------------------------------------------


def settlement_areas(user_id: int) -> list[Area]:
    """The areas to pick from: an official's own; for an admin every area above the communities."""
    memberships = binding_service.my_memberships(user_id)
    if any(membership.role is Role.ADMIN for membership in memberships):
        return list(db.session.scalars(select(Area).where(Area.level != AreaLevel.COMMUNITY).order_by(Area.path)))
    areas = [db.session.get(Area, m.area_id) for m in memberships if m.role is Role.OFFICIAL]
    return sorted(areas, key=lambda area: area.path)


def parse_month(text: str) -> date | None:
    match = MONTH.fullmatch(text)
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1900:
        return None
    return date(int(match[1]), int(match[2]), 1)


@h5.get("/settlement")
def settlement():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    areas = settlement_areas(user_id)
    area_text, month_text = request.args.get("area_id", ""), request.args.get("month", "").strip()
    area_id = parse_id(area_text) if area_text else (areas[0].id if areas else None)
    if area_id is None:
        abort(404 if area_text else 403)
    area = authorize_area(Action.VIEW_SETTLEMENT, area_id, user_id)
    month = parse_month(month_text) if month_text else None
    error = "月份格式应为 YYYY-MM，如 2026-01" if month_text and month is None else None
    result = settlement_export.settlement_report(area, month)
    query = {"area_id": area.id} | ({"month": month_text} if month else {})
    return (
        render_template(
            "fees/settlement.html",
            area=area,
            areas=areas if area in areas else [area, *areas],
            month=month,
            month_text=month_text,
            error=error,
            result=result,
            xlsx_url="/api/v1/subsidies/settlement.xlsx?" + urlencode(query),
            no_street=settlement_export.NO_STREET,
            no_company=settlement_export.NO_COMPANY,
        ),
        422 if error else 200,
    )
