"""The demo's problem compound: 东区's own thresholds (no overdue order at all) flag 阳光花园 for its overdue order,
with the reason naming the figure, and the district and street officials hear of it."""
from __future__ import annotations

from sqlalchemy import select

from backend.demo.places import demo_compound
from backend.domain.flags import FlagRule
from backend.domain.notifications import PROBLEM_FLAG
from backend.extensions import db
from backend.models import Notice
from backend.services import flags as service


def test_the_demo_flags_yangguang_for_its_overdue_order(demo):
    compound = demo_compound()
    flags = {line.rule: line.reason for line in service.active_flags([compound.id])[compound.id]}
    assert flags[FlagRule.OVERDUE_ORDERS] == "超时未办结工单 1 件，超过 0 件"
    notice = db.session.scalar(select(Notice).where(Notice.kind == PROBLEM_FLAG))
    assert notice.title == "阳光花园小区被标记为问题小区"
    assert service.sweep([compound.id]).raised == 0
