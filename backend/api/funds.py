"""The journal (日记账) API: a compound's accounts and settings, its entries by month and posting one with vouchers, an
entry with its vouchers, reversing it (红字冲销), and a voucher's file.

Who: the bookkeepers (the committee under trust / owner-self / community fallback, the manager under market /
unit-self) open accounts, change settings, post and reverse; owners, the committee, the manager and officials over
the compound read accounts, entries and vouchers; tenants and staff: 403 here (they read statements); visitors,
strangers and other compounds: 404. An entry dated in a closed month → 422 on `entry_date`; a second reversal → 409;
an expense without an approved (or emergency) request, or beyond it → 422; a file over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.funds import MAX_VOUCHERS
from backend.presenters import funds as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.funds import (
    AccountInputSchema,
    AccountListSchema,
    EntryDetailSchema,
    EntryInputSchema,
    EntryListQuery,
    EntryListSchema,
    ReversalInputSchema,
    SettingsInputSchema,
    SettingsSchema,
)
from backend.services import funds as service
from backend.serving import evidence_response

blp = Blueprint("funds", __name__, url_prefix="/api/v1", description="公共账本：账户、设置、日记账、凭证、冲销")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
ENTRY_ID = "<int(min=1, max=2147483647):entry_id>"
VOUCHER_ID = "<int(min=1, max=2147483647):voucher_id>"


@blp.route(f"/compounds/{COMPOUND_ID}/fund-accounts")
class FundAccounts(MethodView):
    @blp.response(200, AccountListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """The compound's accounts with today's balance (last closed month's closing + the entries after it)."""
        return presenter.accounts(compound_id, optional_user_id())

    @blp.arguments(AccountInputSchema)
    @blp.response(201, AccountListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, draft, compound_id):
        """Open an account (the bookkeepers): kind, bank, number (only the last four digits are kept), holder,
        opening balance and date (not after today). Answers the accounts list."""
        service.open_account(compound_id, optional_user_id(), draft, ip=client_ip())
        return presenter.accounts(compound_id, optional_user_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-settings")
class FundSettingsView(MethodView):
    @blp.response(200, SettingsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, compound_id):
        """The spending threshold and the trust model's remuneration (defaults until first saved)."""
        return presenter.settings(compound_id, optional_user_id())

    @blp.arguments(SettingsInputSchema)
    @blp.response(200, SettingsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def put(self, draft, compound_id):
        """Save the settings (the bookkeepers); remuneration by rate or fixed amount, trust compounds only."""
        service.update_settings(compound_id, optional_user_id(), draft, ip=client_ip())
        return presenter.settings(compound_id, optional_user_id())


@blp.route(f"/compounds/{COMPOUND_ID}/fund-entries")
class FundEntries(MethodView):
    decorators = [limit_photo_upload(MAX_VOUCHERS)]

    @blp.arguments(EntryListQuery, location="query")
    @blp.response(200, EntryListSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The journal, newest first (`month=YYYY-MM` for one month), reversals beside what they reverse."""
        return presenter.entries(compound_id, optional_user_id(), query["month"], query["page"],
                                 query["page_size"])

    @blp.arguments(EntryInputSchema, location="files")
    @blp.response(201, EntryDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="尚未开设账户")
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, compound_id):
        """Post an entry (multipart, the bookkeepers) with one to five `vouchers` (photos or PDFs). An expense names
        an approved request (or an emergency repair's) and stays within it; a closed month refuses the date."""
        entry = service.post_entry(compound_id, optional_user_id(), form["draft"],
                                   [upload.stream for upload in form["vouchers"]], ip=client_ip())
        return presenter.entry_detail(entry.id, optional_user_id())


@blp.route(f"/fund-entries/{ENTRY_ID}")
class FundEntry(MethodView):
    @blp.response(200, EntryDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, entry_id):
        """One entry with its vouchers, what it reverses or is reversed by, and this person's actions."""
        return presenter.entry_detail(entry_id, optional_user_id())


@blp.route(f"/fund-entries/{ENTRY_ID}/reversal")
class FundEntryReversal(MethodView):
    decorators = [limit_photo_upload(1)]

    @blp.arguments(ReversalInputSchema, location="files")
    @blp.response(201, EntryDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="已冲销过，或这本身是冲销")
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, entry_id):
        """红字冲销 (multipart or form: `reason`, optional `voucher`): the same category with the amount negated,
        dated today, once per entry. Answers the reversal entry."""
        reversal = service.reverse_entry(entry_id, optional_user_id(), form["reason"],
                                         form["voucher"].stream if form["voucher"] else None, ip=client_ip())
        return presenter.entry_detail(reversal.id, optional_user_id())


@blp.route(f"/fund-vouchers/{VOUCHER_ID}")
class FundVoucher(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg",
                  description="image/jpeg，或 PDF 时 application/pdf")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, voucher_id):
        """A voucher's file, to those who see vouchers of its compound."""
        found = service.voucher_file(voucher_id, optional_user_id())
        return evidence_response(found.data, found.content_type, found.filename)
