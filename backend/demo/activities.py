"""The demo's 党建+ activities: a free clinic later this week with residents signed up (two as volunteers) and a
clean-up at the weekend that is already full, so its waiting list shows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain.activities import ActivityKind
from backend.services.activities import create_activity, sign_up
from backend.shared.clock import SHANGHAI


def _at(now: datetime, days: int, hour: int) -> datetime:
    local = (now.astimezone(SHANGHAI) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def make_activities(compound_id: int, accounts: dict[str, int], now: datetime) -> None:
    clinic = create_activity(
        compound_id=compound_id, creator_id=accounts["secretary"], kind=ActivityKind.CLINIC,
        title="党员志愿者义诊进小区", description="测血压、血糖，家庭医生签约咨询，老年人用药指导。",
        starts_at=_at(now, 3, 9), ends_at=_at(now, 3, 11), place="小区党群服务站门前",
        organiser="金沙社区党委 · 社区卫生服务中心", capacity=30,
    )
    clinic_id = clinic.id
    for username, volunteer in (("owner", True), ("owner01", True), ("owner02", False), ("owner03", False)):
        sign_up(clinic_id, accounts[username], as_volunteer=volunteer)
    clean_up = create_activity(
        compound_id=compound_id, creator_id=accounts["committee"], kind=ActivityKind.CLEANING,
        title="楼道清洁志愿服务", description="清理楼道堆物和小广告，工具由物业提供。",
        starts_at=_at(now, 5, 15), ends_at=_at(now, 5, 17), place="1栋单元门口集合",
        organiser="阳光花园业委会", capacity=3,
    )
    clean_up_id = clean_up.id
    for username in ("owner04", "owner05", "owner06", "owner07"):
        sign_up(clean_up_id, accounts[username], as_volunteer=True)
