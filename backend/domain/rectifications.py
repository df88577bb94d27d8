"""Rectification (整改台账, 限期销号): who answers an inspection's finding, how urgent it is, and where it stands."""
from __future__ import annotations

import enum


class ResponsibleParty(enum.StrEnum):
    COMPANY = "company"
    COMMITTEE = "committee"
    COMMUNITY = "community"


RESPONSIBLE_PARTY_LABELS = {
    ResponsibleParty.COMPANY: "物业服务企业",
    ResponsibleParty.COMMITTEE: "业委会/物管委",
    ResponsibleParty.COMMUNITY: "社区",
}


class RectificationUrgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


URGENCY_LABELS = {RectificationUrgency.NORMAL: "一般", RectificationUrgency.URGENT: "紧急"}


class RectificationStatus(enum.StrEnum):
    # Waiting for the responsible party (new, or returned by the inspector).
    OPEN = "open"
    # Answered with photos, waiting for the inspector to accept or return it.
    ANSWERED = "answered"
    # 销号: accepted by the inspector; final.
    ACCEPTED = "accepted"


RECTIFICATION_STATUS_LABELS = {
    RectificationStatus.OPEN: "待整改",
    RectificationStatus.ANSWERED: "待验收",
    RectificationStatus.ACCEPTED: "已销号",
}

# Not yet 销号: counts in the flags and the reports, and is overdue once its deadline (a Beijing date) has passed.
UNFINISHED_RECTIFICATION_STATUSES = frozenset({RectificationStatus.OPEN, RectificationStatus.ANSWERED})
