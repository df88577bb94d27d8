"""党建+ activities (社区活动) API: organise, list, read, sign up (a waiting list when full), cancel, check in by
QR code, the sign-up list, the photo report, and volunteer hours (志愿服务: one's own record, per person for those
who organise).

Refusals keep the error shape: an activity of a compound that is none of the caller's → 404, a role that may not
→ 403, a forged or another activity's check-in code → 403, bad input → 422, signing up after the start or checking
in outside the window → 409, a photo over 10 MB → 413."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.api.arguments import MultipartParser
from backend.api.uploads import limit_photo_upload
from backend.domain.activities import MAX_PHOTOS
from backend.domain.roles import Action
from backend.policy import authorize
from backend.presenters import activities as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.activities import (
    ActivityCheckInResultSchema,
    ActivityCreateSchema,
    ActivityDetailSchema,
    ActivityListSchema,
    ActivityReportSchema,
    SignupLineSchema,
    SignupResultSchema,
    SignupSchema,
    VolunteerRecordSchema,
    VolunteerTotalsSchema,
    YearQuery,
)
from backend.schemas.common import ApiErrorSchema, PageQuery
from backend.schemas.meetings import CheckInSchema
from backend.services import activities as service
from backend.services import photos as photo_service
from backend.services import qr as qr_service
from backend.services.photos import photo_response

blp = Blueprint("activities", __name__, url_prefix="/api/v1", description="社区活动与志愿服务")
blp.ARGUMENTS_PARSER = MultipartParser()

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
ACTIVITY_ID = "<int(min=1, max=2147483647):activity_id>"
PHOTO_ID = "<int(min=1, max=2147483647):photo_id>"


@blp.route(f"/compounds/{COMPOUND_ID}/activities")
class CompoundActivities(MethodView):
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivityDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Organise an activity (party secretary, committee, officials over the compound): kind, title, times,
        place, organiser and the number of places."""
        authorize(Action.ORGANISE_ACTIVITIES, compound_id, optional_user_id())
        activity = service.create_activity(compound_id=compound_id, creator_id=optional_user_id(), ip=client_ip(),
                                           **body)
        return presenter.activity_detail(activity.id, optional_user_id())

    @blp.arguments(PageQuery, location="query")
    @blp.response(200, ActivityListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """Coming activities first (soonest on top, until they end), then past ones. Open to everyone of the
        compound, QR visitors included; `actions` holds `organise` for those who may."""
        return presenter.activity_list(compound_id, optional_user_id(), entry_compound_id(), query["page"],
                                       query["page_size"])


@blp.route(f"/activities/{ACTIVITY_ID}")
class ActivityDetail(MethodView):
    @blp.response(200, ActivityDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, activity_id):
        """The activity with its places taken and waiting, this person's sign-up (or place on the waiting list),
        the report and its photos; `actions`: what this person may do with it."""
        return presenter.activity_detail(activity_id, optional_user_id(), entry_compound_id())


@blp.route(f"/activities/{ACTIVITY_ID}/signup")
class Signup(MethodView):
    @blp.arguments(SignupSchema)
    @blp.response(200, SignupResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="活动已开始或已取消")
    @jwt_required()
    def put(self, body, activity_id):
        """Sign up (once per person): a place while one is free, else the waiting list in the order of signing
        up. `as_volunteer`: to help (the check-in counts toward volunteer hours). Again: changes only that."""
        return presenter.signed_up(activity_id, optional_user_id(), body["as_volunteer"])

    @blp.response(200, SignupResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="没有报名，或活动已开始")
    @jwt_required()
    def delete(self, activity_id):
        """Give the place up before the start; the first of the waiting list takes it and is told."""
        return presenter.signup_cancelled(activity_id, optional_user_id())


@blp.route(f"/activities/{ACTIVITY_ID}/signups")
class Signups(MethodView):
    @blp.response(200, SignupLineSchema(many=True))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, activity_id):
        """Who signed up, for organisers: confirmed, the waiting list in its order, the cancelled; with check-ins."""
        return presenter.signups(activity_id, optional_user_id())


@blp.route(f"/activities/{ACTIVITY_ID}/checkin")
class CheckIn(MethodView):
    @blp.arguments(CheckInSchema)
    @blp.response(200, ActivityCheckInResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="签到二维码无效、已停用或不属于这次活动")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="签到时间为活动开始前1小时至活动结束")
    @jwt_required()
    def post(self, body, activity_id):
        """Check in with the token of the activity's QR code (its `t` parameter), once per person; a volunteer's
        sign-up makes the check-in count toward their volunteer hours."""
        return presenter.checked_in(activity_id, optional_user_id(), body["token"], entry_compound_id())


@blp.route(f"/activities/{ACTIVITY_ID}/checkin-qr.png")
class CheckInQr(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, activity_id):
        """The check-in QR code as PNG, for organisers."""
        response = Response(qr_service.qr_png(presenter.checkin_url(activity_id, optional_user_id())),
                            mimetype="image/png")
        # Whoever holds the image can check in: never in a shared cache.
        response.headers["Cache-Control"] = "private, no-store"
        return response


@blp.route(f"/activities/{ACTIVITY_ID}/checkin-qr/renew")
class RenewCheckInQr(MethodView):
    @blp.response(200, ActivityDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, activity_id):
        """Void every check-in code printed so far (a poster photographed and shared) and issue a new one
        (organisers; audited); check-ins already recorded stay."""
        user_id = optional_user_id()
        service.renew_checkin_code(activity_id, user_id, presenter.organiser_roles(activity_id, user_id), client_ip())
        return presenter.activity_detail(activity_id, user_id)


@blp.route(f"/activities/{ACTIVITY_ID}/cancellation")
class Cancellation(MethodView):
    @blp.response(200, ActivityDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="活动已开始或已取消")
    @jwt_required()
    def post(self, activity_id):
        """Call the activity off before its start (organisers; audited); everyone signed up is told."""
        service.cancel_activity(activity_id, optional_user_id(), presenter.organiser_roles(activity_id,
                                optional_user_id()), client_ip())
        return presenter.activity_detail(activity_id, optional_user_id())


@blp.route(f"/activities/{ACTIVITY_ID}/report")
class Report(MethodView):
    decorators = [limit_photo_upload(MAX_PHOTOS)]

    @blp.arguments(ActivityReportSchema, location="files")
    @blp.response(200, ActivityDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="活动开始后才能发布活动报道")
    @blp.alt_response(413, schema=ApiErrorSchema, description="照片超过 10 MB")
    @jwt_required()
    def post(self, form, activity_id):
        """The photo report (multipart: `report` and up to nine `photos` in all), after the start; posting again
        corrects the text and adds photos."""
        user_id = optional_user_id()
        roles = presenter.organiser_roles(activity_id, user_id)
        photos = [photo_service.prepare_photo(upload.stream) for upload in form["photos"]]
        service.post_report(activity_id, user_id, roles, form["report"], photos, client_ip())
        return presenter.activity_detail(activity_id, user_id)


@blp.route(f"/activities/{ACTIVITY_ID}/photos/{PHOTO_ID}")
class ActivityPhoto(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg")
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, activity_id, photo_id):
        """A photo of the activity's report, for everyone of the compound."""
        return photo_response(presenter.photo(activity_id, photo_id, optional_user_id(), entry_compound_id()),
                              max_age=3600)


@blp.route("/me/volunteer-hours")
class MyVolunteerHours(MethodView):
    @blp.arguments(YearQuery, location="query")
    @blp.response(200, VolunteerRecordSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query):
        """我的志愿服务: the activities served in the year (Beijing time; checked in as a volunteer), each once,
        and the year's total."""
        return presenter.volunteer_record(optional_user_id(), query["year"])


@blp.route(f"/compounds/{COMPOUND_ID}/volunteer-hours")
class CompoundVolunteerHours(MethodView):
    @blp.arguments(YearQuery, location="query")
    @blp.response(200, VolunteerTotalsSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, compound_id):
        """Per person, the year's volunteer hours at the compound's activities: for those who organise them."""
        return presenter.volunteer_totals(compound_id, optional_user_id(), query["year"])
