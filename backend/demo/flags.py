"""The demo's problem compounds: 东区 holds its compounds to no overdue work order at all (its own thresholds), and
the night's sweep flags 阳光花园 for the urgent order that is past its SLA (the demo's one overdue order)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from backend.domain.flags import DEFAULT_THRESHOLDS
from backend.services import flags as flag_service

# 东区's choice: one overdue order is one too many; the other thresholds are the defaults.
DISTRICT_THRESHOLDS = replace(DEFAULT_THRESHOLDS, overdue_orders_max=0)


def make_flags(district_id: int, district_official_id: int, compound_ids: list[int], now: datetime) -> None:
    flag_service.put_thresholds(district_id, district_official_id, DISTRICT_THRESHOLDS)
    flag_service.sweep(compound_ids, now=now)
