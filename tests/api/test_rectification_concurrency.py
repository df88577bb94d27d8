"""Deciding an item from several requests at the same instant: the row lock lets one decision through; the others
find it decided (409), and the history holds one decision."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.domain.rectifications import RectificationUrgency, ResponsibleParty
from backend.domain.roles import Role
from backend.extensions import db
from backend.models import RectificationEvent
from backend.services import rectifications as service
from backend.services.auth import issue_tokens
from backend.shared.clock import beijing_date, utcnow
from tests.support import race

pytestmark = pytest.mark.live


def test_accept_and_return_at_the_same_instant_decide_once(app, area_tree, make_compound, make_user):
    _, _, street, community = area_tree
    compound = make_compound(area=community, buildings=1, households_per_building=1)
    inspector = make_user(Role.OFFICIAL, area=street)
    manager = make_user(Role.MANAGER, compound)
    today = beijing_date(utcnow())
    inspection = service.record_inspection(compound.id, inspector.id, today, "", ["飞线充电"], [
        service.FindingInput("飞线充电", "楼道飞线", ResponsibleParty.COMPANY, today + timedelta(days=3),
                             RectificationUrgency.NORMAL)])
    item_id = service.items_of_inspection(inspection.id)[0].id
    service.answer(item_id, manager.id, "已拆除", [])
    token = {"Authorization": f"Bearer {issue_tokens(inspector)[0]}"}
    db.session.commit()
    db.session.close()
    results = race(app, [("POST", f"/api/v1/rectifications/{item_id}/accept", token, {}),
                         ("POST", f"/api/v1/rectifications/{item_id}/return", token, {"reason": "不合格"})] * 3)
    assert sorted(status for status, _ in results) == [200, 409, 409, 409, 409, 409]
    decisions = db.session.scalar(select(func.count()).select_from(RectificationEvent).where(
        RectificationEvent.action.in_(("accept", "return"))))
    assert decisions == 1
