"""Problem compounds (问题小区) pages for officials: an area's flagged compounds with reasons and since when (and the
cleared history), a compound's flags and history with a 重新研判 button, and the area's thresholds. What each shows
is the presenter's (presenters/flags.py); the thresholds form is loaded by the API's schema (schemas/flags.py)."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for

from backend.domain.flags import THRESHOLD_FIELDS
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, require_user_for_post
from backend.presenters import flags as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.flags import FlagQuery, FlagThresholdsSchema
from backend.services import flags as service
from backend.services import rating as rating_service

AREA_ID = "<int(min=1, max=2147483647):area_id>"
COMPOUND_ID = "<int(min=1, max=2147483647):compound_id>"
PAGE_SIZE = 50
PERCENT = re.compile(r"(\d{1,3})(?:\.(\d{1,2}))?")


def _basis_points(value: str) -> str:
    """Officials type percents ("59.5"); the schema takes basis points. Anything else goes to the schema as typed,
    which refuses it with its message."""
    match = PERCENT.fullmatch(value.strip())
    if not match:
        return value
    return str(int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0")))


@h5.get("/flags")
def flags_home():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    areas = rating_service.official_areas(user_id)
    if len(areas) == 1:
        return redirect(url_for("h5.flags_area", area_id=areas[0].id))
    return render_template("flags/home.html", areas=areas)


@h5.get(f"/flags/areas/{AREA_ID}")
def flags_area(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    query = load_form(FlagQuery(), {key: value for key, value in request.args.items() if value != ""},
                      page_size=str(PAGE_SIZE))
    listing = presenter.problem_compounds(area_id, user_id, query["rule"], query["active"], query["page"],
                                          query["page_size"])
    return render_template("flags/area.html", listing=listing)


@h5.get(f"/flags/compounds/{COMPOUND_ID}")
def flags_compound(compound_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("flags/compound.html", flags=presenter.compound_flags(compound_id, user_id))


@h5.post(f"/flags/compounds/{COMPOUND_ID}/sweep")
def flags_compound_sweep(compound_id: int):
    user_id = require_user_for_post()
    count = service.sweep_compound(compound_id, user_id)
    flash(f"已重新研判：新增 {count.raised} 项，解除 {count.cleared} 项", "success")
    return redirect(url_for("h5.flags_compound", compound_id=compound_id))


@h5.get(f"/flags/areas/{AREA_ID}/thresholds")
def flags_thresholds(area_id: int):
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    return render_template("flags/thresholds.html", thresholds=presenter.thresholds(area_id, user_id))


@h5.post(f"/flags/areas/{AREA_ID}/thresholds")
def flags_thresholds_save(area_id: int):
    user_id = require_user_for_post()
    rates = {name: _basis_points(request.form.get(name, "")) for name in THRESHOLD_FIELDS if name.endswith("_bp")}
    body = load_form(FlagThresholdsSchema(), **rates)
    service.put_thresholds(area_id, user_id, body, client_ip())
    flash("问题小区标准已保存，下次研判起生效", "success")
    return redirect(url_for("h5.flags_thresholds", area_id=area_id))
