"""Paying a bill online and its receipts: start a payment (WeChat Pay JSAPI, or the sandbox in development),
WeChat Pay's payment notification, the sandbox's "pay" button, and the electronic receipt.

Refusals keep the error shape: a bill, order or receipt of a household that is none of the caller's → 404 (its
existence stays hidden), a role that may not pay → 403, a bill that cannot be paid now → 409, WeChat Pay down →
503 (try again) or refusing the order → 502. A notification we cannot trust or read → 401 (signature, key, age)
or 400 (malformed, undecryptable, wrong amount), an order we never issued → 404; WeChat Pay sends it again on
any non-2xx, and nothing of a refused notification is recorded."""
from __future__ import annotations

import logging

from flask import request
from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import OperationalError

from backend.domain.fees import FeeRefused, PaymentMethod
from backend.domain.roles import Action
from backend.errors import json_error
from backend.extensions import db, limiter
from backend.integrations.wechat_pay import (
    BAD_SIGNATURE,
    SIGNATURE_HEADERS,
    STALE,
    UNKNOWN_KEY,
    NotificationRejected,
    WeChatPayError,
)
from backend.models import Bill, Payment, User
from backend.policy import authorize, fee_reader, is_household_member
from backend.request_context import optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.fees import PaymentSchema
from backend.schemas.payments import (
    PaymentStartSchema,
    PayNotificationAckSchema,
    PayNotificationSchema,
    ReceiptSchema,
)
from backend.services import payments as service
from backend.services.payment_orders import AmountMismatch, UnknownOrder
from backend.services.payment_provider import wechat_pay
from backend.services.subsidies import SubsidyBusy

log = logging.getLogger("linli.payments")

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="缴费与收据")

BILL_ID = "<int(min=1, max=2147483647):bill_id>"
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PAYMENT_ID = "<int(min=1, max=2147483647):payment_id>"
NOTIFY_PATH = "/payments/wechat/notify"

# Not trusted (401) or not readable (400): WeChat Pay only looks at the status and sends it again either way.
_UNTRUSTED = frozenset({BAD_SIGNATURE, STALE, UNKNOWN_KEY})
_REJECTION_MESSAGES = {
    BAD_SIGNATURE: "通知签名验证失败",
    STALE: "通知时间戳超出5分钟",
    UNKNOWN_KEY: "通知的签名公钥不认识",
}
_UNREADABLE = "通知格式有误或无法解密"


@blp.errorhandler(FeeRefused)
def _refused(exc: FeeRefused):
    # Nothing of a refused request may be committed later by accident; this also frees the bill's row lock.
    db.session.rollback()
    return json_error(exc.status, exc.message)


def _payable_bill(bill_id: int, user_id: int | None) -> Bill:
    """The bill, when the caller may pay it: a verified owner or resident of its household."""
    bill = db.session.get(Bill, bill_id)
    if bill is None:
        abort(404)
    authorize(Action.PAY_FEES, bill.compound_id, user_id)
    if not is_household_member(user_id, bill.household_id):
        abort(404)
    return bill


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
        _payable_bill(bill_id, user_id)
        payer = db.session.get(User, user_id)
        try:
            start = service.start_payment(bill_id, payer)
        except WeChatPayError as exc:
            db.session.rollback()
            log.warning("placing the order of bill %s failed: %s", bill_id, exc)
            if exc.transient:
                abort(503, message="微信支付暂时不可用，请稍后再试")
            abort(502, message="微信支付未能下单，请稍后再试或联系物业")
        except SubsidyBusy:
            db.session.rollback()
            abort(503, message="同时缴费的人较多，请稍后再试")
        order = start.order
        return {
            "settled": start.settled,
            "bill": start.bill,
            "order": None if order is None else {
                "id": order.id, "out_trade_no": order.out_trade_no, "provider": order.provider,
                "amount_fen": order.amount_fen, "subsidy_fen": start.bill.subsidy_fen,
                "expires_at": order.expires_at,
            },
            "pay_params": start.pay_params,
            "sandbox": wechat_pay().provider == PaymentMethod.SANDBOX,
        }, 201


@blp.route(f"/payments/sandbox/{ORDER_ID}/complete")
class SandboxCompletion(MethodView):
    @blp.response(200, PaymentSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, order_id):
        """The sandbox's "pay" button, for the order's payer only and only where payments are simulated: a
        notification signed as WeChat Pay would sign it goes through the real notification path. Pressing it
        again gives the same payment."""
        try:
            payment = service.complete_sandbox_payment(order_id, optional_user_id())
        except LookupError:
            db.session.rollback()
            abort(404)
        return payment


_NOTIFICATION_HEADERS = [
    {"in": "header", "name": name.title(), "required": True, "schema": {"type": "string"}}
    for name in SIGNATURE_HEADERS
]


@blp.route(NOTIFY_PATH)
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
    def post(self):
        """WeChat Pay's payment notification (支付结果通知): no sign-in; the Wechatpay-* headers sign the raw
        body. Verified, decrypted, checked against the order and recorded once, however often it comes."""
        try:
            service.accept_notification(request.headers, request.get_data())
        except NotificationRejected as exc:
            db.session.rollback()
            log.warning("payment notification refused: %s", exc)
            if exc.reason in _UNTRUSTED:
                return json_error(401, _REJECTION_MESSAGES[exc.reason])
            return json_error(400, _UNREADABLE)
        except UnknownOrder as exc:
            log.error("payment notification for an order we never issued: %s", exc)
            return json_error(404, "没有这个订单")
        except AmountMismatch:
            return json_error(400, "金额与订单不符")
        except OperationalError:
            # SQLite (make run) refuses a second writer at once instead of waiting; WeChat Pay sends it again.
            db.session.rollback()
            return json_error(503, "请稍后重试")
        return {"code": "SUCCESS", "message": "成功"}


@blp.route(f"/payments/{PAYMENT_ID}/receipt")
class PaymentReceipt(MethodView):
    @blp.response(200, ReceiptSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, payment_id):
        """The electronic receipt: number, household, period, bill, subsidy, paid, method and time. For the
        household's verified people and those who see the compound's bills."""
        user_id = optional_user_id()
        payment = db.session.get(Payment, payment_id)
        if payment is None or fee_reader(user_id, payment.compound_id, payment.household_id) is None:
            abort(404)
        return service.receipt(payment_id)
