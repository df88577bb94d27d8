"""Dispute mediation (矛盾纠纷调解, measure 6): the kinds of case, where a case stands, and the words for them."""
from __future__ import annotations

import enum


class DisputeKind(enum.StrEnum):
    FEES = "fees"
    SERVICE = "service"
    REPAIR = "repair"
    NEIGHBOUR = "neighbour"
    SELECTION = "selection"
    OTHER = "other"


DISPUTE_KIND_LABELS = {
    DisputeKind.FEES: "费用",
    DisputeKind.SERVICE: "服务质量",
    DisputeKind.REPAIR: "维修",
    DisputeKind.NEIGHBOUR: "邻里",
    DisputeKind.SELECTION: "选聘",
    DisputeKind.OTHER: "其他",
}


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"
    REFERRED = "referred"


DISPUTE_STATUS_LABELS = {
    DisputeStatus.OPEN: "调解中",
    DisputeStatus.SETTLED: "调解成功",
    DisputeStatus.REFERRED: "未成功，已移交",
}

# A case counts as open (in the flags, the dashboard and the reports) until it has an outcome.
OPEN_DISPUTE_STATUSES = frozenset({DisputeStatus.OPEN})
