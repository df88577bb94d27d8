"""What a meeting offers whom: the convener's work by the meeting's moment, and check-in to anyone signed in."""
from __future__ import annotations

import pytest

from backend.domain.meetings import allowed_actions

RUNS = {"print_checkin_poster", "renew_checkin_code", "view_attendance"}


@pytest.mark.parametrize(
    ("started", "published", "actions"),
    [
        (False, False, RUNS | {"invite", "save_minutes"}),
        (True, False, RUNS | {"publish_minutes", "save_minutes"}),
        # Published minutes stay published: every later save corrects them in public.
        (True, True, RUNS | {"publish_minutes"}),
    ],
)
def test_the_conveners_work_follows_the_meetings_moment(started, published, actions):
    assert allowed_actions(manages=True, started=started, minutes_published=published) == actions


def test_everyone_else_is_offered_check_in_only_while_they_may():
    assert allowed_actions(manages=False, started=True, minutes_published=False) == set()
    assert allowed_actions(manages=False, started=True, minutes_published=False, may_check_in=True) == {"check_in"}
