"""Paying bills online and their receipts: start a payment of one bill or of several months of a household
(WeChat Pay JSAPI, or the sandbox in development), WeChat Pay's payment notification, the sandbox's "pay" button,
the electronic receipt and a household's payment history.

Refusals keep the error shape: a bill, order or receipt of a household that is none of the caller's → 404 (its
existence stays hidden), a role that may not pay → 403, a bill that cannot be paid now → 409, WeChat Pay down →
503 (try again) or refusing the order → 502. A notification we cannot trust or read → 401 (signature, key, age)
or 400 (malformed, undecryptable, wrong amount), an order we never issued → 404; WeChat Pay sends it again on
any non-2xx, and nothing of a refused notification is recorded."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.observability.metrics import counts_payment_notifications
from backend.presenters import payments as presenter
from backend.rate_limits import limiter
from backend.request_context import jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.schemas.fees import PaymentSchema
from backend.schemas.payments import (
    HouseholdPaymentSchema,
    PaidReceiptSchema,
    PaymentStartSchema,
    PayNotificationAckSchema,
    PayNotificationSchema,
    ReceiptSchema,
)
from backend.services import fees as fee_service
from backend.services import payments as service
from backend.services import people as people_service
from backend.services.payment_provider import NOTIFICATION_HEADERS, NOTIFY_ROUTE

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="缴费与收据")

BILL_ID = "<int(min=1, max=2147483647):bill_id>"
HOUSEHOLD_ID = "<int(min=1, max=2147483647):household_id>"
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PAYMENT_ID = "<int(min=1, max=2147483647):payment_id>"


@blp.route(f"/bills/{BILL_ID}/payments")
class BillPayments(MethodView):
    @blp.response(201, PaymentStartSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="账单已缴清或已减免；或不在微信中")
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝了订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="微信支付暂时不可用或补贴额度正忙，请稍后再试")
    @jwt_required()
    def post(self, bill_id):
        """Start paying a bill (its household's verified people): the subsidy is fixed now, and an order for
        the rest is opened (the open one again within its window). The answer carries the
        getBrandWCPayRequest parameters for WeChat, or `sandbox: true` where payments are simulated
        (complete them with POST /payments/sandbox/{order_id}/complete); `settled` when the subsidy covers
        the whole bill and nothing is left to pay."""
        user_id = optional_user_id()
        fee_service.payable_bill(user_id, bill_id)
        return presenter.started_payment(service.start_payment(bill_id, people_service.get_user(user_id))), 201


@blp.route(f"/households/{HOUSEHOLD_ID}/payments")
class HouseholdPayments(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(PaidReceiptSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, household_id):
        """The household's payments, newest first, grouped by receipt (one online order, or one desk entry under
        one paper receipt), each bill with its period, amount and subsidy and a link to the receipt. For the
        household's verified people and those who see the compound's bills (staff, manager, committee, officials
        above); 404 for anyone else."""
        household = fee_service.household_for(optional_user_id(), household_id)
        return presenter.payment_history(household, query["page"], query["page_size"]).__dict__

    @blp.arguments(HouseholdPaymentSchema)
    @blp.response(201, PaymentStartSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="房屋或其中一个账单不存在或不可见")
    @blp.alt_response(409, schema=ApiErrorSchema, description="有账单已缴清或已减免、正在支付；或不在微信中")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @blp.alt_response(502, schema=ApiErrorSchema, description="微信支付拒绝了订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="微信支付暂时不可用或补贴额度正忙，请稍后再试")
    @jwt_required()
    def post(self, body, household_id):
        """Pay several bills of the household in one order (its verified people): the bills named in `bill_ids`,
        or every unpaid one when none are named. Each bill's subsidy is fixed as paying it alone would fix it
        (oldest first), and one order opens for the sum of the resident's shares (the payer's open one again for
        the same bills within its window). A bill is in one live order at a time: someone else paying one of them
        → 409. Complete a sandbox order with POST /payments/sandbox/{order_id}/complete."""
        user_id = optional_user_id()
        fee_service.paying_household(user_id, household_id)
        start = service.start_household_payment(household_id, body["bill_ids"], people_service.get_user(user_id))
        return presenter.started_payment(start), 201


@blp.route(f"/payments/sandbox/{ORDER_ID}/complete")
class SandboxCompletion(MethodView):
    @blp.response(200, PaymentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, order_id):
        """The sandbox's "pay" button, for the order's payer only and only where payments are simulated: a
        notification signed as WeChat Pay would sign it goes through the real notification path. Pressing it
        again gives the same payment. An order of several bills records one payment per bill on one receipt;
        the answer is its first (oldest bill's), with `receipt_id`."""
        return service.complete_sandbox_payment(order_id, optional_user_id())


_NOTIFICATION_HEADERS = [
    {"in": "header", "name": name.title(), "required": True, "schema": {"type": "string"}}
    for name in NOTIFICATION_HEADERS
]


@blp.route(NOTIFY_ROUTE)
class WeChatNotification(MethodView):
    # WeChat Pay retries from a few addresses at its own pace; a limit would only delay a payment.
    decorators = [limiter.exempt]

    @blp.doc(
        parameters=_NOTIFICATION_HEADERS,
        requestBody={"required": True, "content": {"application/json": {"schema": PayNotificationSchema}}},
    )
    @blp.response(200, PayNotificationAckSchema)
    @blp.alt_response(400, schema=ApiErrorSchema, description="通知格式有误、无法解密或金额与订单不符")
    @blp.alt_response(401, schema=ApiErrorSchema, description="签名不对、公钥不认识或时间戳超出5分钟")
    @blp.alt_response(404, schema=ApiErrorSchema, description="没有这个订单")
    @blp.alt_response(503, schema=ApiErrorSchema, description="数据库忙（仅 SQLite），微信支付会重发")
    @counts_payment_notifications
    def post(self):
        """WeChat Pay's payment notification (支付结果通知): no sign-in; the Wechatpay-* headers sign the raw
        body. Verified, decrypted, checked against the order and recorded once, however often it comes. A
        database that cannot take the write now (SQLite under make run refuses a second writer at once) is a 503,
        which WeChat Pay answers by sending it again."""
        service.accept_notification(request.headers, request.get_data())
        return {"code": "SUCCESS", "message": "成功"}


@blp.route(f"/payments/{PAYMENT_ID}/receipt")
class PaymentReceipt(MethodView):
    @blp.response(200, ReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, payment_id):
        """The electronic receipt the payment is a line of: number, payee (the property company), payer (the
        household and the online payer's masked name), each bill (period, amount, subsidy, paid) and the totals,
        method and time. For the household's verified people and those who see the compound's bills."""
        return presenter.receipt(optional_user_id(), payment_id)
