"""Renovation projects (老旧小区改造) API: a compound's projects, setting one up (officials over the compound, its
committee or party secretary; perhaps from one of its topics), a project with its items, timeline, progress and
ratings, the responsible party's progress (multipart, with photos), a household's rating once completed, photos.

Refusals keep the error shape: a compound or project that is none of the caller's → 404; a role that may not do it
(a resident setting up a project, anyone but the party reporting progress) → 403; a project whose status does not
allow it → 409; bad input (another compound's topic) → 422; a photo over 10 MB → 413."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.renovation import MAX_PHOTOS
from backend.presenters import renovation as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery
from backend.schemas.renovation import (
    RenovationPageSchema,
    RenovationProgressSchema,
    RenovationProjectDetailSchema,
    RenovationProjectInputSchema,
    RenovationRatingSchema,
)
from backend.services import photos as photo_service
from backend.services import renovation as service

blp = Blueprint("renovation", __name__, url_prefix="/api/v1", description="老旧小区改造")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
PROJECT_ID = "<int(min=1, max=2147483647):project_id>"
PHOTO_ID = "<int(min=1, max=2147483647):renovation_photo_id>"


def _responses(*statuses):
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=ApiErrorSchema)(view)
        return view

    return decorate


@blp.route(f"/compounds/{COMPOUND_ID}/renovation-projects")
class CompoundProjects(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, RenovationPageSchema)
    @_responses(401, 404)
    def get(self, query, compound_id):
        """The compound's projects, under way first: public to everyone of the compound (a QR visitor too)."""
        return presenter.compound_list(compound_id, optional_user_id(), entry_compound_id(), query["page"],
                                       query["page_size"])

    @blp.arguments(RenovationProjectInputSchema)
    @blp.response(201, RenovationProjectDetailSchema)
    @_responses(401, 403, 404, 422)
    @jwt_required()
    def post(self, project, compound_id):
        """Set up a project (officials over the compound, its committee or party secretary): items by class,
        category, budget (fen) and funding source; `topic_id` one of the compound's topics. The party is told."""
        created = service.create_project(compound_id, optional_user_id(), project, ip=client_ip())
        return presenter.detail(created.id, optional_user_id())


@blp.route(f"/renovation-projects/{PROJECT_ID}")
class Project(MethodView):
    @blp.response(200, RenovationProjectDetailSchema)
    @_responses(401, 404)
    def get(self, project_id):
        """The project: items, funding, the topic it came from, the timeline (proposal → decision → project →
        rating), progress with photos, ratings; `actions` are this person's."""
        return presenter.detail(project_id, optional_user_id(), entry_compound_id())


@blp.route(f"/renovation-projects/{PROJECT_ID}/progress")
class Progress(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(RenovationProgressSchema, location="files")
    @blp.response(200, RenovationProjectDetailSchema)
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def post(self, form, project_id):
        """The responsible party reports progress (multipart: `note`, `percent` 0–100 not below the last, up to
        six `photos`); 100 completes the project and opens the residents' ratings."""
        user_id = optional_user_id()
        # Only those who may see the project get their files read.
        service.seen_by(project_id, user_id)
        photos = [photo_service.prepare_photo(upload.stream) for upload in form["photos"]]
        service.post_progress(project_id, user_id, form["note"], form["percent"], photos, ip=client_ip())
        return presenter.detail(project_id, user_id)


@blp.route(f"/renovation-projects/{PROJECT_ID}/rating")
class Rating(MethodView):
    @blp.arguments(RenovationRatingSchema)
    @blp.response(200, RenovationProjectDetailSchema)
    @_responses(401, 403, 404, 409, 422)
    @jwt_required()
    def put(self, body, project_id):
        """A verified household rates the completed project (1–5 stars, a comment); rating again replaces it."""
        service.rate(project_id, optional_user_id(), body["household_id"], body["stars"], body["comment"],
                     ip=client_ip())
        return presenter.detail(project_id, optional_user_id())


@blp.route(f"/renovation-projects/{PROJECT_ID}/photos/{PHOTO_ID}")
class PhotoBytes(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @_responses(401, 404)
    def get(self, project_id, renovation_photo_id):
        """A progress photo (JPEG), to everyone who may see the project."""
        photo = presenter.photo(project_id, renovation_photo_id, optional_user_id(), entry_compound_id())
        return photo_service.photo_response(photo, max_age=3600)
