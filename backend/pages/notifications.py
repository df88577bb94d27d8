"""The inbox page (我的消息): my notifications, link-through that marks read, read-all and push settings."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from backend.domain.notifications import KINDS
from backend.pages import h5
from backend.pages.helpers import login_redirect, page_number, require_user_for_post
from backend.request_context import optional_user_id, same_site_path
from backend.services import notifications as notification_service
from backend.services.notifications import UnknownNotification

PAGE_SIZE = 20
KIND = f"<any({', '.join(KINDS)}):kind>"


@h5.get("/inbox")
def inbox():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    unread_only = request.args.get("unread") == "1"
    page = notification_service.inbox_page(user_id, unread_only, page_number(), PAGE_SIZE)
    return render_template(
        "notifications/inbox.html", page=page, unread_only=unread_only,
        preferences=notification_service.kind_preferences(user_id),
    )


@h5.get("/inbox/<int(min=1, max=2147483647):notification_id>")
def inbox_open(notification_id: int):
    """Mark read, then go where the notification points: only ever to a path on this site."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    try:
        item = notification_service.mark_read(user_id, notification_id)
    except UnknownNotification:
        abort(404)
    return redirect(same_site_path(item["link"]) or url_for("h5.inbox"))


@h5.post("/inbox/read-all")
def inbox_read_all():
    notification_service.mark_all_read(require_user_for_post())
    flash("已全部标为已读", "success")
    return redirect(url_for("h5.inbox"))


@h5.post(f"/inbox/preferences/{KIND}")
def inbox_preference(kind: str):
    user_id = require_user_for_post()
    enabled = request.form.get("enabled") == "1"
    notification_service.set_kind_enabled(user_id, kind, enabled)
    flash(f"已{'开启' if enabled else '关闭'}「{KINDS[kind]}」的微信提醒", "success")
    return redirect(url_for("h5.inbox", _anchor="settings"))
