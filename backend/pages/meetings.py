"""The four meetings (四会) pages: the list, convening with invitees by party, the detail with minutes and
attendance, the printable check-in poster, and the page the check-in QR code opens. What each shows is the
presenter's (presenters/meetings.py); forms are loaded by the API's schemas (schemas/meetings.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain.meetings import MeetingAction
from backend.domain.roles import Action
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import (
    compound_by_code,
    confirm_step,
    confirmed,
    login_redirect,
    page_number,
    require_user_for_post,
)
from backend.policy import authorize
from backend.presenters import meetings as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.meetings import (
    NAME_FIELDS,
    CheckInSchema,
    InviteFormSchema,
    MeetingFormSchema,
    MinutesSchema,
)
from backend.services import meetings as service
from backend.services import qr as qr_service

PAGE_SIZE = 20
# Enough for any meeting room; the API pages further.
ATTENDANCE_SHOWN = 500
MEETING_ID = "<int(min=1, max=2147483647):meeting_id>"
ENTRY_FIELDS = ("kind", "title", "agenda", "starts_at", "place", "topic_id", "minutes", "resolutions")


def _entries() -> dict:
    """What the person typed and ticked, to show the form again as they left it."""
    return {
        "members": set(request.form.getlist("members")),
        **{field: request.form[field].strip() for field in (*ENTRY_FIELDS, *NAME_FIELDS) if field in request.form},
    }


def _detail_redirect(meeting_id: int):
    return redirect(url_for("h5.meeting_detail", meeting_id=meeting_id))


# ---- list -------------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/meetings")
def meeting_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and entry_compound_id() != compound.id:
        return login_redirect()
    listing = presenter.meeting_list(compound.id, user_id, entry_compound_id(), page_number(), PAGE_SIZE)
    return render_template("meetings/list.html", compound=compound, listing=listing)


# ---- convening --------------------------------------------------------------------------------------------------


def _new_page(compound, form: dict, error: str | None = None) -> str:
    return render_template(
        "meetings/new.html",
        compound=compound,
        form=form,
        error=error,
        choices=presenter.convening_form(compound.id, optional_user_id()),
    )


@h5.get("/c/<code>/meetings/new")
def meeting_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(Action.CONVENE_MEETINGS, compound.id, user_id)
    return _new_page(compound, {"kind": "deliberation", "members": set()})


@h5.post("/c/<code>/meetings/new")
def meeting_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.CONVENE_MEETINGS, compound.id, user_id)
    show_refusal_with(lambda refused: _new_page(compound, _entries(), refused.message))
    meeting = service.create_meeting(
        compound_id=compound.id, convener_id=user_id, ip=client_ip(), **load_form(MeetingFormSchema())
    )
    flash("会议已发布，受邀人会收到通知", "success")
    return _detail_redirect(meeting.id)


# ---- detail -----------------------------------------------------------------------------------------------------


def _detail_page(meeting_id: int, form: dict | None = None, error: str | None = None) -> str:
    user_id = optional_user_id()
    meeting = presenter.meeting_detail(meeting_id, user_id, entry_compound_id())
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        attendance=presenter.attendance(meeting_id, user_id, 1, ATTENDANCE_SHOWN)
        if MeetingAction.VIEW_ATTENDANCE in meeting.actions
        else None,
        members=presenter.members_to_invite(meeting),
        form=form or {"members": set()},
        error=error,
        named_parties=presenter.NAMED_PARTIES,
    )


@h5.get(f"/meetings/{MEETING_ID}")
def meeting_detail(meeting_id: int):
    meeting = service.get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    if optional_user_id() is None and entry_compound_id() != meeting.compound_id:
        return login_redirect()
    return _detail_page(meeting_id)


def _roles(meeting_id: int, user_id: int):
    """The person's roles in the meeting's compound; 404 for anyone with nothing to do with it."""
    return presenter.seen(meeting_id, user_id, entry_compound_id())[1]


def _convener_form(meeting_id: int) -> tuple[int, frozenset]:
    """A form of the detail's convener part: once the meeting is known to the person, a refusal shows the detail
    again with the entries and the reason."""
    user_id = require_user_for_post()
    roles = _roles(meeting_id, user_id)
    show_refusal_with(lambda refused: _detail_page(meeting_id, _entries(), refused.message))
    return user_id, roles


@h5.post(f"/meetings/{MEETING_ID}/invitees")
def meeting_invite(meeting_id: int):
    user_id, roles = _convener_form(meeting_id)
    service.invite(meeting_id, user_id, roles, load_form(InviteFormSchema())["invitees"], client_ip())
    flash("已邀请，受邀人会收到通知", "success")
    return _detail_redirect(meeting_id)


@h5.post(f"/meetings/{MEETING_ID}/minutes")
def meeting_minutes(meeting_id: int):
    user_id, roles = _convener_form(meeting_id)
    body = load_form(MinutesSchema())
    service.record_minutes(meeting_id, user_id, roles, ip=client_ip(), **body)
    flash("纪要已公布，居民可以查看" if body["publish"] else "纪要已保存", "success")
    return _detail_redirect(meeting_id)


@h5.post(f"/meetings/{MEETING_ID}/checkin-code")
def meeting_renew_checkin_code(meeting_id: int):
    user_id = require_user_for_post()
    confirmation = presenter.renew_checkin_confirmation(meeting_id, user_id)
    if confirmation is not None and not confirmed():
        meeting = service.get_meeting(meeting_id)
        return confirm_step(confirmation, meeting.title, url_for("h5.meeting_detail", meeting_id=meeting_id))
    service.renew_checkin_code(meeting_id, user_id, _roles(meeting_id, user_id), client_ip())
    flash("旧签到二维码已作废，请打印新的签到海报", "success")
    return _detail_redirect(meeting_id)


# ---- the QR poster and check-in ----------------------------------------------------------------------------------


@h5.get(f"/meetings/{MEETING_ID}/poster")
def meeting_poster(meeting_id: int):
    """A4 poster for the meeting room: title, time, place and the check-in QR code."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    poster = presenter.poster(meeting_id, user_id)
    return render_template("meetings/poster.html", poster=poster, qr_svg=qr_service.qr_svg(poster.checkin_url))


@h5.get(f"/meetings/{MEETING_ID}/checkin")
def meeting_checkin(meeting_id: int):
    """What the check-in QR code opens: signed in, the attendance is recorded (once) and confirmed."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    token = load_form(CheckInSchema(), {"token": request.args.get("t", "")})["token"]
    answer = presenter.checked_in(meeting_id, user_id, token, entry_compound_id())
    return render_template("meetings/checkin.html", answer=answer)
