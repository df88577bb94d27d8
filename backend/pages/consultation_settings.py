"""The deliberation settings page: the co-sign threshold, whether residents vote in ordinary consultations, and
the publicity period, for the committee and the party secretary."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.roles import Action as RoleAction
from backend.pages import h5
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.policy import authorize
from backend.request_context import client_ip, optional_user_id
from backend.services import consultations as service

COSIGN_RANGE = (1, 1000)
PUBLICITY_RANGE = (1, 30)


def _whole_number(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 4 and low <= int(text) <= high:
        return int(text)
    return None


def _render(compound, form: dict, problems=()):
    return render_template("consultations/settings.html", compound=compound, form=form, problems=problems,
                           cosign_range=COSIGN_RANGE, publicity_range=PUBLICITY_RANGE)


@h5.get("/c/<code>/topics/settings")
def consultation_settings(code: str):
    compound = compound_by_code(code)
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    authorize(RoleAction.CONFIGURE_CONSULTATIONS, compound.id, user_id)
    current = service.settings_for(compound.id)
    form = {"cosign_threshold": str(current.cosign_threshold), "publicity_days": str(current.publicity_days),
            "residents_may_vote": current.residents_may_vote}
    return _render(compound, form)


@h5.post("/c/<code>/topics/settings")
def consultation_settings_save(code: str):
    compound = compound_by_code(code)
    user_id = require_user_for_post()
    authorize(RoleAction.CONFIGURE_CONSULTATIONS, compound.id, user_id)
    form = {"cosign_threshold": request.form.get("cosign_threshold", ""),
            "publicity_days": request.form.get("publicity_days", ""),
            "residents_may_vote": bool(request.form.get("residents_may_vote"))}
    cosign = _whole_number(form["cosign_threshold"], *COSIGN_RANGE)
    publicity = _whole_number(form["publicity_days"], *PUBLICITY_RANGE)
    problems = []
    if cosign is None:
        problems.append(f"联名户数请填写{COSIGN_RANGE[0]}到{COSIGN_RANGE[1]}之间的整数")
    if publicity is None:
        problems.append(f"公示天数请填写{PUBLICITY_RANGE[0]}到{PUBLICITY_RANGE[1]}之间的整数")
    if problems:
        return _render(compound, form, problems), 422
    service.update_settings(compound.id, user_id, cosign, form["residents_may_vote"], publicity, client_ip())
    flash("已保存议事设置", "success")
    return redirect(url_for("h5.consultation_settings", code=compound.code))
