"""The four meetings (四会) pages: the list, convening with invitees by party, the detail with minutes and
attendance, the printable check-in poster, and the page the check-in QR code opens."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain.consultations import MEETING_KIND_LABELS, PARTY_LABELS, MeetingKind, Party
from backend.domain.refusals import Kind
from backend.domain.roles import Action, allows
from backend.extensions import db
from backend.pages import h5
from backend.pages.helpers import (
    compound_by_code,
    login_redirect,
    page_number,
    parse_id,
    require_user_for_post,
)
from backend.policy import authorize, roles_in_compound
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.services import meetings as service
from backend.services import qr as qr_service
from backend.services.meetings import CHECKIN_WINDOW_MESSAGE, InviteeSpec, MeetingRefused
from backend.shared.clock import beijing_moment, utcnow

PAGE_SIZE = 20
# Enough for any meeting room; the API pages further.
ATTENDANCE_SHOWN = 500
MEETING_ID = "<int(min=1, max=2147483647):meeting_id>"
# Representatives typed one per line, or separated by commas or 、 as people write lists.
NAME_SEPARATORS = re.compile(r"[\n\r,，、;；]+")
NAME_FIELDS = {"merchant_names": Party.MERCHANT, "resident_names": Party.RESIDENT}
TEXT_LIMITS = {"title": 60, "agenda": 2000, "place": 100, "minutes": 20_000, "resolutions": 20_000}


def _detail_redirect(meeting_id: int):
    return redirect(url_for("h5.meeting_detail", meeting_id=meeting_id))


def _viewed(meeting_id: int):
    """The meeting and the caller's access to its compound; 404 for anyone with nothing to do with it."""
    meeting = service.get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    access = authorize(Action.VIEW_MEETINGS, meeting.compound_id, optional_user_id(), entry_compound_id())
    return meeting, access


# ---- the form's invitees ----------------------------------------------------------------------------------


def _chosen_members() -> list[InviteeSpec]:
    """Checkbox values "<party>:<user id>"; anything else is ignored (the service checks the person)."""
    chosen = []
    for value in request.form.getlist("members"):
        party, _, user_id = value.partition(":")
        if party in {p.value for p in Party} and parse_id(user_id) is not None:
            chosen.append(InviteeSpec(party=Party(party), user_id=int(user_id)))
    return chosen


def _named_invitees() -> list[InviteeSpec]:
    return [
        InviteeSpec(party=party, name=name.strip())
        for field, party in NAME_FIELDS.items()
        for name in NAME_SEPARATORS.split(request.form.get(field, ""))
        if name.strip()
    ]


def _members_to_offer(compound_id: int, leave_out: set[int]) -> list:
    """The compound's people to tick, without the convener (told anyway) and those already invited."""
    return [member for member in service.invitable_members(compound_id) if member[1].id not in leave_out]


def _invitee_form() -> dict:
    return {
        "members": set(request.form.getlist("members")),
        **{field: request.form.get(field, "").strip() for field in NAME_FIELDS},
    }


# ---- list -------------------------------------------------------------------------------------------------------


@h5.get("/c/<code>/meetings")
def meeting_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and entry_compound_id() != compound.id:
        return login_redirect()
    access = authorize(Action.VIEW_MEETINGS, compound.id, user_id, entry_compound_id())
    now = utcnow()
    page = service.meetings_page(compound.id, page_number(), PAGE_SIZE, now)
    return render_template(
        "meetings/list.html",
        compound=compound,
        page=page,
        coming=[m for m in page.items if service.is_upcoming(m, now)],
        past=[m for m in page.items if not service.is_upcoming(m, now)],
        can_convene=user_id is not None and allows(access.roles, Action.CONVENE_MEETINGS),
        kind_labels=MEETING_KIND_LABELS,
    )


# ---- convening --------------------------------------------------------------------------------------------------


def _render_new(compound, form: dict, error: str | None = None, status: int = 200):
    return (
        render_template(
            "meetings/new.html",
            compound=compound,
            form=form,
            error=error,
            members=_members_to_offer(compound.id, {optional_user_id()}),
            topics=service.linkable_topics(compound.id),
            kind_labels=MEETING_KIND_LABELS,
            party_labels=PARTY_LABELS,
        ),
        status,
    )


def _form_error(form: dict) -> str | None:
    if form["kind"] not in {kind.value for kind in MeetingKind}:
        return "请选择会议类型"
    if not all(form[key] for key in ("title", "agenda", "starts_at", "place")):
        return "请填写会议名称、议程、时间和地点"
    if any(len(form[key]) > limit for key, limit in TEXT_LIMITS.items() if key in form):
        return "填写内容过长，请精简后再提交"
    if beijing_moment(form["starts_at"]) is None:
        return "请选择会议日期和时间"
    if form["topic_id"] and parse_id(form["topic_id"]) is None:
        return "请选择关联议题"
    return None


@h5.get("/c/<code>/meetings/new")
def meeting_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(Action.CONVENE_MEETINGS, compound.id, user_id)
    return _render_new(compound, {"kind": MeetingKind.DELIBERATION.value, "members": set()})


@h5.post("/c/<code>/meetings/new")
def meeting_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.CONVENE_MEETINGS, compound.id, user_id)
    form = {
        key: request.form.get(key, "").strip()
        for key in ("kind", "title", "agenda", "starts_at", "place", "topic_id")
    }
    form |= _invitee_form()
    error = _form_error(form)
    if error:
        return _render_new(compound, form, error, 422)
    try:
        meeting = service.create_meeting(
            compound_id=compound.id,
            convener_id=user_id,
            kind=MeetingKind(form["kind"]),
            title=form["title"],
            agenda=form["agenda"],
            starts_at=beijing_moment(form["starts_at"]),
            place=form["place"],
            topic_id=parse_id(form["topic_id"]) if form["topic_id"] else None,
            invitees=_chosen_members() + _named_invitees(),
            ip=client_ip(),
        )
    except MeetingRefused as exc:
        db.session.rollback()
        return _render_new(compound, form, exc.message, exc.status)
    flash("会议已发布，受邀人会收到通知", "success")
    return _detail_redirect(meeting.id)


# ---- detail -----------------------------------------------------------------------------------------------------


@h5.get(f"/meetings/{MEETING_ID}")
def meeting_detail(meeting_id: int):
    user_id = optional_user_id()
    meeting = service.get_meeting(meeting_id)
    if meeting is None:
        abort(404)
    if user_id is None and entry_compound_id() != meeting.compound_id:
        return login_redirect()
    access = authorize(Action.VIEW_MEETINGS, meeting.compound_id, user_id, entry_compound_id())
    detail = service.detail(meeting, user_id, access.roles)
    now = utcnow()
    invited = {line.user_id for line in detail.invitees if line.user_id is not None} | {meeting.convener_id}
    return render_template(
        "meetings/detail.html",
        meeting=detail,
        compound=access.compound,
        now=now,
        started=meeting.starts_at <= now,
        invitees_by_party=[
            (PARTY_LABELS[party], [line for line in detail.invitees if line.party is party])
            for party in Party
        ],
        attendance=service.attendance_page(meeting.id, 1, ATTENDANCE_SHOWN) if detail.can_manage else None,
        members=_members_to_offer(meeting.compound_id, invited) if detail.can_manage else (),
        form={"members": set()},
        kind_labels=MEETING_KIND_LABELS,
        party_labels=PARTY_LABELS,
    )


def _manage(meeting_id: int, work):
    """Run one convener's step from the detail page; a refusal comes back as a message there, never a 500."""
    user_id = require_user_for_post()
    meeting, access = _viewed(meeting_id)
    if not service.may_manage(meeting, user_id, access.roles):
        abort(403)
    try:
        message = work(meeting, user_id, access.roles)
    except MeetingRefused as exc:
        db.session.rollback()
        flash(exc.message, "warn")
    else:
        flash(message, "success")
    return _detail_redirect(meeting_id)


@h5.post(f"/meetings/{MEETING_ID}/invitees")
def meeting_invite(meeting_id: int):
    def run(meeting, user_id, roles) -> str:
        invitees = _chosen_members() + _named_invitees()
        if not invitees:
            raise MeetingRefused("请选择或填写要邀请的人", Kind.INVALID)
        service.invite(meeting.id, user_id, roles, invitees, client_ip())
        return "已邀请，受邀人会收到通知"

    return _manage(meeting_id, run)


@h5.post(f"/meetings/{MEETING_ID}/minutes")
def meeting_minutes(meeting_id: int):
    def run(meeting, user_id, roles) -> str:
        minutes, resolutions = request.form.get("minutes", ""), request.form.get("resolutions", "")
        if len(minutes) > TEXT_LIMITS["minutes"] or len(resolutions) > TEXT_LIMITS["resolutions"]:
            raise MeetingRefused("纪要内容过长，请精简后再保存", Kind.INVALID)
        publish = request.form.get("publish") == "1"
        service.record_minutes(meeting.id, user_id, roles, minutes, resolutions, publish, client_ip())
        return "纪要已公布，居民可以查看" if publish else "纪要已保存"

    return _manage(meeting_id, run)


@h5.post(f"/meetings/{MEETING_ID}/checkin-code")
def meeting_renew_checkin_code(meeting_id: int):
    def run(meeting, user_id, roles) -> str:
        service.renew_checkin_code(meeting.id, user_id, roles, client_ip())
        return "旧签到二维码已作废，请打印新的签到海报"

    return _manage(meeting_id, run)


# ---- the QR poster and check-in ----------------------------------------------------------------------------------


@h5.get(f"/meetings/{MEETING_ID}/poster")
def meeting_poster(meeting_id: int):
    """A4 poster for the meeting room: title, time, place and the check-in QR code."""
    if optional_user_id() is None:
        return login_redirect()
    meeting, access = _viewed(meeting_id)
    if not service.may_manage(meeting, optional_user_id(), access.roles):
        abort(403)
    url = service.checkin_url(meeting)
    return render_template(
        "meetings/poster.html",
        meeting=meeting,
        compound=access.compound,
        checkin_url=url,
        qr_svg=qr_service.qr_svg(url),
        kind_labels=MEETING_KIND_LABELS,
        window_message=CHECKIN_WINDOW_MESSAGE,
    )


@h5.get(f"/meetings/{MEETING_ID}/checkin")
def meeting_checkin(meeting_id: int):
    """What the check-in QR code opens: signed in, the attendance is recorded (once) and confirmed."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    try:
        result = service.check_in(meeting_id, user_id, request.args.get("t"))
    except MeetingRefused as exc:
        db.session.rollback()
        return render_template("error.html", code=exc.status, message=exc.message), exc.status
    return render_template(
        "meetings/checkin.html",
        result=result,
        kind_labels=MEETING_KIND_LABELS,
        may_view=bool(roles_in_compound(user_id, result.meeting.compound_id, entry_compound_id())),
    )
