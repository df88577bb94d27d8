"""Announcements (通知公告) API: a compound's list, posting to a compound or (officials) to every compound below an
area, reading one (a signed-in reader is counted once), changing and deleting it, and its photos.

Bodies that post or change a notice are multipart (its fields and up to six `photos`). Refusals keep the error
shape: a notice of a compound that is none of the caller's, or a deleted one → 404; a role that may not post or
change it → 403; bad input → 422; a photo over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.announcements import MAX_PHOTOS
from backend.presenters import announcements as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.announcements import (
    AnnouncementDetailSchema,
    AnnouncementInputSchema,
    AnnouncementListQuery,
    AnnouncementListSchema,
    AnnouncementPatchSchema,
)
from backend.schemas.common import ApiErrorSchema
from backend.services import announcements as service
from backend.services import photos as photo_service
from backend.services.announcements import DRAFT_FIELDS, Draft

blp = Blueprint("announcements", __name__, url_prefix="/api/v1", description="通知公告")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
AREA_ID = "<int(min=1, max=2147483647):area_id>"
ANNOUNCEMENT_ID = "<int(min=1, max=2147483647):announcement_id>"
PHOTO_ID = "<int(min=1, max=2147483647):announcement_photo_id>"


def _draft(form: dict) -> Draft:
    return Draft(**{name: form[name] for name in DRAFT_FIELDS})


def _prepared(form: dict) -> list:
    return [photo_service.prepare_photo(upload.stream) for upload in form.get("photos", [])]


@blp.route(f"/compounds/{COMPOUND_ID}/announcements")
class CompoundAnnouncements(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(AnnouncementListQuery, location="query")
    @blp.response(200, AnnouncementListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """Current notices, pinned first, then newest (`include_ended`: ended ones too, marked 已结束). Open to
        everyone of the compound, QR visitors included; `actions` holds `post` for those who may post here."""
        return presenter.announcement_list(compound_id, optional_user_id(), entry_compound_id(),
                                           query["include_ended"], query["page"], query["page_size"])

    @blp.arguments(AnnouncementInputSchema, location="files")
    @blp.response(201, AnnouncementDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, form, compound_id):
        """Post to the compound (its committee, party secretary, property manager, or an official over it). Its
        verified people are told: an urgent notice is pushed at once, quiet hours or not."""
        announcement = service.post_to_compound(compound_id, optional_user_id(), _draft(form), _prepared(form),
                                                ip=client_ip())
        return presenter.detail(announcement.id, optional_user_id())


@blp.route(f"/areas/{AREA_ID}/announcements")
class AreaAnnouncements(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(AnnouncementInputSchema, location="files")
    @blp.response(201, AnnouncementDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema, description="输入有误，或该区域下还没有小区")
    @jwt_required()
    def post(self, form, area_id):
        """An official of the area (or above) posts one notice to every compound below the area as it is now;
        each compound's verified people are told."""
        announcement = service.post_to_area(area_id, optional_user_id(), _draft(form), _prepared(form),
                                            ip=client_ip())
        return presenter.detail(announcement.id, optional_user_id())


@blp.route(f"/announcements/{ANNOUNCEMENT_ID}")
class AnnouncementDetail(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.response(200, AnnouncementDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, announcement_id):
        """The notice with its photos; a signed-in reader is counted (once). `read_count` and the actions edit,
        delete and view_reads only for those who may post where it was posted (its author while still one of them)."""
        return presenter.opened(announcement_id, optional_user_id(), entry_compound_id())

    @blp.arguments(AnnouncementPatchSchema, location="files")
    @blp.response(200, AnnouncementDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @blp.alt_response(422, schema=ApiErrorSchema)
    @jwt_required()
    def patch(self, form, announcement_id):
        """Change what is sent (multipart); `photos` are added, `remove_photo_ids` removed. Made urgent, it is
        pushed once more, urgently."""
        changes = {name: form[name] for name in DRAFT_FIELDS if name in form}
        service.edit(announcement_id, optional_user_id(), changes, _prepared(form), form.get("remove_photo_ids", []),
                     entry_compound_id(), ip=client_ip())
        return presenter.detail(announcement_id, optional_user_id())

    @blp.response(204)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def delete(self, announcement_id):
        """Delete it for everyone (kept in the records; found by nobody from now on)."""
        service.remove(announcement_id, optional_user_id(), entry_compound_id(), ip=client_ip())


@blp.route(f"/announcements/{ANNOUNCEMENT_ID}/photos/{PHOTO_ID}")
class AnnouncementPhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, announcement_id, announcement_photo_id):
        """The photo's JPEG, to those who may read the notice."""
        photo = presenter.photo(announcement_id, announcement_photo_id, optional_user_id(), entry_compound_id())
        return photo_service.photo_response(photo, max_age=3600)
