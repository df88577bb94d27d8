"""The 公共账本 statements API: a compound's overview (balance, this month by category, latest entries and closed
months), its months with their status, one month's statement as JSON or .xlsx, closing a month (结账) and explaining
a difference from the bank.

Who: everyone who sees statements (owners, tenants, staff, the committee, the manager, officials over the compound);
the latest entries only to those who see entries; bank details and differences only to those who see accounts;
closing and explaining to the bookkeepers. Refusals keep the error shape: not of the compound → 404; a reader acting
→ 403; a month closed already, not ended, or after an open one → 409; a missing bank balance → 422."""
from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.presenters import fund_statements as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.fund_statements import (
    CloseInputSchema,
    ExplanationInputSchema,
    FundSummarySchema,
    MonthListSchema,
    StatementSchema,
)
from backend.services import fund_statements as service

blp = Blueprint("fund_statements", __name__, url_prefix="/api/v1", description="公共账本：月度收支表与结账")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
MONTH = "<string(length=7):month>"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route(f"/compounds/{COMPOUND_ID}/fund-summary")
class FundSummary(MethodView):
    @blp.response(200, FundSummarySchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """The balance now (last closed month + entries after it), this month's income and expense by category,
        the latest closed months; `latest_entries` (with voucher ids) for those who see entries, else null."""
        return presenter.summary(compound_id, optional_user_id(), entry_compound_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-statements")
class FundStatements(MethodView):
    @blp.response(200, MonthListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """Every month since the first account was opened, newest first: status, and the figures once closed."""
        return presenter.months(compound_id, optional_user_id(), entry_compound_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-statements/{MONTH}")
class FundStatement(MethodView):
    @blp.response(200, StatementSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id, month):
        """The month (YYYY-MM): one section per account (frozen once closed, live before) and the totals;
        `actions`: close, explain."""
        return presenter.statement(compound_id, presenter.parse_month(month), optional_user_id(),
                                   entry_compound_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-statements/{MONTH}.xlsx")
class FundStatementWorkbook(MethodView):
    @blp.response(200, content_type=XLSX, description="月度收支表：各账户分类收支、期初期末与合计")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id, month):
        """The month's statement as .xlsx: the same figures as the JSON, in yuan beside fen."""
        name, content = presenter.workbook(compound_id, presenter.parse_month(month), optional_user_id(),
                                           entry_compound_id())
        return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)


@blp.route(f"/compounds/{COMPOUND_ID}/fund-statements/{MONTH}/close")
class CloseMonth(MethodView):
    @blp.arguments(CloseInputSchema)
    @blp.response(200, StatementSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="该月已结账、尚未结束，或上月未结")
    @blp.alt_response(422, schema=ApiErrorSchema, description="缺少银行月末余额")
    @jwt_required()
    def post(self, body, compound_id, month):
        """Close the month for every account (in order, after the month's end): the trust model's remuneration is
        posted first, then each account's figures are frozen with the bank's month-end balance. Once."""
        parsed = presenter.parse_month(month)
        balances = {line["account_id"]: line["bank_balance_fen"] for line in body["bank_balances"]}
        service.close_month(compound_id, parsed, balances, optional_user_id(), entry_compound_id(), ip=client_ip())
        return presenter.statement(compound_id, parsed, optional_user_id(), entry_compound_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-statements/{MONTH}/explanation")
class Explanation(MethodView):
    @blp.arguments(ExplanationInputSchema)
    @blp.response(200, StatementSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="无差额，或已说明")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id, month):
        """Explain why the bank's balance differs from the books' for one account of a closed month (once)."""
        parsed = presenter.parse_month(month)
        service.explain_difference(compound_id, parsed, body["account_id"], body["note"], optional_user_id(),
                                   entry_compound_id(), ip=client_ip())
        return presenter.statement(compound_id, parsed, optional_user_id(), entry_compound_id())
