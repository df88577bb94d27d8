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
    # Anyone signed in, during the check-in window, until they have checked in: with the QR code at the venue.
    CHECK_IN = "check_in"


def allowed_actions(
    *, manages: bool, started: bool, minutes_published: bool, may_check_in: bool = False
) -> frozenset[MeetingAction]:
    """What a person may do with a meeting: check in while `may_check_in` (see CHECK_IN); the rest is the convener's
    (or a convening role's). Invitations close at the start, minutes are published only after it, and published
    minutes stay published."""
    actions = {MeetingAction.CHECK_IN} if may_check_in else set()
    if not manages:
        return frozenset(actions)
    actions |= {MeetingAction.PRINT_CHECKIN_POSTER, MeetingAction.RENEW_CHECKIN_CODE, MeetingAction.VIEW_ATTENDANCE}
    if not started:
        actions.add(MeetingAction.INVITE)
    if started or minutes_published:
        actions.add(MeetingAction.PUBLISH_MINUTES)
    if not minutes_published:
        actions.add(MeetingAction.SAVE_MINUTES)
    return frozenset(actions)
