"""The demo's topics (五步议事法): one in every step of the five-step method in the first compound, with
co-signs, comments, ballots, an objection, progress reports and ratings, each step taken through the services."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.demo.council import Council, owners, show_of_hands
from backend.demo.meetings import call_roof_meeting
from backend.domain.voting import VoteKind, VoteRule
from backend.services import consultations


def make_topics(council: Council, now: datetime) -> None:
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
        owners(20, 23),
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
        owners(15, 18),
    )
    council.propose(
        "owner11",
        "增设电动自行车集中充电棚",
        "不少住户把电动车推进楼道充电，有火灾隐患。建议在1栋北侧空地建一个带充电桩的车棚，按次付费。",
        ["owner12", "owner13"],
    )


def _done_topic(council: Council, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner20",
        "小区路灯更换为LED节能灯",
        "小区路灯老化，一半不亮，电费还高。建议全部换成LED节能灯，费用从公共收益中列支。",
        owners(21, 24),
    )
    council.accept(
        topic_id,
        VoteRule(VoteKind.CONSULTATION),
        now - 60 * days,
        now - 55 * days,
        120,
        responsible_party="攀枝花安居物业服务有限公司",
    )
    council.carry(topic_id, show_of_hands(owners(1, 35)), now)
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


def _implementation_topic(council: Council, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner25",
        "在2栋与3栋之间增设公共晾衣架",
        "楼间空地闲置，住户只能在阳台晾被子，晒不到太阳。建议安装不锈钢晾衣架，方便大家晾晒。",
        owners(26, 29),
    )
    council.accept(
        topic_id,
        VoteRule(VoteKind.CONSULTATION),
        now - 30 * days,
        now - 27 * days,
        72,
        responsible_party="攀枝花安居物业服务有限公司",
    )
    council.carry(topic_id, show_of_hands(owners(1, 30)), now)
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


def _publicity_topic(council: Council, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner30",
        "广场舞活动时间调整为每晚19:00—21:00",
        "中心花园广场舞音乐常到22点以后，影响老人孩子休息。建议活动时间定为19:00—21:00，音量适中。",
        owners(31, 34),
    )
    council.accept(topic_id, VoteRule(VoteKind.CONSULTATION), now - 13 * days, now - 10 * days, 168)
    council.draft_motion(topic_id)
    council.vote(
        topic_id, show_of_hands(["owner", *owners(1, 29)]), until=now - 3 * days - timedelta(hours=1)
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


def _voting_topic(council: Council, now: datetime, days: timedelta) -> None:
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
    votes = [*show_of_hands(owners(1, 22)), ("owner07", "同意")]
    council.vote(topic_id, votes, until=now - timedelta(hours=1))


def _deliberation_topic(council: Council, now: datetime, days: timedelta) -> None:
    topic_id = council.propose(
        "owner01",
        "使用维修资金修缮1栋屋面防水",
        "1栋顶楼每逢下雨就漏水，屋面防水层已超过使用年限。建议使用专项维修资金整体翻修屋面防水。",
        owners(2, 5),
    )
    council.accept(topic_id, VoteRule(VoteKind.OWNERS_JOINT, 5), now - 3 * days, now + 4 * days, 168)
    _discuss(topic_id, council)
    council.draft_motion(topic_id)
    call_roof_meeting(council, topic_id, now)


def _discuss(topic_id: int, council: Council) -> None:
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
