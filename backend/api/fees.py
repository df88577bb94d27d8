"""The fees API (DESIGN §4): fee schedules, bills, adjustments and waivers, cash and bank payments, refunds of
overpayments, the collection rate and arrears.

Refusals keep the error shape: a bill, household or compound the caller has nothing to do with → 404 (a
resident of the same compound who is not of the bill's household too: its existence stays hidden), a role that
may not → 403, a bill's state that forbids it → 409, bad input → 422."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.domain.roles import Action
from backend.policy import authorize
from backend.presenters import fees as presenter
from backend.presenters import payments as payment_presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.schemas.fees import (
    AdjustmentSchema,
    ArrearsSchema,
    BillDetailSchema,
    BillLineSchema,
    BillListQuery,
    BillSchema,
    CollectionQuery,
    CollectionSchema,
    CreatedScheduleSchema,
    FeeScheduleSchema,
    HouseholdOfflinePaymentSchema,
    OfflinePaymentSchema,
    OnlineCheckSchema,
    PaymentSchema,
    RefundInputSchema,
    RefundSchema,
    ScheduleCreateSchema,
    WaiverSchema,
)
from backend.schemas.payments import ReceiptSchema
from backend.services import fees as service
from backend.services import payments as payment_service
from backend.shared.clock import beijing_date, utcnow

blp = Blueprint("fees", __name__, url_prefix="/api/v1", description="物业费")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
HOUSEHOLD_ID = "<int(min=1, max=2147483647):household_id>"
BILL_ID = "<int(min=1, max=2147483647):bill_id>"


# ---- schedules ------------------------------------------------------------------------------------------


@blp.route(f"/compounds/{COMPOUND_ID}/fee-schedules")
class FeeSchedules(MethodView):
    @blp.response(200, FeeScheduleSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, compound_id):
        """Every fee standard of the compound, kept as history: newest first per kind of household, the one in
        force today marked. Public to everyone of the compound, QR visitors included."""
        authorize(Action.VIEW_FEE_SCHEDULES, compound_id, optional_user_id(), entry_compound_id())
        return presenter.schedule_lines(compound_id, beijing_date(utcnow()))

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
        compound = authorize(Action.MANAGE_FEE_SCHEDULES, compound_id, optional_user_id()).compound
        schedule = service.create_schedule(
            compound, service.ScheduleDraft(**body), actor_id=optional_user_id(), ip=client_ip()
        )
        return presenter.created_schedule(compound, schedule, beijing_date(utcnow()))


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
        return service.compound_bills(
            compound_id, query.get("period"), query.get("status"), query["page"], query["page_size"]
        ).__dict__


@blp.route(f"/compounds/{COMPOUND_ID}/my-bills")
class MyBills(MethodView):
    @blp.response(200, BillLineSchema(many=True))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """Every bill of the caller's verified households in the compound, newest period first, with the subsidy
        each gets (fixed, or what paying now would fix)."""
        user_id = optional_user_id()
        authorize(Action.PAY_FEES, compound_id, user_id)
        return presenter.newest_first(presenter.my_bills(user_id, compound_id, beijing_date(utcnow())))


@blp.route(f"/households/{HOUSEHOLD_ID}/bills")
class HouseholdBills(MethodView):
    @blp.response(200, BillLineSchema(many=True))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, household_id):
        """The household's bills, newest first, with the subsidy each gets: for its verified people and those who
        see the compound's bills."""
        household = service.household_for(optional_user_id(), household_id)
        return presenter.household_bills(household, beijing_date(utcnow())).lines


@blp.route(f"/bills/{BILL_ID}")
class BillView(MethodView):
    @blp.response(200, BillDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, bill_id):
        """The bill with its subsidy month by month (fixed once a payment began, else an estimate), payments,
        refunds, and what the caller may do with it now."""
        return presenter.bill_detail(optional_user_id(), bill_id)


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
        service.bill_for(optional_user_id(), bill_id, Action.ADJUST_BILLS)
        return service.adjust_bill(bill_id, body["amount_fen"], body["reason"], optional_user_id(), client_ip())


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
        service.bill_for(optional_user_id(), bill_id, Action.ADJUST_BILLS)
        return service.waive_bill(bill_id, body["reason"], optional_user_id(), client_ip())


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
        service.bill_for(optional_user_id(), bill_id, Action.RECORD_PAYMENTS)
        return payment_service.record_offline_payment(
            bill_id, body["method"], body["amount_fen"], body["offline_receipt_no"], optional_user_id(), client_ip()
        )


@blp.route(f"/households/{HOUSEHOLD_ID}/offline-payments")
class HouseholdOfflinePayments(MethodView):
    @blp.arguments(HouseholdOfflinePaymentSchema)
    @blp.response(201, ReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="房屋或其中一个账单不存在或不属于本户")
    @blp.alt_response(409, schema=ApiErrorSchema,
                      description="有账单已缴清或已减免、住户的线上支付尚未关闭，或收据号已登记过")
    @blp.alt_response(422, schema=ApiErrorSchema, description="金额不等于所选账单的应缴合计")
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝查询过期的线上订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="暂时无法向微信支付查询过期的线上订单")
    @jwt_required()
    def post(self, body, household_id):
        """Cash or a bank transfer for several months of the household at once (staff, manager; audited): ONE
        amount, which must equal the selected bills' total due after their subsidies (fixed now), and ONE paper
        receipt number; one receipt listing every bill. If any selected bill cannot be taken now — paid, waived,
        another household's, or in an online payment that may still be paid — nothing is recorded and `errors`
        names the field at fault."""
        user_id = optional_user_id()
        service.household_access(user_id, household_id, Action.RECORD_PAYMENTS)
        receipt = payment_service.record_offline_payments(
            body["bill_ids"], body["method"], body["amount_fen"], body["offline_receipt_no"], user_id, client_ip(),
            household_id=household_id,
        )
        return payment_presenter.receipt_of(user_id, receipt)


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
        service.bill_for(optional_user_id(), bill_id, Action.RECORD_PAYMENTS)
        return payment_service.close_online_payment(bill_id, optional_user_id(), client_ip())


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
        service.bill_for(optional_user_id(), bill_id, Action.ADJUST_BILLS)
        return payment_service.refund_overpayment(
            bill_id, body["amount_fen"], body["method"], body["reason"], optional_user_id(), client_ip()
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
        return presenter.collection(compound_id, query.get("period"), query["page"], query["page_size"]).__dict__


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
        roles = authorize(Action.VIEW_BILLS, compound_id, optional_user_id()).roles
        return presenter.arrears(compound_id, roles, query["page"], query["page_size"]).page.__dict__
