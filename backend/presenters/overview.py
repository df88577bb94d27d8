"""The officials' landing (辖区概况): for each compound of their area the newest period's collection rate (the
fee service's count, as the collection page shows it) and the work orders open and overdue now, with the area's
subtotals, and the subsidy settlement one tap away. A fixed number of statements, however many compounds."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backend.domain.fees import Collection
from backend.models import Compound
from backend.services import fees as fee_service
from backend.services import overview as service
from backend.services import subsidies as subsidy_service


@dataclass(frozen=True)
class CompoundLine:
    compound: Compound
    period_start: date | None  # the newest billed period; None before any bill
    collection: Collection | None
    open_orders: int
    overdue_orders: int


@dataclass(frozen=True)
class AreaOverview:
    lines: list[CompoundLine]
    collection: Collection  # the lines' newest periods added up: households and fen, paid / billed
    open_orders: int
    overdue_orders: int


def area_overview(user_id: int, compounds: list[Compound], now: datetime) -> AreaOverview | None:
    """None for anyone who does not oversee an area (officials and admins do, and may open the settlement)."""
    if not subsidy_service.settlement_areas(user_id):
        return None
    orders = service.open_orders([compound.id for compound in compounds], now)
    lines = []
    newest = fee_service.newest_collections([compound.id for compound in compounds])
    for compound in compounds:
        period_start, figures = newest.get(compound.id, (None, None))
        lines.append(CompoundLine(
            compound=compound, period_start=period_start, collection=figures,
            open_orders=orders[compound.id].open, overdue_orders=orders[compound.id].overdue,
        ))
    counted = [line.collection for line in lines if line.collection is not None]
    total = Collection(
        billed_households=sum(c.billed_households for c in counted), paid_households=sum(c.paid_households for c in counted),
        billed_fen=sum(c.billed_fen for c in counted), paid_fen=sum(c.paid_fen for c in counted),
    )
    return AreaOverview(
        lines=lines, collection=total, open_orders=sum(line.open_orders for line in lines),
        overdue_orders=sum(line.overdue_orders for line in lines),
    )
