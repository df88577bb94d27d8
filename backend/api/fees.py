"""The fees API (DESIGN §4): fee schedules, bills, adjustments and waivers, cash and bank payments, refunds of
overpayments, the collection rate and arrears.

Refusals keep the error shape: a bill, household or compound the caller has nothing to do with → 404 (a
resident of the same compound who is not of the bill's household too: its existence stays hidden), a role that
may not → 403, a bill's state that forbids it → 409, bad input → 422."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backend.domain.compounds import GovernanceBody
from backend.domain.fees import BillStatus, Collection, FeeRefused
from backend.domain.roles import Action, Role, allows
from backend.errors import json_error
from backend.extensions import db
from backend.integrations.wechat_pay import WeChatPayError
from backend.models import Bill, FeeSchedule, Household, Payment, Refund
from backend.policy import authorize, fee_reader
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.schemas.fees import (
    AdjustmentSchema,
    ArrearsSchema,
    BillDetailSchema,
    BillListQuery,
    BillSchema,
    CollectionQuery,
    CollectionSchema,
    CreatedScheduleSchema,
    FeeScheduleSchema,
    OfflinePaymentSchema,
    OnlineCheckSchema,
    PaymentSchema,
    RefundInputSchema,
    RefundSchema,
    ScheduleCreateSchema,
    WaiverSchema,
)
from backend.services import fees as service
from backend.services import payments as payment_service
from backend.services.payment_orders import PROVIDER_DOWN, OnlinePayment, online_payments
from backend.services.subsidies import SubsidyBusy, SubsidyView, subsidy_view
from backend.shared.clock import beijing_date, utcnow

log = logging.getLogger("linli.fees")

blp = Blueprint("fees", __name__, url_prefix="/api/v1", description="物业费")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
HOUSEHOLD_ID = "<int(min=1, max=2147483647):household_id>"
BILL_ID = "<int(min=1, max=2147483647):bill_id>"


@blp.errorhandler(FeeRefused)
def _refused(exc: FeeRefused):
    """Every view lets the service's refusal through: it answers in the error shape with the refusal's status."""
    # Nothing of a refused request may be committed later by accident; this also frees the bill's row lock.
    db.session.rollback()
    return json_error(exc.status, exc.message)


@blp.errorhandler(SubsidyBusy)
def _busy(_exc: SubsidyBusy):
    db.session.rollback()
    return json_error(503, "同时缴费的人较多，请稍后再试")


@blp.errorhandler(WeChatPayError)
def _provider_down(exc: WeChatPayError):
    """The desk and the adjusters ask WeChat Pay about an open order first; nothing was taken when it fails."""
    db.session.rollback()
    log.warning("asking WeChat Pay about an order failed: %s", exc)
    return json_error(503 if exc.transient else 502, PROVIDER_DOWN)


# ---- what the views read --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleLine:
    """A schedule as listed; FeeScheduleSchema reads the schedule's own columns through it."""

    schedule: FeeSchedule
    in_force: bool
    hearing_recommended: bool = False

    def __getattr__(self, name: str):
        return getattr(self.schedule, name)


@dataclass(frozen=True)
class PeriodCollection:
    period_start: date
    figures: Collection

    def __getattr__(self, name: str):
        return getattr(self.figures, name)


@dataclass(frozen=True)
class BillDetail:
    bill: Bill
    subsidy: SubsidyView | None
    payments: list[Payment]
    refunds: list[Refund]
    online_payment: OnlinePayment | None
    actions: list[str]

    def __getattr__(self, name: str):
        return getattr(self.bill, name)


@dataclass(frozen=True)
class BillAccess:
    """A bill and the caller's standing: a verified person of its household, and their roles in its compound."""

    bill: Bill
    member: bool
    roles: frozenset[Role]


def _bill_access(bill_id: int, action: Action | None = None) -> BillAccess:
    """404 unless the caller is of the bill's household or may see the compound's bills; 403 when they may see
    it but not take `action`."""
    bill = db.session.get(Bill, bill_id)
    if bill is None:
        abort(404)
    reader = fee_reader(optional_user_id(), bill.compound_id, bill.household_id)
    if reader is None:
        abort(404)
    if action is not None and not allows(reader.roles, action):
        abort(403)
    return BillAccess(bill=bill, member=reader.member, roles=reader.roles)


def _actions(access: BillAccess, online: OnlinePayment | None) -> list[str]:
    bill, roles = access.bill, access.roles
    unpaid = bill.status is BillStatus.UNPAID
    changeable = unpaid and bill.paid_fen == 0 and allows(roles, Action.ADJUST_BILLS)
    desk = allows(roles, Action.RECORD_PAYMENTS)
    offered = {
        "pay": unpaid and access.member,
        # An order within its window must be closed first; an expired one is settled when the cash is recorded.
        "record_payment": unpaid and desk and not (online and online.blocks_cash),
        "close_online_payment": online is not None and desk,
        "adjust": changeable,
        "waive": changeable,
        "refund": bill.overpaid_fen > 0 and allows(roles, Action.ADJUST_BILLS),
    }
    return [name for name, allowed in offered.items() if allowed]


def _with_households(bills: list[Bill]) -> list[Bill]:
    """Load the bills' households and buildings in one statement, so a page's labels cost no query per bill
    (a many-to-one lazy load finds them in the session)."""
    ids = {bill.household_id for bill in bills}
    if ids:
        db.session.scalars(
            select(Household).options(joinedload(Household.building)).where(Household.id.in_(ids))
        ).all()
    return bills


def _schedule_lines(compound_id: int) -> list[ScheduleLine]:
    """Newest first per kind of household; the first one already effective is the one in force."""
    today = beijing_date(utcnow())
    current_kinds = set()
    lines = []
    for schedule in service.schedules_of(compound_id):
        in_force = schedule.household_kind not in current_kinds and schedule.effective_from <= today
        if in_force:
            current_kinds.add(schedule.household_kind)
        lines.append(ScheduleLine(schedule=schedule, in_force=in_force))
    return lines


# ---- schedules ------------------------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/fee-schedules")
class FeeSchedules(MethodView):
    @blp.response(200, FeeScheduleSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """Every fee standard of the compound, kept as history: newest first per kind of household, the one in
        force today marked. Public to everyone of the compound, QR visitors included."""
        authorize(Action.VIEW_FEE_SCHEDULES, compound_id, optional_user_id(), entry_compound_id())
        return _schedule_lines(compound_id)

    @blp.arguments(ScheduleCreateSchema)
    @blp.response(201, CreatedScheduleSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="该类房屋在这一天生效的收费标准已存在")
    @jwt_required()
    def post(self, body, compound_id):
        """A new fee standard from a period's first day on (committee, party secretary, official; audited). Bills
        already issued keep their amounts. Where the compound has a self-governance body the change should
        follow a 听证会: link it, or the answer says `hearing_recommended`."""
        access = authorize(Action.MANAGE_FEE_SCHEDULES, compound_id, optional_user_id())
        compound = access.compound
        schedule = service.create_schedule(
            compound, service.ScheduleDraft(**body), actor_id=optional_user_id(), ip=client_ip()
        )
        in_force = service.schedule_in_force(compound_id, schedule.household_kind, beijing_date(utcnow()))
        return ScheduleLine(
            schedule=schedule,
            in_force=in_force is not None and in_force.id == schedule.id,
            hearing_recommended=(
                compound.governance_body is not GovernanceBody.NONE and schedule.hearing_meeting_id is None
            ),
        )


# ---- bills ----------------------------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/bills")
class CompoundBills(MethodView):
    @blp.arguments(BillListQuery, location="query")
    @blp.response(200, envelope(BillSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The compound's bills, newest period first, then by building, unit and room; filtered by period
        (YYYY-MM) and status. For those who run the compound."""
        authorize(Action.VIEW_BILLS, compound_id, optional_user_id())
        page = service.compound_bills(
            compound_id, query.get("period"), query.get("status"), query["page"], query["page_size"]
        )
        _with_households(page.items)
        return page.__dict__


@blp.route(f"/compounds/{COMPOUND_ID}/my-bills")
class MyBills(MethodView):
    @blp.response(200, BillSchema(many=True))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """Every bill of the caller's verified households in the compound, newest period first."""
        user_id = optional_user_id()
        authorize(Action.PAY_FEES, compound_id, user_id)
        bills = [
            bill for household in service.my_households(user_id, compound_id)
            for bill in service.household_bills(household.id)
        ]
        return sorted(bills, key=lambda bill: (-bill.period_start.toordinal(), bill.household_id))


@blp.route(f"/households/{HOUSEHOLD_ID}/bills")
class HouseholdBills(MethodView):
    @blp.response(200, BillSchema(many=True))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, household_id):
        """The household's bills, newest first: for its verified people and those who see the compound's bills."""
        household = db.session.get(Household, household_id)
        if household is None:
            abort(404)
        if fee_reader(optional_user_id(), household.compound_id, household.id) is None:
            abort(404)
        return service.household_bills(household.id)


@blp.route(f"/bills/{BILL_ID}")
class BillView(MethodView):
    @blp.response(200, BillDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, bill_id):
        """The bill with its subsidy month by month (fixed once a payment began, else an estimate), payments,
        refunds, and what the caller may do with it now."""
        access = _bill_access(bill_id)
        bill = access.bill
        online = online_payments([bill.id], utcnow()).get(bill.id)
        return BillDetail(
            bill=bill,
            subsidy=subsidy_view(bill),
            payments=payment_service.bill_payments(bill.id),
            refunds=payment_service.bill_refunds(bill.id),
            online_payment=online,
            actions=_actions(access, online),
        )


@blp.route(f"/bills/{BILL_ID}/adjustments")
class Adjustments(MethodView):
    @blp.arguments(AdjustmentSchema)
    @blp.response(200, BillSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="账单已缴、已减免，或正在支付")
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝查询过期的线上订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="暂时无法向微信支付查询过期的线上订单")
    @jwt_required()
    def post(self, body, bill_id):
        """Change an unpaid bill's amount with a reason (committee, party secretary, official; audited); 0 waives
        it. A subsidy held for it goes back to the budget."""
        access = _bill_access(bill_id, Action.ADJUST_BILLS)
        return service.adjust_bill(access.bill.id, body["amount_fen"], body["reason"], optional_user_id(),
                                   client_ip())


@blp.route(f"/bills/{BILL_ID}/waiver")
class Waiver(MethodView):
    @blp.arguments(WaiverSchema)
    @blp.response(200, BillSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="账单已缴、已减免，或正在支付")
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝查询过期的线上订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="暂时无法向微信支付查询过期的线上订单")
    @jwt_required()
    def post(self, body, bill_id):
        """Waive an unpaid bill with a reason (committee, party secretary, official; audited). Never deleted."""
        access = _bill_access(bill_id, Action.ADJUST_BILLS)
        return service.waive_bill(access.bill.id, body["reason"], optional_user_id(), client_ip())


@blp.route(f"/bills/{BILL_ID}/offline-payments")
class OfflinePayments(MethodView):
    @blp.arguments(OfflinePaymentSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema,
                      description="账单已缴清或已减免，收据号已登记过，或住户的线上支付尚未关闭")
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝查询过期的线上订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="暂时无法向微信支付查询过期的线上订单")
    @jwt_required()
    def post(self, body, bill_id):
        """Record cash or a bank transfer against the paper receipt's number (staff, manager; audited). The
        amount must be exactly what the household owes after the subsidy, which is fixed now. While the
        household's online order can still be paid this is refused (409): close it first
        (POST /bills/{bill_id}/online-payment/close). An expired one is first settled with WeChat Pay: paid → 409,
        nothing to collect; unpaid → closed, and the cash is recorded."""
        access = _bill_access(bill_id, Action.RECORD_PAYMENTS)
        return payment_service.record_offline_payment(
            access.bill.id, body["method"], body["amount_fen"], body["offline_receipt_no"], optional_user_id(),
            client_ip(),
        )


@blp.route(f"/bills/{BILL_ID}/online-payment/close")
class OnlinePaymentClose(MethodView):
    @blp.response(200, OnlineCheckSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝了查询")
    @blp.alt_response(503, schema=ApiErrorSchema, description="暂时无法向微信支付查询，请稍后再试")
    @jwt_required()
    def post(self, bill_id):
        """Before taking cash from a household whose online payment is open (staff, manager; audited): WeChat
        Pay is asked what became of the order. `paid` → it was paid and is recorded, nothing to collect;
        `closed` → closed at WeChat Pay, nobody can pay it now, cash may be recorded; `open` → the payer is
        paying and it could not be closed, ask again later; `none` → there was no online payment."""
        access = _bill_access(bill_id, Action.RECORD_PAYMENTS)
        return payment_service.close_online_payment(access.bill.id, optional_user_id(), client_ip())


@blp.route(f"/bills/{BILL_ID}/refunds")
class Refunds(MethodView):
    @blp.arguments(RefundInputSchema)
    @blp.response(201, RefundSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, bill_id):
        """Give back what was paid beyond the household's share, with a reason (committee, party secretary,
        official; audited)."""
        access = _bill_access(bill_id, Action.ADJUST_BILLS)
        return payment_service.refund_overpayment(
            access.bill.id, body["amount_fen"], body["method"], body["reason"], optional_user_id(), client_ip()
        )


# ---- collection and arrears -----------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/collection")
class CollectionRate(MethodView):
    @blp.arguments(CollectionQuery, location="query")
    @blp.response(200, envelope(CollectionSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The collection rate of one period (paid households / billed households, paid fen / billed fen; waived
        bills are not billed), or of every billed period, newest first."""
        authorize(Action.VIEW_BILLS, compound_id, optional_user_id())
        periods = [query["period"]] if "period" in query else service.billed_periods(compound_id)
        page, page_size = query["page"], query["page_size"]
        shown = periods[(page - 1) * page_size:page * page_size]
        return {
            "items": [PeriodCollection(period_start=period, figures=service.collection(compound_id, period))
                      for period in shown],
            "total": len(periods), "page": page, "page_size": page_size,
        }


@blp.route(f"/compounds/{COMPOUND_ID}/arrears")
class Arrears(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(ArrearsSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Households with bills unpaid past their due date (Beijing time), the most owed first."""
        authorize(Action.VIEW_BILLS, compound_id, optional_user_id())
        return service.arrears(compound_id, beijing_date(utcnow()), query["page"], query["page_size"]).__dict__
