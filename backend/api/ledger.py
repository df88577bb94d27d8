"""The ledger (台账): import a community's compounds, buildings and households from an .xlsx sheet."""
from __future__ import annotations

from functools import wraps

from flask import request
from flask.views import MethodView
from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint, abort
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from backend.domain.roles import Action
from backend.policy import authorize_area
from backend.request_context import optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.services.ledger_import import LedgerFileInvalid, import_ledger

blp = Blueprint("ledger", __name__, url_prefix="/api/v1/areas", description="台账导入")

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


class LedgerImportResultSchema(Schema):
    compounds_created = fields.Integer(required=True)
    buildings_created = fields.Integer(required=True)
    households_created = fields.Integer(required=True)
    households_updated = fields.Integer(required=True)


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
        return report
