"""Small helpers the page modules share: safe redirects, sign-in requirement, compound lookup by code, the
page number, the Beijing time of a form's date and time, and the confirm step of an action that cannot be undone."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, redirect, render_template, request, url_for

if TYPE_CHECKING:
    from backend.models import Compound
    from backend.presenters.confirmations import Confirmation
from backend.pages.forms import load_form
from backend.request_context import current_path, optional_user_id, same_site_path, verify_sign_in
from backend.schemas.common import MAX_ID, MAX_PAGE, ConfirmSchema
from backend.services import compounds as compound_service


def safe_next(target: str | None, default: str = "/h5/") -> str:
    """Only same-site paths: never let ?next= send someone to another site."""
    return same_site_path(target) or default


def login_redirect():
    return redirect(url_for("h5.login", next=current_path()))


def require_user_for_post() -> int:
    """Checks the JWT cookie and its CSRF double-submit field; aborts 401 (→ sign-in page) without one."""
    verify_sign_in()
    return optional_user_id()


def compound_by_code(code: str) -> Compound:
    compound = compound_service.compound_by_code(code)
    if compound is None:
        abort(404)
    return compound


def parse_id(text: str) -> int | None:
    """A form's id field, or None. ASCII digits only ("²".isdigit() is true but int() refuses it), short
    enough for int() (which refuses over 4,300 digits) and within the integer column."""
    text = text.strip()
    if len(text) <= 10 and text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID:
        return int(text)
    return None


def page_number(name: str = "page") -> int:
    """?page= (or another name), bounded: a bad or small one is page 1, a huge one the last page allowed."""
    return min(max(request.args.get(name, 1, type=int), 1), MAX_PAGE)


def confirmed() -> bool:
    """The form came back with `confirm=1` from the confirm step."""
    return load_form(ConfirmSchema())["confirm"]


def confirm_step(confirmation: Confirmation, subject: str, back: str, fields: dict[str, str] | None = None):
    """The page that asks before an action that cannot be undone: what will happen, the warnings, and a form posting
    the same address again with `confirm=1` (and the first submit's `fields`); nothing has been done yet."""
    return render_template("confirm.html", confirmation=confirmation, subject=subject, action=request.path,
                           back=back, fields=fields or {})
