"""Announcements (通知公告): the categories, a notice's limits, whether it is still current (its end date, in
Beijing), who may post one and who may change it, and what a person may do with it (the presenter's one source of
buttons)."""
from __future__ import annotations

import enum
from datetime import date, timedelta

from backend.domain.refusals import Kind, Refused
from backend.domain.roles import Action, Role, allows

TITLE_LIMIT = 60
BODY_LIMIT = 5000
MAX_PHOTOS = 6
# The compound's home page shows this many current notices, then 查看全部.
HOME_LIMIT = 3
# A notice is about something current: an end date more than a year ahead is a typing mistake.
MAX_DAYS_AHEAD = 366
ENDED_LABEL = "已结束"
POSTERS_ONLY = "只有业委会、党组织书记、物业经理或社区及以上工作人员可以发布通知公告"
MANAGERS_ONLY = "只有在此有发布权限的人可以修改或删除这条通知公告"
# Who may change an area's notice: those over the area (its author while they still are), never a compound's committee below it.
_OVER_AREA = frozenset({Role.OFFICIAL, Role.ADMIN})


class AnnouncementRefused(Refused):
    default_kind = Kind.INVALID


class Category(enum.StrEnum):
    OUTAGE = "outage"
    CONSTRUCTION = "construction"
    FEES = "fees"
    DELIBERATION = "deliberation"
    ACTIVITY = "activity"
    OTHER = "other"


CATEGORY_LABELS = {
    Category.OUTAGE: "停水停电",
    Category.CONSTRUCTION: "施工",
    Category.FEES: "缴费",
    Category.DELIBERATION: "议事",
    Category.ACTIVITY: "活动",
    Category.OTHER: "其他",
}


class AnnouncementAction(enum.StrEnum):
    """What the announcement screens offer; the API names them in `actions`, the pages in `data-action`."""

    POST = "post"
    EDIT = "edit"
    DELETE = "delete"
    # The number of people who opened it; nobody sees who.
    VIEW_READS = "view_reads"


def is_active(ends_on: date | None, today: date) -> bool:
    """Current until the end of its end date (a Beijing date; none: until deleted)."""
    return ends_on is None or today <= ends_on


def check_ends_on(ends_on: date | None, today: date, current: date | None = None) -> None:
    """A new end date lies from today to a year ahead. The date it already has passes unchanged, so an ended
    notice can still be corrected without moving it back onto the home page."""
    if ends_on is None or ends_on == current:
        return
    if ends_on < today:
        message = "结束日期不能早于今天"
    elif ends_on > today + timedelta(days=MAX_DAYS_AHEAD):
        message = "结束日期不能晚于一年以后"
    else:
        return
    raise AnnouncementRefused(message, Kind.INVALID, errors={"ends_on": [message]})


def check_text(title: str, body: str) -> None:
    """The title and body as they are kept: present and within the limits (the schema says so first, in the
    same words; this holds for every caller of the service, the demo too)."""
    errors = {}
    if not title.strip():
        errors["title"] = ["请填写标题"]
    elif len(title) > TITLE_LIMIT:
        errors["title"] = [f"标题不能超过{TITLE_LIMIT}个字"]
    if not body.strip():
        errors["body"] = ["请填写正文"]
    elif len(body) > BODY_LIMIT:
        errors["body"] = [f"正文不能超过{BODY_LIMIT}个字"]
    if errors:
        raise AnnouncementRefused(next(iter(errors.values()))[0], Kind.INVALID, errors=errors)


def check_photo_count(count: int) -> None:
    if count > MAX_PHOTOS:
        message = f"最多上传{MAX_PHOTOS}张照片"
        raise AnnouncementRefused(message, Kind.INVALID, errors={"photos": [message]})


def may_post(roles: frozenset[Role]) -> bool:
    return allows(roles, Action.POST_ANNOUNCEMENTS)


def check_poster(roles: frozenset[Role]) -> None:
    if not may_post(roles):
        raise AnnouncementRefused(POSTERS_ONLY, Kind.FORBIDDEN)


def may_manage(*, roles: frozenset[Role], area_post: bool) -> bool:
    """Edit and delete: whoever may post where it was posted, the author included only while they still may (a
    committee member who stepped down, an official who left the area, changes nothing). `roles` are the viewer's
    in the notice's compound, or, for an area's notice, over that area (an official of the area or above, an
    admin)."""
    if area_post:
        return bool(roles & _OVER_AREA)
    return may_post(roles)


def allowed_actions(*, manages: bool) -> frozenset[AnnouncementAction]:
    """Those who may change a notice see how many opened it; everyone else reads it."""
    if not manages:
        return frozenset()
    return frozenset({AnnouncementAction.EDIT, AnnouncementAction.DELETE, AnnouncementAction.VIEW_READS})


def dedupe_key(announcement_id: int, compound_id: int, urgent: bool) -> str:
    """One notice per announcement and compound, so a retried job tells nobody twice; an urgent one has a key of
    its own, so a notice made urgent after posting is pushed once more, urgently."""
    return f"announcement-{announcement_id}-{compound_id}" + ("-urgent" if urgent else "")
