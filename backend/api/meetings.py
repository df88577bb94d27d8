"""The four meetings (四会) API: convene, list, read, invite, check in by QR code, minutes, attendance.

Refusals keep the error shape: a meeting of a compound that is none of the caller's → 404 (its existence stays
hidden), a role that may not → 403, a forged or another meeting's check-in code → 403, bad input → 422,
checking in outside the window or publishing minutes before the start → 409."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from backend.domain.roles import Action
from backend.policy import authorize
from backend.presenters import meetings as presenter
from backend.request_context import client_ip, entry_compound_id, jwt_required, optional_user_id
from backend.schemas.common import ApiErrorSchema, PageQuery, envelope
from backend.schemas.meetings import (
    AttendeeSchema,
    CheckInResultSchema,
    CheckInSchema,
    InviteSchema,
    MeetingCreateSchema,
    MeetingDetailSchema,
    MeetingListSchema,
    MinutesSchema,
)
from backend.services import meetings as service
from backend.services import qr as qr_service

blp = Blueprint("meetings", __name__, url_prefix="/api/v1", description="四会")

COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
MEETING_ID = "<int(min=1, max=2147483647):meeting_id>"


def _roles(meeting_id: int):
    """The caller's roles in the meeting's compound; 404 for anyone with nothing to do with it."""
    return presenter.seen(meeting_id, optional_user_id(), entry_compound_id())[1]


@blp.route(f"/compounds/{COMPOUND_ID}/meetings")
class CompoundMeetings(MethodView):
    @blp.arguments(MeetingCreateSchema)
    @blp.response(201, MeetingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, body, compound_id):
        """Convene a meeting (committee, party secretary, official): kind, title, agenda, start, place, an
        optional topic of this compound, and invitees by party. The convener and the invited users are told
        at once and reminded the day before and 1 h before."""
        authorize(Action.CONVENE_MEETINGS, compound_id, optional_user_id())
        meeting = service.create_meeting(
            compound_id=compound_id, convener_id=optional_user_id(), ip=client_ip(), **body
        )
        return presenter.meeting_detail(meeting.id, optional_user_id())

    @blp.arguments(PageQuery, location="query")
    @blp.response(200, MeetingListSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, query, compound_id):
        """Coming meetings first (soonest on top, until their check-in closes), then past ones, latest first.
        Open to everyone of the compound, QR visitors included; `actions` holds `convene` for those who may."""
        return presenter.meeting_list(
            compound_id, optional_user_id(), entry_compound_id(), query["page"], query["page_size"]
        )


@blp.route(f"/meetings/{MEETING_ID}")
class MeetingDetail(MethodView):
    @blp.response(200, MeetingDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, meeting_id):
        """The meeting with its invitees by party and the attendance count; minutes and resolutions once
        published (the draft to its convener); `actions`: what this person may do with it."""
        return presenter.meeting_detail(meeting_id, optional_user_id(), entry_compound_id())


@blp.route(f"/meetings/{MEETING_ID}/invitees")
class Invitees(MethodView):
    @blp.arguments(InviteSchema)
    @blp.response(200, MeetingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="会议已开始")
    @jwt_required()
    def post(self, body, meeting_id):
        """Invite more people before the start; those already invited are left as they are."""
        service.invite(meeting_id, optional_user_id(), _roles(meeting_id), body["invitees"], client_ip())
        return presenter.meeting_detail(meeting_id, optional_user_id(), entry_compound_id())


@blp.route(f"/meetings/{MEETING_ID}/checkin")
class CheckIn(MethodView):
    @blp.arguments(CheckInSchema)
    @blp.response(200, CheckInResultSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema, description="签到二维码无效、已停用或不属于这场会议")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="签到时间为会议开始前1小时至开始后2小时")
    @jwt_required()
    def post(self, body, meeting_id):
        """Check in with the token of the meeting's QR code (its `t` parameter), once per person: a second scan
        records nothing and answers with the first time. Anyone signed in may check in with a valid code
        (a merchant or company representative holds no role in the compound)."""
        return presenter.checked_in(meeting_id, optional_user_id(), body["token"], entry_compound_id())


@blp.route(f"/meetings/{MEETING_ID}/minutes")
class Minutes(MethodView):
    @blp.arguments(MinutesSchema)
    @blp.response(200, MeetingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="会议开始前不能公布纪要")
    @jwt_required()
    def put(self, body, meeting_id):
        """Save the minutes and resolutions (the convener or a convening role; audited). `publish` shows them
        to everyone of the compound and tells the invitees and attendees; published minutes stay published."""
        service.record_minutes(meeting_id, optional_user_id(), _roles(meeting_id), ip=client_ip(), **body)
        return presenter.meeting_detail(meeting_id, optional_user_id(), entry_compound_id())


@blp.route(f"/meetings/{MEETING_ID}/attendance")
class Attendance(MethodView):
    @blp.arguments(PageQuery, location="query")
    @blp.response(200, envelope(AttendeeSchema))
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, query, meeting_id):
        """Who checked in, in the order they came: for the convener and convening roles. Everyone else of the
        compound sees only the count (attendance_count of the meeting)."""
        return presenter.attendance(meeting_id, optional_user_id(), query["page"], query["page_size"])


@blp.route(f"/meetings/{MEETING_ID}/checkin-qr.png")
class CheckInQr(MethodView):
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def get(self, meeting_id):
        """The check-in QR code as PNG (for the convener and convening roles): it opens
        /h5/meetings/<id>/checkin?t=… and works from 1 h before to 2 h after the start."""
        url = presenter.checkin_url(meeting_id, optional_user_id())
        response = Response(qr_service.qr_png(url), mimetype="image/png")
        # Whoever holds the image can check in: never in a shared cache.
        response.headers["Cache-Control"] = "private, no-store"
        return response


@blp.route(f"/meetings/{MEETING_ID}/checkin-qr/renew")
class RenewCheckInQr(MethodView):
    @blp.response(200, MeetingDetailSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @jwt_required()
    def post(self, meeting_id):
        """Void every check-in code issued so far (e.g. a poster photographed and shared) and issue a new one
        (the convener and convening roles; audited). Check-ins already recorded stay. It cannot be undone and is
        not asked about here: confirm with the user first."""
        service.renew_checkin_code(meeting_id, optional_user_id(), _roles(meeting_id), client_ip())
        return presenter.meeting_detail(meeting_id, optional_user_id(), entry_compound_id())
