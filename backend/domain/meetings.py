"""The four meetings (四会): what the person running a meeting may do with it, and when."""
from __future__ import annotations

import enum


class MeetingAction(enum.StrEnum):
    """What a screen of the four meetings offers; the API names them in `actions`, the pages in `data-action`."""

    CONVENE = "convene"
    INVITE = "invite"
    SAVE_MINUTES = "save_minutes"  # a draft, before the minutes are published
    PUBLISH_MINUTES = "publish_minutes"  # after the start; once published, every save publishes the correction
    PRINT_CHECKIN_POSTER = "print_checkin_poster"
    RENEW_CHECKIN_CODE = "renew_checkin_code"
    VIEW_ATTENDANCE = "view_attendance"


def allowed_actions(*, manages: bool, started: bool, minutes_published: bool) -> frozenset[MeetingAction]:
    """What the convener (or a convening role) may do with a meeting; nothing for anyone else. Invitations close at
    the start, minutes are published only after it, and published minutes stay published."""
    if not manages:
        return frozenset()
    actions = {MeetingAction.PRINT_CHECKIN_POSTER, MeetingAction.RENEW_CHECKIN_CODE, MeetingAction.VIEW_ATTENDANCE}
    if not started:
        actions.add(MeetingAction.INVITE)
    if started or minutes_published:
        actions.add(MeetingAction.PUBLISH_MINUTES)
    if not minutes_published:
        actions.add(MeetingAction.SAVE_MINUTES)
    return frozenset(actions)
