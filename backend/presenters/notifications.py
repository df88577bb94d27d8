"""What the inbox (我的消息) and its settings show, built once for the API to dump and the page to render: my
notifications newest first with their labels and read state (withdrawn ones gone), whether there is anything to
mark read, and the pushes of each kind this person can receive with the switch they may turn."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from backend.domain.notifications import KINDS, Urgency
from backend.services import notifications as service


class InboxAction(enum.StrEnum):
    """What the inbox offers; the API names them in `actions`, the page in `data-action`."""

    READ_ALL = "read_all"
    TURN_ON = "turn_on"
    TURN_OFF = "turn_off"


@dataclass(frozen=True)
class InboxItem:
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    link: str
    urgency: Urgency
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    @property
    def urgent(self) -> bool:
        return self.urgency is Urgency.URGENT


@dataclass(frozen=True)
class Inbox:
    items: list[InboxItem]
    total: int
    page: int
    page_size: int
    unread_only: bool
    unread_count: int
    actions: frozenset[InboxAction]


@dataclass(frozen=True)
class PushSetting:
    """One kind of notification and whether it may push to the person (WeChat, SMS); urgent ones always do."""

    kind: str
    label: str
    enabled: bool

    @property
    def actions(self) -> frozenset[InboxAction]:
        return frozenset({InboxAction.TURN_OFF if self.enabled else InboxAction.TURN_ON})


def item(row: dict) -> InboxItem:
    return InboxItem(kind_label=KINDS.get(row["kind"], ""), **row)


def inbox(user_id: int, unread_only: bool, page: int, page_size: int) -> Inbox:
    found = service.inbox_page(user_id, unread_only, page, page_size)
    unread = service.unread_count(user_id)
    return Inbox(
        items=[item(row) for row in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        unread_only=unread_only,
        unread_count=unread,
        actions=frozenset({InboxAction.READ_ALL}) if unread else frozenset(),
    )


def opened(user_id: int, notification_id: int) -> InboxItem:
    """One of my notifications, marked read (another person's is not found)."""
    return item(service.mark_read(user_id, notification_id))


def push_settings(user_id: int) -> list[PushSetting]:
    """The switches of the kinds this person can receive, by their roles (a resident sees no 派单 switch)."""
    return [PushSetting(**row) for row in service.kind_preferences(user_id)]


def push_setting(user_id: int, kind: str) -> PushSetting:
    """One kind's switch as it stands, for any known kind (one listed before a role was given up, too)."""
    return PushSetting(**service.kind_preference(kind, service.kind_enabled(user_id, kind)))
