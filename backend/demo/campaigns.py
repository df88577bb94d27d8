"""The demo's environment campaign (卫生评比): 炳草岗街道's December hygiene rating over both compounds; its first round,
three days ago, scored all seven buildings (two tie for second, so the two red flags fly over three buildings) and
found two problems, still waiting to be turned into a work order or a rectification item."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.domain.campaigns import CampaignKind
from backend.extensions import db
from backend.models import Building, Compound
from backend.services.campaigns import FindingDraft, add_round, create_campaign, record_score
from backend.shared.clock import beijing_date

ITEMS = ("楼道堆物", "垃圾分类准确", "车辆乱停", "飞线充电", "小广告")
# (compound code, building, points lost per item, findings)
SCORES = (
    ("yangguang", "1栋", {}, ()),
    ("yangguang", "2栋", {"小广告": 4}, ()),
    ("wushisi", "1栋", {"车辆乱停": 4}, ()),
    ("wushisi", "2栋", {"楼道堆物": 6, "垃圾分类准确": 3}, (("楼道堆物", "3单元楼道堆放旧家具、纸箱"),)),
    ("wushisi", "3栋", {"垃圾分类准确": 5}, ()),
    ("yangguang", "3栋", {"飞线充电": 12}, (("飞线充电", "2单元一楼窗口拉线给电动车充电"),)),
    ("yangguang", "临街商铺", {"小广告": 8, "垃圾分类准确": 6}, ()),
)


def make_campaigns(street_id: int, official_id: int, now: datetime) -> None:
    campaign = create_campaign(street_id, official_id, title="12月卫生评比", kind=CampaignKind.HYGIENE, checklist=[],
                               red_flag_count=2)
    held = add_round(campaign.id, official_id, beijing_date(now) - timedelta(days=3))
    buildings = {(code, name): building_id for code, name, building_id in db.session.execute(
        select(Compound.code, Building.name, Building.id).join(Compound, Compound.id == Building.compound_id))}
    for code, name, lost, findings in SCORES:
        record_score(held.id, buildings[(code, name)], official_id, {item: 20 - lost.get(item, 0) for item in ITEMS},
                     "", [FindingDraft(item, note) for item, note in findings])
