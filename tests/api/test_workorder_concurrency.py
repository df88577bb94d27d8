"""Work orders at the same moment, with committed data and a thread per request: two staff accepting the same
order on PostgreSQL — one wins, the other gets 409, and the order's events show exactly one accept with nothing
lost —, and the same report sent twenty times at once files one order, on PostgreSQL and on SQLite."""
from __future__ import annotations

import pytest

from backend.domain.roles import Role
from backend.domain.workorders import Status, Urgency
from backend.extensions import db
from backend.models import WorkOrder, WorkOrderEvent
from backend.services import workorders as workorder_service
from backend.services.auth import issue_tokens
from tests.support import first_household, race

ROUNDS = 5


def bearer_for(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_tokens(user)[0]}"}


@pytest.mark.postgresql
@pytest.mark.live
def test_two_staff_accepting_at_once_one_wins_the_other_gets_409(app, make_compound, make_user):
    compound = make_compound(buildings=1, households_per_building=1)
    submitter = make_user(Role.OWNER, compound, household=first_household(compound))
    first, second = make_user(Role.STAFF, compound), make_user(Role.STAFF, compound)
    headers = [bearer_for(first), bearer_for(second)]
    order_ids = [
        workorder_service.submit_order(
            user_id=submitter.id, compound_id=compound.id, category="其他", description=f"第{n}件",
            urgency=Urgency.NORMAL, location_text="东门",
        ).id
        for n in range(ROUNDS)
    ]
    db.session.remove()

    for order_id in order_ids:
        path = f"/api/v1/work-orders/{order_id}/transitions"
        results = race(app, [("POST", path, header, {"action": "accept"}) for header in headers])
        assert sorted(status for status, _ in results) == [200, 409], results
        winner = next(body for status, body in results if status == 200)
        loser = next(body for status, body in results if status == 409)
        assert loser["code"] == 409 and loser["message"]

        db.session.expire_all()
        order = db.session.get(WorkOrder, order_id)
        assert order.status is Status.ACCEPTED and order.assignee_id == winner["assignee_id"]
        events = db.session.scalars(
            db.select(WorkOrderEvent)
            .where(WorkOrderEvent.work_order_id == order_id)
            .order_by(WorkOrderEvent.id)
        ).all()
        assert [event.action for event in events] == ["submit", "accept"]
        assert events[1].actor_id == winner["assignee_id"]
        db.session.remove()


@pytest.mark.postgresql
@pytest.mark.live
def test_accept_racing_withdraw_applies_exactly_one(app, make_compound, make_user):
    """Accept against withdraw: whichever comes first happens, the other is refused; never both."""
    compound = make_compound(buildings=1, households_per_building=1)
    submitter = make_user(Role.OWNER, compound, household=first_household(compound))
    staff = make_user(Role.STAFF, compound)
    headers = [bearer_for(staff), bearer_for(submitter)]
    order_ids = [
        workorder_service.submit_order(
            user_id=submitter.id, compound_id=compound.id, category="其他", description=f"第{n}件",
            urgency=Urgency.NORMAL, location_text="东门",
        ).id
        for n in range(ROUNDS)
    ]
    db.session.remove()

    for order_id in order_ids:
        path = f"/api/v1/work-orders/{order_id}/transitions"
        results = race(app, [("POST", path, header, {"action": action})
                             for header, action in zip(headers, ("accept", "withdraw"), strict=True)])
        assert sorted(status for status, _ in results) == [200, 409], results
        db.session.expire_all()
        order = db.session.get(WorkOrder, order_id)
        actions = db.session.scalars(
            db.select(WorkOrderEvent.action)
            .where(WorkOrderEvent.work_order_id == order_id)
            .order_by(WorkOrderEvent.id)
        ).all()
        expected = {Status.ACCEPTED: ["submit", "accept"], Status.WITHDRAWN: ["submit", "withdraw"]}
        assert actions == expected[order.status]
        db.session.remove()


TAPS = 20


@pytest.mark.live
def test_the_same_report_sent_20_times_at_once_files_one_order(app, make_compound, make_user):
    """A double tap on a bad connection, many times over: every request answers with the same order, on
    PostgreSQL (the person's row lock) and on SQLite (one writer at a time) alike, and nobody gets a 5xx."""
    compound = make_compound(buildings=1, households_per_building=1)
    resident = make_user(Role.OWNER, compound, household=first_household(compound))
    headers, compound_id = bearer_for(resident), compound.id
    db.session.remove()
    body = {"category": "水电维修", "description": "3栋地下室总水管爆裂，水漫到楼梯口", "urgency": "urgent",
            "location_text": "3栋地下室"}

    results = race(app, [("POST", f"/api/v1/compounds/{compound_id}/work-orders", headers, body)] * TAPS)

    assert [status for status, _ in results] == [201] * TAPS, results
    assert len({answer["id"] for _, answer in results}) == 1
    filed = db.session.scalars(db.select(WorkOrder).where(WorkOrder.compound_id == compound_id)).all()
    assert len(filed) == 1 and filed[0].description == body["description"]
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrderEvent).where(
        WorkOrderEvent.work_order_id == filed[0].id)) == 1
