"""Spending requests (支出申请) API: a compound's requests and filing one with its quotes, one request, the committee's
approval or rejection, and a quote's file.

Who: those who keep the books or sit on the committee file requests; committee members other than the requester
approve (two of them) or reject one at or below the compound's threshold; above it the owners decide in a topic
(议事) with the vote the purpose fixes. Owners, the committee, the manager and officials over the compound read
them; tenants and staff get 403; strangers, visitors and another compound's people 404. The requester approving,
a second approval by the same member → 403/409; a decided request or one under the owners' vote → 409."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.spending import MAX_QUOTES
from backend.presenters import spending as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.spending import (
    RejectInputSchema,
    SpendingDetailSchema,
    SpendingInputSchema,
    SpendingListQuery,
    SpendingListSchema,
)
from backend.services import spending as service
from backend.serving import evidence_response

blp = Blueprint("spending", __name__, url_prefix="/api/v1", description="支出申请与审批")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
REQUEST_ID = "<int(min=1, max=2147483647):request_id>"
QUOTE_ID = "<int(min=1, max=2147483647):quote_id>"


@blp.route(f"/compounds/{COMPOUND_ID}/spending-requests")
class CompoundSpending(MethodView):
    decorators = [limit_photo_upload(MAX_QUOTES)]

    @blp.arguments(SpendingListQuery, location="query")
    @blp.response(200, SpendingListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The compound's requests, newest first (`status` filters). `actions`: `request`."""
        return presenter.request_list(compound_id, optional_user_id(), query["status"], query["page"],
                                      query["page_size"], entry_compound_id())

    @blp.arguments(SpendingInputSchema, location="files")
    @blp.response(201, SpendingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, compound_id):
        """File a request (multipart; `quotes`: up to six photos or PDFs). At or below the threshold it waits for
        two committee members (status `pending`); above it a topic is raised for the owners' vote (`voting`):
        Art. 278 item 5 for the maintenance fund, item 8 for business on common parts, else a consultation.
        `emergency`: may be spent against at once, ratified afterwards the same way."""
        request = service.create_request(compound_id, optional_user_id(), form["draft"],
                                         [upload.stream for upload in form["quotes"]], entry_compound_id(),
                                         ip=client_ip())
        return presenter.detail(request.id, optional_user_id(), entry_compound_id())


@blp.route(f"/spending-requests/{REQUEST_ID}")
class OneRequest(MethodView):
    @blp.response(200, SpendingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, request_id):
        """The request with its quotes, approvals, the vote its purpose fixes and its topic; brought up to the
        topic's result when the ballot has closed."""
        return presenter.detail(request_id, optional_user_id(), entry_compound_id())


@blp.route(f"/spending-requests/{REQUEST_ID}/approve")
class SpendingApprove(MethodView):
    @blp.response(200, SpendingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="非业委会成员，或申请人本人")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已审批过、已有结果，或由业主表决")
    @jwt_required()
    def post(self, request_id):
        """A committee member's approval; the second distinct member's approves the request (once, also when
        they approve at the same instant). The requester is told."""
        service.approve(request_id, optional_user_id(), entry_compound_id(), ip=client_ip())
        return presenter.detail(request_id, optional_user_id(), entry_compound_id())


@blp.route(f"/spending-requests/{REQUEST_ID}/reject")
class SpendingReject(MethodView):
    @blp.arguments(RejectInputSchema)
    @blp.response(200, SpendingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已有结果，或由业主表决")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, request_id):
        """A committee member turns a pending request down with a reason; the requester is told."""
        service.reject(request_id, optional_user_id(), body["note"], entry_compound_id(), ip=client_ip())
        return presenter.detail(request_id, optional_user_id(), entry_compound_id())


@blp.route(f"/spending-quotes/{QUOTE_ID}")
class QuoteFile(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="application/pdf，或照片时 image/jpeg；总是作为下载")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, quote_id):
        """A quote's file, to whoever may see the compound's spending."""
        found = service.quote_file(quote_id, optional_user_id(), entry_compound_id())
        return evidence_response(found.data, found.content_type, found.filename, inline_photo=False)
