"""The clock and Beijing time: stored in UTC, shown and reckoned (due dates, quiet hours, months) in Asia/Shanghai.
Standard library only, so the domain rules may use it."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def beijing_date(moment: datetime) -> date:
    """The calendar day in Asia/Shanghai: due dates, overdue days and settlement months are Beijing's."""
    return moment.astimezone(SHANGHAI).date()


def beijing_moment(text: str) -> datetime | None:
    """A datetime-local field, read as Beijing time; None when it is not one."""
    if not text or len(text) > 32:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=SHANGHAI)
        # A moment at the calendar's very edge (year 1 with an offset) overflows when moved to Beijing time.
        return moment.astimezone(SHANGHAI)
    except (ValueError, OverflowError):
        return None
