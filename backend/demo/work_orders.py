"""The demo's work orders: a handful in every state, each told as what happened when."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.demo.order_life import OrderLife, insert_lives, sla_table
from backend.demo.people import People
from backend.demo.places import Places
from backend.domain.workorders import Action, Actor, Urgency
from backend.models import Household, User


def make_work_orders(places: Places, people: People, now: datetime) -> None:
    insert_lives(_lives(places.first.id, places.second.id, people.residents, people.crew, now))


def _lives(
    first_id: int, second_id: int, residents: dict[str, tuple[User, Household]], crew: dict[str, int], now: datetime
) -> list[OrderLife]:
    """A handful of orders in every state, told as what happened when (times before `now`)."""
    slas = {first_id: sla_table(first_id), second_id: sla_table(second_id)}
    staff, manager = crew["staff"], crew["manager"]

    def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return now - timedelta(days=days, hours=hours, minutes=minutes)

    def order(username: str, category: str, description: str, created_at: datetime, *, at_home: bool = True,
              location_text: str = "", urgency: Urgency = Urgency.NORMAL) -> OrderLife:
        person, home = residents[username]
        return OrderLife(
            compound_id=home.compound_id, submitter_id=person.id, category=category, description=description,
            urgency=urgency, sla=slas[home.compound_id][category][urgency], created_at=created_at,
            household_id=home.id if at_home else None, building_id=home.building_id, location_text=location_text,
        )

    def handled(life: OrderLife, accept: timedelta, start: timedelta, close: timedelta, note: str) -> OrderLife:
        created = life.row["created_at"]
        life.act(created + accept, Action.ACCEPT, staff, Actor.HANDLER)
        life.act(created + start, Action.START, staff, Actor.HANDLER)
        life.act(created + close, Action.CLOSE, staff, Actor.HANDLER, note)
        return life

    lives = []
    lives.append(order("owner03", "公共设施", "2单元3楼到5楼的楼道灯都不亮，晚上上下楼很黑", ago(minutes=25),
                       at_home=False, location_text="2单元楼道"))

    accepted = order("owner05", "水电维修", "厨房水龙头关不紧，一直滴水", ago(hours=3))
    accepted.act(ago(hours=2, minutes=10), Action.ACCEPT, staff, Actor.HANDLER)
    lives.append(accepted)

    started = order("owner07", "公共设施", "单元门禁坏了，门关不上，外人随便进出", ago(days=1, hours=2),
                    at_home=False, location_text="1单元门口")
    started.act(ago(days=1, hours=1, minutes=40), Action.ASSIGN, manager, Actor.MANAGER, assignee_id=staff)
    started.act(ago(days=1, hours=1, minutes=10), Action.ACCEPT, staff, Actor.HANDLER)
    started.act(ago(hours=23), Action.START, staff, Actor.HANDLER)
    lives.append(started)

    lives.append(handled(
        order("owner06", "环境卫生", "楼后面的垃圾站两天没清运，气味很大", ago(days=2), at_home=False,
              location_text="楼后垃圾站"),
        timedelta(minutes=30), timedelta(hours=1), timedelta(days=1, hours=19), "已清运并冲洗消毒",
    ))

    pruned = handled(
        order("owner01", "绿化", "窗前的黄葛树树枝伸进阳台，请修剪", ago(days=20)),
        timedelta(hours=1), timedelta(days=1), timedelta(days=2), "已修剪完毕，枝叶已清运",
    )
    pruned.act(ago(days=17, hours=18), Action.CONFIRM, pruned.row["submitter_id"], Actor.SUBMITTER)
    pruned.rate(ago(days=17, hours=18), 5, ("及时", "态度好"), "师傅修剪得很整齐，谢谢！")
    pruned.reply(ago(days=17), manager, "感谢您的认可，我们会定期巡查小区绿化。")
    lives.append(pruned)

    drain = handled(
        order("owner02", "水电维修", "卫生间地漏反水", ago(days=9)),
        timedelta(minutes=40), timedelta(hours=2), timedelta(hours=6), "已疏通地漏并更换存水弯",
    )
    drain.act(ago(days=8), Action.CONFIRM, drain.row["submitter_id"], Actor.SUBMITTER)
    drain.rate(ago(days=8), 4, ("专业",))
    lives.append(drain)

    noise = order("owner08", "噪音扰民", "楼上每天早上8点就开始装修，电钻声音很大", ago(days=4))
    noise.act(ago(days=3, hours=22), Action.REJECT, staff, Actor.HANDLER,
              "装修在管理规约允许的时段内（8:00–12:00、14:00–18:00），已提醒装修户文明施工；如超时施工请再报")
    lives.append(noise)

    parked = order("tenant", "停车", "有车堵住了单元门口的消防通道", ago(days=6), at_home=False,
                   location_text="单元门口消防通道")
    parked.act(ago(days=6) + timedelta(minutes=15), Action.WITHDRAW, parked.row["submitter_id"], Actor.SUBMITTER,
               "车主已经挪车了")
    lives.append(parked)

    # Urgent and overdue: accept was due 20 minutes ago; the manager has been told, the committee is next.
    burst = order("owner10", "水电维修", "一楼总水管爆裂，楼道大量积水", ago(minutes=50), at_home=False,
                  location_text="1单元一楼", urgency=Urgency.URGENT)
    burst.urge(ago(minutes=40))
    lives.append(burst)

    leak = handled(
        order("owner", "水电维修", "卫生间天花板渗水，怀疑楼上防水层坏了", ago(days=6)),
        timedelta(hours=1), timedelta(hours=3), timedelta(days=1), "已检查楼上卫生间，重新做了防水",
    )
    leak.act(ago(days=4), Action.DISPUTE, leak.row["submitter_id"], Actor.SUBMITTER, "还在渗水，晚上更明显")
    leak.act(ago(days=2), Action.CLOSE, staff, Actor.HANDLER, "更换了楼上的下水管接头，已观察24小时无渗漏")
    lives.append(leak)

    lives.append(handled(
        order("owner09", "环境卫生", "楼道有人堆放旧家具，影响通行", ago(days=12), at_home=False,
              location_text="楼道"),
        timedelta(hours=2), timedelta(days=1), timedelta(days=1, hours=4), "已联系住户清理楼道杂物",
    ))

    wall = handled(
        order("owner12", "安全秩序", "小区北侧围墙有缺口，晚上有外人进出", ago(days=35), at_home=False,
              location_text="北侧围墙"),
        timedelta(hours=3), timedelta(days=1), timedelta(days=2, hours=20), "已用砖砌补缺口",
    )
    wall.act(ago(days=32), Action.CONFIRM, wall.row["submitter_id"], Actor.SUBMITTER)
    wall.rate(ago(days=32), 3, ("拖延",), "修得还行，就是等得有点久")
    wall.reply(ago(days=31), manager, "抱歉让您久等，修补材料到货慢，我们会改进备料。")
    lives.append(wall)

    charging = handled(
        order("owner13", "停车", "有人把电动车推进楼道充电，有火灾隐患", ago(days=40), at_home=False,
              location_text="1单元楼道"),
        timedelta(minutes=30), timedelta(hours=1), timedelta(hours=5), "已劝离并张贴安全提示",
    )
    charging.act(ago(days=39), Action.CONFIRM, charging.row["submitter_id"], Actor.SUBMITTER)
    charging.rate(ago(days=39), 5, ("及时", "专业"))
    lives.append(charging)

    lives.append(order("owner2", "公共设施", "单元门禁损坏，刷卡没反应", ago(hours=2), at_home=False,
                       location_text="1单元门口"))
    locker = order("owner2", "其他", "快递柜无法取件", ago(days=10), at_home=False, location_text="小区大门快递柜")
    locker.act(ago(days=10) + timedelta(hours=1), Action.WITHDRAW, locker.row["submitter_id"], Actor.SUBMITTER,
               "已经能取了")
    lives.append(locker)
    return [life.finish(now) for life in sorted(lives, key=lambda life: life.row["created_at"])]
