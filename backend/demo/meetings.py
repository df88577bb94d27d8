"""The demo's meeting: the deliberation meeting (议事会) on the roof topic, with every party invited."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.demo.council import Council
from backend.domain.consultations import MeetingKind, Party
from backend.services.meetings import InviteeSpec, create_meeting
from backend.shared.clock import SHANGHAI


def call_roof_meeting(council: Council, topic_id: int, now: datetime) -> None:
    """Convened by the committee for 19:30 Beijing time the day after tomorrow, while the topic is deliberated."""
    meeting_at = (now.astimezone(SHANGHAI) + timedelta(days=2)).replace(hour=19, minute=30, second=0, microsecond=0)
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
