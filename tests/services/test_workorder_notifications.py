"""Who hears of what on a work order: staff of a new order and of an assignment, followers of every state
change (never whoever made it), the assignee of a 未解决 answer or a withdrawal."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.domain.notifications import WORK_ORDER_ASSIGNED, WORK_ORDER_UPDATE
from backend.domain.roles import Role
from backend.domain.workorders import Action, Urgency
from backend.extensions import db
from backend.models import Household, Notice, OutboxJob
from backend.services import workorders as service
from backend.services.notifications import FAN_OUT_JOB


@pytest.fixture
def place(make_compound, make_user):
    compound = make_compound()
    homes = list(db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                                    .order_by(Household.id)))
    return {
        "compound": compound,
        "resident": make_user(Role.OWNER, compound, household=homes[0]),
        "neighbour": make_user(Role.RESIDENT, compound, household=homes[1]),
        "staff": make_user(Role.STAFF, compound),
        "other_staff": make_user(Role.STAFF, compound),
        "manager": make_user(Role.MANAGER, compound),
        "building_id": homes[0].building_id,
    }


def submit(place, urgency=Urgency.NORMAL) -> int:
    order = service.submit_order(
        user_id=place["resident"].id, compound_id=place["compound"].id, category="公共设施",
        description="楼道灯不亮", urgency=urgency, building_id=place["building_id"], location_text="3楼",
    )
    return order.id


ROLES = {"resident": Role.OWNER, "staff": Role.STAFF, "other_staff": Role.STAFF, "manager": Role.MANAGER}


def step(place, who: str, order_id: int, action: Action, **kwargs) -> None:
    service.transition(order_id, place[who].id, frozenset({ROLES[who]}), action, **kwargs)


def told(kind: str, order_id: int) -> list[tuple[str, set[int]]]:
    """Each notice of `kind` about the order, in order, with the people its fan-out jobs will reach."""
    notices = db.session.scalars(
        select(Notice).where(Notice.kind == kind, Notice.link == f"/h5/work-orders/{order_id}").order_by(Notice.id)
    ).all()
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.func_path == FAN_OUT_JOB)).all()
    return [
        (notice.title, {user_id for job in jobs if job.args[0] == notice.id for user_id in job.args[1]})
        for notice in notices
    ]


def test_a_new_order_reaches_every_staff_member_and_an_urgent_one_is_urgent(place):
    order_id = submit(place, Urgency.URGENT)

    [(title, people)] = told(WORK_ORDER_ASSIGNED, order_id)
    assert title == "新报修：公共设施"
    assert people == {place["staff"].id, place["other_staff"].id}
    notice = db.session.scalar(select(Notice).where(Notice.kind == WORK_ORDER_ASSIGNED))
    assert notice.urgency == "urgent"


def test_followers_hear_of_every_state_change_but_not_the_one_who_made_it(place):
    order_id = submit(place)
    service.follow(order_id, place["neighbour"].id)
    residents = {place["resident"].id, place["neighbour"].id}

    step(place, "staff", order_id, Action.ACCEPT)
    step(place, "staff", order_id, Action.START)
    step(place, "staff", order_id, Action.CLOSE, note="已更换灯泡")
    step(place, "resident", order_id, Action.DISPUTE, note="还是不亮")
    step(place, "staff", order_id, Action.CLOSE, note="已更换线路")
    step(place, "resident", order_id, Action.CONFIRM)

    assert told(WORK_ORDER_UPDATE, order_id) == [
        ("报修进度：已受理", residents),
        ("报修进度：处理中", residents),
        ("报修进度：已办结", residents),
        # 未解决 goes to the staff member who closed it and to the other follower, not to the resident.
        ("报修进度：处理中", {place["neighbour"].id, place["staff"].id}),
        ("报修进度：已办结", residents),
        ("报修进度：已办结", {place["neighbour"].id}),
    ]


def test_an_assignment_reaches_the_assignee_only(place):
    order_id = submit(place)

    step(place, "manager", order_id, Action.ASSIGN, assignee_id=place["other_staff"].id)

    assert told(WORK_ORDER_ASSIGNED, order_id)[-1] == ("派单：公共设施", {place["other_staff"].id})
    assert told(WORK_ORDER_UPDATE, order_id) == []


def test_the_assignee_hears_of_a_withdrawal(place):
    order_id = submit(place)
    step(place, "manager", order_id, Action.ASSIGN, assignee_id=place["staff"].id)

    step(place, "resident", order_id, Action.WITHDRAW)

    assert told(WORK_ORDER_UPDATE, order_id) == [("报修进度：已撤回", {place["staff"].id})]


def test_a_rejection_tells_the_resident_why(place):
    order_id = submit(place)

    step(place, "staff", order_id, Action.REJECT, note="属于业主自用部分")

    notice = db.session.scalar(select(Notice).where(Notice.kind == WORK_ORDER_UPDATE))
    assert notice.title == "报修进度：已驳回" and notice.body.endswith("属于业主自用部分")
    assert told(WORK_ORDER_UPDATE, order_id)[0][1] == {place["resident"].id}
