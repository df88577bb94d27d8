"""The large-text mode (适老化): kept on the account when signed in, in a cookie otherwise."""
from __future__ import annotations

from flask import current_app, make_response, redirect, request
from flask_jwt_extended.exceptions import CSRFError, JWTExtendedException
from jwt.exceptions import PyJWTError

from backend.pages import LARGE_TEXT_COOKIE, h5
from backend.pages.forms import load_form
from backend.pages.helpers import safe_next
from backend.request_context import verify_sign_in
from backend.schemas.me import MeUpdateSchema
from backend.services import people as people_service


def _signed_in_user_id() -> int | None:
    """Like optional_user_id(), except that a sign-in cookie without its CSRF field is refused (403):
    optional_user_id() would read it as signed out and the choice would miss the account."""
    try:
        claims = verify_sign_in(optional=True)
    except CSRFError:
        raise
    except (JWTExtendedException, PyJWTError):
        return None  # an expired or stale sign-in counts as signed out, as on every page
    return int(claims["sub"]) if claims else None


@h5.post("/settings/large-text")
def toggle_large_text():
    # The switch posts the state to turn to; a form without it turns large text off, as it always did.
    enable = load_form(MeUpdateSchema(only=("large_text",)), large_text=request.form.get("enable", "0"))["large_text"]
    response = make_response(redirect(safe_next(request.form.get("next"))))
    user_id = _signed_in_user_id()
    if user_id is not None:
        people_service.update_profile(user_id, large_text=enable)
    response.set_cookie(LARGE_TEXT_COOKIE, "1" if enable else "0", max_age=365 * 86400, samesite="Lax",
                        secure=current_app.config["JWT_COOKIE_SECURE"])
    return response
