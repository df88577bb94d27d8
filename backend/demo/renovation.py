"""The demo's renovation projects (老旧小区改造) of 五十四街坊: the LED street lights the owners voted for, completed
by the company and rated by three households; a lift for 2栋 under way (the committee answers for it); the parking
and greening works still planned."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.domain.rectifications import ResponsibleParty
from backend.domain.renovation import FundingSource, ItemClass
from backend.services.renovation import (
    ItemInput,
    ProjectInput,
    create_project,
    linkable_topics,
    post_progress,
    rate,
    verified_households,
)
from backend.shared.clock import beijing_date


def make_renovation(compound_id: int, accounts: dict[str, int], now: datetime) -> None:
    today = beijing_date(now)
    committee, official, manager = accounts["committee"], accounts["official"], accounts["manager"]
    lights_topic = next((topic.id for topic in linkable_topics(compound_id, committee)
                         if topic.title == "小区路灯更换为LED节能灯"), None)
    lights = create_project(compound_id, committee, ProjectInput(
        "小区路灯LED节能改造", ResponsibleParty.COMPANY,
        [ItemInput(ItemClass.BASIC, "公共照明", 4_800_000, FundingSource.MAINTENANCE_FUND, "LED路灯48盏"),
         ItemInput(ItemClass.BASIC, "电气线路", 1_200_000, FundingSource.LOCAL, "路灯供电线路更换")],
        contractor="攀枝花安居物业服务有限公司", topic_id=lights_topic,
        planned_start=today - timedelta(days=50), planned_end=today - timedelta(days=20)))
    post_progress(lights.id, manager, "灯具48套已到货，开始分楼栋更换", 40, [])
    post_progress(lights.id, manager, "全部路灯更换完毕并通电验收", 100, [])
    for username, stars, comment in (("owner21", 5, "晚上亮堂多了"), ("owner30", 4, ""), ("owner33", 5, "灯光不刺眼")):
        rate(lights.id, accounts[username], verified_households(accounts[username], compound_id)[0], stars, comment)

    lift = create_project(compound_id, official, ProjectInput(
        "2栋加装电梯", ResponsibleParty.COMMITTEE,
        [ItemInput(ItemClass.IMPROVEMENT, "电梯", 52_000_000, FundingSource.CENTRAL, "中央补助每台20万元"),
         ItemInput(ItemClass.IMPROVEMENT, "电梯", 28_000_000, FundingSource.OWNERS, "按楼层分摊")],
        contractor="四川某电梯工程有限公司", planned_start=today - timedelta(days=10),
        planned_end=today + timedelta(days=80)))
    post_progress(lift.id, committee, "井道基础已开挖，管线迁改完成", 30, [])

    create_project(compound_id, official, ProjectInput(
        "停车位划线与绿化提升", ResponsibleParty.COMMUNITY,
        [ItemInput(ItemClass.IMPROVEMENT, "停车", 900_000, FundingSource.LOCAL, "划线车位60个"),
         ItemInput(ItemClass.UPGRADE, "绿化", 1_500_000, FundingSource.LOCAL)],
        planned_start=today + timedelta(days=30), planned_end=today + timedelta(days=75)))
