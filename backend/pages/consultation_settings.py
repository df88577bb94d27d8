"""The deliberation settings page: the co-sign threshold, whether residents vote in ordinary consultations, and
the publicity period, for the committee and the party secretary. The form loads through the API's schema."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.consultations import (
    MAX_COSIGN_THRESHOLD,
    MAX_PUBLICITY_DAYS,
    MIN_COSIGN_THRESHOLD,
    MIN_PUBLICITY_DAYS,
)
from backend.domain.roles import Action
from backend.errors import show_refusal_with
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import compound_by_code, login_redirect, require_user_for_post
from backend.presenters import consultations as presenter
from backend.request_context import client_ip, optional_user_id
from backend.schemas.consultations import ConsultationSettingsSchema
from backend.services import consultations as service


def _render(compound, form: dict, problems=()):
    return render_template(
        "consultations/settings.html", compound=compound, form=form, problems=problems,
        cosign_range=(MIN_COSIGN_THRESHOLD, MAX_COSIGN_THRESHOLD), publicity_range=(MIN_PUBLICITY_DAYS, MAX_PUBLICITY_DAYS),
    )


@h5.get("/c/<code>/topics/settings")
def consultation_settings(code: str):
    compound = compound_by_code(code)
    if optional_user_id() is None:
        return login_redirect()
    presenter.person_in(compound.id, optional_user_id(), None, Action.CONFIGURE_CONSULTATIONS)
    current = service.settings_for(compound.id)
    form = {"cosign_threshold": str(current.cosign_threshold), "publicity_days": str(current.publicity_days),
            "residents_may_vote": current.residents_may_vote}
    return _render(compound, form)


@h5.post("/c/<code>/topics/settings")
def consultation_settings_save(code: str):
    compound = compound_by_code(code)
    person = presenter.person_in(compound.id, require_user_for_post(), None, Action.CONFIGURE_CONSULTATIONS)
    # An unticked checkbox is not sent at all: for this form that means "no".
    ticked = "residents_may_vote" in request.form
    typed = request.form.to_dict() | {"residents_may_vote": ticked}
    show_refusal_with(lambda refused: _render(
        compound, typed, [message for messages in refused.errors.values() for message in messages] or [refused.message]
    ))
    settings = load_form(ConsultationSettingsSchema(), residents_may_vote=ticked)
    service.update_settings(compound.id, person.user_id, ip=client_ip(), **settings)
    flash("已保存议事设置", "success")
    return redirect(url_for("h5.consultation_settings", code=compound.code))
