"""The notice board (公示栏, Civil Code Art. 943) API: a compound's board with the history of every posting, posting a
disclosure (multipart, with its file), one posting with its frozen figures, and its file.

Who: whoever may read the compound's public money reads the board (owners, tenants, staff, the committee, the
company, officials over it); the company's manager posts (the committee too where it keeps the books); visitors
and strangers → 404, a reader posting → 403, a period or content the kind does not take → 422, a file over
10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.presenters import disclosures as presenter
from backend.request_context import client_ip, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema
from backend.schemas.disclosures import (
    DisclosureBoardSchema,
    DisclosureDetailSchema,
    DisclosureInputSchema,
    DisclosureListQuery,
)
from backend.services import disclosures as service
from backend.serving import evidence_response

blp = Blueprint("disclosures", __name__, url_prefix="/api/v1", description="公示栏")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
DISCLOSURE_ID = "<int(min=1, max=2147483647):disclosure_id>"


@blp.route(f"/compounds/{COMPOUND_ID}/disclosures")
class CompoundDisclosures(MethodView):
    decorators = [limit_photo_upload(1)]

    @blp.arguments(DisclosureListQuery, location="query")
    @blp.response(200, DisclosureBoardSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """The board: for each kind the posting that stands (the newest of the latest period), the public-income
        statement owed now (due the 15th of the quarter's first month) and every posting, newest first (`kind`
        filters the history). `actions`: `post`."""
        return presenter.board(compound_id, optional_user_id(), query["kind"], query["page"], query["page_size"])

    @blp.arguments(DisclosureInputSchema, location="files")
    @blp.response(201, DisclosureDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="文件超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, compound_id):
        """Post a disclosure (multipart). Fee items are generated from the fee schedules in force, the quarter's
        public-income statement from the journal; both are frozen with the posting. The compound's verified
        residents are told."""
        upload = form["file"].stream if form["file"] is not None else None
        disclosure = service.post(compound_id, optional_user_id(), form["draft"], upload, ip=client_ip())
        return presenter.detail(disclosure.id, optional_user_id())


@blp.route(f"/disclosures/{DISCLOSURE_ID}")
class OneDisclosure(MethodView):
    @blp.response(200, DisclosureDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, disclosure_id):
        """One posting with its text, staff list, frozen figures and file link; `current` / `superseded` say where it
        stands on the board."""
        return presenter.detail(disclosure_id, optional_user_id())


@blp.route(f"/disclosure-files/{DISCLOSURE_ID}")
class DisclosureFile(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="application/pdf，或照片时 image/jpeg；总是作为下载")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, disclosure_id):
        """The posting's file (the audit report, the maintenance fund's papers), to whoever may read the board."""
        found = service.file_of(disclosure_id, optional_user_id())
        return evidence_response(found.data, found.content_type, found.filename, inline_photo=False)


