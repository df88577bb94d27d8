"""An official's area at a glance (辖区概况): the work orders open and overdue now in each compound, counted in
one statement for every compound of the landing page."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select

from backend.domain.workorders import OPEN_STATUSES
from backend.extensions import db
from backend.models import WorkOrder


@dataclass(frozen=True)
class OpenOrders:
    open: int = 0
    overdue: int = 0


def open_orders(compound_ids: Sequence[int], now: datetime) -> dict[int, OpenOrders]:
    """Open (submitted, accepted, in progress) and, of those, overdue (past their SLA deadline) — the board's own
    meaning of 超时 (services.workorders.orders_page), so a tap through to the filtered board shows the same
    number."""
    if not compound_ids:
        return {}
    is_open = WorkOrder.status.in_(OPEN_STATUSES)
    rows = db.session.execute(
        select(
            WorkOrder.compound_id, func.count(),
            func.count(case((and_(WorkOrder.sla_due_at.is_not(None), WorkOrder.sla_due_at < now), 1))),
        )
        .where(WorkOrder.compound_id.in_(compound_ids), is_open)
        .group_by(WorkOrder.compound_id)
    ).all()
    counted = {compound_id: OpenOrders(open=opened, overdue=overdue) for compound_id, opened, overdue in rows}
    return {compound_id: counted.get(compound_id, OpenOrders()) for compound_id in compound_ids}
