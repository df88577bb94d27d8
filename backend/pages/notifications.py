"""The inbox page (我的消息): my notifications, link-through that marks read, read-all and push settings. What it
shows is the presenter's (presenters/notifications.py), its forms loaded by the API's schemas."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from backend.domain.notifications import KINDS
from backend.pages import h5
from backend.pages.forms import load_form
from backend.pages.helpers import login_redirect, page_number, require_user_for_post
from backend.presenters import notifications as presenter
from backend.request_context import optional_user_id, same_site_path
from backend.schemas.notifications import NotificationPreferenceUpdateSchema, NotificationQuery
from backend.services import notifications as notification_service

PAGE_SIZE = 20
KIND = f"<any({', '.join(KINDS)}):kind>"


@h5.get("/inbox")
def inbox():
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    unread_only = load_form(NotificationQuery(only=("unread",)), request.args)["unread"]
    return render_template(
        "notifications/inbox.html",
        inbox=presenter.inbox(user_id, unread_only, page_number(), PAGE_SIZE),
        settings=presenter.push_settings(user_id),
    )


@h5.get("/inbox/<int(min=1, max=2147483647):notification_id>")
def inbox_open(notification_id: int):
    """Mark read, then go where the notification points: only ever to a path on this site."""
    user_id = optional_user_id()
    if user_id is None:
        return login_redirect()
    item = presenter.opened(user_id, notification_id)
    return redirect(same_site_path(item.link) or url_for("h5.inbox"))


@h5.post("/inbox/read-all")
def inbox_read_all():
    notification_service.mark_all_read(require_user_for_post())
    flash("已全部标为已读", "success")
    return redirect(url_for("h5.inbox"))


@h5.post(f"/inbox/preferences/{KIND}")
def inbox_preference(kind: str):
    user_id = require_user_for_post()
    enabled = load_form(NotificationPreferenceUpdateSchema())["enabled"]
    notification_service.set_kind_enabled(user_id, kind, enabled)
    setting = presenter.push_setting(user_id, kind)
    flash(f"已{'开启' if setting.enabled else '关闭'}「{setting.label}」的微信提醒", "success")
    return redirect(url_for("h5.inbox", _anchor="settings"))
