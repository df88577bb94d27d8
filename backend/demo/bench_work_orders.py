"""Work orders for the benchmark: any number over the last six months in the demo city, each with a plausible
fate, written in bulk chunk by chunk."""
from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from backend.demo.bench import BENCH_CHUNK, staff_the_bench_compound
from backend.demo.order_life import OrderLife, insert_lives, sla_table
from backend.demo.places import DEMO_CITY
from backend.domain.roles import Role
from backend.domain.workorders import Action, Actor, Sla, Urgency
from backend.extensions import db
from backend.models import Area, Building, Compound, Household, Membership, WorkOrder
from backend.shared.clock import utcnow

BENCH_WINDOW = timedelta(days=182)
# Share of orders submitted in each hour of the day, Beijing time: few at night, most by day and evening.
_HOURLY_WEIGHTS = (1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 6, 5, 4, 4, 5, 5, 5, 5, 5, 6, 6, 5, 3, 2)
_CATEGORY_WEIGHTS = {"水电维修": 30, "公共设施": 15, "环境卫生": 14, "绿化": 5, "安全秩序": 5, "电梯": 8, "停车": 10,
                     "噪音扰民": 7, "其他": 6}
_URGENT_SHARE = {"水电维修": 0.2, "电梯": 0.3}
_DESCRIPTIONS = {
    "水电维修": ("厨房水龙头漏水", "卫生间下水道堵塞", "楼道灯不亮", "家里跳闸，总闸合不上", "水表井盖破损"),
    "公共设施": ("单元门禁坏了，关不上", "楼道扶手松动", "信报箱门脱落", "雨棚破损漏雨", "健身器材螺丝松了"),
    "环境卫生": ("垃圾站几天没清运，有异味", "楼道堆放杂物", "化粪池外溢", "楼顶平台积水发臭"),
    "绿化": ("树枝挡住窗户，请修剪", "草坪被踩秃了", "枯树有倒伏危险"),
    "安全秩序": ("陌生人夜间进出单元", "消防通道被占", "围墙有缺口"),
    "电梯": ("电梯异响", "电梯按钮失灵", "电梯门关不严"),
    "停车": ("车位被外来车辆占用", "电动车在楼道充电", "道闸抬杆不灵"),
    "噪音扰民": ("楼上深夜噪音", "广场舞音响太大", "装修超时施工"),
    "其他": ("公告栏信息过期", "快递柜故障", "流浪猫太多"),
}
_URGENT_DESCRIPTIONS = {"水电维修": ("水管爆裂，楼道积水", "整栋楼停电"), "电梯": ("电梯困人，请立即处理",)}
_BUILDING_SPOTS = ("1单元楼道", "2单元楼道", "楼顶", "地下室", "单元门口")
_COMPOUND_SPOTS = ("小区大门", "中心花园", "停车场", "垃圾站", "北侧围墙")
_CLOSE_NOTES = ("已更换配件，测试正常", "已疏通", "已清理完毕", "已修复，请确认", "已处理并回访")
_REJECT_REASONS = ("属于供电公司维修范围，请拨打95598报修", "燃气问题请联系燃气公司", "经核实属于户内设施，需业主自行维修",
                   "装修在允许时段内进行，已提醒装修户文明施工")
_DISPUTE_NOTES = ("还是不行", "没有修好，问题依旧", "修完第二天又坏了")
_GOOD_TAGS, _BAD_TAGS = ("及时", "态度好", "专业", "干净整洁"), ("没修好", "拖延", "态度差")
_REPLIES = ("感谢您的评价，我们会继续努力。", "抱歉给您带来不便，已安排回访。", "已安排专人复查，确保修好为止。")


@dataclass(frozen=True)
class _BenchCompound:
    slas: dict[str, dict[Urgency, Sla]]
    category_weights: list[float]
    staff_ids: list[int]
    manager_ids: list[int]
    building_ids: list[int]


def _bench_compounds(city_path: str) -> dict[int, _BenchCompound]:
    """The demo city's compounds that have staff to handle orders, with what a random order needs of each."""
    rows = db.session.execute(
        select(Membership.compound_id, Membership.role, Membership.user_id)
        .join(Compound, Compound.id == Membership.compound_id).join(Area, Area.id == Compound.area_id)
        .where(Area.path.startswith(city_path), Membership.role.in_((Role.STAFF, Role.MANAGER)))
        .order_by(Membership.compound_id, Membership.user_id)
    ).all()
    compounds = {}
    for compound_id in sorted({row.compound_id for row in rows if row.role is Role.STAFF}):
        slas = sla_table(compound_id)
        compounds[compound_id] = _BenchCompound(
            slas=slas, category_weights=[_CATEGORY_WEIGHTS.get(name, 5) for name in slas],
            staff_ids=[row.user_id for row in rows if row.compound_id == compound_id and row.role is Role.STAFF],
            manager_ids=[row.user_id for row in rows if row.compound_id == compound_id and row.role is Role.MANAGER],
            building_ids=list(db.session.scalars(select(Building.id).where(Building.compound_id == compound_id))),
        )
    return compounds


def _hour_scale(now: datetime) -> tuple[datetime, list[float]]:
    """Cumulative submission weight per hour over the window, so a uniform draw maps to a submission time."""
    start = (now - BENCH_WINDOW).replace(minute=0, second=0, microsecond=0)
    hours = int((now - start).total_seconds() // 3600)
    total, cumulative = 0.0, []
    for hour in range(hours):
        total += _HOURLY_WEIGHTS[(start.hour + hour + 8) % 24]  # Beijing is UTC+8
        cumulative.append(total)
    return start, cumulative


def _submitted_at(fraction: float, start: datetime, cumulative: list[float], now: datetime) -> datetime:
    target = fraction * cumulative[-1]
    hour = min(bisect_left(cumulative, target), len(cumulative) - 1)
    below = cumulative[hour - 1] if hour else 0.0
    within = (target - below) / (cumulative[hour] - below)
    return min(start + timedelta(hours=hour + within), now - timedelta(minutes=1))


def _stars(rng: random.Random, disputed: bool) -> int:
    return rng.choices((5, 4, 3, 2, 1), (15, 25, 30, 18, 12) if disputed else (50, 28, 12, 6, 4))[0]


def _random_life(rng: random.Random, compound_id: int, place: _BenchCompound, submitter: tuple[int, int, int],
                 created: datetime, now: datetime) -> OrderLife:
    """An order with a plausible fate (most handled within the SLA and confirmed, some late, disputed,
    rejected, withdrawn or left without an answer), cut off at `now`: recent orders are still open."""
    user_id, household_id, building_id = submitter
    category = rng.choices(list(place.slas), place.category_weights)[0]
    urgency = Urgency.URGENT if rng.random() < _URGENT_SHARE.get(category, 0) else Urgency.NORMAL
    sla = place.slas[category][urgency]
    texts = _URGENT_DESCRIPTIONS.get(category, ()) if urgency is Urgency.URGENT else _DESCRIPTIONS.get(category, ())
    where = rng.random()
    life = OrderLife(
        compound_id=compound_id, submitter_id=user_id, category=category, urgency=urgency, sla=sla, created_at=created,
        description=rng.choice(texts) if texts else f"{category}问题，请尽快处理",
        household_id=household_id if where < 0.6 else None,
        building_id=building_id if where < 0.85 else None,
        location_text="" if where < 0.6 else rng.choice(_BUILDING_SPOTS if where < 0.85 else _COMPOUND_SPOTS),
    )
    handler = rng.choice(place.staff_ids)
    manager = rng.choice(place.manager_ids) if place.manager_ids else None
    steps: list[tuple[datetime, Callable[[datetime], None]]] = []

    def step(at: datetime, action: Action, actor_id: int, actor: Actor, note: str = "", **extra) -> datetime:
        steps.append((at, lambda moment: life.act(moment, action, actor_id, actor, note, **extra)))
        return at

    def answered(closed_at: datetime, disputed: bool) -> None:
        confirmed_at = step(closed_at + timedelta(hours=rng.uniform(0.5, 120)), Action.CONFIRM, user_id,
                            Actor.SUBMITTER)
        stars = _stars(rng, disputed)
        tags = rng.sample(_GOOD_TAGS if stars >= 4 else _BAD_TAGS, rng.randint(0, 2) if stars != 3 else 1)
        steps.append((confirmed_at, lambda moment: life.rate(moment, stars, tags)))
        if manager is not None and rng.random() < (0.5 if stars <= 3 else 0.05):
            steps.append((confirmed_at + timedelta(hours=rng.uniform(1, 48)),
                          lambda moment: life.reply(moment, manager, rng.choice(_REPLIES))))

    fate = rng.random()
    if fate < 0.03:
        step(created + sla.accept * rng.uniform(0.02, 0.8), Action.WITHDRAW, user_id, Actor.SUBMITTER)
    elif fate < 0.07:
        step(created + sla.accept * rng.uniform(0.1, 1.1), Action.REJECT, handler, Actor.HANDLER,
             rng.choice(_REJECT_REASONS))
    elif fate < 0.075 and now - created < timedelta(days=20):
        pass  # nobody takes it: the escalation steps climb to the community
    else:
        # Median 0.3 of the accept window, about 8 % late; median 0.35 of the close window, about 12 % late.
        accepted_at = created + sla.accept * min(rng.lognormvariate(-1.2, 0.85), 6)
        if manager is not None and rng.random() < 0.1:
            step(created + (accepted_at - created) * rng.uniform(0.2, 0.8), Action.ASSIGN, manager, Actor.MANAGER,
                 assignee_id=handler)
        step(accepted_at, Action.ACCEPT, handler, Actor.HANDLER)
        started_at = step(accepted_at + timedelta(minutes=rng.uniform(2, 180)), Action.START, handler, Actor.HANDLER)
        closed_at = step(max(created + sla.close * min(rng.lognormvariate(-1.05, 0.9), 5),
                             started_at + timedelta(minutes=rng.uniform(10, 120))),
                         Action.CLOSE, handler, Actor.HANDLER, rng.choice(_CLOSE_NOTES))
        answer = rng.random()
        if answer < 0.06:
            disputed_at = step(closed_at + timedelta(hours=rng.uniform(1, 72)), Action.DISPUTE, user_id,
                               Actor.SUBMITTER, rng.choice(_DISPUTE_NOTES))
            closed_again = step(disputed_at + timedelta(hours=rng.uniform(2, 48)), Action.CLOSE, handler,
                                Actor.HANDLER, rng.choice(_CLOSE_NOTES))
            if rng.random() < 0.6:
                answered(closed_again, disputed=True)
        elif answer < 0.72:
            answered(closed_at, disputed=False)
    for at, apply in steps:
        if at > now:
            break
        apply(at)
    return life.finish(now)


def _demo_city_path() -> str:
    path = db.session.scalar(select(Area.path).where(Area.name == DEMO_CITY, Area.parent_id.is_(None)))
    if path is None:
        raise LookupError("load the demo data first")
    return path


def _city_order_count(city_path: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(WorkOrder).join(Compound, Compound.id == WorkOrder.compound_id)
        .join(Area, Area.id == Compound.area_id).where(Area.path.startswith(city_path))
    )


def load_bench_work_orders(
    count: int, on_chunk: Callable[[int, int], None] | None = None, chunk_size: int = BENCH_CHUNK,
    now: datetime | None = None,
) -> int:
    """Ensure the demo city holds `count` work orders (the demo handful included); return how many were added.

    New orders go to the city's compounds that have staff (the demo `staff` and `manager` also serve the
    `bench` compound when there is one), filed by their verified residents chosen at random, submitted over
    the last six months with more by day than at night, ids rising with submission time. Each chunk is one
    commit of orders with their events, followers, escalation steps and ratings, so a second run with the
    same count adds nothing and a larger count adds only the difference."""
    now = now or utcnow()
    city_path = _demo_city_path()
    staff_the_bench_compound()
    existing = _city_order_count(city_path)
    if existing >= count:
        return 0
    compounds = _bench_compounds(city_path)
    submitters = db.session.execute(
        select(Membership.compound_id, Membership.user_id, Membership.household_id, Household.building_id)
        .join(Household, Household.id == Membership.household_id)
        .where(Membership.compound_id.in_(compounds), Membership.role.in_((Role.OWNER, Role.RESIDENT)),
               Membership.verified_at.is_not(None))
        .order_by(Membership.id)
    ).all()
    if not submitters:
        raise LookupError("no verified residents in a compound with staff")
    start, cumulative = _hour_scale(now)
    for first in range(existing, count, chunk_size):
        last = min(first + chunk_size, count)
        # Seeded per chunk: the same count on the same data gives the same orders (up to the clock).
        rng = random.Random(f"linli-bench-work-orders-{first}")
        lives = []
        for index in range(first, last):
            compound_id, *submitter = submitters[rng.randrange(len(submitters))]
            created = _submitted_at((index + rng.random()) / count, start, cumulative, now)
            lives.append(_random_life(rng, compound_id, compounds[compound_id], tuple(submitter), created, now))
        insert_lives(lives)
        db.session.commit()
        if on_chunk is not None:
            on_chunk(last, count)
    return count - existing
