"""The demo's supervision inspection (监督检查) of 阳光花园: the street's official found two problems a week ago; the
company answered the litter one and the official accepted it (销号), the flying-wire one is still open."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend.domain.rectifications import RectificationUrgency, ResponsibleParty
from backend.services.rectifications import (
    FindingInput,
    accept,
    answer,
    items_of_inspection,
    record_inspection,
)
from backend.shared.clock import beijing_date


def make_inspections(compound_id: int, accounts: dict[str, int], now: datetime) -> None:
    today = beijing_date(now)
    inspection = record_inspection(
        compound_id, accounts["official"], today - timedelta(days=7), "季度监督检查",
        ["物业服务", "安全生产/消防", "环境卫生", "飞线充电"],
        [FindingInput("飞线充电", "2栋、3栋楼道有住户私拉电线给电动车充电，存在火灾隐患", ResponsibleParty.COMPANY,
                      today + timedelta(days=7), RectificationUrgency.URGENT),
         FindingInput("环境卫生", "临街商铺后侧垃圾堆放未及时清运", ResponsibleParty.COMPANY, today + timedelta(days=3))],
    )
    litter = items_of_inspection(inspection.id)[1].id
    answer(litter, accounts["manager"], "已安排清运并增加每日巡查，商铺后侧设置分类垃圾桶2组", [])
    accept(litter, accounts["official"], "现场复查已清理干净")

