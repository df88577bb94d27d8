"""The large-text mode (适老化): kept on the account when signed in, in a cookie otherwise."""
from __future__ import annotations

from flask import make_response, redirect, request
from flask_jwt_extended import verify_jwt_in_request

from backend.pages import LARGE_TEXT_COOKIE, h5
from backend.pages.helpers import safe_next
from backend.request_context import optional_user_id
from backend.services import people as people_service


@h5.post("/settings/large-text")
def toggle_large_text():
    enable = request.form.get("enable") == "1"
    response = make_response(redirect(safe_next(request.form.get("next"))))
    if optional_user_id() is not None:
        verify_jwt_in_request()  # CSRF double-submit for a signed-in change
        people_service.update_profile(optional_user_id(), large_text=enable)
    response.set_cookie(LARGE_TEXT_COOKIE, "1" if enable else "0", max_age=365 * 86400, samesite="Lax")
    return response
