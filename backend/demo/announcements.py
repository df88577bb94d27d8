"""The demo's notices (通知公告): the property company's pinned water-cut notice for the day after tomorrow, the
committee's call to the roof meeting (议事), and the street's winter safety notice to both compounds."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.domain.announcements import Category
from backend.services.announcements import Draft, post_to_area, post_to_compound
from backend.shared.clock import SHANGHAI

WEEKDAYS = "一二三四五六日"


def make_announcements(compound_id: int, street_id: int, accounts: dict[str, int], now: datetime) -> None:
    """Dated from the demo's clock: the water cut and the meeting are the day after tomorrow (Beijing time)."""
    day = (now.astimezone(SHANGHAI) + timedelta(days=2)).date()
    when = f"{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"
    post_to_compound(compound_id, accounts["manager"], Draft(
        title="3栋二次供水水箱清洗停水通知",
        body=(f"因二次供水水箱年度清洗消毒，{when}8:00—18:00 3栋全天停水。\n"
              "请住户提前储水，关好家中水龙头，恢复供水后先放水几分钟再使用。\n"
              "如有不便，敬请谅解。攀枝花安居物业服务有限公司 阳光花园服务中心"),
        category=Category.OUTAGE, pinned=True, ends_on=day,
    ))
    post_to_compound(compound_id, accounts["committee"], Draft(
        title="关于召开1栋屋面防水修缮议事会的通知",
        body=(f"定于{when}19:30在小区党群服务站二楼会议室召开议事会，讨论使用维修资金修缮1栋屋面防水。\n"
              "议程：一、物业通报屋面渗漏检测情况；二、公布维修方案和预算；三、听取住户意见；四、确定表决选项。\n"
              "欢迎1栋住户和关心此事的业主参加，也可在“议事协商”中留言。阳光花园小区业主委员会"),
        category=Category.DELIBERATION, ends_on=day,
    ))
    post_to_area(street_id, accounts["official"], Draft(
        title="冬季用电用气安全提示",
        body=("冬季取暖用电用气增多，请居民朋友：不私拉电线、不在楼道和室内给电动车充电；"
              "使用燃气时保持通风，睡前和外出关闭燃气阀门；发现火情立即拨打119。炳草岗街道办事处"),
        category=Category.OTHER,
    ))
