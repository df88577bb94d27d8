"""One page of a list: the rows, the total and where the page is."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from backend.extensions import db


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    page_size: int


def paginate(query: Select, page: int, page_size: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = db.session.execute(query.limit(page_size).offset((page - 1) * page_size)).all()
    return Page(items=items, total=total, page=page, page_size=page_size)
