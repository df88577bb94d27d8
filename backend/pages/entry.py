"""QR entry and the compound home page, the poster, and the start page."""
from __future__ import annotations

from flask import abort, current_app, make_response, redirect, render_template, request, url_for

from backend.domain.roles import Action, allows
from backend.domain.workorders import STATUS_LABELS
from backend.pages import h5
from backend.pages.helpers import compound_by_code
from backend.policy import authorize, roles_in_compound, visible_compounds
from backend.presenters import activities as activity_presenter
from backend.presenters import announcements as announcement_presenter
from backend.presenters import campaigns as campaign_presenter
from backend.presenters import dashboard as dashboard_presenter
from backend.presenters import fund_statements as fund_statements_presenter
from backend.presenters import overview as overview_presenter
from backend.presenters import renovation as renovation_presenter
from backend.presenters import surveys as survey_presenter
from backend.presenters import workorders as workorder_presenter
from backend.presenters.rating import compound_stars, rates_companies
from backend.presenters.reports import report_areas
from backend.request_context import ENTRY_COOKIE, entry_compound_id, optional_user_id
from backend.schemas.common import MAX_ID
from backend.services import bindings as binding_service
from backend.services import compounds as compound_service
from backend.services import qr as qr_service
from backend.shared.clock import utcnow

ENTRY_COOKIE_MAX_AGE = 30 * 86400


@h5.get("/")
def index():
    user_id = optional_user_id()
    compounds = []
    if user_id:
        compounds = compound_service.compound_rows(visible_compounds(user_id), 1, 100, assessed=set()).items
    # An official, a committee or a surveyor: the start page links to their campaigns.
    survey_work = user_id is not None and survey_presenter.has_survey_work(user_id)
    # An official lands here after signing in: their area's figures first.
    overview = overview_presenter.area_overview(user_id, [item["compound"] for item in compounds], utcnow()) \
        if user_id else None
    return render_template("index.html", compounds=compounds, rates_companies=rates_companies(user_id),
                           survey_work=survey_work, overview=overview, report_areas=report_areas(user_id),
                           dashboard_areas=dashboard_presenter.landing_areas(user_id),
                           # Issue 19: environment campaigns.
                           campaign_work=campaign_presenter.has_campaign_work(user_id))


@h5.get("/c/<code>")
def compound_home(code: str):
    token = request.args.get("t")
    if token is not None:
        qr_service.enter(token, compound_by_code(code).id)
        # Keep the proof of scanning in a cookie and drop the token from the address bar.
        response = make_response(redirect(url_for("h5.compound_home", code=code)))
        response.set_cookie(ENTRY_COOKIE, token, max_age=ENTRY_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=current_app.config["JWT_COOKIE_SECURE"])
        return response
    compound = compound_by_code(code)
    user_id = optional_user_id()
    roles = roles_in_compound(user_id, compound.id, entry_compound_id())
    if not roles:
        message = "请扫描小区张贴的二维码进入" if user_id is None else "您还不是该小区的住户，请扫描小区二维码后申请绑定房屋"
        return render_template("error.html", code=403, message=message), 403
    memberships, my_requests = binding_service.standing_in_compound(user_id, compound.id) if user_id else ([], [])
    can_review = allows(roles, Action.REVIEW_BINDINGS)
    return render_template(
        "compound_home.html",
        compound=compound,
        memberships=memberships,
        my_requests=my_requests,
        can_review=can_review,
        can_print=allows(roles, Action.PRINT_QR),
        # Officials (and admins) over the compound: its governance, flags, inspections, rectifications, disputes.
        oversees=allows(roles, Action.VIEW_FLAGS),
        # The parties that answer rectification items (company, committee) follow the compound's 整改台账 too.
        follows_rectifications=allows(roles, Action.VIEW_RECTIFICATIONS),
        pending_count=binding_service.pending_count(compound.id) if can_review else 0,
        company_stars=compound_stars(compound),
        open_surveys=survey_presenter.open_count(compound.id),
        workbench=workorder_presenter.workbench(compound.id, user_id, roles) if user_id else None,
        status_labels=STATUS_LABELS,
        can_set_phones=allows(roles, Action.SET_SERVICE_PHONE) or allows(roles, Action.SET_COMMITTEE_PHONE),
        announcements=announcement_presenter.home_block(compound.id, user_id, roles),
        # 公共账本 and 公示栏 (Art. 943): for whoever may read the compound's money; a visitor's QR scan is not enough.
        funds=fund_statements_presenter.home_block(compound.id, compound.management_model, roles),
        # Issue 19: 社区活动, where the compound has coming activities (or for those who organise them).
        activities=activity_presenter.home_block(compound.id, user_id, roles),
        # Issue 19: 改造进度, where the compound has renovation projects.
        renovation=renovation_presenter.home_block(compound.id, roles),
        # Issue 19, contracts: the company's selection, contract and handover, for the compound's people.
        contracts_link=allows(roles, Action.VIEW_CONTRACTS),
    )


@h5.get("/c/<code>/poster")
def poster(code: str):
    """A4 poster: compound name, large-print steps, the QR code. Printed by committee, staff or officials."""
    compound = compound_by_code(code)
    authorize(Action.PRINT_QR, compound.id, optional_user_id())
    building_id = request.args.get("building_id", type=int)
    if building_id is not None and not 0 < building_id <= MAX_ID:
        abort(404)
    try:
        building = compound_service.building_in(compound.id, building_id)
    except LookupError:
        abort(404)
    svg = qr_service.qr_svg(qr_service.entry_url(compound, building))
    return render_template("poster.html", compound=compound, building=building, qr_svg=svg)
