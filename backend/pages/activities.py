"""党建+ activities (社区活动) pages: the list, organising, the activity with sign-up, waiting list and report, the
printable check-in poster, the page the check-in QR code opens, and 我的志愿服务 (with the per-person record for
organisers). What each shows is the presenter's (presenters/activities.py); forms are loaded by the API's schemas."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain.activities import MAX_PHOTOS, ActivityAction
from backend.domain.roles import Action
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, page_number, require_user_for_post
from backend.policy import authorize
from backend.presenters import activities as presenter
from backend.request_context import client_ip, entry_compound_id, optional_user_id
from backend.schemas.activities import ActivityFormSchema, ActivityReportSchema, SignupSchema, YearQuery
from backend.schemas.meetings import CheckInSchema
from backend.services import activities as service
from backend.services import qr as qr_service
from backend.services.photos import photo_response, prepare_photo

PAGE_SIZE = 20
ACTIVITY_ID = "<int(min=1, max=2147483647):activity_id>"
ENTRY_FIELDS = ("kind", "title", "description", "starts_at", "ends_at", "place", "organiser", "capacity")


def _detail_redirect(activity_id: int):
    return redirect(url_for("h5.activity_detail", activity_id=activity_id))


def _year() -> int | None:
    return load_form(YearQuery(), {"year": request.args["year"]} if request.args.get("year") else {})["year"]


@h5.get("/c/<code>/activities")
def activity_list(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None and entry_compound_id() != compound.id:
        return login_redirect()
    listing = presenter.activity_list(compound.id, user_id, entry_compound_id(), page_number(), PAGE_SIZE)
    return render_template("activities/list.html", compound=compound, listing=listing)


def _new_page(compound, form: dict, error: str | None = None) -> str:
    return render_template("activities/new.html", compound=compound, form=form, error=error,
                           kinds=presenter.kinds())


@h5.get("/c/<code>/activities/new")
def activity_form(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(Action.ORGANISE_ACTIVITIES, compound.id, user_id)
    return _new_page(compound, {"kind": "clinic"})


@h5.post("/c/<code>/activities/new")
def activity_create(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(Action.ORGANISE_ACTIVITIES, compound.id, user_id)
    entries = {field: request.form.get(field, "").strip() for field in ENTRY_FIELDS}
    show_refusal_with(lambda refused: _new_page(compound, entries, refused.message))
    activity = service.create_activity(compound_id=compound.id, creator_id=user_id, ip=client_ip(),
                                       **load_form(ActivityFormSchema()))
    flash("活动已发布，居民可以报名", "success")
    return _detail_redirect(activity.id)


def _detail_page(activity_id: int, error: str | None = None, report: str | None = None) -> str:
    user_id = optional_user_id()
    activity = presenter.activity_detail(activity_id, user_id, entry_compound_id())
    signups = presenter.signups(activity_id, user_id) if ActivityAction.VIEW_SIGNUPS in activity.actions else None
    return render_template("activities/detail.html", activity=activity, signups=signups, error=error,
                           report=activity.report if report is None else report, max_photos=MAX_PHOTOS)


@h5.get(f"/activities/{ACTIVITY_ID}")
def activity_detail(activity_id: int):
    activity = service.get_activity(activity_id)
    if activity is None:
        abort(404)
    if optional_user_id() is None and entry_compound_id() != activity.compound_id:
        return login_redirect()
    return _detail_page(activity_id)


def _detail_form(activity_id: int) -> int:
    """A form of the detail page: a refusal shows the page again with the reason."""
    user_id = require_user_for_post()
    presenter.seen(activity_id, user_id, entry_compound_id())
    show_refusal_with(lambda refused: _detail_page(activity_id, refused.message, request.form.get("report")))
    return user_id


@h5.post(f"/activities/{ACTIVITY_ID}/signup")
def activity_sign_up(activity_id: int):
    user_id = _detail_form(activity_id)
    result = presenter.signed_up(activity_id, user_id, load_form(SignupSchema())["as_volunteer"])
    flash(result.message, "success")
    return _detail_redirect(activity_id)


@h5.post(f"/activities/{ACTIVITY_ID}/signup/cancel")
def activity_cancel_signup(activity_id: int):
    user_id = _detail_form(activity_id)
    flash(presenter.signup_cancelled(activity_id, user_id).message, "success")
    return _detail_redirect(activity_id)


@h5.post(f"/activities/{ACTIVITY_ID}/cancel")
def activity_cancel(activity_id: int):
    user_id = _detail_form(activity_id)
    service.cancel_activity(activity_id, user_id, presenter.organiser_roles(activity_id, user_id), client_ip())
    flash("活动已取消，已通知报名的居民", "success")
    return _detail_redirect(activity_id)


@h5.post(f"/activities/{ACTIVITY_ID}/checkin-code")
def activity_renew_checkin_code(activity_id: int):
    user_id = _detail_form(activity_id)
    service.renew_checkin_code(activity_id, user_id, presenter.organiser_roles(activity_id, user_id), client_ip())
    flash("旧签到二维码已作废，请打印新的签到海报", "success")
    return _detail_redirect(activity_id)


@h5.post(f"/activities/{ACTIVITY_ID}/report")
def activity_report(activity_id: int):
    user_id = _detail_form(activity_id)
    # A file input left empty still sends one part with no file name.
    body = load_form(ActivityReportSchema(), photos=[item for item in request.files.getlist("photos") if item.filename])
    photos = [prepare_photo(upload.stream) for upload in body["photos"]]
    service.post_report(activity_id, user_id, presenter.organiser_roles(activity_id, user_id), body["report"],
                        photos, client_ip())
    flash("活动报道已发布", "success")
    return _detail_redirect(activity_id)


@h5.get(f"/activities/{ACTIVITY_ID}/photos/<int(min=1, max=2147483647):photo_id>")
def activity_photo(activity_id: int, photo_id: int):
    return photo_response(presenter.photo(activity_id, photo_id, optional_user_id(), entry_compound_id()),
                          max_age=3600)


@h5.get(f"/activities/{ACTIVITY_ID}/poster")
def activity_poster(activity_id: int):
    """A4 poster for the place: title, time and the check-in QR code."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    poster = presenter.poster(activity_id, user_id)
    return render_template("activities/poster.html", poster=poster, qr_svg=qr_service.qr_svg(poster.checkin_url))


@h5.get(f"/activities/{ACTIVITY_ID}/checkin")
def activity_checkin(activity_id: int):
    """What the check-in QR code opens: signed in, the check-in is recorded (once) and confirmed."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    token = load_form(CheckInSchema(), {"token": request.args.get("t", "")})["token"]
    answer = presenter.checked_in(activity_id, user_id, token, entry_compound_id())
    return render_template("activities/checkin.html", answer=answer)


@h5.get("/volunteering")
def my_volunteering():
    """我的志愿服务: the year's record a person can show."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    record = presenter.volunteer_record(user_id, _year())
    return render_template("activities/volunteering.html", record=record)


@h5.get("/c/<code>/volunteering")
def compound_volunteering(code: str):
    """Per person, the year's volunteer hours at the compound's activities: for organisers."""
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    totals = presenter.volunteer_totals(compound.id, user_id, _year())
    return render_template("activities/volunteers.html", totals=totals)
