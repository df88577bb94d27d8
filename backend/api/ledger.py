"""The ledger (台账): export an area's compounds, buildings and households as the .xlsx sheet the import reads, and
import it back (every difference listed; an unchanged sheet changes nothing)."""
from __future__ import annotations

import io
from functools import wraps

from flask import request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from backend.domain.roles import Action
from backend.policy import authorize_area
from backend.presenters.ledger import import_result
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.services import ledger_export
from backend.services.ledger_import import LedgerFileInvalid, import_ledger

blp = Blueprint("ledger", __name__, url_prefix="/api/v1/areas", description="台账导入与导出")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _limit_upload(view):
    """Cap this view's body at 5 MB before anything reads it (Flask 3.1 allows a per-request limit → 413)."""

    @wraps(view)
    def limited(*args, **kwargs):
        request.max_content_length = MAX_UPLOAD_BYTES
        return view(*args, **kwargs)

    return limited


class LedgerFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "台账 .xlsx（每行一户），不超过 5 MB"})


class LedgerChangeSchema(Schema):
    code = fields.String(required=True)
    compound = fields.String(required=True)
    household = fields.String(allow_none=True, required=True)
    field = fields.String(required=True)
    label = fields.String(required=True)
    before = fields.Raw(allow_none=True, required=True)
    after = fields.Raw(allow_none=True, required=True)


class LedgerImportResultSchema(Schema):
    compounds_created = fields.Integer(required=True)
    buildings_created = fields.Integer(required=True)
    households_created = fields.Integer(required=True)
    households_updated = fields.Integer(required=True)
    no_changes = fields.Boolean(required=True, metadata={"description": "与系统中完全一致：未写入任何数据"})
    changes = fields.List(fields.Nested(LedgerChangeSchema), required=True)


@blp.route("/<int(min=1, max=2147483647):area_id>/ledger-import")
class LedgerImport(MethodView):
    decorators = [_limit_upload]

    @blp.arguments(LedgerFileSchema, location="files")
    @blp.response(200, LedgerImportResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema, description="文件无效，或逐行错误 errors.rows: [{row, field, message}]")
    @jwt_required()
    def post(self, files, area_id):
        """Import the community's ledger: every row or none; wrong rows come back with their row numbers.

        Admins, and officials of the community or an area above it."""
        authorize_area(Action.IMPORT_LEDGER, area_id, optional_user_id())
        try:
            report = import_ledger(files["file"].stream, area_id, optional_user_id())
        except LedgerFileInvalid as exc:
            abort(422, message=str(exc), errors={"file": [str(exc)]})
        if not report.ok:
            abort(422, message=f"{len(report.errors)} 处错误，未导入任何数据", errors={"rows": report.errors})
        return import_result(report)


@blp.route("/<int(min=1, max=2147483647):area_id>/ledger.xlsx")
class LedgerExport(MethodView):
    @blp.response(200, content_type=XLSX, description="台账 .xlsx（与导入同一格式；业主手机已脱敏）")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, area_id):
        """Every household of every compound below the area, in the import's layout: edit it and import it back.

        Admins, and officials of the area or an area above it; each export is audited."""
        name, content = ledger_export.export(area_id, optional_user_id(), ip=client_ip())
        return send_file(io.BytesIO(content), mimetype=XLSX, as_attachment=True, download_name=name)
