"""Demo data for `make run` and the benchmarks: one street, two compounds, ~120 households, a user per role,
a handful of work orders in every state, a deliberation topic in every step of the five-step method, four
months of property fee bills under a 先买后补 subsidy, partly paid online and in cash; on request a `bench`
compound scaled to any number of households and any number of work orders spread over the last six months."""
from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import Connection, Row, Table, func, insert, select

from backend.domain import workorders as rules
from backend.domain.auth import WeChatApp
from backend.domain.bindings import BindingStatus, Relation
from backend.domain.compounds import (
    AreaLevel,
    GovernanceBody,
    HouseholdKind,
    ManagementModel,
    PartyOrgForm,
    RenovationStatus,
)
from backend.domain.consultations import DEFAULT_PUBLICITY_DAYS, MeetingKind, Party, Schedule
from backend.domain.fees import BillingCycle, PaymentMethod, period_start_for
from backend.domain.refusals import Kind
from backend.domain.roles import Role
from backend.domain.subsidy import SubsidyTier, add_months
from backend.domain.voting import VoteKind, VoteRule
from backend.domain.workorders import Action, Actor, EscalationLevel, Phase, Sla, Status, Urgency
from backend.extensions import db
from backend.models import (
    Area,
    Bill,
    BindingRequest,
    Building,
    Compound,
    Household,
    Membership,
    PropertyCompany,
    RegisteredOwner,
    User,
    WeChatAccount,
    WorkOrder,
    WorkOrderEscalation,
    WorkOrderEvent,
    WorkOrderFollower,
    WorkOrderRating,
)
from backend.policy import roles_in_compound
from backend.services import consultations
from backend.services import fees as fee_service
from backend.services import payments as payment_service
from backend.services import subsidies as subsidy_service
from backend.services import workorders as workorder_service
from backend.services.consultations import Acceptance, OptionDraft, Participant
from backend.services.identity import hash_password, phone_columns, phone_hash
from backend.services.meetings import InviteeSpec, create_meeting
from backend.shared.clock import SHANGHAI, utcnow

DEMO_PASSWORD = "linli-demo"
DEMO_CITY = "攀枝花市"
# (code, name, model, built year, floors per unit): floors × 2 units × 2 rooms × 3 buildings households.
DEMO_COMPOUNDS = (
    ("yangguang", "阳光花园小区", ManagementModel.MARKET, 1996, 6),
    ("wushisi", "五十四街坊", ManagementModel.TRUST, 1988, 4),
)


def demo_loaded() -> bool:
    return db.session.scalar(select(Area.id).where(Area.name == DEMO_CITY, Area.parent_id.is_(None))) is not None


def _area(name: str, level: AreaLevel, parent: Area | None) -> Area:
    area = Area(name=name, level=level, parent_id=parent.id if parent else None)
    db.session.add(area)
    db.session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    return area


def load_demo() -> bool:
    """Load once; return False when the demo data is already there."""
    if demo_loaded():
        return False
    rng = random.Random(20261125)
    password_hash = hash_password(DEMO_PASSWORD)
    city = _area(DEMO_CITY, AreaLevel.CITY, None)
    district = _area("东区", AreaLevel.DISTRICT, city)
    street = _area("炳草岗街道", AreaLevel.STREET, district)
    community = _area("金沙社区", AreaLevel.COMMUNITY, street)
    company = PropertyCompany(name="攀枝花安居物业服务有限公司", credit_code="91510400MA6DEMO01X")
    db.session.add(company)
    db.session.flush()

    compounds: list[Compound] = []
    households: dict[int, list[Household]] = {}
    for code, name, model, built, floors in DEMO_COMPOUNDS:
        compound = Compound(
            code=code, name=name, address=f"攀枝花市东区炳草岗大道{rng.randint(10, 300)}号", area_id=community.id,
            built_year=built, management_model=model, party_org_form=PartyOrgForm.SINGLE, first_secretary_name="李红梅",
            governance_body=GovernanceBody.OWNERS_COMMITTEE, property_company_id=company.id,
            fee_standard_fen_per_m2=85 if model is ManagementModel.MARKET else 60,
            renovation_status=RenovationStatus.DONE if built < 1990 else RenovationStatus.IN_PROGRESS,
            open_problems="部分楼栋雨污管网老化" if built < 1990 else "",
        )
        db.session.add(compound)
        db.session.flush()
        compounds.append(compound)
        households[compound.id] = []
        for number in range(1, 4):
            building = Building(compound_id=compound.id, name=f"{number}栋")
            db.session.add(building)
            db.session.flush()
            for unit in ("1", "2"):
                for floor in range(1, floors + 1):
                    for door in (1, 2):
                        household = Household(
                            compound_id=compound.id, building_id=building.id, unit=unit, room=f"{floor}0{door}",
                            floor_area_centi_m2=rng.randint(4500, 12000) + rng.choice((0, 50)),
                        )
                        db.session.add(household)
                        households[compound.id].append(household)
    db.session.flush()
    first, second = compounds
    first_homes, second_homes = households[first.id], households[second.id]

    def user(username: str, display_name: str, phone: str | None = None) -> User:
        person = User(username=username, password_hash=password_hash, display_name=display_name,
                      **(phone_columns(phone) if phone else {}))
        db.session.add(person)
        db.session.flush()
        return person

    now = utcnow()
    admin = user("admin", "平台管理员")
    db.session.add(Membership(user_id=admin.id, role=Role.ADMIN))
    official = user("official", "炳草岗街道 王科长")
    db.session.add(Membership(user_id=official.id, role=Role.OFFICIAL, area_id=street.id))
    crew: dict[str, int] = {}
    for username, display_name, role in (
        ("secretary", "李红梅（第一书记）", Role.PARTY_SECRETARY),
        ("committee", "张建国（业委会主任）", Role.COMMITTEE),
        ("manager", "陈经理（安居物业）", Role.MANAGER),
        ("staff", "刘师傅（维修工）", Role.STAFF),
    ):
        person = user(username, display_name)
        crew[username] = person.id
        db.session.add(Membership(user_id=person.id, role=role, compound_id=first.id))

    def verified(person: User, role: Role, compound: Compound, household: Household) -> None:
        db.session.add(Membership(user_id=person.id, role=role, compound_id=compound.id, household_id=household.id,
                                  verified_by_id=admin.id, verified_at=now))

    owner = user("owner", "王秀英", phone="13900000001")
    verified(owner, Role.OWNER, first, first_homes[0])
    db.session.add(RegisteredOwner(household_id=first_homes[0].id, name="王秀英", phone_hash=phone_hash("13900000001"),
                                   phone_masked="139****0001"))
    residents = {"owner": (owner, first_homes[0])}
    residents["tenant"] = (user("tenant", "赵小军"), first_homes[0])
    verified(residents["tenant"][0], Role.RESIDENT, first, first_homes[0])
    residents["owner2"] = (user("owner2", "孙桂兰"), second_homes[0])
    verified(residents["owner2"][0], Role.OWNER, second, second_homes[0])
    for index in range(1, 41):
        residents[f"owner{index:02d}"] = (user(f"owner{index:02d}", f"业主{index:02d}"), first_homes[index])
        verified(residents[f"owner{index:02d}"][0], Role.OWNER, first, first_homes[index])
    # An owner on the register who has not signed up yet: signing in with this phone and asking to be
    # bound to this household as its owner is approved at once.
    db.session.add(RegisteredOwner(household_id=first_homes[50].id, name="周德明", phone_hash=phone_hash("13900000050"),
                                   phone_masked="139****0050"))
    for index, name in ((45, "吴海燕"), (46, "郑大伟")):
        applicant = User(display_name="", **phone_columns(f"1370000{index:04d}"))
        db.session.add(applicant)
        db.session.flush()
        db.session.add(BindingRequest(user_id=applicant.id, compound_id=first.id, household_id=first_homes[index].id,
                                      claimed_name=name, relation=Relation.OWNER, status=BindingStatus.PENDING))
    _insert_lives(_demo_work_orders(first.id, second.id, residents, crew, now))
    db.session.commit()
    _demo_consultations(_DemoCouncil(first.id, residents, crew), now)
    _demo_fees(first, second, residents, crew, district, password_hash, now)
    return True


def demo_compound() -> Compound:
    return db.session.scalar(select(Compound).where(Compound.code == DEMO_COMPOUNDS[0][0]))


# ---- consultations (五步议事法) ----------------------------------------------------------------------------

# A motion: 同意 decides it, 弃权 takes part without approving.
_MOTION = (OptionDraft("同意", is_approval=True), OptionDraft("不同意"), OptionDraft("弃权", is_abstain=True))


class _DemoCouncil:
    """The first compound's people as the consultation services see them, and the steps of a round. Each step
    goes through the service that takes it in the app; the deadline-driven ones (ballot opened at the end of
    deliberation, closed at its deadline) are taken as the sweep takes them, at their due times."""

    def __init__(self, compound_id: int, residents: dict[str, tuple[User, Household]], crew: dict[str, int]):
        self.compound_id = compound_id
        self.residents = residents
        self.crew = crew

    def user_id(self, username: str) -> int:
        return self.residents[username][0].id if username in self.residents else self.crew[username]

    def person(self, username: str) -> Participant:
        user_id = self.user_id(username)
        return consultations.participant(
            user_id, self.compound_id, roles_in_compound(user_id, self.compound_id)
        )

    def home(self, username: str) -> int:
        return self.residents[username][1].id

    def propose(self, username: str, title: str, body: str, cosigners: Sequence[str] = ()) -> int:
        topic_id = consultations.propose_topic(
            self.compound_id, self.person(username), self.home(username), title, body
        ).id
        for cosigner in cosigners:
            consultations.cosign(topic_id, self.person(cosigner), self.home(cosigner))
        return topic_id

    def accept(
        self,
        topic_id: int,
        rule: VoteRule,
        at: datetime,
        deliberation_ends_at: datetime,
        voting_hours: int,
        responsible_party: str = "",
    ) -> None:
        schedule = Schedule(deliberation_ends_at, voting_hours, DEFAULT_PUBLICITY_DAYS)
        consultations.accept_topic(
            topic_id,
            self.person("secretary"),
            Acceptance(rule=rule, schedule=schedule, responsible_party=responsible_party),
            now=at,
        )

    def draft_motion(self, topic_id: int) -> None:
        consultations.set_options(topic_id, self.person("committee"), _MOTION)

    def vote(self, topic_id: int, votes: Sequence[tuple[str, str]], until: datetime) -> None:
        """Open the ballot when deliberation ends, then cast `votes` (username, option label) in order, spread
        evenly over the window up to `until`."""
        deliberation_ends_at = consultations.get_topic(topic_id).deliberation_ends_at
        opened_at = consultations.open_ballot(topic_id, None, now=deliberation_ends_at).ballot_opened_at
        options = {option.label: option.id for option in consultations.options_of(topic_id)}
        spacing = (until - opened_at) / (len(votes) + 1)
        for index, (username, label) in enumerate(votes, start=1):
            consultations.cast_vote(
                topic_id,
                self.person(username),
                self.home(username),
                options[label],
                now=opened_at + spacing * index,
            )

    def close(self, topic_id: int) -> None:
        consultations.close_ballot(topic_id, None, now=consultations.get_topic(topic_id).ballot_closes_at)

    def carry(self, topic_id: int, votes: Sequence[tuple[str, str]], now: datetime) -> None:
        """Options, ballot, close at the deadline, and the end of publicity: a passed decision to carry out."""
        self.draft_motion(topic_id)
        topic = consultations.get_topic(topic_id)
        closes_at = topic.deliberation_ends_at + timedelta(hours=topic.voting_hours)
        self.vote(topic_id, votes, until=closes_at)
        self.close(topic_id)
        consultations.advance_topic(topic_id, now)


def _show_of_hands(usernames: Sequence[str]) -> list[tuple[str, str]]:
    """Most for, one in five against, one in ten abstaining: a motion that carries."""
    return [
        (username, "不同意" if index % 5 == 2 else "弃权" if index % 10 == 6 else "同意")
        for index, username in enumerate(usernames)
    ]


def _owners(first: int, last: int) -> list[str]:
    return [f"owner{number:02d}" for number in range(first, last + 1)]


def _demo_consultations(council: _DemoCouncil, now: datetime) -> None:
    """One topic in every step in the first compound, oldest first (the list shows the newest on top). Every
    deadline still open lies ahead of `now`, so the sweep has nothing to do when `make run` starts."""
    days = timedelta(days=1)
    _done_topic(council, now, days)
    _implementation_topic(council, now, days)
    _publicity_topic(council, now, days)
    _voting_topic(council, now, days)
    _deliberation_topic(council, now, days)
    declined = council.propose(
        "owner19",
        "砍掉3栋前的黄葛树",
        "黄葛树太高，挡住3栋低层住户的采光，树根还把路面顶裂了，建议砍掉。",
        _owners(20, 23),
    )
    consultations.decline_topic(
        declined,
        council.person("secretary"),
        "这棵黄葛树是登记在册的古树，依法不得砍伐；采光问题已交物业修剪枝叶，路面由物业本月修补。",
    )
    council.propose(
        "owner14",
        "小区大门增设人脸识别门禁",
        "外来人员随意进出，快递车也常在小区里乱停。建议大门改为人脸识别门禁，访客登记后进入。",
        _owners(15, 18),
    )
    council.propose(
        "owner11",
        "增设电动自行车集中充电棚",
        "不少住户把电动车推进楼道充电，有火灾隐患。建议在1栋北侧空地建一个带充电桩的车棚，按次付费。",
        ["owner12", "owner13"],
    )


def _done_topic(council: _DemoCouncil, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner20",
        "小区路灯更换为LED节能灯",
        "小区路灯老化，一半不亮，电费还高。建议全部换成LED节能灯，费用从公共收益中列支。",
        _owners(21, 24),
    )
    council.accept(
        topic_id,
        VoteRule(VoteKind.CONSULTATION),
        now - 60 * days,
        now - 55 * days,
        120,
        responsible_party="攀枝花安居物业服务有限公司",
    )
    council.carry(topic_id, _show_of_hands(_owners(1, 35)), now)
    manager = council.person("manager")
    consultations.post_progress(topic_id, manager, "已采购LED灯具48套，本周开始分楼栋更换。", is_final=False)
    for username, stars, comment in (
        ("owner21", 5, "晚上亮堂多了"),
        ("owner30", 4, ""),
        ("owner33", 5, "换得很快"),
    ):
        consultations.rate_implementation(
            topic_id, council.person(username), council.home(username), stars, comment
        )
    consultations.post_progress(topic_id, manager, "全部路灯已更换完毕并通电验收，共48盏。", is_final=True)


def _implementation_topic(council: _DemoCouncil, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner25",
        "在2栋与3栋之间增设公共晾衣架",
        "楼间空地闲置，住户只能在阳台晾被子，晒不到太阳。建议安装不锈钢晾衣架，方便大家晾晒。",
        _owners(26, 29),
    )
    council.accept(
        topic_id,
        VoteRule(VoteKind.CONSULTATION),
        now - 30 * days,
        now - 27 * days,
        72,
        responsible_party="攀枝花安居物业服务有限公司",
    )
    council.carry(topic_id, _show_of_hands(_owners(1, 30)), now)
    manager = council.person("manager")
    consultations.post_progress(topic_id, manager, "已完成选址放线，晾衣架材料已到货。", is_final=False)
    consultations.post_progress(topic_id, manager, "立柱已安装固化，预计下周完工。", is_final=False)
    for username, stars, comment in (
        ("owner26", 4, "进度还可以"),
        ("owner27", 3, "施工时围挡不够，走路不方便"),
    ):
        consultations.rate_implementation(
            topic_id, council.person(username), council.home(username), stars, comment
        )


def _publicity_topic(council: _DemoCouncil, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner30",
        "广场舞活动时间调整为每晚19:00—21:00",
        "中心花园广场舞音乐常到22点以后，影响老人孩子休息。建议活动时间定为19:00—21:00，音量适中。",
        _owners(31, 34),
    )
    council.accept(topic_id, VoteRule(VoteKind.CONSULTATION), now - 13 * days, now - 10 * days, 168)
    council.draft_motion(topic_id)
    council.vote(
        topic_id, _show_of_hands(["owner", *_owners(1, 29)]), until=now - 3 * days - timedelta(hours=1)
    )
    council.close(topic_id)
    objection = consultations.file_objection(
        topic_id,
        council.person("owner29"),
        council.home("owner29"),
        "只规定了时间，没有规定音量，21点前声音太大也一样扰民，建议同时限定音量。",
    )
    consultations.answer_objection(
        topic_id,
        objection.id,
        council.person("committee"),
        "已与广场舞队伍商定：音响不超过60分贝，由物业每周抽测一次，结果在公告栏公示。",
    )


def _voting_topic(council: _DemoCouncil, now: datetime, days: timedelta) -> None:
    topic_id = consultations.raise_topic(
        council.compound_id,
        council.person("committee"),
        "续聘攀枝花安居物业服务有限公司（2027—2029年）",
        "现物业服务合同将于2026年12月31日到期。业委会提议续聘三年，收费标准不变（0.85元/平方米·月）。"
        "根据《民法典》第二百七十八条，选聘物业服务企业须由业主共同决定。",
    ).id
    council.accept(topic_id, VoteRule(VoteKind.OWNERS_JOINT, 4), now - 6 * days, now - 2 * days, 168)
    council.draft_motion(topic_id)
    # owner07 abstains at first, then changes to 同意: the later vote counts. `owner` has not voted (待我表决).
    votes = [*_show_of_hands(_owners(1, 22)), ("owner07", "同意")]
    council.vote(topic_id, votes, until=now - timedelta(hours=1))


def _deliberation_topic(council: _DemoCouncil, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner01",
        "使用维修资金修缮1栋屋面防水",
        "1栋顶楼每逢下雨就漏水，屋面防水层已超过使用年限。建议使用专项维修资金整体翻修屋面防水。",
        _owners(2, 5),
    )
    council.accept(topic_id, VoteRule(VoteKind.OWNERS_JOINT, 5), now - 3 * days, now + 4 * days, 168)
    _discuss(topic_id, council)
    council.draft_motion(topic_id)
    meeting_at = (now.astimezone(SHANGHAI) + 2 * days).replace(hour=19, minute=30, second=0, microsecond=0)
    create_meeting(
        compound_id=council.compound_id,
        convener_id=council.user_id("committee"),
        kind=MeetingKind.DELIBERATION,
        title="1栋屋面防水修缮议事会",
        agenda="一、物业通报屋面渗漏检测情况；二、公布维修方案和预算；三、听取住户意见；四、确定表决选项。",
        starts_at=meeting_at.astimezone(UTC),
        place="小区党群服务站二楼会议室",
        invitees=[
            InviteeSpec(Party.PARTY_ORGANISATION, council.user_id("secretary")),
            InviteeSpec(Party.COMMITTEE, council.user_id("committee")),
            InviteeSpec(Party.PROPERTY_COMPANY, council.user_id("manager")),
            InviteeSpec(Party.RESIDENT, council.user_id("owner01")),
            InviteeSpec(Party.RESIDENT, council.user_id("owner")),
            InviteeSpec(Party.MERCHANT, name="攀枝花宏达防水工程公司 周工"),
        ],
        topic_id=topic_id,
    )


def _discuss(topic_id: int, council: _DemoCouncil) -> None:
    """Comments with replies; one hidden by the committee, which stays in place with its reason."""
    committee = council.person("committee")
    for username, body, reply, hidden_reason in (
        ("owner06", "顶楼每次下雨都要拿盆接水，支持尽快修。", None, ""),
        (
            "owner07",
            "维修资金要怎么分摊？低楼层也要出钱吗？",
            ("committee", "维修资金按各户专有部分面积分摊，预算和报价将在议事会上公布。"),
            "",
        ),
        ("owner08", "物业收了钱不干活，全是骗子！", None, "含人身攻击，请就事论事、文明发言"),
        (
            "owner09",
            "建议先请第三方检测，确定是整体翻修还是局部修补。",
            ("owner01", "同意，检测费用不高，能避免多花冤枉钱。"),
            "",
        ),
    ):
        comment_id = consultations.add_comment(topic_id, council.user_id(username), body).id
        if reply is not None:
            replier, text = reply
            consultations.add_comment(topic_id, council.user_id(replier), text, parent_id=comment_id)
        if hidden_reason:
            consultations.hide_comment(topic_id, comment_id, committee, hidden_reason)


# ---- property fees (先买后补) -------------------------------------------------------------------------------

# Bills for the last three months and the current one.
DEMO_FEE_MONTHS = 4
# Shops along the road at 阳光花园, on the commercial schedule: (room, floor area in 0.01 m²). The larger ones
# reach the subsidy's cap.
_SHOPS = (("101", 4850), ("102", 6200), ("103", 9650), ("104", 12800), ("105", 15500), ("106", 7300))
_SHOP_STANDARD_FEN = 200
# The district's policy: 50 %, 30 %, 10 % for a year each, at most 60 元 a household a month.
_DEMO_TIERS = (SubsidyTier(months=12, rate_bp=5000), SubsidyTier(months=12, rate_bp=3000),
               SubsidyTier(months=12, rate_bp=1000))
_DEMO_CAP_FEN = 6000
_DEMO_BUDGET_FEN = 20_000_000
# Share of the households that have paid each of a compound's periods by now, the oldest first.
_PAID_SHARE = {BillingCycle.MONTHLY: (0.9, 0.8, 0.66, 0.34), BillingCycle.QUARTERLY: (0.86, 0.46)}
# One household in twelve pays nothing at all (the arrears list); most who can pay online do.
_NEVER_PAYS, _ONLINE_SHARE, _CASH_SHARE = 1 / 12, 0.75, 0.8
_WAIVER_REASON = "低保户，经业委会研究减免本期物业费"
# Bills are issued at least this long before now, and paid in between.
_EARLIEST_PAYMENT = timedelta(hours=2)


@dataclass(frozen=True)
class _DemoPayment:
    at: datetime
    # The bill's columns as a plain row: ORM bills held across the payments' commits would be expired and
    # reloaded at every one of them.
    bill: Row
    # The verified resident paying online through the sandbox; None for cash or a transfer taken by staff.
    payer_id: int | None = None
    method: PaymentMethod = PaymentMethod.SANDBOX


def _beijing(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def _demo_fees(first: Compound, second: Compound, residents: dict[str, tuple[User, Household]],
               crew: dict[str, int], district: Area, password_hash: str, now: datetime) -> None:
    """Fee schedules from January, the district's 先买后补 policy, bills for the last three months and the
    current one, and payments spread over them through the services the app uses: online through the sandbox
    by verified residents, cash and bank transfers recorded by staff. Every period is partly paid. The demo
    owner paid one month online and one in cash, and owes an overdue month and the current one."""
    rng = random.Random(20261126)
    this_month = now.astimezone(SHANGHAI).date().replace(day=1)
    months = [add_months(this_month, back) for back in range(1 - DEMO_FEE_MONTHS, 1)]
    # January of the first billed month's year starts a month, a quarter and a year alike.
    effective_from = date(months[0].year, 1, 1)
    # The policy began a first tier before the earliest billed quarter, so every billed month (the oldest
    # quarter's first to the current quarter's last: at most 8 months) falls in its second tier (30 %) on
    # any day the demo is loaded.
    policy_start = add_months(period_start_for(months[0], BillingCycle.QUARTERLY), -_DEMO_TIERS[0].months)
    admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    official_id = db.session.scalar(select(User.id).where(User.username == "official"))
    shops = Building(compound_id=first.id, name="临街商铺")
    db.session.add(shops)
    db.session.flush()
    db.session.add_all(Household(compound_id=first.id, building_id=shops.id, unit="1", room=room,
                                 floor_area_centi_m2=area, kind=HouseholdKind.COMMERCIAL) for room, area in _SHOPS)
    cashier = User(username="staff2", password_hash=password_hash, display_name="何会计（五十四街坊收费员）")
    db.session.add(cashier)
    db.session.flush()
    db.session.add(Membership(user_id=cashier.id, role=Role.STAFF, compound_id=second.id))
    db.session.commit()
    collectors = {first.id: crew["staff"], second.id: cashier.id}

    schedules = [
        fee_service.create_schedule(first, fee_service.ScheduleDraft(
            household_kind=HouseholdKind.RESIDENTIAL, standard_fen_per_m2=first.fee_standard_fen_per_m2,
            effective_from=effective_from, cycle=BillingCycle.MONTHLY, due_day=15, charges_fees=None,
            hearing_meeting_id=None, note="按物业服务合同约定的收费标准"), crew["committee"], None),
        fee_service.create_schedule(first, fee_service.ScheduleDraft(
            household_kind=HouseholdKind.COMMERCIAL, standard_fen_per_m2=_SHOP_STANDARD_FEN,
            effective_from=effective_from, cycle=BillingCycle.MONTHLY, due_day=15, charges_fees=None,
            hearing_meeting_id=None, note="临街商铺"), crew["committee"], None),
        fee_service.create_schedule(second, fee_service.ScheduleDraft(
            household_kind=HouseholdKind.RESIDENTIAL, standard_fen_per_m2=second.fee_standard_fen_per_m2,
            effective_from=effective_from, cycle=BillingCycle.QUARTERLY, due_day=15, charges_fees=None,
            hearing_meeting_id=None, note="信托制物业，按季收取"), official_id, None),
    ]
    subsidy_service.create_policy(subsidy_service.PolicyDraft(
        name="东区老旧小区物业费过渡期补贴（先买后补）", area_id=district.id, compound_id=None,
        built_before_year=2000, management_models=[], period_start=policy_start,
        tiers=list(_DEMO_TIERS), cap_fen_per_month=_DEMO_CAP_FEN, budget_fen=_DEMO_BUDGET_FEN,
    ), admin_id, None)
    for schedule in schedules:
        for period_start in sorted({period_start_for(month, schedule.cycle) for month in months}):
            # Issued as the cron job issues them, 00:30 Beijing on the period's first day; in a month's first
            # hours a little earlier, so that some households have paid the current period too.
            issued_at = min(_beijing(period_start, 0, 30), now - _EARLIEST_PAYMENT)
            fee_service.issue_period(schedule, period_start, now=issued_at)

    payers: dict[int, int] = {}
    for person, home in residents.values():
        payers.setdefault(home.id, person.id)
    owner, owner_home = residents["owner"]
    owner2, owner2_home = residents["owner2"]
    waived_home = _first_unclaimed(first, residents)
    bills = db.session.execute(
        select(Bill.id, Bill.compound_id, Bill.household_id, Bill.period_start, Bill.months, Bill.due_date,
               Bill.issued_at)
        .where(Bill.compound_id.in_((first.id, second.id))).order_by(Bill.period_start, Bill.household_id)
    ).all()
    periods = {compound_id: sorted({bill.period_start for bill in bills if bill.compound_id == compound_id})
               for compound_id in (first.id, second.id)}
    never_pays = {household_id for household_id in sorted({bill.household_id for bill in bills})
                  if rng.random() < _NEVER_PAYS} - {owner_home.id, owner2_home.id}
    plan: list[_DemoPayment] = []
    for bill in bills:
        index = periods[bill.compound_id].index(bill.period_start)
        if bill.household_id == owner_home.id:
            if index == 0:
                plan.append(_DemoPayment(_paid_at(bill, rng, now), bill, owner.id))
            elif index == 1:
                plan.append(_DemoPayment(_paid_at(bill, rng, now), bill, method=PaymentMethod.CASH))
            continue
        if bill.household_id == owner2_home.id:
            if index == 0:
                plan.append(_DemoPayment(_paid_at(bill, rng, now), bill, owner2.id))
            continue
        if bill.household_id == waived_home.id and index == 1:
            fee_service.waive_bill(bill.id, _WAIVER_REASON, crew["committee"], None,
                                   now=bill.issued_at + timedelta(days=3))
            continue
        cycle = BillingCycle.QUARTERLY if bill.months == 3 else BillingCycle.MONTHLY
        if bill.household_id in never_pays or rng.random() >= _PAID_SHARE[cycle][index]:
            continue
        payer = payers.get(bill.household_id)
        if payer is not None and rng.random() < _ONLINE_SHARE:
            plan.append(_DemoPayment(_paid_at(bill, rng, now), bill, payer))
        else:
            method = PaymentMethod.CASH if rng.random() < _CASH_SHARE else PaymentMethod.BANK
            plan.append(_DemoPayment(_paid_at(bill, rng, now), bill, None, method))

    notify_url = current_app.config["LINLI_PUBLIC_URL"] + "/api/v1/payments/wechat/notify"
    receipts = dict.fromkeys(collectors, 0)
    for payment in sorted(plan, key=lambda payment: payment.at):
        bill = payment.bill
        if payment.payer_id is not None:
            payer = db.session.get(User, payment.payer_id)
            started = payment_service.start_payment(bill.id, payer, notify_url, now=payment.at)
            payment_service.complete_sandbox_payment(started.order.id, payment.payer_id,
                                                     now=payment.at + timedelta(seconds=rng.randint(15, 90)))
            continue
        # As at the desk: staff take what the page shows is owed after the subsidy, against a paper receipt.
        owed = db.session.get(Bill, bill.id)
        subsidy = subsidy_service.subsidy_view(owed)
        receipts[bill.compound_id] += 1
        payment_service.record_offline_payment(
            bill.id, payment.method, owed.amount_fen - (subsidy.subsidy_fen if subsidy else 0),
            f"SJ{payment.at.astimezone(SHANGHAI):%Y%m}{receipts[bill.compound_id]:04d}",
            collectors[bill.compound_id], None, now=payment.at,
        )


def _first_unclaimed(compound: Compound, residents: dict[str, tuple[User, Household]]) -> Household:
    """The compound's first household nobody in the demo lives in, on the register or has asked to join."""
    taken = {home.id for _, home in residents.values()}
    taken |= set(db.session.scalars(select(RegisteredOwner.household_id)))
    taken |= set(db.session.scalars(select(BindingRequest.household_id)))
    return db.session.scalar(
        select(Household).where(Household.compound_id == compound.id, Household.id.not_in(taken),
                                Household.kind == HouseholdKind.RESIDENTIAL).order_by(Household.id).limit(1)
    )


def _paid_at(bill: Row, rng: random.Random, now: datetime) -> datetime:
    """A daytime moment between the bill's issue and 20 days past its due date, at least a few minutes before
    now (an online payment completes a minute or so after it starts)."""
    latest = min(_beijing(bill.due_date, 0) + timedelta(days=20), now - timedelta(minutes=5))
    issued = bill.issued_at
    day = issued.astimezone(SHANGHAI).date() + timedelta(days=rng.randint(0, (latest - issued).days))
    at = _beijing(day, rng.randint(8, 20), rng.randint(0, 59))
    return at if issued < at <= latest else issued + (latest - issued) * rng.random()


BENCH_CODE = "bench"
BENCH_BUILDING_SIZE = 200  # households per building: 4 units × 25 floors × 2 doors
BENCH_CHUNK = 5000


def _bench_compound() -> Compound:
    compound = db.session.scalar(select(Compound).where(Compound.code == BENCH_CODE))
    if compound is not None:
        return compound
    home = demo_compound()
    if home is None:
        raise LookupError("load the demo data first")
    compound = Compound(
        code=BENCH_CODE, name="压测小区", address="攀枝花市东区炳草岗大道1号", area_id=home.area_id, built_year=1998,
        management_model=ManagementModel.MARKET, party_org_form=PartyOrgForm.SINGLE,
        governance_body=GovernanceBody.OWNERS_COMMITTEE, property_company_id=home.property_company_id,
        fee_standard_fen_per_m2=85,
    )
    db.session.add(compound)
    db.session.commit()
    return compound


def _bench_home(index: int) -> tuple[int, str, str]:
    """Household `index` (from 0) → (building number, unit, room)."""
    building, place = divmod(index, BENCH_BUILDING_SIZE)
    unit, rest = divmod(place, 50)
    floor, door = divmod(rest, 2)
    return building + 1, str(unit + 1), f"{floor + 1}{door + 1:02d}"


def load_bench_households(
    count: int, on_chunk: Callable[[int, int], None] | None = None, chunk_size: int = BENCH_CHUNK
) -> int:
    """Ensure the `bench` compound has `count` households, each with one verified owner (username
    bench000001…, a sandbox WeChat openid, no password). Returns how many households were added.

    Bulk inserts, one commit per chunk of households together with their owners, so the compound's
    household count is also the number of owners made and a second run carries on where the first stopped."""
    compound = _bench_compound()
    admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    existing = db.session.scalar(
        select(func.count()).select_from(Household).where(Household.compound_id == compound.id)
    )
    buildings = dict(
        db.session.execute(select(Building.name, Building.id).where(Building.compound_id == compound.id)).all()
    )
    now = utcnow()
    for start in range(existing, count, chunk_size):
        indexes = range(start, min(start + chunk_size, count))
        homes = [_bench_home(index) for index in indexes]
        missing = sorted({number for number, _, _ in homes if f"{number}栋" not in buildings})
        if missing:
            rows = db.session.execute(
                insert(Building).returning(Building.name, Building.id),
                [{"compound_id": compound.id, "name": f"{number}栋"} for number in missing],
            )
            buildings.update(rows.all())
        household_ids = db.session.scalars(
            insert(Household).returning(Household.id, sort_by_parameter_order=True),
            [
                {"compound_id": compound.id, "building_id": buildings[f"{number}栋"], "unit": unit, "room": room,
                 # 60–120 m², spread deterministically so the same run gives the same areas.
                 "floor_area_centi_m2": 6000 + (index * 7919) % 6000}
                for index, (number, unit, room) in zip(indexes, homes, strict=True)
            ],
        ).all()
        user_ids = db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {"username": f"bench{index + 1:06d}", "display_name": f"压测业主{index + 1}", "created_at": now}
                for index in indexes
            ],
        ).all()
        db.session.execute(
            insert(WeChatAccount),
            [
                {"user_id": user_id, "app": WeChatApp.OFFICIAL_ACCOUNT, "openid": f"bench-openid-{index + 1}",
                 "created_at": now, "last_signed_in_at": now}
                for index, user_id in zip(indexes, user_ids, strict=True)
            ],
        )
        db.session.execute(
            insert(Membership),
            [
                {"user_id": user_id, "role": Role.OWNER, "compound_id": compound.id, "household_id": household_id,
                 "verified_by_id": admin_id, "verified_at": now, "created_at": now}
                for user_id, household_id in zip(user_ids, household_ids, strict=True)
            ],
        )
        db.session.commit()
        if on_chunk is not None:
            on_chunk(indexes[-1] + 1, count)
    return max(count - existing, 0)


# ---- work orders -----------------------------------------------------------------------------------------


class _OrderLife:
    """One work order's life replayed through the state machine at explicit times. It writes what the
    services would have written had it all happened live (the order's columns, its events, the escalation
    steps the 5-minute sweep takes at their due times, the rating), so demo and benchmark orders need no
    clock tricks and a bulk load stays one INSERT per table."""

    def __init__(self, *, compound_id: int, submitter_id: int, category: str, description: str, urgency: Urgency,
                 sla: Sla, created_at: datetime, household_id: int | None = None, building_id: int | None = None,
                 location_text: str = ""):
        accept_due_at = rules.sla_due(created_at, sla, Phase.ACCEPT)
        # The order's columns as attributes, so the services' own bookkeeping (record_step …) runs on it.
        self.order = SimpleNamespace(**{
            "compound_id": compound_id, "submitter_id": submitter_id, "household_id": household_id,
            "building_id": building_id, "location_text": location_text, "category": category,
            "description": description, "urgency": urgency, "status": Status.SUBMITTED, "assignee_id": None,
            "accept_due_at": accept_due_at, "close_due_at": rules.sla_due(created_at, sla, Phase.CLOSE),
            "sla_due_at": accept_due_at, "escalate_at": None, "escalation_level": 0, "accepted_at": None,
            "closed_at": None, "confirmed_at": None, "seconds_to_accept": None, "seconds_to_close": None,
            "closed_within_sla": None, "rating_stars": None, "dispute_count": 0, "urge_count": 0,
            "last_urged_at": None, "rate_reminded": False, "merged_into_id": None, "reject_reason": "",
            "created_at": created_at, "updated_at": created_at,
        })
        self.events: list[dict] = []
        self.escalations: list[dict] = []
        self.rating: dict | None = None
        workorder_service.plan_escalation(self.order)
        self._event(submitter_id, "submit", None, Status.SUBMITTED, "", created_at)

    @property
    def row(self) -> dict:
        """The order's columns as the row to insert (the same storage as `order`'s attributes)."""
        return vars(self.order)

    @property
    def status(self) -> Status:
        return self.order.status

    def act(self, at: datetime, action: Action, actor_id: int, actor: Actor, note: str = "",
            assignee_id: int | None = None) -> None:
        """What services.workorders.transition does, at `at`; TransitionRefused when the script breaks a rule."""
        self._escalate_until(at)
        row = self.row
        if actor is Actor.HANDLER and row["assignee_id"] not in (None, actor_id):
            raise rules.TransitionRefused("只有被派单的工作人员可以处理", Kind.FORBIDDEN)
        awaiting = rules.awaiting_confirmation(row["status"], row["closed_at"], row["confirmed_at"] is not None, at)
        target = rules.next_status(row["status"], action, {actor}, awaiting_confirmation=awaiting)
        if action in (Action.CONFIRM, Action.DISPUTE) and at >= row["closed_at"] + rules.RATE_REMINDER_AFTER:
            # The sweep reminds once an order has waited three days for an answer.
            row["rate_reminded"] = True
        source = row["status"]
        workorder_service.record_step(self.order, action, target, user_id=actor_id, by_staff=actor is Actor.HANDLER,
                                      now=at, note=note, assignee_id=assignee_id)
        self._event(actor_id, action.value, source, target, note, at)

    def urge(self, at: datetime) -> None:
        self._escalate_until(at)
        if not rules.may_urge(self.status, self.row["last_urged_at"], at):
            raise rules.TransitionRefused("4小时内已催办过", Kind.CONFLICT)
        workorder_service.record_urge(self.order, at)
        self._event(self.row["submitter_id"], "urge", None, None, "", at)

    def rate(self, at: datetime, stars: int, tags: Sequence[str] = (), comment: str = "") -> None:
        if self.status is not Status.CLOSED or self.row["confirmed_at"] is None or self.rating is not None:
            raise rules.TransitionRefused("确认已解决后才能评价", Kind.CONFLICT)
        self.rating = {"user_id": self.row["submitter_id"], "stars": stars, "comment": comment,
                       "tags": ",".join(tags), "reply": "", "replied_by_id": None, "replied_at": None,
                       "created_at": at}
        self.row["rating_stars"] = stars
        self._event(self.row["submitter_id"], "rate", None, None, f"{stars}星", at)

    def reply(self, at: datetime, manager_id: int, text: str) -> None:
        self.rating.update(reply=text, replied_by_id=manager_id, replied_at=at)

    def finish(self, now: datetime) -> _OrderLife:
        """Take the escalation steps due by `now`, and the rate reminder the sweep would have sent."""
        self._escalate_until(now)
        row = self.row
        if (row["status"] is Status.CLOSED and row["confirmed_at"] is None
                and now >= row["closed_at"] + rules.RATE_REMINDER_AFTER):
            row["rate_reminded"] = True
        return self

    def _escalate_until(self, moment: datetime) -> None:
        # services.workorders.escalate_order: a step already taken in this phase (before a dispute reopened
        # the order) is not taken again, the plan only moves on.
        row = self.row
        while row["escalate_at"] is not None and row["escalate_at"] <= moment:
            # A step already due when a dispute reopens the order is taken by the next sweep, not back in time.
            at, phase = max(row["escalate_at"], row["updated_at"]), rules.phase_of(row["status"])
            level = EscalationLevel(row["escalation_level"] + 1)
            if not any(step["phase"] == phase.value and step["level"] == level for step in self.escalations):
                self.escalations.append({"phase": phase.value, "level": int(level), "created_at": at})
                self._event(None, "escalate", None, None, rules.ESCALATION_LABELS[level], at)
            workorder_service.record_escalation_step(self.order)

    def _event(self, actor_id: int | None, action: str, source: Status | None, target: Status | None, note: str,
               at: datetime) -> None:
        self.events.append({"actor_id": actor_id, "action": action, "from_status": source.value if source else None,
                            "to_status": target.value if target else None, "note": note[:500], "created_at": at})
        self.row["updated_at"] = at


def _insert_lives(lives: Sequence[_OrderLife]) -> None:
    """Bulk insert: the orders, then their events, followers, escalation steps and ratings."""
    if not lives:
        return
    connection = db.session.connection()
    orders = WorkOrder.__table__
    rows = [life.row | {"status": life.status.value, "urgency": life.row["urgency"].value} for life in lives]
    if connection.dialect.name == "postgresql":
        # COPY is several times faster than multi-row INSERTs; it needs the ids taken from the sequence first.
        sequence = func.pg_get_serial_sequence(orders.name, orders.c.id.name)
        order_ids = sorted(connection.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))
        ))
        rows = [row | {"id": order_id} for row, order_id in zip(rows, order_ids, strict=True)]
    else:
        order_ids = connection.scalars(insert(orders).returning(orders.c.id, sort_by_parameter_order=True), rows).all()
        rows = []
    events, followers, escalations, ratings = [], [], [], []
    for order_id, life in zip(order_ids, lives, strict=True):
        events += [event | {"work_order_id": order_id} for event in life.events]
        followers.append({"work_order_id": order_id, "user_id": life.row["submitter_id"],
                          "created_at": life.row["created_at"]})
        escalations += [step | {"work_order_id": order_id} for step in life.escalations]
        if life.rating is not None:
            ratings.append(life.rating | {"work_order_id": order_id})
    for table, table_rows in ((orders, rows), (WorkOrderEvent.__table__, events),
                              (WorkOrderFollower.__table__, followers), (WorkOrderEscalation.__table__, escalations),
                              (WorkOrderRating.__table__, ratings)):
        if table_rows:
            _write_rows(connection, table, table_rows)


def _write_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Rows with the same keys: COPY on PostgreSQL (plain values: UTC-aware datetimes, enum values as text),
    one executemany elsewhere."""
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{column}"' for column in columns)
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(
        f'COPY "{table.name}" ({quoted}) FROM STDIN'
    ) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def _sla_table(compound_id: int) -> dict[str, dict[Urgency, Sla]]:
    return {item.name: {Urgency.NORMAL: item.normal, Urgency.URGENT: item.urgent}
            for item in workorder_service.categories(compound_id)}


def _demo_work_orders(
    first_id: int, second_id: int, residents: dict[str, tuple[User, Household]], crew: dict[str, int], now: datetime
) -> list[_OrderLife]:
    """A handful of orders in every state, told as what happened when (times before `now`)."""
    slas = {first_id: _sla_table(first_id), second_id: _sla_table(second_id)}
    staff, manager = crew["staff"], crew["manager"]

    def ago(days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return now - timedelta(days=days, hours=hours, minutes=minutes)

    def order(username: str, category: str, description: str, created_at: datetime, *, at_home: bool = True,
              location_text: str = "", urgency: Urgency = Urgency.NORMAL) -> _OrderLife:
        person, home = residents[username]
        return _OrderLife(
            compound_id=home.compound_id, submitter_id=person.id, category=category, description=description,
            urgency=urgency, sla=slas[home.compound_id][category][urgency], created_at=created_at,
            household_id=home.id if at_home else None, building_id=home.building_id, location_text=location_text,
        )

    def handled(life: _OrderLife, accept: timedelta, start: timedelta, close: timedelta, note: str) -> _OrderLife:
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


# ---- work orders for the benchmark -----------------------------------------------------------------------

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
        slas = _sla_table(compound_id)
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
                 created: datetime, now: datetime) -> _OrderLife:
    """An order with a plausible fate (most handled within the SLA and confirmed, some late, disputed,
    rejected, withdrawn or left without an answer), cut off at `now`: recent orders are still open."""
    user_id, household_id, building_id = submitter
    category = rng.choices(list(place.slas), place.category_weights)[0]
    urgency = Urgency.URGENT if rng.random() < _URGENT_SHARE.get(category, 0) else Urgency.NORMAL
    sla = place.slas[category][urgency]
    texts = _URGENT_DESCRIPTIONS.get(category, ()) if urgency is Urgency.URGENT else _DESCRIPTIONS.get(category, ())
    where = rng.random()
    life = _OrderLife(
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
    _staff_the_bench_compound()
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
        _insert_lives(lives)
        db.session.commit()
        if on_chunk is not None:
            on_chunk(last, count)
    return count - existing


def _staff_the_bench_compound() -> None:
    """The demo staff and manager also serve the `bench` compound, so its orders have handlers to sign in as."""
    compound_id = db.session.scalar(select(Compound.id).where(Compound.code == BENCH_CODE))
    if compound_id is None:
        return
    for username, role in (("staff", Role.STAFF), ("manager", Role.MANAGER)):
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        held = db.session.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.compound_id == compound_id, Membership.role == role))
        if held is None:
            db.session.add(Membership(user_id=user_id, role=role, compound_id=compound_id))
    db.session.commit()
