"""The H5 blueprint: server-rendered Chinese pages (WeUI look) that call the same services as the API."""
from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request

from backend.domain.compounds import MANAGEMENT_MODEL_LABELS, format_floor_area, household_label
from backend.domain.text import unstorable
from backend.errors import DATABASE_UNAVAILABLE_FLAG
from backend.pages.forms import maxlength
from backend.request_context import optional_user_id, verified_claims
from backend.services import notifications as notification_service
from backend.services import people as people_service
from backend.shared.clock import SHANGHAI

h5 = Blueprint("h5", __name__, url_prefix="/h5")
LARGE_TEXT_COOKIE = "linli_large_text"


@h5.app_template_filter("local_time")
def local_time(value) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


h5.add_app_template_global(maxlength)


@h5.app_template_filter("floor_area")
def floor_area(centi_m2: int) -> str:
    return format_floor_area(centi_m2)


@h5.app_template_filter("house")
def house(household) -> str:
    """A household as every page writes it: 1栋1单元101室."""
    return household_label(household.building.name, household.unit, household.room)


@h5.app_context_processor
def page_context() -> dict:
    # A page the router found no view for (404, or 405 for a method the path does not take) has no blueprint,
    # yet it is one of ours by its path: its header must still see who is signed in.
    if request.blueprint != "h5" and not (request.path + "/").startswith(h5.url_prefix + "/"):
        return {}
    # The page saying the database is unavailable must not ask it who is signed in (that is what failed).
    user_id = None if g.get(DATABASE_UNAVAILABLE_FLAG) else optional_user_id()
    user = people_service.get_user(user_id) if user_id else None
    large_text = user.large_text if user else request.cookies.get(LARGE_TEXT_COOKIE) == "1"
    csrf = verified_claims().get("csrf", "") if user else ""
    return {
        "current_user": user,
        # The header's 消息 badge: one COUNT, and only for someone signed in.
        "unread_notifications": notification_service.unread_count(user.id) if user else 0,
        "large_text": large_text,
        "csrf_token": csrf,
        "model_labels": MANAGEMENT_MODEL_LABELS,
    }


# Pages whose forms carry photos (6 of at most 10 MB each); every other request keeps the app's 12 MB cap.
PHOTO_FORM_ENDPOINTS = frozenset({
    "h5.work_order_submit", "h5.work_order_step", "h5.topic_create", "h5.topic_progress", "h5.topic_paper_vote",
    "h5.rating_inspection_create", "h5.announcement_create", "h5.announcement_update", "h5.inspection_create",
    "h5.rectification_answer", "h5.fund_entry_create", "h5.fund_entry_reverse", "h5.spending_create",
    "h5.disclosure_create",
    # Issue 19, contracts: a handover item's photos, a contract's file.
    "h5.handover_item_record", "h5.contract_terms",
})
PHOTO_FORM_MAX_BYTES = 64 * 1024 * 1024
# Issue 19.
PHOTO_FORM_ENDPOINTS |= {"h5.activity_report"}


@h5.before_request
def allow_photo_forms():
    # First of the hooks: the next ones read the form, and the limit must be set before anything does.
    if request.endpoint in PHOTO_FORM_ENDPOINTS:
        request.max_content_length = PHOTO_FORM_MAX_BYTES


@h5.before_request
def refuse_cross_site_posts():
    """Forms are posted from our own pages only. Browsers name the page that posts (Origin, and
    Sec-Fetch-Site where supported): a post from another site, e.g. a forged sign-in form, is refused."""
    if request.method != "POST":
        return None
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or (origin and origin != request.host_url.rstrip("/")):
        return render_template("error.html", code=403, message="安全校验失败，请从本站页面提交"), 403
    return None


@h5.before_request
def refuse_unstorable_text():
    # A NUL in a form field would otherwise surface as a PostgreSQL error, i.e. a 500, deep in a query.
    if any(unstorable(values) for values in request.form.lists()):
        abort(400)


from backend.pages import (  # noqa: E402,F401  (routes register on h5)
    activities,
    announcements,
    auth,
    backbones,
    bindings,
    campaigns,
    consultation_settings,
    consultations,
    contracts,
    dashboard,
    disclosures,
    disputes,
    entry,
    fee_desk,
    fees,
    flags,
    fund_statements,
    fund_years,
    funds,
    governance,
    ledger,
    meetings,
    notifications,
    rating,
    rectifications,
    renovation,
    reports,
    settings,
    spending,
    surveys,
    uploads,
    workorder_categories,
    workorders,
)

# Issue 19: environment campaigns.
PHOTO_FORM_ENDPOINTS |= {"h5.campaign_score_save"}
