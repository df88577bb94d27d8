"""One front door for the inbox (我的消息): whatever the person's role, the API and the inbox page show the same
notifications (read or not, urgent or not), the same unread count and read-all, and the same push switch for
each kind the role can receive (the page marks its buttons with data-action)."""
from __future__ import annotations

import re

import pytest

from backend.domain.notifications import (
    BINDING_REVIEW,
    MEETING_REMINDER,
    WORK_ORDER_UPDATE,
    Urgency,
    receivable_kinds,
)
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import Notice, Notification, NotificationPreference, User
from backend.shared.clock import utcnow
from tests.presenters.two_doors import actions_on, api_headers, browser, text
from tests.support import first_household

ROLES = [Role.RESIDENT, Role.OWNER, Role.COMMITTEE, Role.PARTY_SECRETARY, Role.STAFF, Role.MANAGER, Role.OFFICIAL,
         Role.EVALUATOR, Role.ADMIN]
ITEM = re.compile(r'<a class="([^"]*ll-inbox__item[^"]*)"\s*href="[^"]*" data-notification="(\d+)">')


@pytest.fixture(params=["some unread", "all read"])
def person(request, area_tree, make_compound, make_user) -> User:
    """Someone of the role with three notifications, one urgent, and one kind's pushes turned off."""
    *_, community = area_tree
    compound = make_compound(area=community)
    role = request.node.callspec.params["role"]
    household = first_household(compound) if role in (Role.RESIDENT, Role.OWNER) else None
    user = make_user(role, compound, area=community, household=household)
    for number, (kind, urgency) in enumerate(
        [(BINDING_REVIEW, Urgency.NORMAL), (MEETING_REMINDER, Urgency.URGENT), (WORK_ORDER_UPDATE, Urgency.NORMAL)]
    ):
        notice = Notice(kind=kind, title=f"消息{number}", body="内容", link="/h5/", urgency=urgency,
                        dedupe_key=f"front-door-{user.id}-{number}")
        db.session.add(notice)
        db.session.flush()
        read = request.param == "all read" or number == 0
        db.session.add(Notification(user_id=user.id, notice_id=notice.id, dedupe_key=notice.dedupe_key,
                                    read_at=utcnow() if read else None))
    db.session.add(NotificationPreference(user_id=user.id, kind=MEETING_REMINDER, enabled=False))
    db.session.commit()
    return user


@pytest.mark.parametrize("role", ROLES)
def test_the_inbox_reads_the_same_through_the_api_and_the_page(app, client, person, role):
    api = client.get("/api/v1/me/notifications", headers=api_headers(person)).json
    settings = client.get("/api/v1/me/notification-preferences", headers=api_headers(person)).json["items"]
    page = text(browser(app, person).get("/h5/inbox"))

    items_on_page = [(int(item_id), "ll-inbox__item_unread" in classes) for classes, item_id in ITEM.findall(page)]
    assert items_on_page == [(item["id"], item["read_at"] is None) for item in api["items"]]
    inbox_part, settings_part = page.split('id="settings"')
    assert set(api["actions"]) == actions_on(inbox_part)
    assert (f"{api['unread_count']} 条未读" in page) == bool(api["unread_count"])
    urgent_on_page = {int(i) for i in re.findall(r'data-notification="(\d+)">\s*<div class="weui-cell__bd">\s*'
                                                 r'<p class="ll-inbox__title">\s*(?:<span[^>]*></span><span[^>]*>未读：</span>)?\s*'
                                                 r'<span class="ll-badge ll-badge_urgent">', page)}
    assert urgent_on_page == {item["id"] for item in api["items"] if item["urgency"] == "urgent"}

    switches = {kind: actions_on(block) for kind, block in re.findall(r'data-kind="(\w+)">(.*?)</form>', settings_part, re.S)}
    assert switches == {setting["kind"]: set(setting["actions"]) for setting in settings}
    # Only the kinds the role can receive have a switch; the one turned off offers to turn it on.
    assert list(switches) == receivable_kinds({role})
    assert switches.get(MEETING_REMINDER, {"turn_on"}) == {"turn_on"}
