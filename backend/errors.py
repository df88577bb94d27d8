"""One error shape for the whole API, JWT errors included: {code, status, message, errors?} (DESIGN §6)."""
from __future__ import annotations

import logging

from flask import Flask, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from backend.domain.refusals import Refused
from backend.extensions import DATABASE_UNAVAILABLE, db
from backend.request_context import current_path, referring_page

log = logging.getLogger("linli.errors")

MESSAGES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限进行此操作",
    404: "没有找到",
    405: "不支持该请求方法",
    409: "与当前状态冲突",
    413: "上传内容过大",
    415: "不支持的内容类型",
    422: "输入有误，请检查后重试",
    429: "操作太频繁，请稍后再试",
    500: "服务器开小差了，请稍后再试",
    503: "服务暂时不可用，请稍后再试",
}
# While the database is out of reach or busy (DATABASE_UNAVAILABLE), clients are told to try again after this.
DATABASE_RETRY_AFTER_SECONDS = 5
# Set on `g` while answering such a request: the page's template context must not query the database again.
DATABASE_UNAVAILABLE_FLAG = "linli_database_unavailable"
_REFUSAL_PAGE_KEY = "linli.refusal_page"


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_payload(code: int, name: str, message: str | None = None, errors: dict | None = None) -> dict:
    payload = {"code": code, "status": name, "message": message or MESSAGES.get(code, name)}
    if errors:
        payload["errors"] = errors
    return payload


def json_error(code: int, message: str | None = None, errors: dict | None = None, headers: dict | None = None):
    from werkzeug.http import HTTP_STATUS_CODES

    response = jsonify(error_payload(code, HTTP_STATUS_CODES.get(code, "Error"), message, errors))
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if error.code == 429 and getattr(error, "retry_after", None):
        headers["Retry-After"] = str(error.retry_after)
    if not wants_json():
        if error.code == 401:
            return redirect(url_for("h5.login", next=current_path()))
        message = data.get("message") or MESSAGES.get(error.code, error.name)
        return render_template("error.html", code=error.code, message=message), error.code, headers
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if message is None and error.code not in MESSAGES and error.description:
        message = error.description
    return json_error(error.code or 500, message, errors, headers)


def handle_database_unavailable(error: Exception):
    """503 with Retry-After, not 500: the request was fine, the database is down, slow or locked. One line in
    the log per request (a traceback per request would bury the log during an outage)."""
    db.session.rollback()
    first_line = str(error.orig if getattr(error, "orig", None) is not None else error).strip().splitlines()
    log.warning(
        "database unavailable on %s %s: %s: %s", request.method, request.path, type(error).__name__,
        first_line[0] if first_line else "",
    )
    setattr(g, DATABASE_UNAVAILABLE_FLAG, True)
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if not wants_json():
        return render_template("error.html", code=503, message=MESSAGES[503]), 503, headers
    return json_error(503, headers=headers)


def show_refusal_with(render) -> None:
    """A page view that would rather show a refusal on its own form (the entries kept) than on the error
    page registers `render(refused) -> response body` here before calling the service."""
    # In the WSGI environ, which lives exactly one request (`g` can outlive it, see request_context).
    request.environ[_REFUSAL_PAGE_KEY] = render


def handle_refusal(refused: Refused):
    """The one answer to a refusal. Nothing of the refused request may be committed later by accident, and the
    row locks it took are let go now: the session is rolled back first.
    API: the error shape with the kind's status. Page: the view's own form when it registered one; after a
    form posted from one of our pages, that page again with the message on top; else the error page."""
    db.session.rollback()
    headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else {}
    if wants_json():
        return json_error(refused.status, refused.message, refused.errors or None, headers)
    render = request.environ.get(_REFUSAL_PAGE_KEY)
    if render is not None:
        try:
            return render(refused), refused.status, headers
        except Refused:
            # The form's page is not this person's to see (a stranger posting to another's case): the error page.
            db.session.rollback()
            return render_template("error.html", code=refused.status, message=refused.message), refused.status, headers
    back = referring_page() if request.method == "POST" else None
    if back:
        flash(refused.message, "warn")
        return redirect(back, code=303)
    return render_template("error.html", code=refused.status, message=refused.message), refused.status, headers


def handle_unexpected(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Refused, handle_refusal)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
