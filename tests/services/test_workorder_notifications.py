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

    resident, neighbour = {place["resident"].id}, {place["neighbour"].id}
    # The reporter reads 您的报修, who joined it 您关注的报修: one notice each.
    assert told(WORK_ORDER_UPDATE, order_id) == [
        ("报修进度：已受理", resident), ("报修进度：已受理", neighbour),
        ("报修进度：处理中", resident), ("报修进度：处理中", neighbour),
        ("报修进度：已办结", resident), ("报修进度：已办结", neighbour),
        # 未解决 goes to the other follower and to the staff member who closed it, not to the resident.
        ("报修进度：处理中", neighbour), ("居民反馈未解决", {place["staff"].id}),
        ("报修进度：已办结", resident), ("报修进度：已办结", neighbour),
        ("报修进度：已办结", neighbour),
    ]
    assert residents == resident | neighbour


def test_an_assignment_reaches_the_assignee_only(place):
    order_id = submit(place)

    step(place, "manager", order_id, Action.ASSIGN, assignee_id=place["other_staff"].id)

    assert told(WORK_ORDER_ASSIGNED, order_id)[-1] == ("派单：公共设施", {place["other_staff"].id})
    assert told(WORK_ORDER_UPDATE, order_id) == []


def test_the_assignee_hears_of_a_withdrawal(place):
    order_id = submit(place)
    step(place, "manager", order_id, Action.ASSIGN, assignee_id=place["staff"].id)

    step(place, "resident", order_id, Action.WITHDRAW)

    assert told(WORK_ORDER_UPDATE, order_id) == [("居民已撤回报修", {place["staff"].id})]


def test_a_rejection_tells_the_resident_why(place):
    order_id = submit(place)

    step(place, "staff", order_id, Action.REJECT, note="属于业主自用部分")

    notice = db.session.scalar(select(Notice).where(Notice.kind == WORK_ORDER_UPDATE))
    assert notice.title == "报修进度：已驳回" and notice.body.endswith("属于业主自用部分")
    assert told(WORK_ORDER_UPDATE, order_id)[0][1] == {place["resident"].id}


def test_notices_read_as_sentences(place):
    place["staff"].display_name = "刘师傅"
    db.session.commit()
    order_id = submit(place)
    service.follow(order_id, place["neighbour"].id)

    step(place, "staff", order_id, Action.ACCEPT)
    step(place, "staff", order_id, Action.START)
    step(place, "staff", order_id, Action.CLOSE, note="已更换灯泡")

    bodies = list(db.session.scalars(select(Notice.body).where(Notice.kind == WORK_ORDER_UPDATE).order_by(Notice.id)))
    assert bodies == [
        "刘师傅已受理您的报修：楼道灯不亮", "刘师傅已受理您关注的报修：楼道灯不亮",
        "刘师傅已开始处理您的报修：楼道灯不亮", "刘师傅已开始处理您关注的报修：楼道灯不亮",
        "您的报修已办结：楼道灯不亮，请确认并评价。处理结果：已更换灯泡", "您关注的报修已办结：楼道灯不亮。处理结果：已更换灯泡",
    ]
    new = db.session.scalar(select(Notice).where(Notice.kind == WORK_ORDER_ASSIGNED))
    assert new.body == "居民提交了报修：楼道灯不亮，请尽快受理"


def test_an_assignment_names_who_assigned_it(place):
    place["manager"].display_name = "王经理"
    db.session.commit()
    order_id = submit(place)

    step(place, "manager", order_id, Action.ASSIGN, assignee_id=place["staff"].id)

    notice = db.session.scalars(select(Notice).where(Notice.kind == WORK_ORDER_ASSIGNED).order_by(Notice.id)).all()[-1]
    assert notice.body == "王经理给您派了一张报修：楼道灯不亮，请尽快处理"
